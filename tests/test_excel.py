"""Excel in and out: ``read_table`` reads a sheet as the text Excel shows (with Excel's row numbers in failures),
``lf.export`` and ``fetch -o`` write ``.xlsx`` with text kept as text, and every file edge ends in a typed error."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest

import lucidframes as lf
from lucidframes.cli import main

openpyxl = pytest.importorskip("openpyxl")
xlsxwriter = pytest.importorskip("xlsxwriter")
pytest.importorskip("fastexcel")

DATA = Path(__file__).resolve().parent / "data"
GOOD = "23456789ABCDEFGHJKLM"
GOOD2 = "oGzzNWTkzAPNrTBzZzkb"
BAD = "0OIl-not-an-id"


def submission(path: Path) -> Path:
    """A workbook as analysts keep one: a title row, the header on row 2, ids as text with leading zeros, numbers
    stored as numbers, a date, a formula with the value Excel saved, and a second sheet."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Submission")
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_string(0, 0, "Submission for March (do not edit the header)")
    for col, name in enumerate(["order_id", "lucid_id", "qty", "shipped", "total", "note"]):
        sheet.write_string(1, col, name)
    rows = [
        ("007", GOOD, 1234, dt.datetime(2024, 12, 1), "=C3*2", 2468),
        ("000008", BAD, 3.5, dt.datetime(2024, 12, 2, 10, 30), "=C4*2", 7),
        (9, f" {GOOD2} ", 1234567890123, dt.datetime(2024, 12, 3), "=C5*2", 2469135780246),
    ]
    for r, (order, lucid, qty, when, formula, cached) in enumerate(rows, start=2):
        if isinstance(order, str):
            sheet.write_string(r, 0, order)
        else:
            sheet.write_number(r, 0, order)  # an order id Excel turned into a number
        sheet.write_string(r, 1, lucid)
        sheet.write_number(r, 2, qty)
        sheet.write_datetime(r, 3, when, date)
        sheet.write_formula(r, 4, formula, None, cached)  # the value Excel saved with the file
    sheet.write_string(3, 5, '=HYPERLINK("http://x")')  # text that looks like a formula
    notes = book.add_worksheet("Notes")
    notes.write_string(0, 0, "lucid_id")
    notes.write_string(1, 0, GOOD)
    book.close()
    return path


def test_a_sheet_reads_as_the_text_excel_shows(tmp_path):
    path = submission(tmp_path / "march.xlsx")
    df = lf.read_table(path, header_row=2)
    assert list(df.columns) == ["order_id", "lucid_id", "qty", "shipped", "total", "note"]
    assert df["order_id"].tolist() == ["007", "000008", "9"]  # leading zeros kept; a number without ".0"
    assert df["lucid_id"].tolist() == [GOOD, BAD, f" {GOOD2} "]  # spaces kept: the validator reports them
    assert df["qty"].tolist() == ["1234", "3.5", "1234567890123"]
    assert df["shipped"].tolist() == ["2024-12-01", "2024-12-02T10:30:00", "2024-12-03"]  # ISO, not dd/mm/yyyy
    assert df["total"].tolist() == ["2468", "7", "2469135780246"]  # formulas: the cached values
    assert df["note"].tolist()[1] == '=HYPERLINK("http://x")' and df["note"].isna().tolist() == [True, False, True]
    assert df.attrs["source"] == {
        "path": str(path), "format": "xlsx", "sheet": "Submission", "header_row": 2, "first_row_line": 3,
    }  # fmt: skip
    assert lf.sheet_names(path) == ["Submission", "Notes"]
    assert lf.read_table(path, sheet="Notes")["lucid_id"].tolist() == [GOOD]
    assert lf.read_table(path, sheet=1).attrs["source"]["sheet"] == "Notes"
    assert lf.read_table(path).columns[0] == "Submission for March (do not edit the header)"  # header_row=1


@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb"])
def test_failures_name_the_excel_row_on_every_engine(tmp_path, engine):
    if engine != "pandas":
        pytest.importorskip(engine)
    path = submission(tmp_path / "march.xlsx")
    report = lf.validate_file(path, "lucid_id", header_row=2, engine=engine)
    expected = lf.validate_lucid_ids(lf.read_table(path, header_row=2), "lucid_id")
    assert report.failures["line"].tolist() == [4, 5]  # the rows Excel shows: BAD on row 4, the spaces on row 5
    assert report.failures["reason"].tolist() == ["wrong_length", "whitespace"]
    for name in ("row", "line", "column", "value", "reason", "detail", "hint"):
        assert report.failures[name].tolist() == expected.failures[name].tolist(), name
    assert report.summary.equals(expected.summary)
    assert report.sheet == "Submission" and report.source == str(path)


