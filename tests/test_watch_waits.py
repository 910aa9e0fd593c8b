"""Issue 22, item 1: one wait, said once, counting down. However many workers wait on the limiter's window or on the
pause after a 429, the run says the wait once (a log line, written through the bar's writer so it is never glued to
the bar); the bar's postfix counts it down; after Ctrl-C no further wait is said.

The command line is run in a pseudo-terminal (``tests/terminal.py``), as a person in a 120-column terminal sees it.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
import time

import pytest
from terminal import run_in_pty, screen

import lucidframes as lf

ITEMS = "/api/v1.5/items/"
WAIT_LINE = re.compile(r"^items: (\d{3} Too Many Requests, retry \d+/\d+ in|rate limited, next request in)")
SAID = re.compile(r"(Too Many Requests, retry \d+/\d+ in|rate limited, next request in)")


def item_ids(sb, n: int) -> list[str]:
    return [item["uuid"] for item in sb.data["items"][:n]]


def client_on(sb, recorder, **options) -> lf.Client:
    """A client on ``sb`` whose waits are recorded, not slept."""
    return lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, progress=False, **options)


def wait_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "lucidframes" and SAID.search(r.getMessage())]


def test_a_limiter_wait_of_many_workers_is_said_once(sandbox, recorder, caplog):
    ids = item_ids(sandbox, 12)
    events: list[lf.WaitEvent] = []
    client = client_on(sandbox, recorder, rate_limits={"source": (3, 30.0)}, workers=8)
    with client, caplog.at_level(logging.INFO, logger="lucidframes"):
        df = client.lookup("items", ids, on_wait=events.append)
    assert (df["_status"] == "ok").all()
    assert len([e for e in events if e.kind == "throttle"]) >= 8  # every worker waited (on_wait hears each)...
    assert len(wait_lines(caplog)) == 1, wait_lines(caplog)  # ...and the run said it once


def test_a_429_pause_of_every_worker_is_said_once(sandbox, recorder, caplog):
    ids = item_ids(sandbox, 8)
    for id_ in ids:  # all eight in flight at once are throttled by the server
        sandbox.fault(f"{ITEMS}{id_}/", status=429, retry_after=7, times=1)
    client = client_on(sandbox, recorder, rate_limits=None, workers=8)
    with client, caplog.at_level(logging.INFO, logger="lucidframes"):
        df = client.lookup("items", ids)
    assert (df["_status"] == "ok").all() and df.attrs["lucidframes"]["retries"] == 8
    assert wait_lines(caplog) == ["items: 429 Too Many Requests, retry 1/5 in 7 s"]


def test_the_next_retry_is_news(sandbox, recorder, caplog):
    sandbox.fault(f"{ITEMS}?", status=503, times=2)  # the first look-up fails twice
    client = client_on(sandbox, recorder, rate_limits=None, workers=1)
    with client, caplog.at_level(logging.INFO, logger="lucidframes"):
        client.lookup("items", item_ids(sandbox, 2))
    messages = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert messages == ["items: 503, retry 1/5 in 1 s", "items: 503, retry 2/5 in 2 s"]


def test_the_postfix_counts_down(sandbox):
    # A real wait (0.6 s of the limiter's window), read while it happens: the seconds left go down.
    ids = item_ids(sandbox, 3)
    seen: list[str] = []
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, progress=False,
                   rate_limits={"source": (2, 1.2)}, workers=1) as client:  # fmt: skip
        job = client.lookup("items", ids, background=True)
        while not job.done:
            seen.append(job.status)
            time.sleep(0.05)
        job.result()
    lefts = [float(m[1]) for s in seen if (m := re.search(r"next request in ([\d.]+) s", s))]
    assert len(set(lefts)) >= 3 and lefts == sorted(lefts, reverse=True), seen  # counts down, never up
    assert any("wait=rate limited · next request in" in s for s in seen)


def test_the_rate_and_time_left_come_from_the_limiters_schedule(sandbox):
    # 10 answered in a burst, 5 left behind a 4 s window: the bar must not say "hundreds a second, 00:00 left".
    ids = item_ids(sandbox, 15)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, progress=False,
                   rate_limits={"source": (10, 4.0)}) as client:  # fmt: skip
        job = client.lookup("items", ids, background=True)
        deadline = time.monotonic() + 10
        while "next request in" not in job.status and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)  # a tick of the ticker: the schedule is read
        rate = job.progress.rate()
        job.stop()
    assert rate is not None and rate < 5 / 3.0, rate  # 5 ids in about 4 s, not the burst's rate
    left = (15 - 10) / rate
    assert 3.0 < left < 6.0, left


# -- the command line in a terminal ----------------------------------------------------------------------------


@pytest.fixture
def ids_file(tmp_path, sandbox_factory):
    def make(sb, n: int):
        path = tmp_path / "ids.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["lucid_id"])
            writer.writerows([i] for i in item_ids(sb, n))
        return path

    return make


def environment(sb) -> dict[str, str]:
    return {"LUCID_BASE_URL": sb.url, "LUCID_CLIENT_ID": sb.client_id, "LUCID_CLIENT_SECRET": sb.client_secret}


def bursts(times: list[float], gap: float = 0.5) -> int:
    """How many separate moments (answers more than ``gap`` s apart) ``times`` fall into."""
    times = sorted(times)
    return sum(1 for i, t in enumerate(times) if i == 0 or t - times[i - 1] > gap)


def test_the_cli_says_each_wait_once_and_never_on_the_bar(sandbox_factory, ids_file, tmp_path):
    # 30 look-ups under the server's limit of 10 per 1.5 s (the client's own is the documented 60/min): two waits.
    sb = sandbox_factory(rate_limits={"source": (10, 1.5)})
    out = tmp_path / "items.csv"
    code, raw, _ = run_in_pty(
        ["lookup", "items", str(ids_file(sb, 30)), "--column", "lucid_id", "-o", str(out)], environment(sb)
    )
    lines = screen(raw)
    assert code == 0, lines
    waits = bursts([e.time for e in sb.log if e.status == 429])  # the moments the server said "wait"
    said = [line for line in lines if WAIT_LINE.match(line)]
    assert 1 <= len(said) <= waits, (waits, lines)
    glued = [line for line in lines if SAID.search(line) and not WAIT_LINE.match(line)]
    assert glued == [], glued  # a wait said in the middle of a bar's line
    assert any(line.startswith("30 ids of lucid_id -> 30 rows of items") for line in lines[-3:]), lines
    assert any(line.startswith("items: 100%|") and "30/30" in line for line in lines)  # the bar, on its own line


def test_after_ctrl_c_nothing_more_is_said(sandbox_factory, ids_file, tmp_path):
    # Eight look-ups in flight when Ctrl-C comes; they answer 429 after it: no retry may be announced then.
    sb = sandbox_factory(latency=1.0)
    ids = item_ids(sb, 8)
    for id_ in ids:
        sb.fault(f"{ITEMS}{id_}/", status=429, retry_after=30, times=None)
    sent: list[float] = []

    def when(_out: bytes) -> bool:  # 0.3 s after the token: every look-up is on its way, none answered
        if not sent and any(e.path == "/o/token/" for e in sb.log):
            sent.append(time.monotonic())
        return bool(sent) and time.monotonic() - sent[0] > 0.3

    code, raw, took = run_in_pty(
        ["lookup", "items", str(ids_file(sb, 8)), "--column", "lucid_id", "-o", str(tmp_path / "o.csv")],
        environment(sb),
        interrupt_when=when,
    )
    lines = screen(raw)
    assert code == 130, lines
    assert took is not None and took < 2.5, took  # the answers on their way are kept for at most a second
    assert not [line for line in lines if SAID.search(line)], lines
    assert any("interrupted" in line for line in lines)


def test_a_board_closed_by_a_stop_says_nothing_more():
    from lucidframes._http.events import WaitBoard

    said: list[lf.WaitEvent] = []
    board = WaitBoard(say=said.append)
    event = lf.WaitEvent("throttle", 30.0, cause="rate limit 60/60s")
    threads = [threading.Thread(target=board, args=(event,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(said) == 1 and board.current() is not None
    board.close()
    board(lf.WaitEvent("retry_after", 30.0, attempt=1, status=429, max_attempts=5))
    assert len(said) == 1 and board.current() is None
