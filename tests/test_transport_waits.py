"""Issue 9, defect 10: every wait (Retry-After, backoff, the rate limiter) ends within 1 s of a Stop or a Ctrl-C,
and the rows fetched so far stay reachable. These use the real wait (no ``sleep=`` hook) on purpose."""

from __future__ import annotations

import _thread
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import lucidframes as lf

PRODUCTS = "/api/v1.5/products/"


def rate_limited(sandbox_factory, **client_options):
    """20 products, 10 a page; page 2 answers 429 with Retry-After 30 until the faults are cleared."""
    sb = sandbox_factory(sizes={"products": 20}, page_size=10)
    sb.fault(f"{PRODUCTS}?page=2", status=429, retry_after=30, times=None)
    client_options.setdefault("rate_limits", None)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, **client_options)
    return sb, client


@pytest.fixture
def ctrl_c() -> Iterator[Callable[[], None]]:
    """A simulated Ctrl-C, whatever SIGINT was when pytest started.

    ``_thread.interrupt_main`` only raises KeyboardInterrupt where Python handles SIGINT; a process started with
    SIGINT ignored (a background job of a shell without job control) has no handler, and the call does nothing.
    Python's own handler is installed for the test and the previous one put back after it.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield lambda: _thread.interrupt_main(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


def uuids(sb):
    return [r["uuid"] for r in sb.list_rows("products")]


def test_stop_ends_a_retry_after_wait(sandbox_factory):
    sb, client = rate_limited(sandbox_factory)
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(lf.DrainStopped) as info:
            client.load("products", stop=stop)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 1.3  # 0.3 s to the Stop, then under 1 s
    assert info.value.partial["uuid"].tolist() == uuids(sb)[:10]  # page 1's rows
    sb.clear_faults()
    df = client.load("products", resume=info.value.resume)
    assert df["uuid"].tolist() == uuids(sb)


def test_ctrl_c_ends_a_retry_after_wait_and_keeps_the_rows(sandbox_factory, ctrl_c):
    sb, client = rate_limited(sandbox_factory)
    timer = threading.Timer(0.3, ctrl_c)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt) as info:
        timer.start()
        try:
            client.load("products")
        finally:
            timer.cancel()
    assert time.monotonic() - start < 1.3
    assert isinstance(info.value, lf.DrainInterrupted)  # a KeyboardInterrupt that keeps the rows
    assert info.value.partial["uuid"].tolist() == uuids(sb)[:10]
    sb.clear_faults()
    df = client.load("products", resume=info.value.resume)
    assert df["uuid"].tolist() == uuids(sb)
    pages = [e.query for e in sb.log if e.path == PRODUCTS and e.status == 200]
    assert pages.count("") <= 2  # page 1 was not fetched again (beyond the one re-read check)


def test_stop_ends_a_rate_limiter_wait(sandbox_factory):
    sb = sandbox_factory(sizes={"products": 20}, page_size=10)  # the sandbox does not limit
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits={"source": (1, 30.0)})
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(lf.DrainStopped) as info:
            client.load("products", stop=stop)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 1.3
    assert info.value.partial["uuid"].tolist() == uuids(sb)[:10]
    assert [e.query for e in sb.log if e.path == PRODUCTS] == [""]  # page 2 never went out