def test_blank_rows_above_and_inside_the_table_keep_excel_row_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B4"], sheet["B5"], sheet["B7"] = "lucid_id", GOOD, BAD  # rows 1-3 blank, row 6 blank
    book.save(tmp_path / "gaps.xlsx")
    df = lf.read_table(tmp_path / "gaps.xlsx")  # header_row=1 is blank: the table starts at its first value
    assert df["lucid_id"].tolist()[0] == GOOD and pd.isna(df["lucid_id"].iloc[1])
    assert df.attrs["source"]["header_row"] == 4 and df.attrs["source"]["first_row_line"] == 5
    report = lf.validate_lucid_ids(df, "lucid_id")
    assert report.failures[["line", "reason"]].values.tolist() == [[6, "missing"], [7, "wrong_length"]]


def test_a_formula_without_a_cached_value_reads_as_missing(tmp_path):
    book = openpyxl.Workbook()  # openpyxl computes no formula, so it saves none of their values
    sheet = book.active
    sheet.append(["lucid_id", "twice"])
    sheet.append([GOOD, "=1+1"])
    book.save(tmp_path / "uncalculated.xlsx")
    df = lf.read_table(tmp_path / "uncalculated.xlsx")
    assert df["lucid_id"].tolist() == [GOOD] and pd.isna(df["twice"].iloc[0])


@pytest.mark.parametrize("name", ["ids.xls", "ids.ods"])
def test_xls_and_ods_are_read_like_xlsx(name):
    df = lf.read_table(DATA / name, header_row=2)
    assert df.to_dict("list") == {
        "order_id": ["007", "008"], "lucid_id": [GOOD, BAD], "qty": ["1234", "3.5"],
        "shipped": ["2024-12-01", "2024-12-02"],
    }  # fmt: skip
    assert df.attrs["source"]["first_row_line"] == 3


def test_validate_a_sheet_exit_codes(tmp_path, capsys):
    path = submission(tmp_path / "march.xlsx")
    assert main(["validate", str(path), "--column", "lucid_id", "--sheet", "Submission", "--header-row", "2"]) == 1
    err = capsys.readouterr().err
    assert "line 4 (row 1) lucid_id: wrong_length" in err and "line 5 (row 2) lucid_id: whitespace" in err
    assert "the row number Excel shows in sheet 'Submission'" in err
    assert main(["validate", str(path), "--column", "lucid_id", "--sheet", "Notes"]) == 0
    assert "every lucid_id passed" in capsys.readouterr().err
    assert main(["validate", str(path), "--column", "lucid_id", "--sheet", "March"]) == 2
    assert "no sheet 'March' (it has: 'Submission', 'Notes')" in capsys.readouterr().err
    assert main(["validate", str(path), "--column", "lucid_id", "--header-row", "0"]) == 2


