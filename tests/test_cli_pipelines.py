"""The command line in pipelines: exit codes from real runs, JSON logs, pre-flight checks, BrokenPipe, Ctrl-C, help."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import default_sigint

from lucidframes.cli import main

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ["fetch", "snapshot", "lookup", "validate", "endpoints", "sandbox"]


@pytest.fixture
def env(sandbox, monkeypatch):
    """The LUCID_* variables pointing at the test's sandbox; waits recorded instead of slept."""
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    waits: list[float] = []
    monkeypatch.setattr("time.sleep", waits.append)
    return sandbox


def api_requests(sb) -> list:
    return [e for e in sb.log if e.path.startswith("/api/")]


def json_lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


# -- exit codes, each from a real run ------------------------------------------------------------------------


def test_snapshot_exit_0_and_a_manifest(env, tmp_path, capsys):
    assert main(["snapshot", "-o", str(tmp_path / "snap"), "--endpoint", "brands"]) == 0
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest["endpoints"]["brands"]["rows"] == 25
    assert "snapshot complete" in capsys.readouterr().err


def test_exit_1_when_the_data_fails_a_check_files_still_written(env, tmp_path, capsys):
    from lucidframes.client import Client

    with Client(progress=False, rate_limits=None) as client:
        page1 = client.get_json("batches/")
    env.fault("/api/v1.5/batches/?page=2", status=200, times=None, body={**page1, "next": page1["next"][:-1] + "3"})
    assert main(["snapshot", "-o", str(tmp_path), "--endpoint", "batches", "--format", "csv"]) == 1
    assert len(pd.read_csv(tmp_path / "batches.csv")) == 200
    err = capsys.readouterr().err
    assert "error: batches: 200 rows after dropping duplicates, but the server announced 300" in err


