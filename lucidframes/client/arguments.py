"""The checks of a Client's arguments and of each call's options: pure functions, each raising ConfigError with
what is allowed. The façade calls them once per argument; nothing below it sees an unchecked value.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from lucidframes import config
from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import ConfigError
from lucidframes.loaders.state import DRIFT_POLICIES

__all__ = [
    "UNSET",
    "RateLimits",
    "Unset",
    "check_workers",
    "checkpoint_path",
    "chosen_pages",
    "endpoint_params",
    "flag",
    "list_endpoint",
    "lookup_endpoint",
    "positive",
    "prefixes",
    "query_value",
    "rate_limits",
    "stop_event",
    "timeout",
]

RateLimits = Mapping[str, "tuple[int, float] | None"]
# The spelling of the public look-up bucket, accepted beside the registry's.
_BUCKET_ALIASES = {"retail-public": "retail_public"}


class Unset(Enum):
    """The "not given" sentinel: ``None``, ``0`` and ``False`` are values a caller may mean."""

    UNSET = "unset"


UNSET = Unset.UNSET


def endpoint_params(ep: Endpoint, params: Mapping[str, Any]) -> dict[str, str]:
    """The endpoint's parameters as text, checked against the registry before anything is sent.

    Unknown or missing ones are refused; a path parameter must be text that makes one path segment (a uuid where
    the registry says so), a query parameter text or a date (``None`` is never sent as "None").
    """
    checked = {k: query_value(k, v) if k in ep.query else v for k, v in params.items()}
    ep.format_path(ep.list_path or ep.detail_path or ep.submit_path or ep.delete_path or "", checked, id_="x")
    return {k: str(v) for k, v in checked.items()}  # all text by now: format_path refuses anything else


def query_value(name: str, value: object) -> str:
    """A query parameter as text: text (not empty) or a date (``YYYY-MM-DD``); None and the rest are refused.

    Args:
        name: the parameter's name, for the message.
        value: what the caller gave.

    Returns:
        The text to send.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{name}= needs text such as '2024-12-01' (or a date), not {type(value).__name__} {value!r:.40}."
        )
    return value


def chosen_pages(page: int | None, pages: Iterable[int] | str | None) -> tuple[int, ...] | None:
    """The pages asked for, sorted and unique, or None for a whole drain."""
    if page is not None and pages is not None:
        raise ConfigError("Pass page= or pages=, not both.")
    if page is not None:
        wanted: list[Any] = [page]
    elif pages is None:
        return None
    elif isinstance(pages, str):
        wanted = _pages_text(pages)
    elif isinstance(pages, Iterable):
        wanted = list(pages)
    else:
        raise ConfigError(f"pages= takes a range, a list or text like '2-5' (got {type(pages).__name__}).")
    if not wanted or any(isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in wanted):
        raise ConfigError(f"Pages are whole numbers from 1 (got {wanted!r}).")
    return tuple(sorted(set(wanted)))


def _pages_text(text: str) -> list[int]:
    """``"2-5"``, ``"2,4,6"`` or ``"3"`` (and mixes such as ``"1,3-4"``) as page numbers."""
    out: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None or (match[2] is not None and int(match[2]) < int(match[1])):
            raise ConfigError(f"pages= text looks like '2-5', '2,4,6' or '3' (got {text!r}).")
        first, last = int(match[1]), int(match[2] or match[1])
        out.extend(range(first, last + 1))
    return out


def timeout(value: object) -> tuple[float, float]:
    """(connect, read) from one number or a pair."""
    pair = (value, value) if isinstance(value, int | float) else value
    if not isinstance(pair, tuple) or len(pair) != 2:
        raise ConfigError(f"timeout is seconds or (connect, read) seconds (got {value!r}).")
    return positive(pair[0], "timeout"), positive(pair[1], "timeout")


def positive(value: object, what: str) -> float:
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e15:  # 10**400: no float
        raise ConfigError(f"{what} must be a positive number of seconds (got {value!r:.40}).")
    return float(value)


def prefixes(value: Mapping[str, str] | None) -> dict[str, str]:
    """The version prefix per product: the defaults, overridden by what is given."""
    prefixes = {**config.DEFAULT_API_PREFIXES, **(value or {})}
    for product, prefix in prefixes.items():
        if not isinstance(prefix, str) or not re.fullmatch(r"/?[A-Za-z0-9._/-]*", prefix):
            raise ConfigError(f"api_prefixes[{product!r}] must be a path such as '/api/v1.5/' (got {prefix!r}).")
    return prefixes


