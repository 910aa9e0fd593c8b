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


# -- excel_safe: a CSV meant for a spreadsheet carries no live formula (issue 18 defect 2) ----------------------

FORMULAS = ["=1+2", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")']


def cells(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def test_excel_safe_neutralises_text_cells_only(tmp_path):
    df = pd.DataFrame(
        {
            "name": [*FORMULAS, "plain", "-12.5", "+3", "a=b", None],
            "amount": [-5, 3, -1, 0, 2, 7, 9, -100, 4, 8, 1, 6],
            "ratio": [-0.5, 1.5, None, 2.0, 0.0, -3.25, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "=header": ["x"] * 12,
        }
    )
    lf.export(df, tmp_path / "safe.csv", excel_safe=True)
    got = cells(tmp_path / "safe.csv")
    assert [r["name"] for r in got] == [*("'" + f for f in FORMULAS), "plain", "-12.5", "+3", "a=b", ""]
    assert [r["amount"] for r in got] == [str(v) for v in df["amount"]]  # numbers stay numbers
    assert got[0]["ratio"] == "-0.5" and got[5]["ratio"] == "-3.25"
    assert "'=header" in got[0]  # a column name is a cell of the header row
    lf.export(df, tmp_path / "exact.csv")  # without the option: exact, as a pipeline reads it back
    assert [r["name"] for r in cells(tmp_path / "exact.csv")][: len(FORMULAS)] == FORMULAS


def test_excel_safe_is_for_csv_only(tmp_path):
    df = pd.DataFrame({"name": ["=1"]})
    for name in ("x.parquet", "x.jsonl"):
        with pytest.raises(lf.ConfigError, match="excel_safe"):
            lf.export(df, tmp_path / name, excel_safe=True)
    for odd in ("yes", 1, None, [True]):
        with pytest.raises(lf.ConfigError, match="excel_safe= takes True or False"):
            lf.export(df, tmp_path / "x.csv", excel_safe=odd)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def formulas(sandbox):
    names = {}
    for row, text in zip(sandbox.data["products"], FORMULAS, strict=False):
        row["name"] = text
        names[row["uuid"]] = "'" + text
    sandbox.reindex()
    return names


def test_fetch_lookup_and_snapshot_take_excel_safe(env, formulas, tmp_path, capfdbinary):
    out = tmp_path / "p.csv"
    assert main(["fetch", "products", "-o", str(out), "--excel-safe", "-q"]) == 0
    found = {r["uuid"]: r["name"] for r in cells(out)}
    assert {u: found[u] for u in formulas} == formulas
    capfdbinary.readouterr()
    assert main(["fetch", "products", "-o", "-", "--excel-safe", "-q"]) == 0
    (tmp_path / "stdout.csv").write_bytes(capfdbinary.readouterr().out)
    assert {r["uuid"]: r["name"] for r in cells(tmp_path / "stdout.csv") if r["uuid"] in formulas} == formulas

    ids = tmp_path / "ids.csv"
    ids.write_text("uuid\n" + "\n".join(formulas) + "\n", encoding="utf-8")
    looked = tmp_path / "looked.csv"
    assert main(["lookup", "products", str(ids), "--column", "uuid", "-o", str(looked), "--excel-safe", "-q"]) == 0
    assert {r["_id"]: r["name"] for r in cells(looked)} == formulas

    snap = tmp_path / "snap"
    assert main(["snapshot", "-o", str(snap), "--endpoint", "products", "--format", "csv", "--excel-safe", "-q"]) == 0
    found = {r["uuid"]: r["name"] for r in cells(snap / "products.csv")}
    assert {u: found[u] for u in formulas} == formulas


def test_excel_safe_with_another_format_exits_2_before_any_request(env, tmp_path, capsys):
    env.clear_log()
    assert main(["fetch", "products", "-o", str(tmp_path / "p.parquet"), "--excel-safe"]) == 2
    assert main(["snapshot", "-o", str(tmp_path / "s"), "--endpoint", "brands", "--excel-safe"]) == 2
    assert "--excel-safe" in capsys.readouterr().err
    assert [e for e in env.log if e.path.startswith("/api/")] == []
    assert not (tmp_path / "p.parquet").exists()
