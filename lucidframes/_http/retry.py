"""RetryPolicy: which responses are retried, and how long to wait before the next try.

The table is the API guide's (``responses-and-errors.txt``), and it is law:

====================  ===========================================================================
400, 403, 404, 405    never retried
401                   handled by the client: renew the token once and retry once (not here)
429                   wait ``Retry-After`` (seconds or HTTP-date); 0, negative or past -> backoff
                      step; above ``retry_after_ceiling`` -> fail at once
500-599               back off 1, 2, 4, 8, 16 s (doubling, capped at ``max_delay``), 5 retries
dropped connection,   as 5xx
timeout
a write after 5xx,    never repeated (POST, PUT, PATCH, DELETE): the server may have acted, so the
timeout or a drop     outcome is unknown (verdict "outcome_unknown"); a 429, and a connection
                      refused before anything was sent, are still retried
nothing answers yet   a connection refused (or timed out) before this client has had any answer:
                      one short retry, then give up (verdict "unreachable")
====================  ===========================================================================

The spec's table says "retry 5xx"; writes are the exception because they are not idempotent: a 500 or a 504
to a sale may come after the sale was recorded, and a repeat records it twice (or is refused as "already
processed" and blamed on the payload). Only the caller can find out what happened.

Everything here is a pure function of its inputs, so the client stays the only place that sleeps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = ["WRITE_METHODS", "Decision", "RetryPolicy", "Verdict", "parse_retry_after", "retry_method"]

# Methods that change something on the server: never repeated once they may have reached it.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The one retry, after this many seconds at most, when nothing has answered at the host yet.
FIRST_CONTACT_WAIT = 0.5

# Why a give-up is special: "outcome_unknown" (a write may have acted), "unreachable" (nothing answers there).
Verdict = Literal["", "outcome_unknown", "unreachable"]


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: retry after ``wait`` seconds, or give up (``retry`` False)."""

    retry: bool
    wait: float = 0.0
    reason: str = ""
    verdict: Verdict = ""
    allowed: int = 0  # the retries this kind of failure allows, when not the policy's max_retries


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
        first_contact: bool = False,
        now: datetime | None = None,
    ) -> Decision:
        """Decide whether attempt ``retry_number`` (1-based count of retries so far + 1) should happen.

        Args:
            retry_number: the number of the retry being considered (1 = the first retry).
            status: the HTTP status of the failed attempt, or None for a transport failure.
            retry_after: the raw ``Retry-After`` header, if any.
            method: the HTTP method of the request.
            sent: for a transport failure, whether the request may have reached the server.
            first_contact: nothing has answered at this host yet (no HTTP answer of any kind so far).
            now: the current time, for HTTP-date ``Retry-After`` values (tests pass a fixed one).

        Returns:
            A Decision; ``retry`` False means raise the error now.
        """
        if status is not None and status not in self.retry_statuses:
            return Decision(False, reason=f"HTTP {status} is not retried")
        exception = self._exception(retry_number, status, method.upper(), sent, first_contact)
        if exception is not None:
            return exception
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

    def _exception(
        self, retry_number: int, status: int | None, method: str, sent: bool, first_contact: bool
    ) -> Decision | None:
        """The two exceptions to the table: a write that may have acted, and a host where nothing answers."""
        if method in WRITE_METHODS and sent and (status is None or status >= 500):
            what = f"HTTP {status}" if status is not None else "no usable answer"
            return Decision(False, reason=f"{what} to a {method}, which may have acted: not repeated",
                            verdict="outcome_unknown")  # fmt: skip
        if status is None and not sent and first_contact:
            wait = min(self.base_delay, FIRST_CONTACT_WAIT)
            allowed = min(1, self.max_retries)
            return Decision(retry_number <= allowed, wait, "nothing answers there", "unreachable", allowed)
        return None


def retry_method(method: str, idempotent: bool | None) -> str:
    """The method to show the retry policy, which only asks whether a request may be repeated: one that says so."""
    if idempotent is None:
        return method
    return "GET" if idempotent else "POST"


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
