"""A client-side sliding-window rate limiter shared by every worker of a client.

It mirrors the server's throttle (DRF's SimpleRateThrottle: at most N requests in any W seconds), so a burst up
to the limit goes out at once and only the request that would exceed the window waits. Each caller *reserves* a
send time under a lock and the transport waits outside it (through its one, interruptible wait); because the
reservation is computed, not re-checked after the wait, a recording sleep hook in tests gives the same, exact
waits. Nothing here sleeps.

The server counts a request when it handles it, a little after we sent it, and does not count a request it
throttled. So once the answer is in, the caller ``settle``s its slot at the arrival time (never earlier than the
reservation), and ``release``s it after a 429: our window then never runs ahead of the server's, however slow
the round trip, and a throttled attempt does not cost a slot.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

__all__ = ["SlidingWindowLimiter", "give_back"]


class SlidingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds; ``pause_until`` holds everyone back after a 429."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.05,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        # Extra seconds added to each window so our clock and the server's (which sees requests a little later)
        # never disagree at the boundary.
        self.margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: list[float] = []  # reserved (or settled) send times, ascending; at most about `limit` long
        self._paused_until = 0.0

    def reserve(self, delay: float = 0.0) -> tuple[float, float]:
        """Reserve the earliest allowed send time at least ``delay`` seconds from now.

        Args:
            delay: a wait the caller needs anyway (a backoff step, a Retry-After).

        Returns:
            (seconds to wait: exactly ``delay`` when the limit does not bind, more when it does; the slot's time).
        """
        with self._lock:
            now = self._clock()
            horizon = now - self.window - self.margin
            expired = bisect.bisect_right(self._sent, horizon)
            del self._sent[:expired]
            earliest = now + delay
            at = max(earliest, self._paused_until)
            if len(self._sent) >= self.limit:
                at = max(at, self._sent[-self.limit] + self.window + self.margin)
            bisect.insort(self._sent, at)
            # Return the caller's own delay untouched when nothing else binds, so recorded waits are exact.
            return (delay if at == earliest else at - now), at

    def settle(self, slot: float) -> float:
        """Move a slot to now, when the answer has arrived (the server counted the request by then).

        Args:
            slot: the time ``reserve`` returned.

        Returns:
            The slot's new time (never earlier than it was).
        """
        with self._lock:
            now = self._clock()
            if now <= slot or not self._remove(slot):
                return slot
            bisect.insort(self._sent, now)
            return now

    def release(self, slot: float) -> None:
        """Give a slot back: the server throttled that attempt, and a throttled request does not count."""
        with self._lock:
            self._remove(slot)

    def _remove(self, slot: float) -> bool:
        """Drop one entry equal to ``slot`` (call with the lock held); False if it has already expired."""
        i = bisect.bisect_left(self._sent, slot)
        if i < len(self._sent) and self._sent[i] == slot:
            del self._sent[i]
            return True
        return False

    def snapshot(self) -> tuple[list[float], float]:
        """(the slots still in the window, as seconds from now (negative: past), the pause left) for a plan."""
        with self._lock:
            now = self._clock()
            horizon = now - self.window - self.margin
            return [t - now for t in self._sent if t > horizon], max(0.0, self._paused_until - now)

    def pause_until_after(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` from now (the server said Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


def give_back(limiter: SlidingWindowLimiter | None, slot: float | None, status: int | None) -> None:
    """Settle an attempt's limiter slot: the server counts what it handled (or lost), and nothing it throttled."""
    if limiter is None or slot is None:
        return
    if status == 429:
        limiter.release(slot)
    else:
        limiter.settle(slot)
