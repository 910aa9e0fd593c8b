"""The foundation: Client, OAuth2, the retry table, typed errors, the same-origin guard, secrets (issue 2).

Every test talks to the sandbox over a real socket on 127.0.0.1; waits are recorded by the sleep hook.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime, timedelta

import pytest

import lucidframes as lf
from lucidframes._http.wire import USER_AGENT

PRODUCTS = "/api/v1.5/products/"


def api_requests(sb, path=PRODUCTS):
    """The sandbox's log entries for API calls to ``path`` (the token endpoint excluded)."""
    return [e for e in sb.log if e.path == path]


def token_requests(sb):
    return [e for e in sb.log if e.path == "/o/token/"]


# -- configuration --------------------------------------------------------------------------------------------


def test_nothing_configured_says_what_to_set(monkeypatch):
    for var in ("LUCID_BASE_URL", "LUCID_CLIENT_ID", "LUCID_CLIENT_SECRET", "LUCID_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(lf.ConfigError) as info:
        lf.Client()
    text = str(info.value)
    assert "LUCID_CLIENT_ID" in text and "LUCID_CLIENT_SECRET" in text and "LUCID_TOKEN" in text


def test_configuration_from_environment(sandbox, monkeypatch, recorder):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    client = lf.Client(sleep=recorder, rate_limits=None)
    assert client.base_url == sandbox.url
    page = client.get_json("products/")
    assert page["count"] == len(sandbox.list_rows("products"))


def test_bad_base_url_is_a_config_error():
    with pytest.raises(lf.ConfigError, match="http"):
        lf.Client(base_url="source.lucidgreen.io", token="t")


def test_session_has_user_agent_and_timeout(sandbox, client):
    assert client.session.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"lucidframes/{lf.__version__}")
    assert client.timeout == (10.0, 60.0)


def test_api_version_prefix_is_a_setting(sandbox, recorder):
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, api_prefixes={"source": "/api/v1/"})
    assert client.url_for("products/") == sandbox.url + "/api/v1/products/"
    assert client.url_for("batches/x/", "retail") == sandbox.url + "/api/v1.2/batches/x/"


# -- OAuth2 ---------------------------------------------------------------------------------------------------


def test_token_flow_fetches_once_and_reuses(sandbox, client):
    client.get_json("products/")
    client.get_json("products/", params={"page": 2})
    assert len(token_requests(sandbox)) == 1
    assert [e.token_valid for e in api_requests(sandbox)] == [True, True]


def test_token_renewed_shortly_before_expiry(sandbox_factory, recorder):
    sb = sandbox_factory(token_lifetime=100)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None)
    now = [0.0]
    client.auth._clock = lambda: now[0]  # type: ignore[attr-defined]
    client.get_json("products/")
    now[0] = 80.0  # inside the lifetime, before the renewal margin
    client.get_json("products/")
    assert len(token_requests(sb)) == 1
    now[0] = 95.0  # within the margin of expiry: renew before the server would refuse it
    client.get_json("products/")
    assert len(token_requests(sb)) == 2
    assert all(e.token_valid for e in api_requests(sb))


def test_expired_token_is_renewed_once_and_the_call_retried(sandbox, client):
    client.get_json("products/")
    sandbox.expire_tokens()
    page = client.get_json("products/")
    assert page["results"]
    assert [e.status for e in api_requests(sandbox)] == [200, 401, 200]
    assert len(token_requests(sandbox)) == 2


def test_second_401_raises_after_exactly_two_api_requests(sandbox, client):
    sandbox.fault(PRODUCTS, status=401, times=5)
    with pytest.raises(lf.AuthenticationError) as info:
        client.get_json("products/")
    assert len(api_requests(sandbox)) == 2
    assert info.value.status_code == 401
    assert "freshly fetched token" in str(info.value)


def test_fixed_token_401_raises_at_once_with_how_to_renew(sandbox, recorder):
    client = lf.Client(sandbox.url, token="not-a-valid-token", sleep=recorder, rate_limits=None)
    with pytest.raises(lf.AuthenticationError) as info:
        client.get_json("products/")
    assert len(api_requests(sandbox)) == 1
    assert "LUCID_CLIENT_ID" in str(info.value)
    assert "not-a-valid-token" not in str(info.value)


def test_wrong_secret_names_the_client_id_never_the_secret(sandbox, recorder):
    client = lf.Client(sandbox.url, sandbox.client_id, "wrong-secret-123", sleep=recorder, rate_limits=None)
    with pytest.raises(lf.AuthenticationError) as info:
        client.get_json("products/")
    text = "".join(traceback.format_exception(info.value))
    assert sandbox.client_id in str(info.value)
    assert "wrong-secret-123" not in text
    assert api_requests(sandbox) == []


# -- the retry table ------------------------------------------------------------------------------------------


