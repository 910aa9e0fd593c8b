"""The sandbox's fault injection, throttling, data mutation and request log, with plain ``requests``."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
import requests

from lucidframes.sandbox import Sandbox
from lucidframes.sandbox.throttle import Throttle, parse_limits

PRODUCTS = "/api/v1.5/products/"
RETAIL_BATCH = "/api/v1.2/batches/"


def get_token(sb: Sandbox) -> str:
    """A token from the token endpoint."""
    form = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    return str(requests.post(sb.url + "/o/token/", data=form, timeout=5).json()["access_token"])


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[requests.Session]:
    """A session carrying a valid bearer token for the sandbox fixture."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {get_token(sandbox)}"
        yield session


def raw_get(sb: Sandbox, path: str, token: str) -> bytes:
    """Everything the server sends for one GET, read until it closes the connection."""
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# -- scripted status faults -------------------------------------------------------------------------------------


def test_fault_targets_one_page_by_query(sandbox, api):
    sandbox.fault(PRODUCTS + "?page=3", status=503, times=2)
    statuses = [api.get(sandbox.url + PRODUCTS, params={"page": p}, timeout=5).status_code for p in (1, 2, 3, 30)]
    assert statuses == [200, 200, 503, 404]  # page 30 does not match "page=3"
    assert api.get(sandbox.url + PRODUCTS + "?x=1&page=3", timeout=5).status_code == 503
    assert api.get(sandbox.url + PRODUCTS + "?page=3", timeout=5).status_code == 200  # used up
    assert sandbox.faults == []


def test_fault_paths_are_substrings_or_regexes_and_methods_filter(sandbox, api):
    uuid = sandbox.data["products"][0]["uuid"]
    sandbox.fault(re.compile(r"^/api/v1\.5/products/[^/]+/$"), status=500, times=None)
    assert api.get(f"{sandbox.url}{PRODUCTS}{uuid}/", timeout=5).status_code == 500
    assert api.get(f"{sandbox.url}{PRODUCTS}{uuid}/", timeout=5).status_code == 500  # times=None: until cleared
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200
    sandbox.clear_faults()
    sandbox.fault("/products/", status=502, method="HEAD")
    assert api.get(f"{sandbox.url}{PRODUCTS}{uuid}/", timeout=5).status_code == 200
    assert api.head(f"{sandbox.url}{PRODUCTS}{uuid}/", timeout=5).status_code == 502


@pytest.mark.parametrize("status", [500, 502, 503, 504, 401])
def test_status_faults_have_no_body_like_the_real_stack(sandbox, api, status):
    sandbox.fault(PRODUCTS, status=status)
    reply = api.get(sandbox.url + PRODUCTS, timeout=5)
    assert reply.status_code == status
    assert reply.content == b"" and reply.headers["Content-Length"] == "0"
    if status == 401:
        assert reply.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200  # the connection is still good


def test_default_fault_is_one_503(sandbox, api):
    fault = sandbox.fault(PRODUCTS)
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 503
    assert fault.hits == 1 and fault.remaining == 0


