"""Issue 9, defect 1: a `next` link is data, never an address: hostile links are refused and nothing is sent."""

from __future__ import annotations

import pytest
from servers import TOKEN, Reply, foreign, scripted

import lucidframes as lf

PRODUCTS = "/api/v1.5/products/"


def crafted_page(sb, link, beyond=False):
    """Page 1 of the sandbox's products, as served, with ``next`` replaced by ``link``.

    ``beyond``: the count says page 1 is all there is, so the link is followed as a page the count did not announce.
    """
    rows = sb.list_rows("products")
    count = sb.page_size if beyond else len(rows)
    return {"count": count, "next": link, "previous": None, "results": rows[: sb.page_size]}


def load_with_next(sb, link, recorder, base_url=None, beyond=False):
    sb.fault(PRODUCTS, status=200, times=1, body=crafted_page(sb, link, beyond))
    with lf.Client(base_url or sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None,
                   progress=False, workers=1) as client:  # fmt: skip
        return client.load("products")


HOSTILE = {
    # urllib.parse reads the host after the "@" (the API); urllib3 ends the authority at "\\" (the other port).
    "backslash-userinfo": "http://127.0.0.1:{other}\\@127.0.0.1:{api}/api/v1.5/products/?page=2",
    "backslash": "http://127.0.0.1:{api}\\@127.0.0.1:{other}/api/v1.5/products/?page=2",
    "backslash-host": "http://127.0.0.1:{other}\\.127.0.0.1:{api}/api/v1.5/products/?page=2",
    "userinfo": "http://127.0.0.1:{api}@127.0.0.1:{other}/api/v1.5/products/?page=2",
    "userinfo-token": "http://token@127.0.0.1:{other}/api/v1.5/products/?page=2",
    "tab": "http://127.0.0.1:{other}\t/api/v1.5/products/?page=2",
    "space": "http://127.0.0.1:{other} /api/v1.5/products/?page=2",
    "newline": "http://127.0.0.1:{other}\r\n/api/v1.5/products/?page=2",
    "nul": "http://127.0.0.1:{other}\x00.127.0.0.1:{api}/api/v1.5/products/?page=2",
    "other-port": "http://127.0.0.1:{other}/api/v1.5/products/?page=2",
    "other-scheme": "https://127.0.0.1:{api}/api/v1.5/products/?page=2",
    "ftp-scheme": "ftp://127.0.0.1:{other}/api/v1.5/products/?page=2",
    "scheme-relative": "//127.0.0.1:{other}/api/v1.5/products/?page=2",
    "trailing-dot": "http://127.0.0.1.:{other}/api/v1.5/products/?page=2",
    "other-host-name": "http://LOCALHOST:{other}/api/v1.5/products/?page=2",
}


@pytest.mark.parametrize("beyond", [False, True], ids=["counted", "beyond-count"])
@pytest.mark.parametrize("variant", sorted(HOSTILE))
def test_hostile_next_link_is_refused_and_the_foreign_origin_sees_nothing(sandbox_factory, recorder, variant, beyond):
    sb = sandbox_factory(sizes={"products": 30}, page_size=10)
    with foreign() as other:
        link = HOSTILE[variant].format(api=sb.port, other=other.port)
        with pytest.raises(lf.PaginationError):
            load_with_next(sb, link, recorder, beyond=beyond)
        assert other.requests == []  # not one request, so no token either
    assert [e.path for e in sb.log if e.path.startswith("/api/")] == [PRODUCTS]  # page 1 only


