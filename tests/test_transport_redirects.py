"""Issue 9, defect 2: no redirect is followed; a 3xx is a typed RedirectError naming where it pointed."""

from __future__ import annotations

import pytest
from servers import api, foreign, redirecting

import lucidframes as lf

SECRET = "csecret-redirect-0042"


def outcome(call):
    """What a call gave: its result or the exception (so the behaviour is checked before the error's type)."""
    try:
        return call()
    except Exception as exc:
        return exc


def make_client(url, recorder):
    return lf.Client(url, "cid", SECRET, sleep=recorder, rate_limits=None, progress=False, workers=1)


def test_a_307_on_the_token_endpoint_does_not_resend_the_secret(recorder):
    with foreign() as other, api(token_redirect=f"{other.url}/o/token/") as server:
        with make_client(server.url, recorder) as client:
            err = outcome(lambda: client.get_json("products/"))
        assert [r.body for r in other.requests if SECRET.encode() in r.body] == []  # the form went nowhere else
        assert other.requests == []
        assert server.api_requests() == []
    assert isinstance(err, lf.RedirectError)
    assert "127.0.0.1" in str(err) and str(other.port) in str(err)
    assert err.location == f"{other.url}/o/token/"
    assert recorder.waits == []  # not retried


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirected_submission_is_not_reposted(recorder, status):
    with foreign() as other, api(api_redirect=(status, f"{other.url}/api/v1.5/items/add/")) as server:
        with make_client(server.url, recorder) as client:
            err = outcome(lambda: client.post_json("items/add/", {"lucid_ids": ["ABCDEFGHJKLMNPQRSTUV"]}))
        assert other.requests == []  # the LucidIDs were not re-posted elsewhere
        assert [r.method for r in server.api_requests()] == ["POST"]  # one try, not retried
    assert isinstance(err, lf.RedirectError)  # not the other server's 200 as success
    assert err.status_code == status
    assert f"127.0.0.1:{other.port}" in str(err)


def test_a_redirected_submit_through_the_registry_is_not_reposted(recorder):
    with foreign() as other, api(api_redirect=(307, f"{other.url}/elsewhere/")) as server:
        with make_client(server.url, recorder) as client:
            body = {"lucid_ids": ["ABCDEFGHJKLMNPQRSTUV"]}
            # issue 19: dispensary_uuid must be a well-formed uuid ("d-1" is refused before sending now)
            err = outcome(
                lambda: client.submit("add_items", body, validate=False, dispensary_uuid="3kTMd7ZxQ9pWvR5yHn2Jcs")
            )
        assert other.requests == []
        assert len(server.api_requests()) == 1
    assert isinstance(err, lf.RedirectError)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_get_does_not_return_the_other_servers_data(recorder, status):
    with foreign() as other, api(api_redirect=(status, f"{other.url}/api/v1.5/products/")) as server:
        with make_client(server.url, recorder) as client:
            err = outcome(lambda: client.get_json("products/"))
        assert other.requests == []
        assert len(server.api_requests()) == 1
    assert isinstance(err, lf.RedirectError)  # not the other server's page as API data
    assert err.location == f"{other.url}/api/v1.5/products/"
    assert f"127.0.0.1:{other.port}" in str(err)


def test_a_redirected_drain_raises(recorder):
    with foreign() as other, api(api_redirect=(302, f"{other.url}/api/v1.5/products/")) as server:
        with make_client(server.url, recorder) as client:
            err = outcome(lambda: client.load("products"))
        assert other.requests == []
    assert isinstance(err, lf.RedirectError)


def test_a_redirect_loop_raises_at_once(recorder):
    with redirecting(302, None) as server:
        with make_client(server.url, recorder) as client:
            err = outcome(lambda: client.get_json("products/"))
        assert len(server.api_requests()) == 1  # one request, not 186
    assert recorder.waits == []
    assert isinstance(err, lf.RedirectError)
