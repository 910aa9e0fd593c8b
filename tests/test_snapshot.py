"""lf.snapshot: every endpoint row for row, the manifest (schema, counts, hashes), changes, drift, a killed run."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import expected

import lucidframes as lf
from lucidframes.pipelines.manifest import manifest_schema
from lucidframes.pipelines.snapshot import snapshot_targets

pytest.importorskip("pyarrow")
jsonschema = pytest.importorskip("jsonschema")

TARGETS = snapshot_targets()


def validate(manifest: dict) -> None:
    """Every manifest a test sees validates against the schema shipped in the package."""
    jsonschema.validate(manifest, manifest_schema(), format_checker=jsonschema.FormatChecker())


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """Lists read back from Parquet come as numpy arrays: make them lists, to compare with the sandbox's rows."""
    out = df.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].map(lambda v: v.tolist() if hasattr(v, "tolist") else v)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_targets_are_every_list_endpoint_that_needs_no_user_value():
    assert set(TARGETS) == {
        "products", "batches", "brands", "assets_texts", "assets_images", "assets_videos", "assets_files",
    }  # fmt: skip
    assert "package_uids_export" not in {t.endpoint for t in TARGETS.values()}


def test_a_snapshot_equals_the_sandbox_row_for_row(sandbox, client, tmp_path):
    manifest = lf.snapshot(client, tmp_path / "snap")
    validate(manifest)
    assert manifest["status"] == "complete" and manifest["exit_code"] == 0
    for name, target in TARGETS.items():
        got = plain(pd.read_parquet(tmp_path / "snap" / f"{name}.parquet"))
        want = plain(expected(sandbox, target.endpoint, **target.params))
        pd.testing.assert_frame_equal(got, want, check_dtype=True, obj=name)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_formats_hold_the_same_rows(sandbox, client, tmp_path, fmt):
    lf.snapshot(client, tmp_path, ["products", "batches"], format=fmt)
    for name in ("products", "batches"):
        path = tmp_path / f"{name}.{fmt}"
        got = pd.read_csv(path, dtype=str) if fmt == "csv" else pd.read_json(path, lines=True, dtype=False)
        rows = sandbox.list_rows(name)
        assert got["uuid"].tolist() == [r["uuid"] for r in rows]
        assert got["name"].tolist() == [r["name"] for r in rows]


def test_the_manifest_counts_and_hashes_match_the_files(sandbox, client, tmp_path):
    manifest = lf.snapshot(client, tmp_path)
    written = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert written == manifest
    validate(written)
    assert written["base_url"] == sandbox.url
    assert sandbox.client_secret not in json.dumps(written)
    for name, entry in written["endpoints"].items():
        path = tmp_path / entry["file"]
        target = TARGETS[name]
        assert entry["sha256"] == sha256(path) and entry["bytes"] == path.stat().st_size, name
        assert entry["rows"] == len(pd.read_parquet(path)) == len(sandbox.list_rows(target.endpoint, **target.params))
        assert entry["count"] == entry["rows"] and entry["checks"] == [] and entry["changes"] is None
    assert written["endpoints"]["products"]["pages"] == 13
    assert written["previous"] is None and written["resume"] is None


def test_a_second_snapshot_writes_what_changed(sandbox, client, tmp_path):
    lf.snapshot(client, tmp_path, ["products", "batches"])
    inserted, deleted = sandbox.mutate("products", insert=3, delete=2)
    changed = sandbox.data["products"][10]
    changed["name"] = changed["name"] + " (new label)"
    batch = sandbox.data["batches"][7]
    batch["updated_on"] = "2030-01-01T00:00:00+00:00"
    sandbox.reindex()

    manifest = lf.snapshot(client, tmp_path, ["products", "batches"])
    validate(manifest)
    products = pd.read_parquet(tmp_path / "changes" / "products.parquet")
    by_change = products.groupby("change")["uuid"].apply(set).to_dict()
    assert by_change == {
        "added": {r["uuid"] for r in inserted},
        "removed": {r["uuid"] for r in deleted},
        "changed": {changed["uuid"]},
    }
    assert manifest["endpoints"]["products"]["changes"] == {
        "file": "changes/products.parquet", "by": "row_hash", "added": 3, "removed": 2, "changed": 1,
    }  # fmt: skip
    batches = pd.read_parquet(tmp_path / "changes" / "batches.parquet")
    assert batches["uuid"].tolist() == [batch["uuid"]] and batches["change"].tolist() == ["changed"]
    assert batches["after"].iloc[0].startswith("2030-01-01")
    assert manifest["endpoints"]["batches"]["changes"]["by"] == "updated_on"
    assert manifest["previous"]["format"] == "parquet"


