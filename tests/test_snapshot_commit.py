"""A snapshot is one transaction: a run that gives up or is interrupted leaves the previous snapshot and manifest
untouched, writes what it fetched beside them (``DIR/partial/``), and its "continue" line (shell-quoted) continues
it: the tables it completed are kept, the endpoint it was on goes on from its checkpoint."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import default_sigint, expected

import lucidframes as lf
from lucidframes.pipelines.manifest import manifest_schema

pytest.importorskip("pyarrow")
jsonschema = pytest.importorskip("jsonschema")

BATCHES = "/api/v1.5/batches/"


def validate(manifest: dict) -> None:
    jsonschema.validate(manifest, manifest_schema(), format_checker=jsonschema.FormatChecker())


def committed(folder: Path) -> dict[str, str]:
    """Every file of the committed snapshot (not hidden, not the partial output) -> its SHA-256."""
    out = {}
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and rel.parts[0] != "partial" and not any(p.startswith(".") for p in rel.parts):
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def pages_of(sb, path: str) -> list[int]:
    out = []
    for e in sb.log:
        if e.path == path:
            query = dict(p.split("=", 1) for p in e.query.split("&") if "=" in p)
            out.append(int(query.get("page", 1)))
    return out


def child_env(sb) -> dict[str, str]:
    return {**os.environ, "LUCID_BASE_URL": sb.url, "LUCID_CLIENT_ID": sb.client_id,
            "LUCID_CLIENT_SECRET": sb.client_secret}  # fmt: skip


def run_line(line: str, sb, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a printed ``lucidframes ...`` line through a shell, as a person pasting it would."""
    assert line.startswith("lucidframes ")
    command = f"{shlex.quote(sys.executable)} -m {line}"
    return subprocess.run(command, shell=True, cwd=cwd, env=child_env(sb), capture_output=True, text=True, timeout=120)


def test_a_run_that_gives_up_leaves_the_previous_snapshot_whole(sandbox, client, tmp_path):
    names = ["products", "batches", "brands"]
    lf.snapshot(client, tmp_path, names)
    before = committed(tmp_path)
    sandbox.mutate("products", insert=3)
    sandbox.fault(BATCHES + "?page=2", status=403, times=None)
    with pytest.raises(lf.ForbiddenError) as info:
        lf.snapshot(client, tmp_path, names)
    assert committed(tmp_path) == before  # products.parquet, manifest.json, changes/: all the previous run's
    manifest = info.value.manifest  # type: ignore[attr-defined]
    validate(manifest)
    partial = tmp_path / "partial"
    assert json.loads((partial / "manifest.json").read_text(encoding="utf-8")) == manifest
    assert manifest["status"] == "partial" and manifest["exit_code"] == 3
    entries = manifest["endpoints"]
    assert entries["products"]["status"] == "complete"
    assert len(pd.read_parquet(partial / entries["products"]["file"])) == 1206  # the new table, beside the old
    assert entries["batches"]["status"] == "partial" and entries["batches"]["file"] == "batches.parquet.partial"
    rows = entries["batches"]["rows"]  # page 1, and page 3 when it came back before page 2 failed
    assert len(pd.read_parquet(partial / "batches.parquet.partial")) == rows and rows in (100, 200)
    assert entries["brands"]["status"] == "not_fetched"
    assert manifest["resume"]["endpoints"] == ["batches", "brands"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != ".lucidframes.lock"]
    for path in [*partial.iterdir(), tmp_path / ".lucidframes.lock"]:  # output, checkpoint, lock: no credential
        assert sandbox.client_secret.encode() not in path.read_bytes(), path.name


