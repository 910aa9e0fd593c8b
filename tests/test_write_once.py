"""Issue 19, defect 2: a write that may have been acted on is never sent again; its error says the outcome is unknown.

The servers here record every request and then fail the way a real stack fails after doing the work: the sale is
recorded, then a 500 or a 504 comes back, or the answer never finishes. A second POST would record it twice (or be
answered "already processed" and blamed on the payload).
"""

from __future__ import annotations

import pickle

import pytest
from servers import TOKEN, Reply, Seen, scripted

import lucidframes as lf
from lucidframes._http.retry import RetryPolicy

SALE = {"performed_at": "2026-01-02T10:00:00Z", "items": ["23456789ABCDEFGHJKLM"], "order_id": "order-1"}
COMPLETE = "/api/v1.2/transactions/complete/"


def _acts_then_fails(status: int, body: object = b"", drip: float | None = None):
    """A server that records the sale (the work is done) and then answers ``status`` (dripped when asked)."""

    def respond(seen: Seen) -> Reply:
        if seen.path == "/o/token/":
            return Reply(200, TOKEN)
        return Reply(status, body, drip=drip)

    return scripted(respond)


def _client(server, recorder, **kwargs) -> lf.Client:
    return lf.Client(server.url, "cid", "csecret-write-once", sleep=recorder, rate_limits=None, progress=False,
                     **kwargs)  # fmt: skip


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_sale_answered_5xx_is_sent_once_and_its_outcome_is_unknown(recorder, status):
    with _acts_then_fails(status) as server:
        client = _client(server, recorder)
        with pytest.raises(lf.WriteOutcomeUnknownError) as caught:
            client.submit("transactions_complete", SALE)
        posts = [r for r in server.api_requests() if r.path == COMPLETE]
        client.close()
    assert len(posts) == 1  # not repeated: the first one may have recorded the sale
    assert recorder.waits == []
    err = caught.value
    assert isinstance(err, lf.ServerError) and err.status_code == status  # old `except ServerError` still catches it
    text = str(err)
    assert "may have" in text and "not send it again" in text and "Check" in text
    assert "Fix the request payload" not in text
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err) and again.status_code == status


def test_a_write_whose_answer_never_finishes_is_not_repeated(recorder):
    with _acts_then_fails(200, {"status": "success", "request_id": "r-1"}, drip=0.2) as server:
        client = _client(server, recorder, deadline=0.3)
        with pytest.raises(lf.WriteOutcomeUnknownError) as caught:
            client.submit("transactions_complete", SALE)
        posts = [r for r in server.api_requests() if r.path == COMPLETE]
        client.close()
    assert len(posts) == 1 and recorder.waits == []
    assert isinstance(caught.value, lf.RequestTimeoutError)


def test_a_delete_answered_500_is_not_repeated(recorder):
    with _acts_then_fails(500) as server:
        client = _client(server, recorder)
        with pytest.raises(lf.WriteOutcomeUnknownError):
            client.delete("text_asset_delete", "23456789ABCDEFGHJKLMNP")
        deletes = [r for r in server.api_requests() if r.method == "DELETE"]
        client.close()
    assert len(deletes) == 1 and recorder.waits == []


def test_a_write_answered_with_a_body_that_is_not_json_is_not_repeated(recorder):
    with _acts_then_fails(200, b"<html>gateway</html>") as server:
        client = _client(server, recorder)
        with pytest.raises(lf.DecodeError) as caught:
            client.submit("transactions_complete", SALE)
        posts = [r for r in server.api_requests() if r.path == COMPLETE]
        client.close()
    assert len(posts) == 1 and recorder.waits == []
    assert "Check on the server" in str(caught.value) and "Try again later" not in str(caught.value)


def test_a_throttled_write_is_still_retried(recorder):
    answers = iter([Reply(429, {"detail": "Request was throttled."}, {"Retry-After": "3"})])

    def respond(seen: Seen) -> Reply:
        if seen.path == "/o/token/":
            return Reply(200, TOKEN)
        return next(answers, Reply(200, {"status": "success", "request_id": "r-2"}))

    with scripted(respond) as server:
        client = _client(server, recorder)
        assert client.submit("transactions_complete", SALE) == {"status": "success", "request_id": "r-2"}
        posts = [r for r in server.api_requests() if r.path == COMPLETE]
        client.close()
    assert len(posts) == 2 and recorder.waits == [3]  # a 429 was not acted on: the table's wait, then again


def test_the_one_function_that_decides():
    policy = RetryPolicy()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for status in (500, 503, 504):
            decision = policy.decide(1, status=status, method=method)
            assert not decision.retry and decision.verdict == "outcome_unknown"
        assert policy.decide(1, method=method, sent=True).verdict == "outcome_unknown"  # a timeout, a drop
        assert policy.decide(1, method=method, sent=False).retry  # refused before sending: nothing was acted on
        assert policy.decide(1, status=429, method=method).retry
    assert policy.decide(1, status=503, method="GET").retry
    assert policy.decide(1, method="GET", sent=True).retry
