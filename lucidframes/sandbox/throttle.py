"""Rate limiting as DRF's SimpleRateThrottle does it: a sliding window over a history of request times."""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Literal

Limits = dict[str, tuple[int, float]]  # scope -> (requests, window seconds)
LimitsSpec = Literal["default"] | Mapping[str, tuple[int, float]] | str | None

# "source" and "retail" are keyed by client id; "retail_public" (the public LucidID look-up) by caller IP.
DEFAULT_LIMITS: Limits = {"source": (60, 60.0), "retail": (1000, 60.0), "retail_public": (60, 60.0)}
SCOPES = tuple(DEFAULT_LIMITS)
_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0,
          "hour": 3600.0, "d": 86400.0, "day": 86400.0}  # fmt: skip


def parse_limits(spec: LimitsSpec) -> Limits:
    """Limits from "default", None (off), a dict scope -> (n, seconds), or text "source=60/60,retail=1000/min"."""
    if spec is None:
        return {}
    if spec == "default":
        return dict(DEFAULT_LIMITS)
    if isinstance(spec, str):
        parsed: Limits = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            match = re.fullmatch(r"(\w+)\s*=\s*(\d+)\s*/\s*(\d+(?:\.\d+)?|[a-z]+)", part)
            if not match:
                raise ValueError(f"bad rate limit {part!r}: expected SCOPE=N/SECONDS, e.g. source=60/60")
            scope, count, window = match.groups()
            parsed[scope] = (int(count), _UNITS[window] if window in _UNITS else float(window))
        spec = parsed
    limits: Limits = {}
    for scope, (count, window) in spec.items():
        if scope not in SCOPES:
            raise ValueError(f"unknown rate-limit scope {scope!r}: expected one of {', '.join(SCOPES)}")
        if count < 1 or window <= 0:
            raise ValueError(f"rate limit for {scope!r} must be at least 1 request per positive window")
        limits[scope] = (int(count), float(window))
    return limits


class Throttle:
    """Per-(scope, key) sliding windows; ``check`` answers None (allowed, and counted) or seconds to wait."""

    def __init__(self, limits: Limits, timer: Callable[[], float] = time.monotonic) -> None:
        self._limits = dict(limits)
        self._timer = timer
        self._history: dict[tuple[str, str], deque[float]] = {}  # newest first, as DRF keeps it
        self._lock = threading.Lock()

    @property
    def limits(self) -> Limits:
        """The limits in force, per scope."""
        with self._lock:
            return dict(self._limits)

    def configure(self, limits: Limits) -> None:
        """Replace the limits and forget all history."""
        with self._lock:
            self._limits = dict(limits)
            self._history.clear()

    def check(self, scope: str, key: str) -> float | None:
        """None if a request may go (and record it), else the wait DRF would report (not yet rounded up)."""
        with self._lock:
            limit = self._limits.get(scope)
            if limit is None:
                return None
            count, window = limit
            now = self._timer()
            history = self._history.setdefault((scope, key), deque())
            while history and history[-1] <= now - window:
                history.pop()
            if len(history) >= count:
                # DRF's wait(): the time until the oldest request in the window leaves it (divided by the
                # requests available, which is always one here); throttled requests are not recorded
                return window - (now - history[-1])
            history.appendleft(now)
            return None


def throttled_detail(wait: float) -> tuple[int, str]:
    """(Retry-After seconds, DRF's message) for a wait, rounded up as DRF's Throttled exception does."""
    seconds = math.ceil(wait)
    unit = "second" if seconds == 1 else "seconds"
    return seconds, f"Request was throttled. Expected available in {seconds} {unit}."
