"""RetryPolicy: which responses are retried, and how long to wait before the next try.

The table is the API guide's (``responses-and-errors.txt``), and it is law:

====================  ===========================================================================
400, 403, 404, 405    never retried
401                   handled by the client: renew the token once and retry once (not here)
429                   wait ``Retry-After`` (seconds or HTTP-date); 0, negative or past -> backoff
                      step; above ``retry_after_ceiling`` -> fail at once
500-599               back off 1, 2, 4, 8, 16 s (doubling, capped at ``max_delay``), 5 retries
dropped connection,   as 5xx; but for a non-idempotent method (POST) a failure after the request
timeout               was sent is not retried: the server may have acted
====================  ===========================================================================

Everything here is a pure function of its inputs, so the client stays the only place that sleeps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["Decision", "RetryPolicy", "parse_retry_after"]

# Methods the HTTP spec calls idempotent: repeating them after a lost answer is harmless.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: retry after ``wait`` seconds, or give up (``retry`` False)."""

    retry: bool
    wait: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """The retry rules of the API guide, with its numbers as defaults.

    Args:
        max_retries: retries after the first attempt before giving up (the guide: 5).
        base_delay: the first backoff wait in seconds (the guide: 1).
        max_delay: the cap on any backoff wait (the guide: 60).
        multiplier: growth of the backoff per retry (the guide: doubling).
        jitter: a fraction (0 to 1) of each backoff wait to randomise; off by default so waits are exact.
        retry_after_ceiling: a ``Retry-After`` above this many seconds fails at once instead of waiting.
        retry_statuses: HTTP statuses retried with backoff or ``Retry-After``.
    """

    max_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.0
    retry_after_ceiling: float = 300.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, *range(500, 600)}))

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base_delay < 0 or self.max_delay < 0 or not 0 <= self.jitter <= 1:
            raise ValueError("RetryPolicy needs max_retries, base_delay, max_delay >= 0 and 0 <= jitter <= 1")

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """The wait before retry ``retry_number`` (1-based): base * multiplier**(n-1), capped.

        Args:
            retry_number: 1 for the first retry, 2 for the second, ...
            rng: the random source for jitter (tests pass a seeded one).

        Returns:
            Seconds to wait.
        """
        wait = min(self.max_delay, self.base_delay * self.multiplier ** (retry_number - 1))
        if self.jitter:
            wait -= wait * self.jitter * (rng or random).random()
        return wait

    def decide(
        self,
        retry_number: int,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        method: str = "GET",
        sent: bool = True,
        now: datetime | None = None,
    ) -> Decision:
        """Decide whether attempt ``retry_number`` (1-based count of retries so far + 1) should happen.

        Args:
            retry_number: the number of the retry being considered (1 = the first retry).
            status: the HTTP status of the failed attempt, or None for a transport failure.
            retry_after: the raw ``Retry-After`` header, if any.
            method: the HTTP method of the request.
            sent: for a transport failure, whether the request may have reached the server.
            now: the current time, for HTTP-date ``Retry-After`` values (tests pass a fixed one).

        Returns:
            A Decision; ``retry`` False means raise the error now.
        """
        if status is not None and status not in self.retry_statuses:
            return Decision(False, reason=f"HTTP {status} is not retried")
        if status is None and sent and method.upper() not in IDEMPOTENT_METHODS:
            return Decision(False, reason=f"{method.upper()} may have reached the server; not repeated blindly")
        if retry_number > self.max_retries:
            return Decision(False, reason=f"gave up after {self.max_retries} retries")
        if status == 429 and retry_after is not None:
            seconds = parse_retry_after(retry_after, now=now)
            if seconds is not None and seconds > self.retry_after_ceiling:
                return Decision(
                    False,
                    wait=seconds,
                    reason=f"Retry-After {seconds:g}s is above the ceiling of {self.retry_after_ceiling:g}s",
                )
            if seconds is not None and seconds > 0:
                return Decision(True, wait=seconds, reason=f"429: Retry-After {seconds:g}s")
        label = f"HTTP {status}" if status is not None else "connection failure"
        return Decision(True, wait=self.backoff(retry_number), reason=f"{label}: backoff")


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    Args:
        value: the header's text.
        now: the current time (UTC) for HTTP-dates; defaults to the clock.

    Returns:
        Seconds (may be 0 or negative for a past date), or None when the value cannot be read.
    """
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return (when - (now or datetime.now(UTC))).total_seconds()