def test_503_503_200_waits_1_2(sandbox, client, recorder):
    sandbox.fault(PRODUCTS, status=503, times=2)
    assert client.get_json("products/")["results"]
    assert recorder.waits == [1, 2]
    assert [e.status for e in api_requests(sandbox)] == [503, 503, 200]


def test_five_failures_then_success(sandbox, client, recorder):
    for status in (500, 502, 503, 504, 503):
        sandbox.fault(PRODUCTS, status=status, times=1)
    assert client.get_json("products/")["results"]
    assert recorder.waits == [1, 2, 4, 8, 16]


def test_six_failures_give_up_with_history(sandbox, client, recorder):
    sandbox.fault(PRODUCTS, status=503, times=6)
    with pytest.raises(lf.ServerError) as info:
        client.get_json("products/")
    assert recorder.waits == [1, 2, 4, 8, 16]
    err = info.value
    assert [a.status for a in err.history] == [503] * 6
    assert [a.wait for a in err.history] == [1, 2, 4, 8, 16, 0]
    assert err.total_wait == 31
    assert len(api_requests(sandbox)) == 6


def test_waits_cap_at_60_with_more_retries(sandbox_client, recorder):
    sb, client = sandbox_client(retry=lf.RetryPolicy(max_retries=8))
    sb.fault(PRODUCTS, status=500, times=9)
    with pytest.raises(lf.ServerError):
        client.get_json("products/")
    assert recorder.waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_429_retry_after_seconds(sandbox, client, recorder):
    sandbox.fault(PRODUCTS, status=429, times=1, retry_after=7)
    assert client.get_json("products/")["results"]
    assert recorder.waits == [7]


def test_429_retry_after_http_date(sandbox, client, recorder):
    when = datetime.now(UTC) + timedelta(seconds=30)
    sandbox.fault(PRODUCTS, status=429, times=1, retry_after=when)
    client.get_json("products/")
    assert len(recorder.waits) == 1
    assert 27 <= recorder.waits[0] <= 30  # HTTP-dates have whole seconds


def test_429_retry_after_zero_falls_back_to_backoff(sandbox, client, recorder):
    sandbox.fault(PRODUCTS, status=429, times=2, retry_after=0)
    client.get_json("products/")
    assert recorder.waits == [1, 2]


def test_429_past_date_falls_back_to_backoff(sandbox, client, recorder):
    sandbox.fault(PRODUCTS, status=429, times=1, retry_after=datetime.now(UTC) - timedelta(hours=1))
    client.get_json("products/")
    assert recorder.waits == [1]


def test_429_above_ceiling_fails_at_once(sandbox_client, recorder):
    sb, client = sandbox_client(retry=lf.RetryPolicy(retry_after_ceiling=120))
    sb.fault(PRODUCTS, status=429, times=1, retry_after=3600)
    with pytest.raises(lf.RateLimitError) as info:
        client.get_json("products/")
    assert info.value.retry_after == 3600
    assert "3600" in str(info.value)
    assert recorder.waits == []
    assert len(api_requests(sb)) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, lf.BadRequestError), (403, lf.ForbiddenError), (404, lf.NotFoundError), (405, lf.MethodNotAllowedError)],
)
def test_client_errors_are_never_retried(sandbox, client, recorder, status, error):
    sandbox.fault(PRODUCTS, status=status, times=3)
    with pytest.raises(error) as info:
        client.get_json("products/")
    assert info.value.status_code == status
    assert len(api_requests(sandbox)) == 1
    assert recorder.waits == []


def test_404_parses_drf_detail(sandbox, client):
    with pytest.raises(lf.NotFoundError) as info:
        client.get_json("products/doesnotexist2222222222/")
    assert info.value.detail == "No Product matches the given query."  # DRF get_object_or_404
    assert "Verify the resource UUID" in str(info.value)


def test_405_parses_drf_detail(sandbox, client):
    with pytest.raises(lf.MethodNotAllowedError) as info:
        client.request("PUT", "products/", json={})
    assert info.value.detail == 'Method "PUT" not allowed.'
    assert len(api_requests(sandbox)) == 1


def test_400_field_reasons(sandbox, client):
    with pytest.raises(lf.BadRequestError) as info:
        client.post_json(f"collections/inventory-pos/{'A' * 22}/add-items/", {"lucid_ids": []}, product="retail")
    assert info.value.reasons == {"case_uuid": ["This field is required."]}
    assert "Fix the request payload" in str(info.value)


def test_legacy_403_invalid_payload_is_a_validation_error(sandbox, client):
    unknown = "2" * 20
    with pytest.raises(lf.BadRequestError) as info:
        client.post_json("caseids/import/", {"case_uuid": "A" * 22, "lucid_ids": [unknown]}, product="retail")
    assert info.value.status_code == 403
    assert not isinstance(info.value, lf.ForbiddenError)
    assert info.value.reasons == {"items": ["Unknown LucidID(s)."]}


def test_dropped_connection_is_retried_for_get(sandbox, client, recorder):
    sandbox.fault(PRODUCTS, kind="drop", times=1)
    assert client.get_json("products/")["results"]
    assert recorder.waits == [1]


