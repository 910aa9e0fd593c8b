"""Wait events: every wait the transport makes is announced once, as a frozen ``WaitEvent``, to its hooks.

The hooks are the subscribers: ``log_wait`` (an INFO line such as "503, retry 2/5 in 2 s"), ``WaitStats`` (counts
and wall-clock totals for ``df.attrs``), the progress bar's postfix and the notebook widget. A hook is called just
before the wait starts, so what it shows is visible while the wait happens.

Many workers wait on the same thing at once (the limiter's window, the pause every worker makes after a 429): a
``WaitBoard`` is the run's one voice about them. It says a wait once for the whole run, however many workers wait
on it (the transport then leaves the logging to it), and it knows how long the wait going on has left, for a
countdown.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "WaitBoard",
    "WaitEvent",
    "WaitHook",
    "WaitKind",
    "WaitStats",
    "describe",
    "emit",
    "log_wait",
    "seconds_text",
]

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


def seconds_text(seconds: float) -> str:
    """Seconds as a countdown says them: whole seconds, rounded up ("42 s"), tenths below one ("0.4 s")."""
    if seconds >= 1:
        return f"{math.ceil(seconds - 1e-9)} s"
    return f"{max(seconds, 0.0):.1f} s"


def describe(event: WaitEvent, left: float | None = None) -> str:
    """A short human line for a wait: "rate limited, next request in 28 s", "503, retry 2/5 in 2 s".

    Args:
        event: the wait.
        left: the seconds it has left (a countdown); its whole length when None.

    Returns:
        The line.
    """
    seconds = seconds_text(event.seconds if left is None else left)
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


# A wait that starts within this many seconds of the end of the last one is part of the same wait (the limiter
# hands the workers slots one after another, each a little later than the one before).
SAME_WAIT = 1.0
# Shorter rate-limiter waits are not worth a line (they are the limiter pacing requests, not a wait a person sees).
SAY_FROM = 1.0


def _key(event: WaitEvent) -> tuple[object, ...]:
    """What makes two waits of one run the same news: the limiter's wait, or the same retry of the same cause."""
    if event.kind == "throttle":
        return ("throttle",)
    return (event.kind, event.status, event.cause if event.status is None else "", event.attempt)


class WaitBoard:
    """The waits of one run (a drain, a look-up): each said once however many workers wait, and a countdown.

    A hook: call it with every worker's ``WaitEvent``. A wait that starts while another is going on (or within
    ``SAME_WAIT`` seconds of its end) belongs to it; it is said again only when it is new news (a 429, the next
    retry). ``current()`` is the wait to show now and its seconds left. ``close()`` (a Stop, Ctrl-C) silences it.

    Args:
        say: what says a wait (``log_wait``; None says nothing: the board then only counts down).
        clock: the clock the countdown runs on.
    """

    def __init__(self, say: WaitHook | None = log_wait, clock: Callable[[], float] = time.monotonic) -> None:
        self._say = say
        self._clock = clock
        self._lock = threading.Lock()
        self._waits: dict[int, tuple[WaitEvent, float]] = {}  # thread -> (its wait, when it ends)
        self._said: set[tuple[object, ...]] = set()
        self._until = float("-inf")  # when the waits said so far end
        self.closed = False
        self.said = 0  # waits said (for tests and the summary)

    def __call__(self, event: WaitEvent) -> None:
        """Note a worker's wait as it starts; say it when it is news for the run."""
        now = self._clock()
        end = now + max(0.0, event.seconds)
        with self._lock:
            if self.closed:
                return
            if now > self._until + SAME_WAIT:
                self._said.clear()  # the run has not been waiting: this is a new wait
            self._until = max(self._until, end)
            self._waits[threading.get_ident()] = (event, end)
            key = _key(event)
            news = key not in self._said and (event.is_retry or event.seconds >= SAY_FROM)
            if event.kind == "throttle" and any(k[0] == "retry_after" for k in self._said):
                news = False  # the limiter holding everyone back after a 429 already said
            if news:
                self._said.add(key)
                self.said += 1
        if news and self._say is not None:
            self._say(event)

    def current(self) -> tuple[WaitEvent, float] | None:
        """The wait to show now (the one that ends first: the next request goes then) and its seconds left."""
        now = self._clock()
        with self._lock:
            going = [(end, event) for event, end in self._waits.values() if end > now]
        if self.closed or not going:
            return None
        end, event = min(going, key=lambda pair: pair[0])
        return event, end - now

    def close(self) -> None:
        """Say nothing more and show no wait (the run was stopped, interrupted or is over)."""
        with self._lock:
            self.closed = True
            self._waits.clear()
