"""Issue 9, defect 4: every attempt has a total deadline, enforced while the body streams."""

from __future__ import annotations

import time

import pytest
from servers import api

import lucidframes as lf

# 5 bytes, one every 0.2 s: the whole body takes 1 s, each single read far less than any read timeout.
DRIPPED = [1, 2]


def test_a_dripping_body_hits_the_deadline(recorder):
    with api(page=DRIPPED, drip=0.2) as server:
        client = lf.Client(server.url, "cid", "csecret-deadline-1", deadline=0.5, sleep=recorder,
                           retry=lf.RetryPolicy(max_retries=0), rate_limits=None, progress=False)  # fmt: skip
        start = time.monotonic()
        with pytest.raises(lf.RequestTimeoutError):
            client.get_json("products/")
        elapsed = time.monotonic() - start
        client.close()
    assert elapsed < 0.95  # the deadline (0.5 s), not the body's 1 s
    assert recorder.waits == []


def test_a_deadline_hit_is_retried_like_a_timeout(recorder):
    with api(page=DRIPPED, drip=0.2) as server:
        client = lf.Client(server.url, "cid", "csecret-deadline-1", deadline=0.4, sleep=recorder,
                           retry=lf.RetryPolicy(max_retries=2), rate_limits=None, progress=False)  # fmt: skip
        start = time.monotonic()
        with pytest.raises(lf.RequestTimeoutError) as info:
            client.get_json("products/")
        elapsed = time.monotonic() - start
        client.close()
        assert len(server.api_requests()) == 3
    assert recorder.waits == [1, 2]  # backoff between the tries
    assert len(info.value.history) == 3
    assert elapsed < 2.5


def test_the_default_deadline_is_a_named_constant():
    from lucidframes import config

    assert 0 < config.DEFAULT_DEADLINE <= 600
    client = lf.Client("http://127.0.0.1:9", "cid", "csecret-deadline-1", progress=False)
    assert client.transport.deadline == config.DEFAULT_DEADLINE
