"""Wait events: every wait the transport makes is announced once, as a frozen ``WaitEvent``, to its hooks.

The hooks are the subscribers: ``log_wait`` (an INFO line such as "503, retry 2/5 in 2 s"), ``WaitStats`` (counts
and wall-clock totals for ``df.attrs``), the progress bar's postfix and the notebook widget. A hook is called just
before the wait starts, so what it shows is visible while the wait happens.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["WaitEvent", "WaitHook", "WaitKind", "WaitStats", "describe", "emit", "log_wait"]

log = logging.getLogger("lucidframes")

# backoff: a 5xx, a dropped connection or a bad body; retry_after: a 429's Retry-After (or its backoff step);
# throttle: our own rate limiter; preparing: a 202 "still preparing" answer.
WaitKind = Literal["backoff", "retry_after", "throttle", "preparing"]


@dataclass(frozen=True)
class WaitEvent:
    """One wait: its kind, length, the retry it precedes (0 for a throttle), the status and cause behind it."""

    kind: WaitKind
    seconds: float
    attempt: int = 0  # the retry this wait precedes (1-based); 0 for the rate limiter
    status: int | None = None  # the HTTP status that caused it, None for a transport failure or throttle
    cause: str = ""  # a short, secret-free reason: "HTTP 503", "ConnectionError", "rate limit 60/60s"
    max_attempts: int = 0  # the retries the policy allows, for "retry 2/5"
    endpoint: str | None = None  # what the wait is for, when the caller said (logs and the bar)
    page: int | None = None

    @property
    def is_retry(self) -> bool:
        """Whether the wait comes before a retry (not a rate-limit throttle)."""
        return self.kind != "throttle"


WaitHook = Callable[[WaitEvent], None]


def describe(event: WaitEvent) -> str:
    """A short human line for a wait: "rate limited, next request in 28 s", "503, retry 2/5 in 2 s"."""
    seconds = f"{event.seconds:.3g} s"
    if event.kind == "throttle":
        return f"rate limited, next request in {seconds}"
    if event.kind == "preparing":
        return f"still preparing, asking again in {seconds} (retry {event.attempt}/{event.max_attempts})"
    what = str(event.status) if event.status is not None else event.cause
    if event.kind == "retry_after":
        what = f"{what} Too Many Requests"
    return f"{what}, retry {event.attempt}/{event.max_attempts} in {seconds}"


def log_wait(event: WaitEvent) -> None:
    """Log a wait at INFO, with the fields a JSON log formatter reads (event, endpoint, page, status, wait)."""
    where = f"{event.endpoint}: " if event.endpoint else ""
    log.info(
        "%s%s",
        where,
        describe(event),
        extra={
            "event": f"wait.{event.kind}",
            "endpoint": event.endpoint,
            "page": event.page,
            "status": event.status,
            "wait": round(event.seconds, 3),
            "attempt": event.attempt or None,
        },
    )


def emit(hooks: Iterable[WaitHook], event: WaitEvent) -> None:
    """Call every hook with ``event``."""
    for hook in hooks:
        hook(event)


class WaitStats:
    """Retries and waits of one piece of work, counted across worker threads, with wall-clock totals.

    Waits of parallel workers overlap in time, so their sum overstates how long the work waited. Each wait is an
    interval on a per-thread clock: it starts at the later of now and the end of that thread's previous wait (a
    sleep hook that records instead of sleeping does not move the real clock, and one thread's waits are
    sequential). The totals are the length of the union of those intervals.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._local = threading.local()
        self._intervals: dict[str, list[tuple[float, float]]] = {"retry": [], "throttle": []}
        self.retries = 0
        self.last: WaitEvent | None = None
        self._last_end = 0.0

    def __call__(self, event: WaitEvent) -> None:
        """Record one wait (the hook interface)."""
        start = max(self._clock(), getattr(self._local, "end", 0.0))
        end = start + max(0.0, event.seconds)
        self._local.end = end
        with self._lock:
            if event.is_retry:
                self.retries += 1
            self._intervals["retry" if event.is_retry else "throttle"].append((start, end))
            self.last = event
            self._last_end = end

    @property
    def retry_wait(self) -> float:
        """Wall-clock seconds spent in backoff, Retry-After and "still preparing" waits."""
        return self._union("retry")

    @property
    def throttle_wait(self) -> float:
        """Wall-clock seconds spent waiting for the client-side rate limiter."""
        return self._union("throttle")

    @property
    def total_wait(self) -> float:
        """Wall-clock seconds during which at least one worker was waiting, for any reason."""
        return self._union("retry", "throttle")

    def current(self) -> WaitEvent | None:
        """The latest wait if it is still going on (for a live postfix), else None."""
        with self._lock:
            if self.last is not None and self._clock() < self._last_end:
                return self.last
            return None

    def _union(self, *kinds: str) -> float:
        with self._lock:
            spans = sorted(span for kind in kinds for span in self._intervals[kind])
        total, reach = 0.0, float("-inf")
        for start, end in spans:
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total
