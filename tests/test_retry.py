"""RetryPolicy and the rate limiter as pure functions (no server needed for these rules)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from lucidframes._http.ratelimit import SlidingWindowLimiter
from lucidframes._http.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_backoff_doubles_and_caps():
    policy = RetryPolicy(max_retries=9)
    assert [policy.backoff(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422])
def test_client_errors_are_not_retried(status):
    assert not RetryPolicy().decide(1, status=status).retry


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_server_errors_and_429_retry_until_the_limit(status):
    policy = RetryPolicy()
    assert [policy.decide(n, status=status).wait for n in range(1, 6)] == [1, 2, 4, 8, 16]
    assert not policy.decide(6, status=status).retry


def test_retry_after_forms():
    policy = RetryPolicy(retry_after_ceiling=100)
    assert policy.decide(1, status=429, retry_after="7").wait == 7
    date = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
    assert policy.decide(1, status=429, retry_after=date, now=NOW).wait == 42
    assert policy.decide(3, status=429, retry_after="0").wait == 4  # 0 -> the backoff step
    assert policy.decide(1, status=429, retry_after="-5").wait == 1
    past = format_datetime(NOW - timedelta(seconds=10), usegmt=True)
    assert policy.decide(2, status=429, retry_after=past, now=NOW).wait == 2
    assert policy.decide(1, status=429, retry_after="garbage").wait == 1
    too_long = policy.decide(1, status=429, retry_after="101")
    assert not too_long.retry and too_long.wait == 101 and "ceiling" in too_long.reason


def test_parse_retry_after():
    assert parse_retry_after(" 3 ") == 3
    assert parse_retry_after("Wed, 01 Jan 2026 12:00:10 GMT", now=NOW) == 10
    assert parse_retry_after("soon") is None


def test_transport_failures_respect_idempotency():
    policy = RetryPolicy()
    assert policy.decide(1, method="GET", sent=True).retry
    assert policy.decide(1, method="POST", sent=False).retry  # never reached the server
    assert not policy.decide(1, method="POST", sent=True).retry
    # Issue 19: a 5xx to a write may come after the write was acted on; it is never repeated (it used to be).
    unknown = policy.decide(1, status=503, method="POST")
    assert not unknown.retry and unknown.verdict == "outcome_unknown"


def test_jitter_is_off_by_default_and_bounded_when_on():
    assert RetryPolicy().backoff(3) == 4
    rng = random.Random(1)
    waits = [RetryPolicy(jitter=0.5).backoff(3, rng) for _ in range(100)]
    assert all(2 <= w <= 4 for w in waits) and len(set(waits)) > 1


def test_bad_policy_values():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.waits = []

    def clock(self):
        return self.now

    def sleep(self, s):
        self.waits.append(round(s, 6))
        self.now += s


class Limiter(SlidingWindowLimiter):
    """The limiter with the transport's part: reserve a slot, then wait through the (fake) sleep."""

    def __init__(self, *args, sleep, **kwargs):
        super().__init__(*args, **kwargs)
        self.sleep = sleep

    def acquire(self, delay=0.0):
        wait, slot = self.reserve(delay)
        if wait > 0:
            self.sleep(wait)
        return wait, slot


def test_limiter_lets_a_burst_through_then_spaces_by_the_window():
    t = FakeTime()
    limiter = Limiter(3, 10.0, sleep=t.sleep, clock=t.clock, margin=0.0)
    for _ in range(3):
        assert limiter.acquire()[0] == 0
    assert limiter.acquire()[0] == 10  # the 4th waits until the 1st leaves the window
    assert t.waits == [10]
    t.now = 10.5  # the burst of three left the window at t=10
    assert limiter.acquire()[0] == 0
    assert limiter.acquire()[0] == 0
    assert limiter.acquire()[0] == 9.5  # three in (10, 20]: the next waits for the one sent at t=10


def test_limiter_never_allows_more_than_n_in_a_window():
    t = FakeTime()
    limiter = Limiter(5, 60.0, sleep=t.sleep, clock=t.clock, margin=0.0)
    sends = []
    for _ in range(23):
        limiter.acquire()
        sends.append(t.now)
    for s in sends:
        assert sum(1 for x in sends if s <= x < s + 60.0) <= 5
    assert sends[-1] == 240.0  # 23 requests at 5 per minute: the last one in the 5th window


def test_limiter_pause_holds_everyone_and_keeps_a_retry_wait_exact():
    t = FakeTime()
    limiter = Limiter(100, 60.0, sleep=t.sleep, clock=t.clock)
    limiter.pause_until_after(7)
    assert limiter.acquire(7)[0] == 7  # the worker that got the 429 waits exactly Retry-After
    t2 = FakeTime()
    other = Limiter(100, 60.0, sleep=t2.sleep, clock=t2.clock)
    other.pause_until_after(7)
    assert other.acquire()[0] == 7  # another worker is held back too


def test_limiter_settles_slots_at_arrival_and_releases_throttled_ones():
    t = FakeTime()
    limiter = Limiter(2, 10.0, sleep=t.sleep, clock=t.clock, margin=0.0)
    _, first = limiter.acquire()
    _, _second = limiter.acquire()
    t.now = 3.0  # the first answer arrives late: the server counted it at about t=3, not t=0
    assert limiter.settle(first) == 3.0
    assert limiter.reserve()[0] == 7.0  # after `second` (t=0) leaves, at t=10: 7 s from now
    assert limiter.reserve()[0] == 10.0  # after `first`, settled at t=3: at t=13, 10 s from now
    limiter2 = Limiter(1, 10.0, sleep=t.sleep, clock=t.clock, margin=0.0)
    _, slot = limiter2.acquire()
    limiter2.release(slot)  # throttled: the server did not count it
    assert limiter2.reserve()[0] == 0
    assert limiter.settle(999.0) == 999.0  # an unknown slot is left alone
