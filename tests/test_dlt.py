"""lucidframes.dlt: a real dlt pipeline into DuckDB, run twice against the sandbox (the second run merges)."""

from __future__ import annotations

import subprocess
import sys

import pytest

dlt = pytest.importorskip("dlt")
duckdb = pytest.importorskip("duckdb")

from lucidframes.dlt import DRAIN_PASS_COLUMN, lucid_source  # noqa: E402


@pytest.fixture
def dlt_home(tmp_path, monkeypatch):
    """dlt's folders in tmp_path, and its telemetry off (no call beyond loopback)."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    return tmp_path


def run(client, home, endpoints=None):
    pipeline = dlt.pipeline(
        pipeline_name="lucid_test",
        pipelines_dir=str(home / "pipelines"),
        destination=dlt.destinations.duckdb(str(home / "warehouse.duckdb")),
        dataset_name="lucid",
    )
    pipeline.run(lucid_source(client, endpoints))
    return home / "warehouse.duckdb"


def rows(db, table, columns="uuid, name"):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT {columns} FROM lucid.{table} ORDER BY uuid").fetchall()


def test_the_module_name_does_not_shadow_the_library():
    code = "import lucidframes.dlt as m, dlt; print(m.__name__, hasattr(dlt, 'pipeline'), dlt.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["lucidframes.dlt", "True", "dlt"]


def test_a_pipeline_run_twice_merges_without_duplicates(sandbox, client, dlt_home):
    db = run(client, dlt_home)
    for name, params in [("products", {}), ("batches", {}), ("brands", {}), ("assets", {"asset_type": "videos"})]:
        table = "_".join([name, *params.values()])
        want = sorted((r["uuid"], r["name"]) for r in sandbox.list_rows(name, **params))
        assert rows(db, table) == want, table

    inserted, _ = sandbox.mutate("products", insert=4)
    renamed = sandbox.data["products"][20]
    renamed["name"] = "Renamed in the second run"
    sandbox.reindex()
    run(client, dlt_home, ["products"])

    got = rows(db, "products")
    assert len(got) == len({u for u, _ in got}) == 1203 + 4  # merged by primary key: nothing doubled
    assert got == sorted((r["uuid"], r["name"]) for r in sandbox.list_rows("products"))
    assert dict(got)[renamed["uuid"]] == "Renamed in the second run"
    assert {r["uuid"] for r in inserted} <= {u for u, _ in got}


def test_columns_are_typed_from_the_registry(client, dlt_home):
    db = run(client, dlt_home, ["batches"])
    with duckdb.connect(str(db), read_only=True) as con:
        kinds = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'batches'").fetchall())  # fmt: skip
    assert kinds["updated_on"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["digital_coa_uuids"] == "JSON"
    assert kinds[DRAIN_PASS_COLUMN] == "BIGINT"


def test_resources_have_the_registry_key_and_merge(client):
    source = lucid_source(client, ["products", "assets"])
    assert sorted(source.resources) == ["assets_files", "assets_images", "assets_texts", "assets_videos", "products"]
    products = source.resources["products"]
    assert products.write_disposition == "merge"
    schema = products.compute_table_schema()
    assert schema["columns"]["uuid"]["primary_key"] is True
    assert schema["columns"][DRAIN_PASS_COLUMN]["dedup_sort"] == "desc"


# -- issue 18 defect 10: the destination holds what the API holds, not the first pass of a drain that moved --------


def test_rows_deleted_during_the_drain_never_reach_the_destination(sandbox, client, dlt_home):
    sandbox.mutate_after(3, "products", delete=5)  # after page 1 and two more: the first pass holds them
    db = run(client, dlt_home, ["products"])
    want = sorted((r["uuid"], r["name"]) for r in sandbox.list_rows("products"))
    assert len(want) == 1198
    assert rows(db, "products") == want  # exactly client.load of the same moment
    loaded = client.load("products")
    assert sorted(zip(loaded["uuid"], loaded["name"], strict=True)) == want


def test_rows_inserted_during_the_drain_are_loaded_once(sandbox, client, dlt_home):
    sandbox.mutate_after(3, "products", insert=5, position="start")
    db = run(client, dlt_home, ["products"])
    assert rows(db, "products") == sorted((r["uuid"], r["name"]) for r in sandbox.list_rows("products"))


def test_rows_deleted_between_two_runs_leave_the_destination(sandbox, client, dlt_home):
    run(client, dlt_home, ["products", "brands"])
    _, deleted = sandbox.mutate("products", delete=3, position=40)
    db = run(client, dlt_home, ["products", "brands"])
    got = rows(db, "products")
    assert {r["uuid"] for r in deleted}.isdisjoint(u for u, _ in got)
    assert got == sorted((r["uuid"], r["name"]) for r in sandbox.list_rows("products"))
    assert len(rows(db, "brands")) == 25


def test_a_drain_that_gives_up_loads_nothing(sandbox, client, dlt_home):
    run(client, dlt_home, ["products"])
    before = rows(dlt_home / "warehouse.duckdb", "products")
    sandbox.mutate("products", delete=2)
    sandbox.fault("/api/v1.5/products/?page=9", status=403, times=None)
    with pytest.raises(Exception, match=r"403|Forbidden"):
        run(client, dlt_home, ["products"])
    assert rows(dlt_home / "warehouse.duckdb", "products") == before  # the last complete load, as it was
