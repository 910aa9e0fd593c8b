"""A client-side sliding-window rate limiter shared by every worker of a client.

It mirrors the server's throttle (DRF's SimpleRateThrottle: at most N requests in any W seconds), so a burst up
to the limit goes out at once and only the request that would exceed the window waits. Each caller *reserves* a
send time under a lock and then sleeps outside it; because the reservation is computed, not re-checked after the
sleep, a recording sleep hook in tests (which returns at once) gives the same, exact waits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["SlidingWindowLimiter"]


class SlidingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds; ``pause_until`` holds everyone back after a 429."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
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
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()  # reserved send times, ascending
        self._paused_until = 0.0

    def reserve(self, delay: float = 0.0) -> float:
        """Reserve the earliest allowed send time at least ``delay`` seconds from now.

        Args:
            delay: a wait the caller needs anyway (a backoff step, a Retry-After).

        Returns:
            Seconds to wait: exactly ``delay`` when the limit does not bind, more when it does.
        """
        with self._lock:
            now = self._clock()
            horizon = now - self.window - self.margin
            while self._sent and self._sent[0] <= horizon:
                self._sent.popleft()
            earliest = now + delay
            at = max(earliest, self._paused_until)
            if len(self._sent) >= self.limit:
                at = max(at, self._sent[-self.limit] + self.window + self.margin)
            self._sent.append(at)
            # Return the caller's own delay untouched when nothing else binds, so recorded waits are exact.
            return delay if at == earliest else at - now

    def acquire(self, delay: float = 0.0) -> float:
        """Wait (through the sleep hook) at least ``delay`` seconds and until a request may be sent.

        Args:
            delay: a wait the caller needs anyway.

        Returns:
            Seconds waited.
        """
        wait = self.reserve(delay)
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause_until_after(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` from now (the server said Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