def test_a_different_host_on_the_same_port_is_refused(sandbox_factory, recorder):
    sb = sandbox_factory(sizes={"products": 30}, page_size=10)
    # 127.0.0.2 is loopback too: a second origin that differs from the base by the host only.
    with foreign(host="127.0.0.2", port=sb.port) as other:
        with pytest.raises(lf.PaginationError):
            load_with_next(sb, f"http://127.0.0.2:{sb.port}/api/v1.5/products/?page=2", recorder)
        assert other.requests == []


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:{api}/o/token/?page=2",
        "http://127.0.0.1:{api}/api/v1.5/batches/?page=2",
        "http://127.0.0.1:{api}/api/v1.5/products/../../o/token/?page=2",
        "/o/token/?page=2",
    ],
)
def test_a_link_leaving_the_endpoint_is_refused(sandbox_factory, recorder, link):
    sb = sandbox_factory(sizes={"products": 30}, page_size=10)
    with pytest.raises(lf.PaginationError):
        load_with_next(sb, link.format(api=sb.port), recorder)
    assert [(e.method, e.path) for e in sb.log] == [("POST", "/o/token/"), ("GET", PRODUCTS)]


@pytest.mark.parametrize(
    ("base", "link"),
    [
        ("http://localhost:{api}", "http://LOCALHOST:{api}/api/v1.5/products/?page=2&evil=1"),
        ("http://localhost:{api}", "http://LocalHost:{api}/api/v1.5/products/?evil=%2F%2Fx&page=2"),
        ("http://127.0.0.1:{api}", "HTTP://127.0.0.1:{api}/api/v1.5/products/?page=2"),
        ("http://127.0.0.1:{api}", "/api/v1.5/products/?page=2&extra=1"),
    ],
)
def test_an_accepted_link_is_rebuilt_on_the_base(sandbox_factory, recorder, base, link):
    sb = sandbox_factory(sizes={"products": 20}, page_size=10)
    df = load_with_next(sb, link.format(api=sb.port), recorder, base_url=base.format(api=sb.port))
    assert df["uuid"].tolist() == [r["uuid"] for r in sb.list_rows("products")]
    # Only the page number is taken from the link: the extra query never reaches the server.
    pages = [(e.path, e.query) for e in sb.log if e.path.startswith("/api/")]
    assert pages[:2] == [(PRODUCTS, ""), (PRODUCTS, "page=2")]


def test_an_explicit_default_port_is_the_same_origin(recorder):
    # A scripted API on a real port cannot be on :80, so the base and the link both name the port explicitly
    # while the sender's normalisation (https default 443) is checked directly on the rebuilt URL's parser.
    from lucidframes._http.urls import page_from_link, parse_base_url

    base = parse_base_url("https://source.lucidgreen.io")
    assert page_from_link("https://source.lucidgreen.io:443/api/v1.5/products/?page=3", base, PRODUCTS) == 3
    assert page_from_link("https://SOURCE.lucidgreen.io/api/v1.5/products/?page=4", base, PRODUCTS) == 4
    with pytest.raises(lf.PaginationError):
        page_from_link("https://source.lucidgreen.io:8443/api/v1.5/products/?page=3", base, PRODUCTS)
    with pytest.raises(lf.PaginationError):
        page_from_link("https://source.lucidgreen.io./api/v1.5/products/?page=3", base, PRODUCTS)
    with pytest.raises(lf.PaginationError):
        page_from_link("http://source.lucidgreen.io/api/v1.5/products/?page=3", base, PRODUCTS)


def test_a_hostile_link_from_a_scripted_api_sends_nothing_anywhere(recorder):
    # The same refusal when the API is not the sandbox: a page whose next link points at the foreign origin.
    with foreign() as other:
        page = {"count": 2, "next": f"http://127.0.0.1:{other.port}/api/v1.5/products/?page=2", "results": [{}]}

        def respond(seen):
            return Reply(200, TOKEN if seen.path == "/o/token/" else page)

        with scripted(respond) as api_server:
            client = lf.Client(api_server.url, "cid", "csecret-value-42", sleep=recorder, rate_limits=None,
                               progress=False, workers=1)  # fmt: skip
            with client, pytest.raises(lf.PaginationError):
                client.load("products")
            assert [r.path for r in api_server.api_requests()] == [PRODUCTS]
        assert other.requests == []