def test_an_unchanged_second_snapshot_reports_no_changes(client, tmp_path):
    lf.snapshot(client, tmp_path, ["brands"])
    manifest = lf.snapshot(client, tmp_path, ["brands"])
    assert manifest["endpoints"]["brands"]["changes"] == {
        "file": "changes/brands.parquet", "by": "row_hash", "added": 0, "removed": 0, "changed": 0,
    }  # fmt: skip


def test_rows_are_written_a_batch_at_a_time(sandbox, client, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    import lucidframes.pipelines.table

    monkeypatch.setattr(lucidframes.pipelines.table, "BATCH_ROWS", 300)
    manifest = lf.snapshot(client, tmp_path, ["products"])
    meta = pq.ParquetFile(tmp_path / "products.parquet").metadata
    # pages of 100: a row group each time 300 rows are held, then the rest (the table is never built whole)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [300, 300, 300, 300, 3]
    assert manifest["endpoints"]["products"]["rows"] == 1203


def test_drift_during_the_drain_is_refetched_and_resolved(sandbox, client, tmp_path):
    sandbox.mutate_after(3, "products", insert=2)
    manifest = lf.snapshot(client, tmp_path, ["products"])
    validate(manifest)
    entry = manifest["endpoints"]["products"]
    assert entry["drift"]["detected"] and entry["drift"]["resolved"] and entry["drift"]["refetches"] >= 1
    assert entry["rows"] == entry["count"] == 1205 and manifest["status"] == "complete"
    assert pd.read_parquet(tmp_path / "products.parquet")["uuid"].tolist() == [
        r["uuid"] for r in sandbox.list_rows("products")
    ]


def test_rows_that_do_not_add_up_are_a_failed_check_with_files_written(sandbox, client, tmp_path):
    # page 2 of batches repeats page 1 (every time): duplicates are dropped, and 200 rows are not the 300 announced
    page1 = client.get_json("batches/")
    sandbox.fault("/api/v1.5/batches/?page=2", status=200, times=None, body={**page1, "next": page1["next"][:-1] + "3"})
    with pytest.warns(lf.DriftWarning, match="came twice"):  # the drain re-fetched twice, and it did not settle
        manifest = lf.snapshot(client, tmp_path, ["batches"])
    validate(manifest)
    entry = manifest["endpoints"]["batches"]
    assert entry["drift"]["unresolved"] and not entry["drift"]["resolved"]
    assert manifest["status"] == "failed_check" and manifest["exit_code"] == 1
    assert entry["duplicates_dropped"] == 100 and entry["rows"] == 200 and entry["checks"]
    assert len(pd.read_parquet(tmp_path / "batches.parquet")) == 200


def test_giving_up_writes_partial_files_and_how_to_resume(sandbox, client, tmp_path):
    lf.snapshot(client, tmp_path, ["products", "batches"])
    before = sha256(tmp_path / "batches.parquet")
    sandbox.fault("/api/v1.5/batches/?page=3", status=403, times=None)
    sandbox.fault("/api/v1.5/batches/?page=2", kind="slow", delay=0.4)  # arrives after page 3 has failed
    with pytest.raises(lf.ForbiddenError) as info:
        lf.snapshot(client, tmp_path, ["products", "batches", "brands"])
    manifest = info.value.manifest  # type: ignore[attr-defined]
    validate(manifest)
    # issue 18: the stopped run's manifest and files are in DIR/partial/; DIR/manifest.json stays the previous one's
    assert manifest == json.loads((tmp_path / "partial" / "manifest.json").read_text(encoding="utf-8"))
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["status"] == "complete"
    assert manifest["status"] == "partial" and manifest["exit_code"] == 3
    entries = manifest["endpoints"]
    assert entries["products"]["status"] == "complete"
    assert entries["batches"]["status"] == "partial" and entries["batches"]["file"] == "batches.parquet.partial"
    partial = pd.read_parquet(tmp_path / "partial" / "batches.parquet.partial")
    # pages 1 and 2: page 2 was still in flight when page 3 failed, and is kept all the same
    assert len(partial) == entries["batches"]["rows"] == 200
    assert partial["uuid"].tolist() == [r["uuid"] for r in sandbox.list_rows("batches")[:200]]
    assert entries["brands"]["status"] == "not_fetched"
    assert sha256(tmp_path / "batches.parquet") == before  # the previous complete file is untouched
    assert manifest["resume"]["endpoints"] == ["batches", "brands"]
    assert "--endpoint batches --endpoint brands" in manifest["resume"]["command"]


def test_duckdb_target_replaces_tables_in_one_file(sandbox, client, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    db = tmp_path / "lucid.duckdb"
    manifest = lf.snapshot(client, tmp_path / "snap", ["products", "batches"], duckdb=db)
    validate(manifest)
    sandbox.mutate("batches", insert=1)
    manifest = lf.snapshot(client, tmp_path / "snap", ["products", "batches"], duckdb=db)
    validate(manifest)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM products").fetchone() == (1203,)
        assert con.execute("SELECT count(*) FROM batches").fetchone() == (301,)
    assert manifest["format"] == "duckdb" and manifest["duckdb"]["sha256"] == sha256(db)
    assert manifest["endpoints"]["batches"]["table"] == "batches"
    assert manifest["endpoints"]["batches"]["changes"]["added"] == 1
    assert manifest["endpoints"]["products"]["changes"]["changed"] == 0
    assert not list(tmp_path.glob("*.parquet")) and not list(tmp_path.glob(".*.tmp"))  # staging cleaned up


def test_a_killed_snapshot_leaves_the_previous_one_intact(sandbox_factory, tmp_path):
    sb = sandbox_factory(sizes={"products": 3000})
    snap = tmp_path / "snap"
    with lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None) as client:
        lf.snapshot(client, snap)
    old = {p.name: sha256(p) for p in snap.rglob("*") if p.is_file() and p.name != ".lucidframes.lock"}
    sb.mutate("products", insert=10)
    sb.set_latency(0.2)  # slow enough to be killed half way through products
    env = {**os.environ, "LUCID_BASE_URL": sb.url, "LUCID_CLIENT_ID": sb.client_id,
           "LUCID_CLIENT_SECRET": sb.client_secret}  # fmt: skip
    with subprocess.Popen(
        [sys.executable, "-m", "lucidframes", "snapshot", "-o", str(snap), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:  # the stderr pipe closed after it
        try:
            deadline = time.monotonic() + 30
            staging = snap / ".lucidframes-staging"  # issue 18: a run stages its files there, not beside the old ones
            while not list(staging.glob(".products.parquet.*.tmp")) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # a few pages into the temp file
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == -signal.SIGKILL
    visible = {
        p.name: sha256(p)
        for p in snap.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(snap).parts)
    }
    assert visible == old  # every file under a final name is the previous snapshot's, byte for byte
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["endpoints"].values():
        assert sha256(snap / entry["file"]) == entry["sha256"]
    sb.set_latency(0)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None) as client:
        fresh = lf.snapshot(client, snap, ["products"])
    assert fresh["endpoints"]["products"]["changes"]["added"] == 10
    assert not list(snap.glob(".*.tmp")) and not staging.exists()  # the killed run's staging is cleaned up


def test_preflight_refuses_before_any_request(sandbox, client, tmp_path):
    with pytest.raises(lf.ConfigError, match="does not exist"):
        lf.snapshot(client, tmp_path / "missing" / "snap")
    with pytest.raises(lf.ConfigError, match="format"):
        lf.snapshot(client, tmp_path, format="xls")  # xlsx is a format since issue 21; .xls is read, never written
    with pytest.raises(lf.ConfigError, match="package_uids_export"):
        lf.snapshot(client, tmp_path, ["package_uids_export"])
    with pytest.raises(lf.UnknownEndpointError):
        lf.snapshot(client, tmp_path, ["prodcuts"])
    assert not [e for e in sandbox.log if e.path.startswith("/api/")]
