"""CSV that reads back: text from the server with CR, LF, NUL, quotes and separators, and (on request) no formulas.

Every writer of CSV (``lf.export``, ``fetch -o``, ``lookup -o``, ``snapshot --format csv``) goes through one sink;
each test writes through the public API or the CLI from the sandbox and reads the file back with ``pandas``, the
``csv`` module and ``lf.read_table``.
"""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

import lucidframes as lf
from lucidframes.cli import main

# The text a hostile or careless catalogue could hold (issue 18: a product name with a bare CR forged a row).
HOSTILE = [
    "Gummies 10 mg\rFAKE00000000000000000000",
    "two\r\nlines",
    "line\nfeed",
    "nul\x00byte",
    'quoted "name", with a comma',
    "semi;colon|pipe\ttab",
    "\r",
    "=1+2",
    "trailing CR\r",
    "x" * 10_000,
    "café ✓",
]


@pytest.fixture
def hostile(sandbox):
    """The first products of the sandbox renamed with the hostile texts; returns the expected names by uuid."""
    names = {}
    for row, text in zip(sandbox.data["products"], HOSTILE, strict=False):
        row["name"] = text
        names[row["uuid"]] = text
    sandbox.reindex()
    return names


def read_back(path) -> dict[str, list[dict[str, str]]]:
    """The file read by three readers, as lists of rows (dicts of text)."""
    raw = path.read_bytes().decode("utf-8")
    by_pandas = pd.read_csv(path, dtype=str, keep_default_na=False).to_dict(orient="records")
    by_csv = list(csv.DictReader(io.StringIO(raw, newline="")))
    table = lf.read_table(path)
    by_lf = table.fillna("").to_dict(orient="records")
    return {"pandas": by_pandas, "csv": by_csv, "read_table": by_lf}


def assert_names_exact(path, names, rows: int) -> None:
    for reader, got in read_back(path).items():
        assert len(got) == rows, reader
        found = {r["uuid"]: r["name"] for r in got}
        assert {u: found[u] for u in names} == names, reader
        assert all(len(r["uuid"]) == 22 for r in got), reader  # no forged row made of the tail of a name


def test_export_round_trips_hostile_text(client, hostile, tmp_path):
    df = client.load("products")
    lf.export(df, tmp_path / "p.csv")
    assert_names_exact(tmp_path / "p.csv", hostile, len(df))


def test_fetch_to_a_file_and_to_stdout_round_trip(env, hostile, tmp_path, capfdbinary):
    out = tmp_path / "p.csv"
    assert main(["fetch", "products", "-o", str(out), "-q"]) == 0
    assert_names_exact(out, hostile, 1203)
    capfdbinary.readouterr()
    assert main(["fetch", "products", "-o", "-", "-q"]) == 0
    (tmp_path / "stdout.csv").write_bytes(capfdbinary.readouterr().out)
    assert_names_exact(tmp_path / "stdout.csv", hostile, 1203)


def test_snapshot_csv_rows_match_the_manifest(client, hostile, tmp_path):
    manifest = lf.snapshot(client, tmp_path, ["products"], "csv")
    entry = manifest["endpoints"]["products"]
    assert entry["rows"] == 1203
    assert_names_exact(tmp_path / entry["file"], hostile, entry["rows"])


def test_column_names_from_the_server_are_quoted_too(tmp_path):
    df = pd.DataFrame({"a\rb": ["1"], "c\nd": ["2"], 'e"f': ["3"]})
    lf.export(df, tmp_path / "h.csv")
    back = pd.read_csv(tmp_path / "h.csv", dtype=str)
    assert back.columns.tolist() == ["a\rb", "c\nd", 'e"f'] and back.iloc[0].tolist() == ["1", "2", "3"]


def test_the_validate_reports_keep_hostile_cells_on_their_row(tmp_path, capsys):
    sheet = tmp_path / "ids.csv"
    sheet.write_bytes(b'lucid_id\n"bad\rFORGED"\n"also\nbad"\n2345678923456789ABCD\n')
    report = tmp_path / "report.csv"
    assert main(["validate", str(sheet), "--column", "lucid_id", "--report", str(report), "-q"]) == 1
    rows = list(csv.DictReader(io.StringIO(report.read_bytes().decode("utf-8"), newline="")))
    assert [r["value"] for r in rows] == ["bad\rFORGED", "also\nbad"]
    fixed = tmp_path / "fixed.csv"
    main(["validate", str(sheet), "--column", "lucid_id", "--normalize", "--output", str(fixed), "-q"])
    assert len(pd.read_csv(fixed, dtype=str)) == 3


@pytest.fixture
def env(sandbox, monkeypatch):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return sandbox


def test_json_lines_and_parquet_keep_the_same_text(client, hostile, tmp_path):
    df = client.load("products")
    lf.export(df, tmp_path / "p.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text(encoding="utf-8").split("\n") if x]
    assert len(lines) == len(df)
    assert {r["uuid"]: r["name"] for r in lines if r["uuid"] in hostile} == hostile
