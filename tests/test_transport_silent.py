"""Issue 9, defect 11: no silent waiting: a bad host fails at once, every wait is logged and reaches on_wait,
and the total wait is wall-clock, not summed over workers."""

from __future__ import annotations

import logging
import socket

import pytest

import lucidframes as lf

PRODUCTS = "/api/v1.5/products/"


def test_a_name_that_does_not_resolve_fails_at_once(monkeypatch, recorder):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # a real look-up would leave the machine
    client = lf.Client("https://api.lucidgreen.invalid", "cid", "csecret-dns-1", sleep=recorder, progress=False)
    with pytest.raises(lf.ConnectError) as info:
        client.get_json("products/")
    assert recorder.waits == []  # it will not start resolving in 16 s
    assert "resolve" in str(info.value)


def test_a_closed_port_is_retried_but_not_silently(recorder, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    client = lf.Client(f"http://127.0.0.1:{port}", "cid", "csecret-port-1", sleep=recorder, progress=False,
                       retry=lf.RetryPolicy(max_retries=2))  # fmt: skip
    with caplog.at_level(logging.INFO, logger="lucidframes"), pytest.raises(lf.ConnectError):
        client.get_json("products/")
    assert recorder.waits == [0.5]  # issue 19: nothing has answered there yet: one short retry, said
    assert len([r for r in caplog.records if "retry" in r.getMessage()]) == 1


def test_every_wait_is_logged(sandbox_factory, recorder, caplog):
    sb = sandbox_factory(sizes={"products": 20}, page_size=10)
    sb.fault(f"{PRODUCTS}?page=2", status=503, times=2)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False)
    with caplog.at_level(logging.INFO, logger="lucidframes"):
        df = client.load("products")
    assert len(df) == 20
    messages = [r.getMessage() for r in caplog.records if r.name == "lucidframes" and r.levelno == logging.INFO]
    assert any("503, retry 1/5 in 1 s" in m for m in messages), messages
    assert any("503, retry 2/5 in 2 s" in m for m in messages), messages


def test_every_wait_reaches_on_wait(sandbox_factory, recorder):
    sb = sandbox_factory(sizes={"products": 20}, page_size=10)
    sb.fault(f"{PRODUCTS}?page=2", status=503, times=2)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False)
    events = []
    client.load("products", on_wait=events.append)
    assert all(isinstance(e, lf.WaitEvent) for e in events)
    assert [(e.kind, e.seconds, e.attempt, e.status, e.page) for e in events] == [
        ("backoff", 1, 1, 503, 2),
        ("backoff", 2, 2, 503, 2),
    ]


def test_a_rate_limiter_wait_is_logged(sandbox_factory, recorder, caplog):
    sb = sandbox_factory(sizes={"products": 20}, page_size=10)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, progress=False,
                       rate_limits={"source": (1, 30.0)})  # fmt: skip
    with caplog.at_level(logging.INFO, logger="lucidframes"):
        client.load("products")
    assert any("rate limited, next request in" in r.getMessage() for r in caplog.records)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, progress=False,
                       rate_limits={"source": (1, 30.0)})  # fmt: skip
    events = []
    client.load("products", on_wait=events.append)
    assert [e.kind for e in events] and all(e.kind == "throttle" for e in events)
    assert 29 < events[0].seconds <= 31  # the window, plus the small safety margin of the limiter


def test_total_wait_is_wall_clock(sandbox_factory, recorder):
    # 8 workers each told to wait 5 s at the same time waited 5 s, not 40.
    # A little latency keeps all 8 requests in flight together (no worker thread takes two of these pages).
    sb = sandbox_factory(sizes={"products": 90}, page_size=10, latency=0.05)
    for page in range(2, 10):
        sb.fault(f"{PRODUCTS}?page={page}", status=429, retry_after=5, times=1)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False)
    df = client.load("products", workers=8)
    assert sorted(recorder.waits) == [5] * 8
    assert len(df) == 90
    assert 5 <= df.attrs["lucidframes"]["total_wait"] < 6
