"""Every failure of a command is one line and the documented exit code, ours or the operating system's: a full disk
(``RLIMIT_FSIZE`` in a child), a DuckDB file locked by another process after the drain, an unexpected exception.
Exit 1 is for data that failed a check only: 2 before the first request, 3 after it (partial output written)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import lucidframes as lf
from lucidframes.cli import main

pytest.importorskip("pyarrow")


def child_env(sb) -> dict[str, str]:
    return {**os.environ, "LUCID_BASE_URL": sb.url, "LUCID_CLIENT_ID": sb.client_id,
            "LUCID_CLIENT_SECRET": sb.client_secret}  # fmt: skip


def small_disk(limit: int):
    """``preexec_fn``: no file of the child may grow beyond ``limit`` bytes (EFBIG, as a full disk gives ENOSPC)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def run_child(args: list[str], sb, limit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lucidframes", *args], env=child_env(sb), capture_output=True, text=True, timeout=120,
        preexec_fn=small_disk(limit),
    )  # fmt: skip


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def snapshot_files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") or part == "partial" for part in p.relative_to(folder).parts)
    }


@pytest.fixture
def env(sandbox, monkeypatch):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return sandbox


# -- a full disk ----------------------------------------------------------------------------------------------


def test_snapshot_on_a_full_disk_exits_3_in_one_line_and_keeps_the_previous_one(sandbox, client, tmp_path):
    lf.snapshot(client, tmp_path, ["brands", "products"])
    before = snapshot_files(tmp_path)
    sandbox.mutate("products", insert=2)
    done = run_child(["snapshot", "-o", str(tmp_path), "--endpoint", "brands", "--endpoint", "products"], sandbox,
                     30_000)  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = error_lines(done.stderr)
    assert "File too large" in line
    assert snapshot_files(tmp_path) == before
    partial = json.loads((tmp_path / "partial" / "manifest.json").read_text(encoding="utf-8"))
    assert partial["status"] == "partial" and partial["endpoints"]["brands"]["status"] == "complete"
    assert not [p for p in tmp_path.rglob(".*.tmp")]


def test_fetch_on_a_full_disk_exits_3_in_one_line(sandbox, tmp_path):
    out = tmp_path / "products.csv"
    done = run_child(["fetch", "products", "-o", str(out)], sandbox, 20_000)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = error_lines(done.stderr)
    assert "File too large" in line
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


def test_fetch_that_gives_up_on_a_full_disk_still_says_why_it_gave_up(sandbox, tmp_path):
    sandbox.fault("/api/v1.5/products/?page=5", status=403, times=None)
    out = tmp_path / "products.csv"
    done = run_child(["fetch", "products", "-o", str(out), "--workers", "1"], sandbox, 20_000)
    assert done.returncode in (2, 3), done.stderr  # never 1: that is for data that failed a check
    assert "Traceback" not in done.stderr
    (line,) = error_lines(done.stderr)
    assert "403" in line  # the reason it gave up, not the disk's error writing the partial file
    assert "could not be written" in done.stderr and "File too large" in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


def test_lookup_on_a_full_disk_exits_3_in_one_line(sandbox, tmp_path):
    ids = [r["uuid"] for r in sandbox.list_rows("products")[:40]]  # within the client's rate limit: no wait
    pd.DataFrame({"uuid": ids}).to_csv(tmp_path / "ids.csv", index=False)
    out = tmp_path / "found.jsonl"
    done = run_child(["lookup", "products", str(tmp_path / "ids.csv"), "--column", "uuid", "-o", str(out)], sandbox,
                     4_000)  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = error_lines(done.stderr)
    assert "File too large" in line
    assert not out.exists()


# -- a DuckDB file locked after the drain ------------------------------------------------------------------------


def test_a_duckdb_file_locked_during_the_run_exits_3_and_replaces_nothing(sandbox_factory, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    sb = sandbox_factory()
    db, snap = tmp_path / "lucid.duckdb", tmp_path / "snap"
    with lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None) as client:
        lf.snapshot(client, snap, ["products"], duckdb=db)
    before, manifest_before = db.read_bytes(), (snap / "manifest.json").read_bytes()
    sb.set_latency(0.2)
    sb.clear_log()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lucidframes", "snapshot", "-o", str(snap), "--endpoint", "products", "--duckdb",
         str(db), "--workers", "1"],
        env=child_env(sb), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    con = None
    try:
        deadline = time.monotonic() + 60
        while len([e for e in sb.log if e.path.startswith("/api/")]) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[1]
        con = duckdb.connect(str(db))  # another process holds the file now: the run cannot put its tables in
        _, err = proc.communicate(timeout=120)
    finally:
        if con is not None:
            con.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    (line,) = error_lines(err)
    assert "lucid.duckdb" in line
    assert db.read_bytes() == before and (snap / "manifest.json").read_bytes() == manifest_before
    partial = json.loads((snap / "partial" / "manifest.json").read_text(encoding="utf-8"))
    assert partial["status"] == "partial" and partial["endpoints"]["products"]["status"] == "complete"
    assert "--resume" in partial["resume"]["command"]


def test_fetch_into_a_locked_duckdb_file_is_refused_before_any_request(env, tmp_path, capsys):
    pytest.importorskip("duckdb")
    db = tmp_path / "out.duckdb"
    assert main(["fetch", "brands", "-o", str(db)]) == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        env.clear_log()
        capsys.readouterr()
        code = main(["fetch", "products", "-o", str(db)])
        err = capsys.readouterr().err
    finally:
        holder.communicate(input="", timeout=30)
    assert code == 2, err
    (line,) = error_lines(err)
    assert "out.duckdb" in line and "lock" in line and "Traceback" not in err
    assert [e for e in env.log if e.path.startswith("/api/")] == []


# -- an unexpected exception ---------------------------------------------------------------------------------------


def test_an_unexpected_error_after_the_first_request_is_exit_3_not_1(env, tmp_path, capsys, monkeypatch):
    import lucidframes.pipelines.table

    def broken(*args, **kwargs):
        raise RuntimeError("something we did not foresee\nwith a second line")

    monkeypatch.setattr(lucidframes.pipelines.table, "to_frame", broken)
    assert main(["snapshot", "-o", str(tmp_path), "--endpoint", "products"]) == 3
    err = capsys.readouterr().err
    (line,) = error_lines(err)
    assert "RuntimeError" in line and "something we did not foresee" in line and "Traceback" not in err


def test_an_unexpected_error_in_fetch_is_exit_3_not_1(env, tmp_path, capsys, monkeypatch):
    import lucidframes.cli.fetch

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(lucidframes.cli.fetch, "export", broken)
    assert main(["fetch", "products", "-o", str(tmp_path / "p.csv")]) == 3
    err = capsys.readouterr().err
    (line,) = error_lines(err)
    assert "RuntimeError: boom" in line and "Traceback" not in err


def test_an_unexpected_error_before_the_first_request_is_exit_2(env, tmp_path, capsys, monkeypatch):
    import lucidframes.cli.common

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lucidframes.cli.common, "Client", broken)
    assert main(["fetch", "products", "-o", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    (line,) = error_lines(err)
    assert "No space left on device" in line and "Traceback" not in err
    assert [e for e in env.log if e.path.startswith("/api/")] == []