def test_exit_2_before_any_request(env, tmp_path, capsys, monkeypatch):
    assert main(["fetch", "products", "-o", str(tmp_path / "missing" / "p.csv")]) == 2
    assert main(["fetch", "products", "-o", str(tmp_path / "p.numbers")]) == 2  # .xlsx is written since issue 21
    assert main(["fetch", "products", "-o", "-", "--format", "parquet"]) == 2
    assert main(["fetch", "products", "-o", "-", "--format", "xlsx"]) == 2  # a workbook cannot go to stdout
    assert main(["snapshot", "-o", str(tmp_path / "a" / "b")]) == 2
    assert main(["fetch", "products", "-o", str(tmp_path / "p.csv"), "--table", "t"]) == 2
    # pyarrow is a core dependency (no [parquet] extra any more): the writer library that can be missing is DuckDB's
    monkeypatch.setitem(sys.modules, "duckdb", None)
    assert main(["fetch", "products", "-o", str(tmp_path / "p.duckdb")]) == 2
    assert main(["snapshot", "-o", str(tmp_path / "s"), "--duckdb", str(tmp_path / "s.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Cannot tell the format" in err and "lucidframes[duckdb]" in err
    assert "name it .csv, .parquet, .jsonl, .duckdb or .xlsx" in err  # what can be written (.xlsx: issue 21)
    assert "Traceback" not in err
    assert api_requests(env) == []  # nothing was fetched to be thrown away
    assert not (tmp_path / "missing").exists()  # a missing folder is not created silently


def test_exit_3_writes_partial_and_says_how_to_resume(env, tmp_path, capsys):
    env.fault("/api/v1.5/products/?page=5", status=403, times=None)
    out = tmp_path / "p.csv"
    assert main(["fetch", "products", "-o", str(out), "--workers", "1"]) == 3
    assert not out.exists()
    assert len(pd.read_csv(str(out) + ".partial")) == 400
    err = capsys.readouterr().err
    assert "403" in err and "p.csv.partial" in err and "--checkpoint" in err


def test_snapshot_exit_3(env, tmp_path, capsys):
    env.fault("/api/v1.5/batches/?page=2", status=403, times=None)
    assert main(["snapshot", "-o", str(tmp_path), "--endpoint", "products", "--endpoint", "batches"]) == 3
    # issue 18: a stopped run's output is in DIR/partial/ (DIR/manifest.json is the previous snapshot's, if any)
    manifest = json.loads((tmp_path / "partial" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "partial" and (tmp_path / "partial" / "batches.parquet.partial").exists()
    assert not (tmp_path / "manifest.json").exists()
    assert "to continue: lucidframes snapshot" in capsys.readouterr().err


def test_checkpoint_continues_after_a_failure(env, tmp_path):
    env.fault("/api/v1.5/products/?page=7", status=403, times=1)
    out, ckpt = tmp_path / "p.jsonl", tmp_path / "p.ckpt"
    args = ["fetch", "products", "-o", str(out), "--checkpoint", str(ckpt), "--workers", "1"]
    assert main(args) == 3 and ckpt.exists()
    env.clear_log()
    assert main(args) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1203
    again = {int(dict(p.split("=") for p in e.query.split("&") if "=" in p).get("page", 1)) for e in api_requests(env)}
    assert again.isdisjoint(range(2, 7)) and 7 in again  # pages kept in the checkpoint are not fetched again


def test_connection_refused_is_exit_2(monkeypatch, tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LUCID_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LUCID_TOKEN", "t")
    monkeypatch.setattr("time.sleep", lambda s: None)
    assert main(["snapshot", "-o", str(tmp_path), "--endpoint", "brands"]) == 2
    assert "connection" in capsys.readouterr().err


def _start(cmd: list[str], sb) -> subprocess.Popen:
    env = {**os.environ, "LUCID_BASE_URL": sb.url, "LUCID_CLIENT_ID": sb.client_id,
           "LUCID_CLIENT_SECRET": sb.client_secret}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "lucidframes", *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_sigint,  # the tests send SIGINT: see helpers.default_sigint
    )  # fmt: skip


def _interrupt_when(proc: subprocess.Popen, sb, requests: int) -> float:
    """SIGINT once the sandbox has answered ``requests`` API requests; the seconds until the process ended."""
    deadline = time.monotonic() + 30
    while len(api_requests(sb)) < requests and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[1]
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return time.monotonic() - sent


def test_ctrl_c_exits_130_with_how_to_resume(sandbox_factory, tmp_path):
    sb = sandbox_factory(latency=0.2)
    # One worker: 13 pages at 0.2 s leave 2 s after the 3rd answer for the signal (8 workers finished first under load)
    args = [
        "fetch",
        "products",
        "-o",
        str(tmp_path / "p.csv"),
        "--checkpoint",
        str(tmp_path / "p.ckpt"),
        "--workers",
        "1",
    ]
    with _start(args, sb) as proc:  # the pipes closed after it
        _interrupt_when(proc, sb, 3)
        err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 130, err
    assert "interrupted" in err and "run the same command again" in err and "Traceback" not in err
    assert not (tmp_path / "p.csv").exists()


def test_ctrl_c_during_a_rate_limit_wait_exits_130_within_2_seconds(sandbox_factory, tmp_path):
    sb = sandbox_factory(rate_limits="source=3/60")  # the fourth request waits about a minute
    with _start(["fetch", "products", "-o", str(tmp_path / "p.csv"), "--workers", "1"], sb) as proc:
        elapsed = _interrupt_when(proc, sb, 4)
    assert proc.returncode == 130
    assert elapsed < 2.0


# -- JSON logs, quiet, warnings ---------------------------------------------------------------------------


def test_json_log_lines_parse_and_hold_no_secret(env, tmp_path, capsys):
    env.fault("/api/v1.5/products/?page=2", status=503, times=2)
    env.fault("/api/v1.5/products/?page=3", status=429, times=1, retry_after=1)
    assert main(["fetch", "products", "-o", str(tmp_path / "p.csv"), "--log-format", "json"]) == 0
    err = capsys.readouterr().err
    lines = json_lines(err)
    assert lines and all({"time", "level", "event", "message"} <= set(x) for x in lines)
    assert {"fetch_done"} <= {x["event"] for x in lines}
    waits = [x for x in lines if x["event"].startswith("wait.") and x.get("status")]  # the transport's retries
    assert len(waits) == 3 and {x["status"] for x in waits} == {503, 429}
    assert all(x["endpoint"] == "products" and x["page"] in (2, 3) and x["wait"] > 0 for x in waits)
    assert env.client_secret not in err and "Bearer" not in err
    assert main(["snapshot", "-o", str(tmp_path / "s"), "--endpoint", "brands", "--log-format", "json"]) == 0
    assert {x["event"] for x in json_lines(capsys.readouterr().err)} >= {"snapshot_endpoint_done", "snapshot_done"}


def test_errors_are_json_lines_too(env, tmp_path, capsys):
    assert main(["fetch", "assets", "-o", str(tmp_path / "a.csv"), "--log-format", "json"]) == 2
    (line,) = json_lines(capsys.readouterr().err)
    assert line["level"] == "error" and line["event"] == "usage_error"


def test_quiet_says_nothing_on_success(env, tmp_path, capsys):
    assert main(["fetch", "brands", "-o", str(tmp_path / "b.csv"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_messages_speak_the_cli_language(env, capsys):
    assert main(["fetch", "assets"]) == 2
    err = capsys.readouterr().err
    assert "--param asset_type=" in err and "load(" not in err
    assert main(["fetch", "assets", "--param", "asset_type=text"]) == 2
    err = capsys.readouterr().err
    assert "--param asset_type=text is not one of" in err and "Did you mean 'texts'" in err
    assert main(["fetch", "items"]) == 2
    assert "lucidframes lookup items FILE --column COL" in capsys.readouterr().err


def test_a_python_warning_is_one_line(env, tmp_path, capsys):
    sheet = tmp_path / "ids.csv"
    sheet.write_bytes(b"uuid,note\n" + b"EHzzEQny77sJrcw9ENJq2t,caf\xe9\n")  # not UTF-8: a fallback warning
    assert main(["lookup", "products", str(sheet), "--column", "uuid", "-o", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    (warning,) = [line for line in err.splitlines() if "cp1252" in line]
    assert warning.startswith("warning: ") and "EncodingFallbackWarning" not in err and "warnings.warn" not in err


# -- pages, pipes, lookups, DuckDB ------------------------------------------------------------------------


def test_pages_past_the_end_say_how_many_and_write_what_exists(env, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["fetch", "products", "--pages", "10-20", "-o", str(out)]) == 0
    assert len(pd.read_csv(out)) == 303
    assert "products has 13 pages (1,203 rows, 100 per page)" in capsys.readouterr().err
    assert main(["fetch", "products", "--pages", "20-22", "-o", str(tmp_path / "q.csv")]) == 2
    assert "choose pages from 1 to 13" in capsys.readouterr().err


def test_stdout_closed_early_exits_quietly():
    with subprocess.Popen(
        [sys.executable, "-m", "lucidframes", "fetch", "products", "--sandbox", "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:  # the pipes closed after it
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # what `| head -1` does
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert proc.returncode == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_lookup_a_column_of_ids(env, tmp_path, capsys):
    ids = [r["uuid"] for r in env.list_rows("products")[:5]] + ["EHzzEQny77sJrcw9ENJq2X"]
    pd.DataFrame({"product_uuid": ids}).to_csv(tmp_path / "ids.csv", index=False)
    out = tmp_path / "found.jsonl"
    assert main(["lookup", "products", str(tmp_path / "ids.csv"), "--column", "product_uuid", "-o", str(out)]) == 0
    found = pd.read_json(out, lines=True)
    assert found["_status"].tolist() == ["ok"] * 5 + ["not_found"]
    assert "5 ok" in capsys.readouterr().err


def test_lookup_guard_sends_nothing_for_a_bad_lucid_id(env, tmp_path, capsys):
    pd.DataFrame({"lucid_id": ["23456789ABCDEFGHJKLM", "0OIl-not-an-id"]}).to_csv(tmp_path / "s.csv", index=False)
    assert main(["lookup", "items", str(tmp_path / "s.csv"), "--column", "lucid_id"]) == 1
    assert api_requests(env) == []
    assert main(["lookup", "items", str(tmp_path / "s.csv"), "--column", "nope"]) == 2
    assert "has no column 'nope'" in capsys.readouterr().err


def test_fetch_into_a_duckdb_table(env, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    db = tmp_path / "out.duckdb"
    assert main(["fetch", "products", "-o", str(db), "--table", "products"]) == 0
    assert main(["fetch", "assets", "--param", "asset_type=images", "-o", str(db)]) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM products").fetchone() == (1203,)
        assert con.execute("SELECT count(*) FROM assets_images").fetchone() == (40,)


# -- help and README ------------------------------------------------------------------------------------------


def _help(command: str, capsys) -> str:
    assert main([command, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help_examples_and_variables(command, capsys):
    text = _help(command, capsys)
    assert text.startswith(f"usage: lucidframes {command}")
    body = text.split("\n\n", 2)[1]
    assert len(body.split()) >= 8, "a description"
    assert "examples:" in text and text.count(f"  lucidframes {command}") >= 2
    # Issue 22: a help page lists the variables its command reads, and only those (tests/test_cli_names.py).
    reads_the_client = command in ("fetch", "snapshot", "lookup")
    section = text.split("\nenvironment", 1)[1] if "\nenvironment" in text else ""
    for var in ("LUCID_BASE_URL", "LUCID_CLIENT_ID", "LUCID_CLIENT_SECRET", "LUCID_TOKEN"):
        assert (var in section) == reads_the_client, var
    if command in ("fetch", "snapshot"):
        assert "130" in text and "gave up part way" in text


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_option_is_in_the_readme(command, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", _help(command, capsys))) - {"--help"}
    assert options
    missing = sorted(o for o in options if not re.search(rf"{re.escape(o)}(?![a-z-])", readme))
    assert not missing, f"lucidframes {command}: {missing} not in README.md"


def test_exit_codes_are_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in ("0 complete", "1 the data failed a check", "2 usage", "3 gave up part way", "130 interrupted"):
        assert line in readme