def rate_limits(value: RateLimits | bool | None) -> dict[str, tuple[int, float]]:
    """The client-side limits per bucket: the documented ones (True), none (None or False), or the mapping given.

    A mapping names buckets ("source", "retail", "retail_public"; "retail-public" is accepted too); a bucket it
    leaves out, or maps to None, is not limited on our side (the server still is).
    """
    if value is True:
        return dict(config.DEFAULT_RATE_LIMITS)
    if value is None or value is False:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"rate_limits takes {{bucket: (requests, seconds)}}, True or None (got {value!r}).")
    out: dict[str, tuple[int, float]] = {}
    for given, limit in value.items():
        bucket = _BUCKET_ALIASES.get(str(given), str(given))
        if bucket not in config.BUCKETS:
            raise ConfigError(f"rate_limits: unknown bucket {given!r}; the buckets are {', '.join(config.BUCKETS)}.")
        if limit is None:
            continue
        if not (isinstance(limit, tuple) and len(limit) == 2 and isinstance(limit[0], int) and limit[0] >= 1):
            raise ConfigError(f"rate_limits[{given!r}] must be (requests, seconds), got {limit!r}.")
        out[bucket] = (limit[0], positive(limit[1], f"rate_limits[{given!r}] window"))
    return out


def checkpoint_path(value: object) -> Path | None:
    """A ``checkpoint=`` file as a Path (None: no checkpoint); anything but a path or text is refused.

    Args:
        value: what the caller gave.

    Returns:
        The Path, or None.
    """
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise ConfigError(f"checkpoint= takes a file path (text or a Path), not {type(value).__name__} {value!r:.40}.")
    return Path(value)


def check_workers(workers: object, where: str = "workers") -> int:
    """A worker count from 1 to config.MAX_WORKERS, or ConfigError saying what is allowed.

    Args:
        workers: the value given.
        where: how the caller named it, for the message.

    Returns:
        The count.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= config.MAX_WORKERS:
        raise ConfigError(f"{where} must be a whole number from 1 to {config.MAX_WORKERS} (got {workers!r}).")
    return workers


def list_endpoint(
    name: str, page: int | None, pages: Iterable[int] | str | None, on_drift: str
) -> tuple[Endpoint, tuple[int, ...] | None]:
    """A load's endpoint (one with a list) and the pages chosen, checked with ``on_drift``.

    Args:
        name: the endpoint name.
        page: one page, or None.
        pages: some pages, or None.
        on_drift: "refetch", "warn" or "raise".

    Returns:
        (the endpoint, the pages chosen or None for a whole drain).
    """
    ep = get_endpoint(name)
    if ep.list_path is None:
        hint = f"use client.lookup({name!r}, ids)" if ep.detail_path else f"use client.submit({name!r}, ...)"
        raise ConfigError(f"Endpoint {name!r} has no list to load: {hint}.")
    if on_drift not in DRIFT_POLICIES:
        raise ConfigError(f"on_drift must be one of {', '.join(DRIFT_POLICIES)} (got {on_drift!r})")
    chosen = chosen_pages(page, pages)
    if chosen is not None and ep.list_shape != "paginated" and chosen != (1,):
        raise ConfigError(f"Endpoint {name!r} is not paginated: it has no pages to choose.")
    return ep, chosen


def lookup_endpoint(name: str, ids: object, params: Mapping[str, Any]) -> tuple[Endpoint, dict[str, str]]:
    """A look-up's endpoint (one with a detail path) and its checked parameters; ids must be an iterable of ids.

    Args:
        name: the endpoint name.
        ids: what was passed as ids (a list, a Series, any iterable; not one string).
        params: the endpoint's path parameters.

    Returns:
        (the endpoint, its parameters as text).
    """
    ep = get_endpoint(name)
    if ep.detail_path is None:
        raise ConfigError(f"Endpoint {name!r} has no single-resource look-up; use client.load({name!r}).")
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        raise ConfigError(f"ids must be a list (or another iterable) of ids, not {type(ids).__name__}.")
    return ep, endpoint_params(ep, params)


def flag(value: object, what: str) -> bool:
    """A True/False option (``background=``), or ConfigError: a string such as ``"no"`` is not quietly true.

    Args:
        value: the value given.
        what: the option's name, for the message.

    Returns:
        The value.
    """
    if not isinstance(value, bool):
        raise ConfigError(f"{what} takes True or False (got {value!r}).")
    return value


def stop_event(stop: object, background: bool) -> threading.Event | None:
    """A call's Stop: the caller's Event, a new one for a background job (its ``stop()``), or None.

    Args:
        stop: the ``stop=`` given.
        background: whether the call runs as a Job.

    Returns:
        The Event, or None.
    """
    if stop is not None and not isinstance(stop, threading.Event):
        raise ConfigError(f"stop= takes a threading.Event (got {type(stop).__name__}).")
    return stop if stop is not None or not background else threading.Event()
