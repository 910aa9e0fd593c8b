"""RetryPolicy and the rate limiter as pure functions (no server needed for these rules)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from lucidframes._http.ratelimit import SlidingWindowLimiter
from lucidframes._http.retry import Decision, RetryPolicy, parse_retry_after

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


# ------------------------------------------------------------------------------------------------ the table, literally
# bench/mutate.py (tests/README.md) showed which changes to retry.py the tests above did not notice; these pin them.


def test_backoff_schedule_of_the_guide_and_its_cap():
    policy = RetryPolicy()
    assert [policy.backoff(n) for n in range(1, 9)] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert policy.backoff(50) == 60.0  # capped however far it goes
    assert RetryPolicy(base_delay=0.5, multiplier=3.0, max_delay=10.0).backoff(3) == 4.5  # 0.5 * 3**2
    assert RetryPolicy(base_delay=0.5, multiplier=3.0, max_delay=4.0).backoff(3) == 4.0  # the cap wins
    assert RetryPolicy(max_retries=0).decide(1, status=503) == Decision(False, reason="gave up after 0 retries")


def test_defaults_of_the_guide():
    policy = RetryPolicy()
    assert (policy.max_retries, policy.base_delay, policy.max_delay, policy.multiplier, policy.jitter) == (
        5,
        1.0,
        60.0,
        2.0,
        0.0,
    )
    assert policy.retry_after_ceiling == 300.0
    assert Decision(True) == Decision(True, 0.0, "")  # a decision waits nothing unless told


@pytest.mark.parametrize(("status", "retried"), [(428, False), (429, True), (430, False), (499, False), (500, True),
                                                 (501, True), (599, True), (600, False)])  # fmt: skip
def test_exactly_429_and_the_5xx_range_are_retried(status, retried):
    assert RetryPolicy().decide(1, status=status).retry is retried


def test_a_refusal_waits_nothing():
    policy = RetryPolicy()
    assert policy.decide(1, status=404) == Decision(False, 0.0, "HTTP 404 is not retried")
    assert policy.decide(6, status=503) == Decision(False, 0.0, "gave up after 5 retries")
    assert policy.decide(5, status=503) == Decision(True, 16.0, "HTTP 503: backoff")


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "get"])
def test_reads_are_retried_after_a_dropped_connection(method):
    decision = RetryPolicy().decide(2, method=method, sent=True)
    assert decision == Decision(True, 2.0, "connection failure: backoff")


# Issue 19: a write (POST, PUT, PATCH, DELETE: idempotent in HTTP's words or not) may have acted on the API's
# side, so it is never repeated once sent; the error says the outcome is unknown.
@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE", "post", "delete"])
def test_writes_are_not_repeated_once_sent(method):
    decision = RetryPolicy().decide(1, method=method, sent=True)
    assert not decision.retry and decision.wait == 0
    assert decision.reason == f"no usable answer to a {method.upper()}, which may have acted: not repeated"
    assert decision.verdict == "outcome_unknown"


def test_decide_defaults_to_a_sent_get():
    assert RetryPolicy().decide(1) == Decision(True, 1.0, "connection failure: backoff")  # method="GET"
    assert not RetryPolicy().decide(1, method="POST").retry  # sent=True: it may have reached the server


@pytest.mark.parametrize(
    ("header", "retry_number", "expected"),
    [
        ("7", 1, Decision(True, 7.0, "429: Retry-After 7s")),  # delta-seconds
        ("1.5", 3, Decision(True, 1.5, "429: Retry-After 1.5s")),  # a fraction: exactly that, not the backoff
        ("Wed, 01 Jan 2026 12:00:42 GMT", 1, Decision(True, 42.0, "429: Retry-After 42s")),  # an HTTP-date
        ("Wed, 01 Jan 2026 12:00:42 -0000", 1, Decision(True, 42.0, "429: Retry-After 42s")),  # no zone: GMT
        ("Wed, 01 Jan 2026 13:00:42 +0100", 1, Decision(True, 42.0, "429: Retry-After 42s")),  # another zone
        ("0", 4, Decision(True, 8.0, "HTTP 429: backoff")),  # 0: the backoff step
        ("-3", 2, Decision(True, 2.0, "HTTP 429: backoff")),  # negative: the backoff step
        ("-0.5", 2, Decision(True, 2.0, "HTTP 429: backoff")),
        ("0.5", 3, Decision(True, 0.5, "429: Retry-After 0.5s")),  # under a second: still exactly that
        ("Wed, 01 Jan 2026 11:59:00 GMT", 3, Decision(True, 4.0, "HTTP 429: backoff")),  # a past date: backoff
        ("Wed, 01 Jan 2026 12:00:00 GMT", 1, Decision(True, 1.0, "HTTP 429: backoff")),  # now: 0 s, backoff
        ("soon", 2, Decision(True, 2.0, "HTTP 429: backoff")),  # unreadable: backoff
        ("300", 1, Decision(True, 300.0, "429: Retry-After 300s")),  # at the ceiling: waited
        ("300.5", 1, Decision(False, 300.5, "Retry-After 300.5s is above the ceiling of 300s")),  # above: fail fast
        ("Wed, 01 Jan 2026 12:10:00 GMT", 1, Decision(False, 600.0, "Retry-After 600s is above the ceiling of 300s")),
    ],
)
def test_retry_after_edge_cases(header, retry_number, expected):
    assert RetryPolicy().decide(retry_number, status=429, retry_after=header, now=NOW) == expected


def test_retry_after_is_read_only_on_a_429():
    assert RetryPolicy().decide(1, status=503, retry_after="30") == Decision(True, 1.0, "HTTP 503: backoff")
    assert RetryPolicy().decide(6, status=429, retry_after="30") == Decision(False, 0.0, "gave up after 5 retries")
    assert RetryPolicy().decide(2, status=429) == Decision(True, 2.0, "HTTP 429: backoff")  # no header


def test_parse_retry_after_forms():
    assert parse_retry_after("\t12\n") == 12.0
    assert parse_retry_after("Wed, 01 Jan 2026 11:59:50 GMT", now=NOW) == -10.0  # past: negative, not None
    assert parse_retry_after("Wed, 01 Jan 2026 12:00:10 -0000", now=NOW) == 10.0  # a naive date is GMT
    assert parse_retry_after("") is None and parse_retry_after("Wed, 99 Foo 2026") is None
    later = datetime.now(UTC) + timedelta(seconds=100)
    assert 95 < parse_retry_after(format_datetime(later, usegmt=True)) <= 100  # without now=: the clock


@pytest.mark.parametrize("values", [{"max_retries": 0}, {"base_delay": 0}, {"max_delay": 0}, {"jitter": 0},
                                    {"jitter": 1}])  # fmt: skip
def test_boundary_policy_values_are_accepted(values):
    RetryPolicy(**values)


@pytest.mark.parametrize("values", [{"max_retries": -1}, {"base_delay": -0.5}, {"max_delay": -0.5},
                                    {"jitter": -0.5}, {"jitter": 1.5}])  # fmt: skip
def test_negative_or_out_of_range_policy_values_are_refused(values):
    with pytest.raises(ValueError, match=r"^RetryPolicy needs max_retries, base_delay, max_delay >= 0 and 0 <= jitter"):
        RetryPolicy(**values)


def test_jitter_uses_the_given_random_source():
    policy = RetryPolicy(jitter=0.5)
    first = [policy.backoff(3, random.Random(7)) for _ in range(3)]
    assert first == [policy.backoff(3, random.Random(7))] * 3  # the same seed: the same wait
    assert policy.backoff(3, random.Random(7)) != policy.backoff(3, random.Random(8))
    assert policy.backoff(3, random.Random(7)) == 4 * (1 - 0.5 * random.Random(7).random())  # wait - wait*jitter*r
    assert 2 <= policy.backoff(3) <= 4  # without one: the module's random


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
