"""The tables of a snapshot (and of the dlt source): every list endpoint that needs no value only the user chooses.

``products``, ``batches``, ``assets_texts`` .. ``assets_files`` (one per asset type) and ``brands`` (a bare array);
not ``package_uids_export``, which needs a date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lucidframes.endpoints import ENDPOINTS, get_endpoint
from lucidframes.errors import ConfigError

__all__ = ["Target", "resolve_targets", "snapshot_targets", "split_target"]


@dataclass(frozen=True)
class Target:
    """One table of a snapshot: an endpoint and its path parameters (``assets_images``: assets, images)."""

    name: str
    endpoint: str
    params: dict[str, str] = field(default_factory=dict)


def snapshot_targets() -> dict[str, Target]:
    """Every list endpoint that needs no value only the user can choose, one target per allowed parameter value.

    Returns:
        Target name -> Target (``products``, ``batches``, ``assets_texts``, ..., ``brands``).
    """
    out: dict[str, Target] = {}
    for ep in ENDPOINTS.values():
        if ep.list_path is None or ep.list_shape not in ("paginated", "array") or ep.query:
            continue
        if any(not allowed for allowed in ep.params.values()):
            continue  # a free-text parameter (a dispensary, a date): only the user knows it
        combos: list[dict[str, str]] = [{}]
        for param, allowed in ep.params.items():
            combos = [{**c, param: value} for c in combos for value in allowed]
        for combo in combos:
            name = "_".join([ep.name, *combo.values()])
            out[name] = Target(name, ep.name, combo)
    return out


def split_target(name: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A snapshot table's name as an endpoint and its parameters, so one name works everywhere.

    ``assets_images`` is ``assets`` with ``asset_type=images`` (what ``fetch`` and ``lookup`` take as ``--param``);
    any other name is returned as it is.

    Args:
        name: an endpoint or a snapshot table name.
        params: the parameters given besides it.

    Returns:
        (the endpoint name, its parameters).
    """
    target = snapshot_targets().get(name)
    if target is None or not target.params or name in ENDPOINTS:
        return name, params
    clash = {k for k in target.params if k in params and params[k] != target.params[k]}
    if clash:
        raise ConfigError(f"{name!r} already means {target.params}: leave out --param {', '.join(sorted(clash))}.")
    return target.endpoint, {**target.params, **params}


def resolve_targets(endpoints: Iterable[str] | None) -> list[Target]:
    """The targets named (an endpoint name stands for all its targets: ``assets`` is the four asset types).

    Args:
        endpoints: target or endpoint names; None for every target.

    Returns:
        The targets, each once, in the order named.
    """
    targets = snapshot_targets()
    if endpoints is None:
        return list(targets.values())
    chosen: dict[str, Target] = {}
    for name in endpoints:
        matched = [t for t in targets.values() if name in (t.name, t.endpoint)]
        if not matched:
            get_endpoint(name)  # an unknown name: UnknownEndpointError with close matches
            raise ConfigError(
                f"{name!r} cannot be snapshotted (it needs a value only you can choose, or has no list); "
                f"choose from {', '.join(targets)}."
            )
        chosen.update({t.name: t for t in matched})
    return list(chosen.values())