def test_dropped_connection_after_post_is_not_repeated(sandbox, client, recorder):
    path = "/api/v1.2/transactions/complete/"
    sandbox.fault(path, kind="drop", times=1)
    with pytest.raises(lf.ConnectError) as info:
        client.post_json("transactions/complete/", {"items": [], "order_id": "1"}, product="retail")
    assert len(api_requests(sandbox, path)) == 1
    assert recorder.waits == []
    assert "not repeated" in str(info.value)


def test_post_5xx_is_not_repeated(sandbox, client, recorder):
    # Issue 19: the table's "retry 5xx" stops at writes (a 503 may come after the sale was recorded).
    path = "/api/v1.2/transactions/complete/"
    sandbox.fault(path, status=503, times=1)
    with pytest.raises(lf.WriteOutcomeUnknownError):
        client.post_json("transactions/complete/", {"items": [], "order_id": "1"}, product="retail")
    assert len(api_requests(sandbox, path)) == 1
    assert recorder.waits == []


def test_read_timeout_is_retried_then_raises(sandbox_client, recorder):
    sb, client = sandbox_client(retry=lf.RetryPolicy(max_retries=1), timeout=(2.0, 0.2))
    sb.fault(PRODUCTS, kind="slow", delay=1.0, times=2)
    with pytest.raises(lf.RequestTimeoutError):
        client.get_json("products/")
    assert recorder.waits == [1]


def test_not_json_body_is_a_decode_error_after_retries(sandbox_client, recorder):
    sb, client = sandbox_client(retry=lf.RetryPolicy(max_retries=2))
    sb.fault(PRODUCTS, kind="not_json", times=3)
    with pytest.raises(lf.DecodeError) as info:
        client.get_json("products/")
    assert "not JSON" in str(info.value)
    assert recorder.waits == [1, 2]


def test_connection_refused_is_a_connect_error(recorder):
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = lf.Client(f"http://127.0.0.1:{port}", token="t", sleep=recorder, rate_limits=None,
                       retry=lf.RetryPolicy(max_retries=2))  # fmt: skip
    with pytest.raises(lf.ConnectError):
        client.get_json("products/")
    assert recorder.waits == [0.5]  # issue 19: nothing has ever answered there: one short retry, not 31 s


# -- same-origin guard ----------------------------------------------------------------------------------------


def test_get_json_takes_paths_not_urls(sandbox, client):
    # A URL is rebuilt on the base: an absolute URL given as a path ends up on the configured host, never elsewhere.
    with pytest.raises(lf.NotFoundError) as info:
        client.get_json("http://evil.example/api/v1.5/products/")
    assert info.value.url.startswith(sandbox.url + "/api/v1.5/")


# -- secrets --------------------------------------------------------------------------------------------------


def test_no_secret_in_reprs_errors_or_logs(sandbox, client, caplog):
    caplog.set_level(logging.DEBUG)
    client.get_json("products/")
    token = client.auth.header().split()[1]
    sandbox.fault(PRODUCTS, status=503, times=6)
    with pytest.raises(lf.ServerError) as info:
        client.get_json("products/")
    texts = [
        repr(client),
        str(client.auth),
        repr(client.auth),
        repr(lf.Client(sandbox.url, token=token)),
        repr(lf.Client(sandbox.url, token=token).auth),
        str(info.value),
        "".join(traceback.format_exception(info.value)),
        caplog.text,
    ]
    for text in texts:
        assert sandbox.client_secret not in text
        assert token not in text


def test_secret_refuses_pickling(sandbox, client):
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(client.auth._secret)  # type: ignore[attr-defined]


def test_which_credentials_win(sandbox, monkeypatch):
    monkeypatch.setenv("LUCID_TOKEN", "env-token")
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    with pytest.warns(lf.ConfigWarning, match="^LUCID_TOKEN ignored: the client credentials"):  # said once
        assert lf.Client(sandbox.url).auth.renewable  # renewable credentials beat a fixed token from the environment
    with pytest.warns(lf.ConfigWarning, match=r"^client credentials \(LUCID_CLIENT_ID, LUCID_CLIENT_SECRET\) ignored"):
        assert not lf.Client(sandbox.url, token="arg-token").auth.renewable  # an explicit token= wins
    monkeypatch.delenv("LUCID_CLIENT_SECRET")
    with pytest.warns(lf.ConfigWarning, match="^LUCID_CLIENT_ID ignored: it needs its pair"):
        assert lf.Client(sandbox.url).auth.header() == "Bearer env-token"


def test_a_missing_free_text_path_parameter_is_a_config_error(client):
    # add_items needs dispensary_uuid=, which has no list of allowed values: the message must not index into it.
    with pytest.raises(lf.ConfigError, match="dispensary_uuid="):
        client.submit("add_items", {"case_uuid": "A" * 22, "lucid_ids": []})
