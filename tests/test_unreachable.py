"""Issue 19, defect 6: when nothing listens at the host, say so in one line after one short retry, not 31 s later.

Only before anything has answered: once a request has succeeded, a refused connection is a server restarting in the
middle of a run, and the table's backoff applies.
"""

from __future__ import annotations

import socket

import pytest

import lucidframes as lf
from lucidframes.cli import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nobody listens once the block ends


def test_a_port_where_nothing_listens_fails_after_one_short_retry(recorder):
    port = _closed_port()
    events: list[lf.WaitEvent] = []
    client = lf.Client(f"http://127.0.0.1:{port}", "cid", "csecret-closed-1", sleep=recorder, progress=False)
    with pytest.raises(lf.ConnectError) as caught:
        client.load("products", on_wait=events.append)
    assert recorder.waits == [0.5]  # one short retry (the table's five would wait 1+2+4+8+16 s)
    text = str(caught.value)
    assert "\n" not in text and f"127.0.0.1:{port}" in text and "Nothing answers" in text
    # the wait was shown while it happened (the bar and on_wait get it before the error), naming where
    assert [(e.seconds, e.attempt, e.max_attempts) for e in events] == [(0.5, 1, 1)]
    assert f"127.0.0.1:{port}" in events[0].cause


def test_a_fixed_token_on_a_closed_port_fails_the_same_way(recorder):
    port = _closed_port()
    client = lf.Client(f"http://127.0.0.1:{port}", token="t-closed", sleep=recorder, progress=False)
    with pytest.raises(lf.ConnectError, match=f"Nothing answers at 127.0.0.1:{port}"):
        client.lookup("products", ["23456789ABCDEFGHJKLMNP"])
    assert recorder.waits == [0.5]


def test_after_an_answer_a_refused_connection_gets_the_tables_backoff(sandbox_factory, recorder):
    sb = sandbox_factory()
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                       retry=lf.RetryPolicy(max_retries=3))  # fmt: skip
    assert len(client.load("products", page=1)) == 100
    sb.close()  # the server goes away mid-run: it may come back
    with pytest.raises(lf.ConnectError) as caught:
        client.load("products", page=2)
    assert recorder.waits == [1, 2, 4]
    assert "Nothing answers" not in str(caught.value)


@pytest.mark.parametrize("extra", [["--plan"], ["-o", "-"]])
def test_the_command_line_says_one_line_naming_host_and_port(monkeypatch, capsys, extra):
    port = _closed_port()
    monkeypatch.setenv("LUCID_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LUCID_CLIENT_ID", "cid")
    monkeypatch.setenv("LUCID_CLIENT_SECRET", "csecret-closed-2")
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    waits: list[float] = []
    monkeypatch.setattr("time.sleep", waits.append)
    assert main(["fetch", "products", *extra]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0], err
    assert waits == [0.5]
    assert "continue" not in err and "partial" not in err  # nothing was fetched: nothing to resume


def test_a_snapshot_where_nothing_listens_says_one_line(monkeypatch, capsys, tmp_path):
    port = _closed_port()
    monkeypatch.setenv("LUCID_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LUCID_TOKEN", "t-closed")
    monkeypatch.delenv("LUCID_CLIENT_ID", raising=False)
    monkeypatch.delenv("LUCID_CLIENT_SECRET", raising=False)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    assert main(["snapshot", "-o", str(tmp_path / "snap")]) == 2
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "127.0.0.1" in line and "retry" not in line] == [
        next(line for line in err.splitlines() if line.startswith("error:"))
    ]
    assert "rows" not in err and "continue" not in err  # no report of seven empty endpoints, no resume line