def test_fault_on_the_token_endpoint(sandbox):
    sandbox.fault("/o/token/", status=503)
    form = {"grant_type": "client_credentials", "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    assert requests.post(sandbox.url + "/o/token/", data=form, timeout=5).status_code == 503
    assert requests.post(sandbox.url + "/o/token/", data=form, timeout=5).status_code == 200


def test_429_fault_with_retry_after_seconds(sandbox, api):
    sandbox.fault(PRODUCTS, status=429, retry_after=7)
    reply = api.get(sandbox.url + PRODUCTS, timeout=5)
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "7"
    assert reply.json() == {"detail": "Request was throttled. Expected available in 7 seconds."}


def test_429_fault_with_retry_after_as_http_date(sandbox, api):
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    sandbox.fault(PRODUCTS, status=429, retry_after=when)
    reply = api.get(sandbox.url + PRODUCTS, timeout=5)
    assert reply.headers["Retry-After"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    assert parsedate_to_datetime(reply.headers["Retry-After"]) == when
    # a number of seconds rendered as the HTTP-date that far from now
    sandbox.fault(PRODUCTS, status=429, retry_after=30, retry_after_form="http-date")
    header = api.get(sandbox.url + PRODUCTS, timeout=5).headers["Retry-After"]
    wait = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
    assert 28 <= wait <= 31


def test_fault_with_a_custom_body(sandbox, api):
    sandbox.fault(PRODUCTS, status=403, body={"detail": "Nope."})
    assert api.get(sandbox.url + PRODUCTS, timeout=5).json() == {"detail": "Nope."}


# -- connection-level faults ------------------------------------------------------------------------------------


def test_drop_closes_without_an_answer(sandbox, api):
    sandbox.fault(PRODUCTS, kind="drop")
    with pytest.raises(requests.ConnectionError):
        api.get(sandbox.url + PRODUCTS, timeout=5)
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200
    assert [e.status for e in sandbox.log if e.path == PRODUCTS] == [None, 200]


def test_truncate_sends_fewer_bytes_than_content_length(sandbox):
    token = get_token(sandbox)
    sandbox.fault(PRODUCTS, kind="truncate")
    head, _, body = raw_get(sandbox, PRODUCTS, token).partition(b"\r\n\r\n")
    declared = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert head.startswith(b"HTTP/1.1 200")
    assert 0 < len(body) < declared
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        sandbox.fault(PRODUCTS, kind="truncate")
        with pytest.raises(requests.RequestException):
            session.get(sandbox.url + PRODUCTS, timeout=5).json()


def test_not_json_is_a_200_html_page(sandbox, api):
    sandbox.fault(PRODUCTS, kind="not_json")
    reply = api.get(sandbox.url + PRODUCTS, timeout=5)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        reply.json()


def test_slow_body_is_dribbled(sandbox, api):
    sandbox.fault(PRODUCTS, kind="slow", delay=0.4)
    started = time.monotonic()
    with api.get(sandbox.url + PRODUCTS, stream=True, timeout=5) as reply:
        headers_after = time.monotonic() - started
        body = reply.content
    assert headers_after < 0.3 <= time.monotonic() - started
    assert len(body) == int(reply.headers["Content-Length"])
    sandbox.fault(PRODUCTS, kind="slow", delay=0.4)
    with pytest.raises(requests.RequestException):  # a read timeout shorter than the pauses
        api.get(sandbox.url + PRODUCTS, timeout=(1, 0.05))


def test_fault_delay_holds_the_answer(sandbox, api):
    sandbox.fault(PRODUCTS, status=504, delay=0.2)
    started = time.monotonic()
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 504
    assert time.monotonic() - started >= 0.2


def test_unknown_fault_kind_is_refused(sandbox):
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox.fault(PRODUCTS, kind="explode")


# -- latency and random errors ------------------------------------------------------------------------------------


def test_latency(sandbox, api):
    sandbox.set_latency(0.15)
    started = time.monotonic()
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_error_rate_is_seeded(sandbox, api):
    def run() -> list[int]:
        sandbox.set_error_rate(0.5, seed=7)
        return [api.get(sandbox.url + PRODUCTS + "?page=13", timeout=5).status_code for _ in range(30)]

    first = run()
    assert set(first) - {200} <= {500, 502, 503, 504}
    assert 5 <= sum(s != 200 for s in first) <= 25
    assert run() == first
    sandbox.set_error_rate(0.0)
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200


# -- throttling -------------------------------------------------------------------------------------------------


def test_429_under_a_tight_limit(sandbox, api):
    sandbox.set_rate_limits({"source": (3, 60.0)})
    assert [api.get(sandbox.url + PRODUCTS, timeout=5).status_code for _ in range(3)] == [200, 200, 200]
    reply = api.get(sandbox.url + PRODUCTS, timeout=5)
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] in ("59", "60")
    assert re.fullmatch(r"Request was throttled\. Expected available in (59|60) seconds\.", reply.json()["detail"])
    # other products and the token endpoint are not throttled by the Source limit
    batch = sandbox.data["batches"][0]["uuid"]
    assert api.get(f"{sandbox.url}{RETAIL_BATCH}{batch}/", timeout=5).status_code == 200
    assert get_token(sandbox)


def test_sliding_window_reopens(sandbox, api):
    sandbox.set_rate_limits("source=2/0.3")
    assert [api.get(sandbox.url + PRODUCTS, timeout=5).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(0.35)
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200


def test_default_rate_limits(sandbox_factory):
    sb = sandbox_factory(rate_limits="default")
    headers = {"Authorization": f"Bearer {get_token(sb)}"}
    with requests.Session() as session:
        statuses = [session.get(sb.url + PRODUCTS, headers=headers, timeout=5).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_throttle_is_drf_sliding_window():
    now = [0.0]
    throttle = Throttle(parse_limits({"source": (2, 10.0)}), timer=lambda: now[0])
    assert throttle.check("source", "c") is None
    now[0] = 4.0
    assert throttle.check("source", "c") is None
    now[0] = 5.0
    assert throttle.check("source", "c") == pytest.approx(5.0)  # until the request at 0 leaves the window
    assert throttle.check("source", "other") is None  # per client
    now[0] = 10.5
    assert throttle.check("source", "c") is None  # throttled requests were not recorded
    assert throttle.check("source", "c") == pytest.approx(3.5)
    assert throttle.check("retail", "c") is None  # no limit for that scope


def test_rate_limit_specs():
    assert parse_limits(None) == {}
    assert parse_limits("source=60/min, retail=1000/60") == {"source": (60, 60.0), "retail": (1000, 60.0)}
    with pytest.raises(ValueError):
        parse_limits("source=sixty")
    with pytest.raises(ValueError):
        parse_limits({"nothing": (1, 1.0)})


# -- data changes -------------------------------------------------------------------------------------------------


def test_mutate_changes_count_and_rows(sandbox, api):
    before = sandbox.list_rows("products")
    inserted, deleted = sandbox.mutate("products", insert=5, delete=2, position="start")
    body = api.get(sandbox.url + PRODUCTS, timeout=5).json()
    assert body["count"] == 1203 + 5 - 2
    assert body["results"][:5] == [{k: r[k] for k in before[0]} for r in inserted]
    assert body["results"][5] == before[2] and [d["uuid"] for d in deleted] == [r["uuid"] for r in before[:2]]
    assert api.get(f"{sandbox.url}{PRODUCTS}{inserted[0]['uuid']}/", timeout=5).json() == inserted[0]
    assert api.get(f"{sandbox.url}{PRODUCTS}{deleted[0]['uuid']}/", timeout=5).status_code == 404

    sandbox.mutate("products", delete=3, position="end")
    assert sandbox.list_rows("products")[-1] == before[-4]
    sandbox.mutate("assets", insert=2, position="end", asset_type="images")
    assert api.get(sandbox.url + "/api/v1.5/assets/images/", timeout=5).json()["count"] == 42


def test_mutate_after_changes_data_mid_drain(sandbox, api):
    sandbox.mutate_after(3, "products", insert=5, position="start")
    counts = []
    url = sandbox.url + PRODUCTS
    while url:
        body = api.get(url, timeout=5).json()
        counts.append(body["count"])
        url = body["next"]
    assert counts[:3] == [1203] * 3
    assert counts[3:] == [1208] * (len(counts) - 3)


def test_mutated_data_is_seeded(sandbox_factory):
    first, second = sandbox_factory(), sandbox_factory()
    assert first.mutate("batches", insert=3)[0] == second.mutate("batches", insert=3)[0]


def test_mutate_refuses_what_it_cannot_change(sandbox):
    with pytest.raises(ValueError):
        sandbox.mutate("items", insert=1)
    with pytest.raises(ValueError):
        sandbox.mutate("assets", insert=1)  # needs asset_type
    with pytest.raises(ValueError):
        sandbox.mutate_after(0, "products", insert=1)


# -- the request log ----------------------------------------------------------------------------------------------


def test_log_records_every_request(sandbox):
    token = get_token(sandbox)
    requests.get(sandbox.url + PRODUCTS + "?page=2", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    requests.get(sandbox.url + PRODUCTS, timeout=5)
    sandbox.fault(PRODUCTS, status=503)
    requests.get(sandbox.url + PRODUCTS, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    log = sandbox.log
    assert [(e.method, e.path, e.query, e.status, e.token_valid) for e in log] == [
        ("POST", "/o/token/", "", 200, False),
        ("GET", PRODUCTS, "page=2", 200, True),
        ("GET", PRODUCTS, "", 401, False),
        ("GET", PRODUCTS, "", 503, True),
    ]
    assert [e.time for e in log] == sorted(e.time for e in log)
    sandbox.clear_log()
    assert sandbox.log == []
