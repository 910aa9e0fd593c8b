"""What the result cache is keyed and judged by: ``max_age`` in seconds, a client's scope (server, API prefix,
account: never a secret), and whether a drain is whole enough to store."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from lucidframes.errors import ConfigError

__all__ = ["identity_of", "parse_max_age", "reconciled", "scope_key"]

_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_max_age(value: object) -> float | None:
    """Seconds from ``max_age``: a number of seconds, or text such as ``"90s"``, ``"15m"``, ``"1h"``, ``"7d"``.

    Args:
        value: what the caller gave (None: do not read the cache).

    Returns:
        The age in seconds, or None.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"max_age is seconds or text such as '1h' or '7d' (got {value!r}).")
    if isinstance(value, int | float):
        if not value >= 0:
            raise ConfigError(f"max_age must not be negative (got {value!r}).")
        try:
            return float(value)
        except OverflowError:  # 10**400: no float holds it
            raise ConfigError(f"max_age is too large ({str(value)[:20]}... seconds): use seconds or '7d'.") from None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*", value.lower())
        if match:
            return float(match[1]) * _UNITS[match[2] or "s"]
    raise ConfigError(f"max_age is seconds or text such as '90s', '15m', '1h', '7d' (got {value!r}).")


def scope_key(base_url: str, prefix: str, identity: str) -> str:
    """The scope of a client's entries: base URL, API prefix and who asked (never a secret).

    Args:
        base_url: the configured origin (``https://host[:port]``).
        prefix: the product's version prefix (``/api/v1.5/``).
        identity: the client id, or a digest of a fixed token (see ``identity_of``).

    Returns:
        The scope text.
    """
    return f"{base_url.rstrip('/')}{prefix} as {identity}"


def identity_of(client_id: str | None, token: str | None) -> str:
    """Who the entries belong to: the client id, or ``token:`` and 12 hex digits of the token's SHA-256."""
    if client_id:
        return f"client:{client_id}"
    digest = hashlib.sha256((token or "").encode("utf-8")).hexdigest()[:12]
    return f"token:{digest}"


def reconciled(info: Mapping[str, Any]) -> bool:
    """Whether a drain's account says it is one whole, consistent result (what the cache stores and serves).

    Args:
        info: the drain's account (``attrs["lucidframes"]``).

    Returns:
        True when it is complete, its drift (if any) was resolved, and its rows add up to the count announced.
    """
    drift = info.get("drift") or {}
    count = info.get("count")
    return bool(info.get("complete")) and not drift.get("unresolved") and (count is None or info.get("rows") == count)
