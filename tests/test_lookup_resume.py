"""Resumable look-ups (issue 13): a give-up or a Ctrl-C keeps every answer, and a re-run sends only the rest.

The Ctrl-C test interrupts a real child process with SIGINT while it looks ids up on the sandbox of this one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import pytest
from helpers import default_sigint

import lucidframes as lf

ITEMS = "/api/v1.5/items/"


def item_ids(sb, n):
    return [r["uuid"] for r in sb.data["items"][:n]]


def sent(sb):
    """How often each item id was asked for."""
    return Counter(e.path[len(ITEMS) : -1] for e in sb.log if e.path.startswith(ITEMS))


def test_give_up_keeps_the_rows_and_a_checkpoint_rerun_sends_only_the_rest(sandbox, client, recorder, tmp_path):
    ids = item_ids(sandbox, 12)
    sandbox.fault(f"{ITEMS}{ids[4]}/", status=503, times=6)  # the policy gives up after 5 retries
    checkpoint = tmp_path / "items.lookup.jsonl"
    with pytest.raises(lf.ServerError) as info:
        client.lookup("items", ids, workers=1, checkpoint=checkpoint)
    partial = info.value.partial
    assert partial is not None and partial["_id"].tolist() == ids
    assert partial["_status"].tolist() == ["ok"] * 4 + ["pending"] * 8
    assert info.value.resume.rows.keys() == set(ids[:4])
    assert checkpoint.exists()
    df = client.lookup("items", ids, workers=1, checkpoint=checkpoint)  # the fault is used up
    assert (df["_status"] == "ok").all() and df["_id"].tolist() == ids
    assert df.attrs["lucidframes"]["resumed"] == 4 and df.attrs["lucidframes"]["requests"] == 8
    counts = sent(sandbox)
    assert counts[ids[4]] == 7  # six failures, then the answer
    assert {i: n for i, n in counts.items() if i != ids[4]} == dict.fromkeys(ids[:4] + ids[5:], 1)
    assert not checkpoint.exists()  # removed once complete


def test_resume_from_the_error(sandbox, client):
    ids = item_ids(sandbox, 8)
    sandbox.fault(f"{ITEMS}{ids[2]}/", status=None, kind="drop", times=6)
    with pytest.raises(lf.ConnectError) as info:
        client.lookup("items", ids, workers=1)
    assert repr(info.value.resume) == "LookupState(endpoint='items', params={}, ids_done=2)"
    df = client.lookup("items", ids, resume=info.value.resume)
    assert (df["_status"] == "ok").all()
    assert sent(sandbox)[ids[0]] == 1 and sent(sandbox)[ids[7]] == 1


def test_not_found_is_an_answer_not_a_give_up(sandbox, client, tmp_path):
    ids = [*item_ids(sandbox, 3), "4" * 20]
    df = client.lookup("items", ids, checkpoint=tmp_path / "c.jsonl")
    assert df["_status"].tolist() == ["ok", "ok", "ok", "not_found"]


def test_a_checkpoint_of_another_lookup_is_refused(sandbox, client, tmp_path):
    ids = item_ids(sandbox, 4)
    sandbox.fault(f"{ITEMS}{ids[1]}/", status=500, times=6)
    path = tmp_path / "c.jsonl"
    with pytest.raises(lf.ServerError):
        client.lookup("items", ids, workers=1, checkpoint=path)
    with pytest.raises(lf.ConfigError, match="look-up of 'items'"):
        client.lookup("products", ["x" * 22], checkpoint=path)


def test_a_line_cut_short_is_asked_again(sandbox, client, tmp_path):
    ids = item_ids(sandbox, 5)
    path = tmp_path / "c.jsonl"
    sandbox.fault(f"{ITEMS}{ids[3]}/", status=503, times=6)
    with pytest.raises(lf.ServerError):
        client.lookup("items", ids, workers=1, checkpoint=path)
    text = path.read_text()
    path.write_text(text[:-10])  # a crash in the middle of the last line (ids[2])
    sandbox.clear_log()
    client.lookup("items", ids, workers=1, checkpoint=path)
    assert sorted(sent(sandbox)) == sorted(ids[2:])


_CHILD = textwrap.dedent(
    """
    import json, sys
    import lucidframes as lf
    url, cid, secret, path = sys.argv[1:5]
    ids = json.loads(sys.argv[5])
    with lf.Client(url, cid, secret, progress=False, rate_limits=None) as client:
        try:
            client.lookup("items", ids, workers=2, checkpoint=path)
            print(json.dumps({"outcome": "complete"}))
        except lf.LookupInterrupted as exc:
            statuses = exc.partial["_status"].value_counts().to_dict()
            print(json.dumps({"outcome": type(exc).__name__, "statuses": statuses, "done": len(exc.resume.rows),
                              "is_drain_interrupted": isinstance(exc, lf.DrainInterrupted)}))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_keeps_the_answers_and_a_rerun_sends_each_id_once(sandbox_factory, recorder, tmp_path):
    sb = sandbox_factory(latency=0.05)
    ids = item_ids(sb, 80)
    path = tmp_path / "items.lookup.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, sb.url, sb.client_id, sb.client_secret, str(path), json.dumps(ids)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not path.exists() or path.read_text().count("\n") < 11):
        time.sleep(0.02)  # polling the child's progress, not waiting out a retry
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    result = json.loads(out)
    assert result["outcome"] == "LookupInterrupted" and result["is_drain_interrupted"]
    assert 10 <= result["done"] < len(ids)
    assert result["statuses"] == {"ok": result["done"], "pending": len(ids) - result["done"]}
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, progress=False, rate_limits=None) as c:
        df = c.lookup("items", ids, checkpoint=path)
    assert (df["_status"] == "ok").all() and df.attrs["lucidframes"]["resumed"] == result["done"]
    assert sent(sb) == dict.fromkeys(ids, 1)  # every id exactly once, across the interrupted run and the re-run


def test_lookup_interrupted_pickles_with_its_fields(sandbox, client):
    err = lf.LookupInterrupted("stopped", partial=None, resume=lf.LookupState("items", {}, {"a": {"_status": "ok"}}))
    import pickle

    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, KeyboardInterrupt) and back.resume.rows == {"a": {"_status": "ok"}}
