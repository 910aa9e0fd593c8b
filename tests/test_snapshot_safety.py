"""A snapshot folder is locked (a second run is refused naming the first; a dead run's lock is taken over), and
everything checkable is checked before the first request: the folder, ``changes/``, the DuckDB file, the previous
snapshot's files (one that cannot be read skips its change report, with a note in the manifest)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import default_sigint, expected

import lucidframes as lf
from lucidframes.cli import main

pytest.importorskip("pyarrow")

PRODUCTS = "/api/v1.5/products/"


@pytest.fixture
def env(sandbox, monkeypatch):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return sandbox


def api_requests(sb) -> list:
    return [e for e in sb.log if e.path.startswith("/api/")]


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


# -- the lock ------------------------------------------------------------------------------------------------


def test_a_second_snapshot_into_the_same_folder_is_refused_naming_the_first(sandbox_factory, tmp_path, capsys,
                                                                            monkeypatch):  # fmt: skip
    sb = sandbox_factory(sizes={"products": 3000}, latency=0.1)
    snap = tmp_path / "snap"
    env = {**os.environ, "LUCID_BASE_URL": sb.url, "LUCID_CLIENT_ID": sb.client_id,
           "LUCID_CLIENT_SECRET": sb.client_secret}  # fmt: skip
    first = subprocess.Popen(
        [sys.executable, "-m", "lucidframes", "snapshot", "-o", str(snap), "--endpoint", "products", "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(api_requests(sb)) < 2 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.02)
        assert first.poll() is None, first.communicate()[1]
        for name, value in (("LUCID_BASE_URL", sb.url), ("LUCID_CLIENT_ID", sb.client_id),
                            ("LUCID_CLIENT_SECRET", sb.client_secret)):  # fmt: skip
            monkeypatch.setenv(name, value)
        seen = len(api_requests(sb))
        assert main(["snapshot", "-o", str(snap), "--endpoint", "brands"]) == 2
        err = capsys.readouterr().err
        (line,) = err.splitlines()
        assert line.startswith("error:") and f"pid {first.pid}" in line and socket.gethostname() in line
        assert "started" in line
        assert not [e for e in api_requests(sb)[seen:] if "brands" in e.path]  # refused before any request
        _, first_err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, first_err
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and list(manifest["endpoints"]) == ["products"]
    assert pd.read_parquet(snap / "products.parquet")["uuid"].tolist() == expected(sb)["uuid"].tolist()


def test_the_lock_of_a_dead_run_is_taken_over(sandbox, client, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (tmp_path / ".lucidframes.lock").write_text(
        json.dumps({"pid": pid, "host": socket.gethostname(), "started": "2020-01-01T00:00:00+00:00"}),
        encoding="utf-8",
    )
    manifest = lf.snapshot(client, tmp_path, ["brands"])
    assert manifest["status"] == "complete"
    again = lf.snapshot(client, tmp_path, ["brands"])  # the lock is released at the end of a run
    assert again["status"] == "complete"


# -- preflight: before the first request -----------------------------------------------------------------------


def test_changes_being_a_file_is_refused_before_any_request(env, tmp_path, capsys):
    assert main(["snapshot", "-o", str(tmp_path), "--endpoint", "brands", "--endpoint", "batches"]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    shutil.rmtree(tmp_path / "changes", ignore_errors=True)
    (tmp_path / "changes").write_text("not a folder", encoding="utf-8")
    env.clear_log()
    capsys.readouterr()
    assert main(["snapshot", "-o", str(tmp_path), "--endpoint", "brands", "--endpoint", "batches"]) == 2
    err = capsys.readouterr().err
    (line,) = error_lines(err)
    assert "changes" in line and "Traceback" not in err
    assert api_requests(env) == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name != "changes"} == before


def test_a_locked_duckdb_file_is_refused_before_any_request(env, tmp_path, capsys):
    pytest.importorskip("duckdb")
    db = tmp_path / "lucid.duckdb"
    assert main(["snapshot", "-o", str(tmp_path / "snap"), "--endpoint", "brands", "--duckdb", str(db)]) == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        env.clear_log()
        capsys.readouterr()
        code = main(["snapshot", "-o", str(tmp_path / "snap"), "--endpoint", "brands", "--duckdb", str(db)])
        err = capsys.readouterr().err
    finally:
        holder.communicate(input="", timeout=30)
    assert code == 2, err
    (line,) = error_lines(err)
    assert "lucid.duckdb" in line and "Traceback" not in err
    assert api_requests(env) == []


def test_a_duckdb_file_that_is_not_one_is_refused_before_any_request(env, tmp_path, capsys):
    pytest.importorskip("duckdb")
    db = tmp_path / "lucid.duckdb"
    db.write_bytes(b"this is not a database\n" * 100)
    assert main(["snapshot", "-o", str(tmp_path / "snap"), "--endpoint", "brands", "--duckdb", str(db)]) == 2
    err = capsys.readouterr().err
    (line,) = error_lines(err)
    assert "lucid.duckdb" in line and "Traceback" not in err
    assert api_requests(env) == []
    assert db.read_bytes() == b"this is not a database\n" * 100


# -- a damaged previous snapshot --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_a_damaged_previous_file_skips_its_change_report_with_a_note(sandbox, client, tmp_path, fmt):
    lf.snapshot(client, tmp_path, ["products", "batches"], format=fmt)
    damaged = tmp_path / f"products.{fmt}"
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])  # cut short, as by a full disk
    sandbox.mutate("batches", insert=1)
    manifest = lf.snapshot(client, tmp_path, ["products", "batches"], format=fmt)
    assert manifest["status"] == "complete"
    products = manifest["endpoints"]["products"]
    assert products["changes"] is None
    assert any(f"products.{fmt}" in note for note in products["notes"]), products["notes"]
    assert manifest["endpoints"]["batches"]["changes"]["added"] == 1
    assert manifest["endpoints"]["batches"]["notes"] == []
    assert products["sha256"] == hashlib.sha256(damaged.read_bytes()).hexdigest()  # replaced by a whole one
    assert len(lf.read_table(damaged)) == 1203 if fmt != "jsonl" else len(damaged.read_text().splitlines()) == 1203
    again = lf.snapshot(client, tmp_path, ["products", "batches"], format=fmt)
    assert again["endpoints"]["products"]["changes"]["added"] == 0 and again["endpoints"]["products"]["notes"] == []


def test_an_unreadable_previous_manifest_is_noted(sandbox, client, tmp_path):
    lf.snapshot(client, tmp_path, ["brands"])
    (tmp_path / "manifest.json").write_text('{"lucidframes_manifest": 1, "endpoi', encoding="utf-8")
    manifest = lf.snapshot(client, tmp_path, ["brands"])
    assert manifest["status"] == "complete" and manifest["endpoints"]["brands"]["changes"] is None
    assert any("manifest.json" in note for note in manifest["endpoints"]["brands"]["notes"])


def test_a_snapshot_folder_whose_parent_is_a_file_is_refused(client, sandbox, tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(lf.ConfigError):
        lf.snapshot(client, Path(tmp_path / "f" / "snap"))
    assert api_requests(sandbox) == []


def test_hostile_duckdb_table_column_and_folder_names_hold(env, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    folder = tmp_path / 'it\'s "here"; DROP TABLE products; --'
    folder.mkdir()
    db = folder / 'lucid".duckdb'
    assert main(["snapshot", "-o", str(folder / "snap"), "--endpoint", "brands", "--duckdb", str(db)]) == 0
    table = 'x"; DROP TABLE brands; --'
    assert main(["fetch", "products", "-o", str(db), "--table", table]) == 0
    lf.export(pd.DataFrame({'a"b': [1], "c); DROP TABLE brands; --": ["x"]}), db, table='t"')
    assert main(["snapshot", "-o", str(folder / "snap"), "--endpoint", "brands", "--duckdb", str(db)]) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert names == {"brands", table, 't"'}
        assert con.execute("SELECT count(*) FROM brands").fetchone() == (25,)
        columns = [r[0] for r in con.execute('SELECT * FROM "t"""').description]
    assert columns == ['a"b', "c); DROP TABLE brands; --"]


def test_two_snapshots_in_one_process_are_refused_too(sandbox_factory, tmp_path):
    import threading

    sb = sandbox_factory(latency=0.1)
    outcome: dict[str, object] = {}

    def first() -> None:
        with lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None, workers=1) as c:
            outcome["manifest"] = lf.snapshot(c, tmp_path, ["products"])

    thread = threading.Thread(target=first)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(api_requests(sb)) < 2 and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.02)
        client = lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None)
        with client, pytest.raises(lf.ConfigError, match=f"in use by another snapshot \\(pid {os.getpid()} on"):
            lf.snapshot(client, tmp_path, ["brands"])
    finally:
        thread.join(timeout=120)
    assert outcome["manifest"]["status"] == "complete"  # type: ignore[index]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_folder_is_refused_before_any_request(env, tmp_path, capsys):
    folder = tmp_path / "snap"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["snapshot", "-o", str(folder), "--endpoint", "brands"]) == 2
    finally:
        folder.chmod(0o700)
    (line,) = error_lines(capsys.readouterr().err)
    assert "cannot be written" in line
    assert api_requests(env) == []
