"""Issue 19, defect 5: text from the server is escaped wherever it reaches a person (error messages, the CLI's text
and JSON logs, the notebook's error block), so a ``detail`` holding ``\\n``, ``\\r`` or ANSI escapes can neither forge
a log line nor move the cursor of the terminal that shows it."""

from __future__ import annotations

import json

import pytest
from servers import TOKEN, Reply, Seen, scripted

import lucidframes as lf
from lucidframes.cli import main
from lucidframes.notebook.display import error_block

FORGED = "gone\nerror: products: snapshot complete, 0 problems\r\x1b[2K\x1b[1A\x9b31m\u2028ok"
RAW = ("\n", "\r", "\x1b", "\x9b", "\u2028")


def _hostile(status: int, body: object):
    def respond(seen: Seen) -> Reply:
        if seen.path == "/o/token/":
            return Reply(200, TOKEN)
        return Reply(status, body)

    return scripted(respond)


def _clean(text: str) -> bool:
    return not any(ch in text for ch in RAW)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"detail": FORGED}),
        (400, {"status": "invalid payload", "reason": {"items": [FORGED]}}),
        (403, {"error": FORGED}),
        (429, {"detail": FORGED}),
    ],
)
def test_an_error_message_shows_the_servers_controls_escaped(recorder, status, body):
    with _hostile(status, body) as server:
        client = lf.Client(server.url, "cid", "csecret-text", sleep=recorder, rate_limits=None, progress=False,
                           retry=lf.RetryPolicy(max_retries=0))  # fmt: skip
        with pytest.raises(lf.HTTPStatusError) as caught:
            client.get_json("products/")
        client.close()
    text = str(caught.value)
    assert _clean(text) and "⟨U+000A⟩" in text and "⟨U+001B⟩" in text
    assert caught.value.body == body  # the body itself is data: kept exactly as it came
    lines = error_block(caught.value, color=False)
    assert all(_clean(line) for line in lines) and len(lines) <= 6


def test_a_submissions_unsuccessful_status_is_escaped(recorder):
    with _hostile(200, {"status": FORGED, "request_id": "r-1\x1b[2J"}) as server:
        client = lf.Client(server.url, "cid", "csecret-text", sleep=recorder, rate_limits=None, progress=False)
        with pytest.raises(lf.UnsuccessfulReplyError) as caught:
            client.post_json("caseids/import/", {"lucid_ids": []}, product="retail")
        client.close()
    assert _clean(str(caught.value)) and "⟨U+001B⟩" in str(caught.value)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_command_line_prints_one_error_line(monkeypatch, capsys, log_format):
    with _hostile(404, {"detail": FORGED}) as server:
        monkeypatch.setenv("LUCID_BASE_URL", server.url)
        monkeypatch.setenv("LUCID_TOKEN", "t-text")
        monkeypatch.delenv("LUCID_CLIENT_ID", raising=False)
        monkeypatch.delenv("LUCID_CLIENT_SECRET", raising=False)
        monkeypatch.setattr("time.sleep", lambda seconds: None)
        assert main(["fetch", "products", "-o", "-", "--log-format", log_format]) == 2
    err = capsys.readouterr().err
    assert _clean(err.replace("\n", "")) and "\r" not in err
    lines = err.splitlines()
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert [r["level"] for r in records].count("error") == 1
        assert all(_clean(r["message"]) for r in records)
    else:
        assert len([line for line in lines if line.startswith("error:")]) == 1  # no forged "error: ..." line
        assert "snapshot complete" in lines[-1] and lines[-1].startswith("error:")  # the forgery stays inside