def test_lookup_reads_ids_from_a_sheet(sandbox, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    uuids = [r["uuid"] for r in sandbox.list_rows("products")[:3]]
    book = xlsxwriter.Workbook(str(tmp_path / "ids.xlsx"))
    for name in ("Cover", "Products"):
        book.add_worksheet(name)
    sheet = book.get_worksheet_by_name("Products")
    sheet.write_string(0, 0, "Products to check")
    sheet.write_string(1, 0, "product_uuid")
    for r, uuid in enumerate(uuids, start=2):
        sheet.write_string(r, 0, uuid)
    book.close()
    out = tmp_path / "found.xlsx"
    argv = ["lookup", "products", str(tmp_path / "ids.xlsx"), "-c", "product_uuid", "--sheet", "Products"]
    assert main([*argv, "--header-row", "2", "-o", str(out)]) == 0
    found = lf.read_table(out)
    assert found["_id"].tolist() == uuids and found["_status"].tolist() == ["ok"] * 3


# -- writing ------------------------------------------------------------------------------------------------------

TRICKY = [
    "=HYPERLINK(\"http://evil\",\"click\")", "=cmd|' /C calc'!A0", "+1+2", "-3", "@SUM(A1)", "a\x00b", "l1\r\nl2",
    "\x1b[31mred\x1b[0m", "x" * 10_000, "_x0041_", "  spaced  ", "ünïcödé", "007",
]  # fmt: skip


def test_an_export_reads_back_equal_and_text_stays_text(tmp_path):
    df = pd.DataFrame(
        {
            "text": TRICKY,
            "n": pd.array([*range(len(TRICKY) - 1), None], dtype="Int64"),
            "big": [2**60 + k for k in range(len(TRICKY))],
            "x": [0.5 + k for k in range(len(TRICKY))],
            "when": pd.to_datetime(["2025-03-01T20:00:00Z"] * len(TRICKY), utc=True),
            "flag": [k % 2 == 0 for k in range(len(TRICKY))],
        }
    )
    path = lf.export(df, tmp_path / "out.xlsx")
    assert path == tmp_path / "out.xlsx" and [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]
    back = lf.read_table(path)
    assert back["text"].tolist() == TRICKY  # exactly, formulas as text
    assert back["n"].tolist()[:3] == ["0", "1", "2"] and pd.isna(back["n"].iloc[-1])
    assert back["big"].tolist() == [str(2**60 + k) for k in range(len(TRICKY))]  # text: no digit lost
    assert back["when"].tolist()[0] == "2025-03-01T20:00:00" and back["flag"].tolist()[:2] == ["TRUE", "FALSE"]
    book = openpyxl.load_workbook(path)
    sheet = book["out"]  # one sheet, named after the file
    assert book.sheetnames == ["out"] and sheet.freeze_panes == "A2" and sheet["A1"].font.b
    assert all(sheet.cell(r, 1).data_type == "s" for r in range(2, len(TRICKY) + 2))  # never "f", a formula
    assert sheet["B2"].data_type == "n" and sheet["E2"].is_date and sheet["F2"].data_type == "b"
    assert sheet.column_dimensions["A"].width >= 60 and 8 <= sheet.column_dimensions["B"].width < 12


def test_fetch_writes_a_workbook(sandbox, monkeypatch, tmp_path):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    out = tmp_path / "products.xlsx"
    assert main(["fetch", "products", "--pages", "1-2", "-o", str(out), "--no-progress"]) == 0
    back = lf.read_table(out)
    assert len(back) == 200 and back["uuid"].tolist() == [r["uuid"] for r in sandbox.list_rows("products")[:200]]
    assert openpyxl.load_workbook(out, read_only=True).sheetnames == ["products"]


# -- the edges of a file surface ----------------------------------------------------------------------------------


def test_what_is_not_a_readable_workbook_is_a_read_error(tmp_path):
    (tmp_path / "folder.xlsx").mkdir()
    with pytest.raises(lf.ReadError, match="is a directory"):
        lf.read_table(tmp_path / "folder.xlsx")
    good = submission(tmp_path / "good.xlsx").read_bytes()
    cases = {
        "garbage.xlsx": (b"PK\x03\x04" + b"\x00garbage" * 50, "not a readable Excel workbook"),
        "truncated.xlsx": (good[: len(good) // 2], "not a readable Excel workbook"),
        "empty.xlsx": (b"", "the file is empty"),
        # an encrypted workbook is an OLE compound file, whatever its name says
        "locked.xlsx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "password-protected"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(lf.ReadError, match=message):
            lf.read_table(tmp_path / name)
        assert main(["validate", str(tmp_path / name), "-c", "lucid_id"]) == 2
    with pytest.raises(lf.ConfigError, match="sheet= names a sheet of an Excel workbook"):
        lf.read_table(DATA / "README.md", sheet="x")


def test_a_missing_extra_is_one_line_naming_it(tmp_path, monkeypatch):
    path = submission(tmp_path / "march.xlsx")
    monkeypatch.setitem(sys.modules, "fastexcel", None)
    with pytest.raises(lf.ConfigError, match=r"^Excel input needs fastexcel: pip install 'lucidframes\[excel\]'.$"):
        lf.read_table(path)
    monkeypatch.setitem(sys.modules, "xlsxwriter", None)
    with pytest.raises(lf.ConfigError, match=r"^Excel output needs xlsxwriter: pip install 'lucidframes\[excel\]'.$"):
        lf.export(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx")


def test_what_excel_cannot_hold_is_refused_naming_the_cell(tmp_path, monkeypatch):
    with pytest.raises(lf.ConfigError, match="at most 32,767 characters a cell; row 3, column 't' has 40,000"):
        lf.export(pd.DataFrame({"t": ["a", "b" * 40_000]}), tmp_path / "long.xlsx")
    with pytest.raises(lf.ConfigError, match=r"not valid Unicode \(a lone surrogate\), as in row 2, column 't'"):
        lf.export(pd.DataFrame({"a": [1], "t": pd.Series(["\ud800"], dtype=object)}), tmp_path / "surrogate.xlsx")
    monkeypatch.setattr("lucidframes.io.excel_sink.MAX_ROWS", 3)  # a sheet of 1,048,576 rows, in small
    with pytest.raises(lf.ConfigError, match="Excel holds at most 2 rows under a header"):
        lf.export(pd.DataFrame({"t": ["a", "b", "c"]}), tmp_path / "many.xlsx")
    assert list(tmp_path.iterdir()) == []  # no temp file, no half workbook


def test_a_snapshot_in_xlsx_and_its_changes(client, sandbox, tmp_path):
    first = lf.snapshot(client, tmp_path, ["brands"], format="xlsx", progress=False)
    assert (tmp_path / "brands.xlsx").exists() and first["endpoints"]["brands"]["rows"] == len(sandbox.data["brands"])
    again = lf.snapshot(client, tmp_path, ["brands"], format="xlsx", progress=False)  # read back for the changes
    changes = again["endpoints"]["brands"]["changes"]
    assert (changes["added"], changes["removed"], changes["changed"]) == (0, 0, 0)
