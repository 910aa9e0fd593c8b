"""lf.export: atomic files (a failed write leaves the previous file), DuckDB tables, and the writers' errors."""

from __future__ import annotations

import json
import os
import stat
import sys

import pandas as pd
import pytest
from helpers import expected

import lucidframes as lf
from lucidframes.io.atomic import atomic_write
from lucidframes.io.write import TableWriter


@pytest.fixture
def batches(client):
    return client.load("batches")


def test_csv_parquet_jsonl_round_trip(batches, tmp_path, sandbox):
    pytest.importorskip("pyarrow")
    lf.export(batches, tmp_path / "b.csv")
    lf.export(batches, tmp_path / "b.parquet")
    lf.export(batches, tmp_path / "b.jsonl")
    text = pd.read_csv(tmp_path / "b.csv", dtype=str, keep_default_na=False)
    assert text["uuid"].tolist() == batches["uuid"].tolist()
    assert json.loads(text["digital_coa_uuids"][0]) == batches["digital_coa_uuids"][0]
    assert text["updated_on"][0].endswith("+00:00")
    back = pd.read_parquet(tmp_path / "b.parquet")
    assert back["updated_on"].equals(batches["updated_on"]) and back["uuid"].equals(batches["uuid"])
    lines = [json.loads(x) for x in (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["uuid"] for x in lines] == expected(sandbox, "batches")["uuid"].tolist()
    assert not list(tmp_path.glob(".*"))  # no temp file left behind


def test_files_get_the_usual_permissions(batches, tmp_path):
    lf.export(batches, tmp_path / "b.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "b.csv").stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_leaves_the_previous_file_and_no_temp(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half of the new")
        raise RuntimeError("killed")
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_writer_discarded_leaves_nothing(tmp_path, batches):
    writer = TableWriter(tmp_path / "b.jsonl", "jsonl")
    writer.write(batches.head(5))
    assert writer.temp.exists() and not (tmp_path / "b.jsonl").exists()
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_later_batch_with_new_columns_is_refused_not_dropped(tmp_path):
    writer = TableWriter(tmp_path / "x.csv", "csv")
    writer.write(pd.DataFrame({"a": ["1"]}))
    with pytest.raises(lf.DecodeError, match="jsonl"):
        writer.write(pd.DataFrame({"a": ["2"], "b": ["3"]}))
    writer.discard()


def test_duckdb_table_replaced_and_other_tables_kept(batches, client, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    db = tmp_path / "out.duckdb"
    brands = client.load("brands")
    lf.export(brands, db)  # the table is named after the endpoint
    lf.export(batches, db, table="batches")
    lf.export(batches.head(10), db, table="batches")  # CREATE OR REPLACE
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM brands").fetchone() == (25,)
        assert con.execute("SELECT count(*) FROM batches").fetchone() == (10,)
        kinds = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'batches'").fetchall())  # fmt: skip
    assert kinds["updated_on"] == "TIMESTAMP WITH TIME ZONE" and kinds["digital_coa_uuids"] == "VARCHAR[]"


def test_duckdb_needs_the_extra(batches, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(lf.ConfigError, match=r"pip install 'lucidframes\[duckdb\]'"):
        lf.export(batches, tmp_path / "out.duckdb", table="batches")
    assert not list(tmp_path.iterdir())


def test_errors_say_what_to_do(batches, tmp_path):
    with pytest.raises(lf.ConfigError, match="does not exist"):
        lf.export(batches, tmp_path / "missing" / "b.csv")
    with pytest.raises(lf.ConfigError, match="Cannot tell the format"):
        lf.export(batches, tmp_path / "b.numbers")  # not .xlsx: Excel is written since issue 21
    with pytest.raises(lf.ConfigError, match="stdout"):
        lf.export(batches, "-", "parquet")
    with pytest.raises(lf.ConfigError, match="table="):
        lf.export(batches, tmp_path / "b.csv", table="x")
    with pytest.raises(lf.ConfigError, match="Name the DuckDB table"):
        pytest.importorskip("duckdb")
        lf.export(pd.DataFrame({"a": [1]}), tmp_path / "x.duckdb")