def test_the_continue_line_of_a_run_that_gave_up_continues_it(sandbox, client, tmp_path):
    names = ["products", "batches", "brands"]
    lf.snapshot(client, tmp_path, names)
    sandbox.mutate("batches", insert=2)
    sandbox.fault(BATCHES + "?page=2", status=403, times=1)
    with pytest.raises(lf.ForbiddenError) as info:
        lf.snapshot(client, tmp_path, names)
    line = info.value.manifest["resume"]["command"]  # type: ignore[attr-defined]
    sandbox.clear_log()
    done = run_line(line, sandbox, tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    validate(manifest)
    assert manifest["status"] == "complete" and manifest["resume"] is None
    for name in names:
        got = pd.read_parquet(tmp_path / f"{name}.parquet")
        assert got["uuid"].tolist() == expected(sandbox, name)["uuid"].tolist(), name
    assert pages_of(sandbox, "/api/v1.5/products/") == []  # complete in the run that gave up: kept, not fetched
    assert manifest["endpoints"]["batches"]["changes"]["added"] == 2
    assert manifest["endpoints"]["products"]["changes"]["added"] == 0
    assert not (tmp_path / "partial").exists()


def test_duckdb_tables_are_not_replaced_by_a_run_that_gives_up(sandbox, client, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    db, snap = tmp_path / "lucid.duckdb", tmp_path / "snap"
    lf.snapshot(client, snap, ["products", "batches"], duckdb=db)
    before, manifest_before = db.read_bytes(), (snap / "manifest.json").read_bytes()
    sandbox.mutate("products", insert=3)
    sandbox.fault(BATCHES + "?page=2", status=403, times=None)
    with pytest.raises(lf.ForbiddenError) as info:
        lf.snapshot(client, snap, ["products", "batches"], duckdb=db)
    assert db.read_bytes() == before and (snap / "manifest.json").read_bytes() == manifest_before
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM products").fetchone() == (1203,)
    manifest = info.value.manifest  # type: ignore[attr-defined]
    validate(manifest)
    assert manifest["endpoints"]["products"]["status"] == "complete"
    assert len(pd.read_parquet(snap / "partial" / manifest["endpoints"]["products"]["file"])) == 1206


def test_the_continue_line_is_shell_quoted(sandbox, client, tmp_path):
    snap = tmp_path / "my snap; touch PWNED #"
    sandbox.fault(BATCHES + "?page=2", status=403, times=1)
    with pytest.raises(lf.ForbiddenError) as info:
        lf.snapshot(client, snap, ["products", "batches"])
    line = info.value.manifest["resume"]["command"]  # type: ignore[attr-defined]
    words = shlex.split(line)
    assert words[words.index("-o") + 1] == str(snap)
    done = run_line(line, sandbox, tmp_path)
    assert not (tmp_path / "PWNED").exists()
    assert done.returncode == 0, done.stderr
    assert json.loads((snap / "manifest.json").read_text(encoding="utf-8"))["status"] == "complete"


def test_ctrl_c_then_the_printed_line_continues_without_fetching_again(sandbox_factory, tmp_path):
    sb = sandbox_factory(sizes={"batches": 1000}, latency=0.15)
    snap = tmp_path / "snap"
    names = ["--endpoint", "products", "--endpoint", "batches", "--endpoint", "brands"]
    sb.set_latency(0)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None) as client:
        lf.snapshot(client, snap, ["products", "batches", "brands"])
    before = committed(snap)
    sb.mutate("products", insert=1)
    sb.set_latency(0.15)
    sb.clear_log()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lucidframes", "snapshot", "-o", str(snap), *names, "--workers", "1"],
        env=child_env(sb), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(pages_of(sb, BATCHES)) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()  # a killed child's pipe: closed here (warnings are errors in this suite)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert committed(snap) == before  # products was complete: it did not replace the previous products.parquet
    partial = json.loads((snap / "partial" / "manifest.json").read_text(encoding="utf-8"))
    validate(partial)
    assert partial["status"] == "interrupted" and partial["endpoints"]["products"]["status"] == "complete"
    assert partial["endpoints"]["batches"]["status"] == "interrupted"
    (line,) = [x.split("to continue: ", 1)[1] for x in err.splitlines() if "to continue: " in x]
    assert line == partial["resume"]["command"]
    kept = len(pages_of(sb, BATCHES))  # batches pages answered before the interrupt (page 1 .. about 4)

    sb.set_latency(0)
    sb.clear_log()
    done = run_line(line, sb, tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    validate(manifest)
    assert manifest["status"] == "complete"
    for name in ("products", "batches", "brands"):
        got = pd.read_parquet(snap / f"{name}.parquet")
        assert got["uuid"].tolist() == expected(sb, name)["uuid"].tolist(), name
    assert manifest["endpoints"]["products"]["changes"]["added"] == 1
    assert pages_of(sb, "/api/v1.5/products/") == []  # kept from the interrupted run
    again = pages_of(sb, BATCHES)
    assert sorted(again) == sorted(set(again))  # no page twice
    # pages 2 .. kept-2 were surely received and checkpointed before the interrupt: not fetched again (page 1 is
    # asked once more at the end, to check that nothing moved)
    assert kept >= 4 and set(again) & set(range(2, kept - 1)) == set(), (kept, again)
    assert len(again) < 10


def test_resume_after_kill_9_continues_from_the_staged_pages(sandbox_factory, tmp_path):
    sb = sandbox_factory(sizes={"products": 3000}, latency=0.1)
    snap = tmp_path / "snap"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lucidframes", "snapshot", "-o", str(snap), "--endpoint", "products", "--workers", "1"],
        env=child_env(sb), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    checkpoint = snap / ".lucidframes-staging" / "products.ckpt"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if checkpoint.exists() and len(checkpoint.read_bytes().splitlines()) >= 6:  # a header and 5 pages
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[1]
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()  # a killed child's pipe: closed here (warnings are errors in this suite)
    assert not (snap / "manifest.json").exists() and not (snap / "products.parquet").exists()
    kept = {json.loads(line)["page"] for line in checkpoint.read_text(encoding="utf-8").splitlines()[1:]}
    sb.set_latency(0)
    sb.clear_log()
    with lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None) as client:
        manifest = lf.snapshot(client, snap, ["products"], resume=True)
    assert manifest["status"] == "complete"
    got = pd.read_parquet(snap / "products.parquet")
    assert got["uuid"].tolist() == expected(sb)["uuid"].tolist()
    again = pages_of(sb, "/api/v1.5/products/")
    assert len(kept) >= 5 and set(again) & (kept - {1}) == set(), (kept, again)
    assert not (snap / ".lucidframes-staging").exists()


def test_resume_with_nothing_to_continue_is_a_full_run(client, tmp_path):
    manifest = lf.snapshot(client, tmp_path, ["brands"], resume=True)
    assert manifest["status"] == "complete" and manifest["endpoints"]["brands"]["rows"] == 25


def test_resume_refuses_a_stopped_run_of_another_server(sandbox, client, sandbox_factory, tmp_path):
    sandbox.fault(BATCHES + "?page=2", status=403, times=1)
    with pytest.raises(lf.ForbiddenError):
        lf.snapshot(client, tmp_path, ["products", "batches"])
    other = sandbox_factory()
    elsewhere = lf.Client(other.url, other.client_id, other.client_secret, progress=False, rate_limits=None)
    with elsewhere, pytest.raises(lf.ConfigError, match="holds a run against"):
        lf.snapshot(elsewhere, tmp_path, ["products", "batches"], resume=True)
    assert [e for e in other.log if e.path.startswith("/api/")] == []
    assert (tmp_path / "partial" / "manifest.json").exists()  # still there, to be continued against its server


def test_resume_fetches_again_a_kept_table_whose_file_was_changed(sandbox, client, tmp_path):
    sandbox.fault(BATCHES + "?page=2", status=403, times=1)
    with pytest.raises(lf.ForbiddenError):
        lf.snapshot(client, tmp_path, ["products", "batches"])
    products = tmp_path / "partial" / "products.parquet"
    products.write_bytes(products.read_bytes()[:100])  # damaged after the run stopped
    sandbox.clear_log()
    manifest = lf.snapshot(client, tmp_path, ["products", "batches"], resume=True)
    assert manifest["status"] == "complete"
    assert len(pd.read_parquet(tmp_path / "products.parquet")) == 1203
    assert pages_of(sandbox, "/api/v1.5/products/")  # fetched again, not taken as it was


def test_a_new_run_without_resume_starts_over_and_replaces_the_partial_output(sandbox, client, tmp_path):
    sandbox.fault(BATCHES + "?page=2", status=403, times=1)
    with pytest.raises(lf.ForbiddenError):
        lf.snapshot(client, tmp_path, ["products", "batches"])
    sandbox.clear_log()
    manifest = lf.snapshot(client, tmp_path, ["products", "batches"])
    assert manifest["status"] == "complete" and not (tmp_path / "partial").exists()
    assert len(pages_of(sandbox, "/api/v1.5/products/")) >= 13  # everything fetched again
    assert not [n for e in manifest["endpoints"].values() for n in e["notes"] if "kept" in n]


def test_resume_never_takes_pages_a_killed_run_checkpointed_from_another_server(sandbox_factory, tmp_path):
    first = sandbox_factory(latency=0.2)
    snap = tmp_path / "snap"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lucidframes", "snapshot", "-o", str(snap), "--endpoint", "products", "--workers", "1"],
        env=child_env(first), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    checkpoint = snap / ".lucidframes-staging" / "products.ckpt"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if checkpoint.exists() and len(checkpoint.read_bytes().splitlines()) >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[1]
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()  # a killed child's pipe: closed here (warnings are errors in this suite)
    other = sandbox_factory(seed=7)
    client = lf.Client(other.url, other.client_id, other.client_secret, progress=False, rate_limits=None)
    with client, pytest.raises(lf.ConfigError, match="holds a run against"):
        lf.snapshot(client, snap, ["products"], resume=True)
    assert [e for e in other.log if e.path.startswith("/api/")] == []


def test_a_swap_cut_short_is_completed_by_the_next_run(sandbox, client, tmp_path, monkeypatch):
    names = ["products", "batches"]
    lf.snapshot(client, tmp_path, names)
    sandbox.mutate("products", insert=1)
    sandbox.mutate("batches", insert=1)
    real, moved = os.replace, []
    staging = tmp_path / ".lucidframes-staging"

    def cut_short(source, target):  # the disk fails on the second rename of the swap (a kill -9 would do the same)
        if Path(source).parent == staging and Path(target).parent in (tmp_path, tmp_path / "changes"):
            moved.append(target)
            if len(moved) == 2:
                raise OSError(5, "Input/output error")
        return real(source, target)

    monkeypatch.setattr(os, "replace", cut_short)
    with pytest.raises(OSError, match="Input/output"):
        lf.snapshot(client, tmp_path, names)
    monkeypatch.undo()
    assert (staging / "COMMITTING").exists() and not (tmp_path / "partial").exists()  # committed, not partial
    sandbox.fault("/api/v1.5/products/", status=403, times=None)  # the next run gives up at once...
    with pytest.raises(lf.ForbiddenError):
        lf.snapshot(client, tmp_path, names)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))  # ...after completing the swap
    validate(manifest)
    assert manifest["endpoints"]["products"]["rows"] == 1204 and manifest["endpoints"]["batches"]["rows"] == 301
    for entry in manifest["endpoints"].values():
        assert hashlib.sha256((tmp_path / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
        assert (tmp_path / entry["changes"]["file"]).exists() and entry["changes"]["added"] == 1
    assert not (staging / "COMMITTING").exists()
