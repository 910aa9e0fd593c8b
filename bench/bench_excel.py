"""Benchmark of Excel readers and writers for a submission sheet: ratios in one run (nothing is asserted).

    python bench/bench_excel.py [--rows 100000] [--repeat 3]

A sheet of ``--rows`` rows (a title row, then a header; an order id as text with leading zeros, a LucidID, a
product uuid, a quantity stored as a number, a date) is written once, then read by every candidate; each reader's
time is the best of ``--repeat`` interleaved rounds, as a ratio to the fastest. Reading means "every cell as the
text a person sees", so each candidate includes turning its values into that text, as ``read_table`` must.

Readers: openpyxl in read-only mode (``values_only``), python-calamine (``to_python``), fastexcel (calamine with
Arrow output), and pandas' ``read_excel`` on both engines (what an analyst would write). Writers: xlsxwriter
(``constant_memory``) and openpyxl (``write_only``), both writing every id as text; then ``lf.export`` as shipped.
Each library that is not installed is skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import header, interleaved, row

import lucidframes as lf
from lucidframes.lucidid import ALPHABET


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """The sheet's data: text ids, a number and a date per row."""
    rng = np.random.default_rng(seed)
    letters = np.array(list(ALPHABET))
    lucid = letters[rng.integers(0, len(letters), size=(rows, 20))].view("<U20").ravel()
    uuid = letters[rng.integers(0, len(letters), size=(rows, 22))].view("<U22").ravel()
    start = dt.date(2024, 1, 1)
    return pd.DataFrame(
        {
            "order_id": [f"{n:06d}" for n in rng.integers(0, 999_999, size=rows)],
            "lucid_id": lucid.astype(object),
            "product_uuid": uuid.astype(object),
            "qty": rng.integers(1, 500, size=rows).astype("int64"),
            "shipped": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, size=rows)],
        }
    )


def write_fixture(df: pd.DataFrame, path: Path) -> None:
    """The sheet as Excel users have it: a title row above the header, ids as text, numbers and dates typed."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Submission")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, "Submission sheet, March")
    for j, name in enumerate(df.columns):
        sheet.write_string(1, j, name)
    for i, (order, lucid, uuid, qty, shipped) in enumerate(df.itertuples(index=False), start=2):
        sheet.write_string(i, 0, order)
        sheet.write_string(i, 1, lucid)
        sheet.write_string(i, 2, uuid)
        sheet.write_number(i, 3, qty)
        sheet.write_datetime(i, 4, dt.datetime.combine(shipped, dt.time()), date)
    book.close()


def _text(value: Any) -> Any:
    """A value as the text a person sees (the conversion every candidate pays; read_table uses its own)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return None if value is None else str(value)


def _as_text_frame(rows: list[list[Any]], header_row: int = 2) -> pd.DataFrame:
    head, body = rows[header_row - 1], rows[header_row:]
    return pd.DataFrame([[_text(v) for v in r] for r in body], columns=[str(h) for h in head], dtype=object)


def read_openpyxl(path: Path) -> pd.DataFrame:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return _as_text_frame([list(r) for r in book.worksheets[0].iter_rows(values_only=True)])
    finally:
        book.close()


def read_calamine(path: Path) -> pd.DataFrame:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return _as_text_frame(book.get_sheet_by_index(0).to_python(skip_empty_area=False))


def read_fastexcel(path: Path) -> pd.DataFrame:
    import fastexcel

    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=1, dtypes="string")
    return sheet.to_pandas()


def read_pandas(engine: str) -> Callable[[Path], pd.DataFrame]:
    def read(path: Path) -> pd.DataFrame:
        return pd.read_excel(path, sheet_name=0, header=1, dtype=str, engine=engine)

    return read


def write_xlsxwriter(df: pd.DataFrame, path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("data")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for j, name in enumerate(df.columns):
        sheet.write_string(0, j, name)
    for i, (order, lucid, uuid, qty, shipped) in enumerate(df.itertuples(index=False), start=1):
        sheet.write_string(i, 0, order)
        sheet.write_string(i, 1, lucid)
        sheet.write_string(i, 2, uuid)
        sheet.write_number(i, 3, qty)
        sheet.write_datetime(i, 4, dt.datetime.combine(shipped, dt.time()), date)
    book.close()


def write_openpyxl(df: pd.DataFrame, path: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(list(df.columns))
    for order, lucid, uuid, qty, shipped in df.itertuples(index=False):
        cells = []
        for text in (order, lucid, uuid):
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        when = WriteOnlyCell(sheet, value=shipped)
        when.number_format = "yyyy-mm-dd"
        sheet.append([*cells, int(qty), when])
    book.save(path)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _table(title: str, best: dict[str, tuple[float, float, Any]]) -> None:
    fastest = min(wall for wall, _, _ in best.values())
    print(title)
    for label, (wall, _, _) in best.items():
        row(label, f"{wall:8.3f} s", f"{wall / fastest:6.2f}x the fastest")
    print()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    header("Excel readers and writers", {"rows": args.rows, "repeat": args.repeat})
    df = make_frame(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "sheet.xlsx"
        write_fixture(df, sheet)
        print(f"fixture: {sheet.stat().st_size / 2**20:.1f} MiB, {args.rows:,} rows x {df.shape[1]} columns\n")
        readers: dict[str, Callable[[], Any]] = {}
        for label, module, fn in (
            ("python-calamine, to_python", "python_calamine", read_calamine),
            ("fastexcel (calamine, Arrow), dtypes=string", "fastexcel", read_fastexcel),
            ("openpyxl read_only, values_only", "openpyxl", read_openpyxl),
            ("pandas.read_excel engine=calamine", "python_calamine", read_pandas("calamine")),
            ("pandas.read_excel engine=openpyxl", "openpyxl", read_pandas("openpyxl")),
            ("lf.read_table (as shipped)", "python_calamine", lambda path: lf.read_table(path, header_row=2)),
        ):
            if _installed(module):
                readers[label] = lambda fn=fn: fn(sheet)
            else:
                print(f"  skipped {label}: {module} is not installed")
        best = interleaved(args.repeat, readers)
        _table(f"read {args.rows:,} rows (best of {args.repeat}, interleaved):", best)
        shipped = best.get("lf.read_table (as shipped)")
        if shipped is not None:
            back = shipped[2]
            assert back["order_id"].tolist() == df["order_id"].tolist(), "leading zeros lost"
            assert back["qty"].tolist() == [str(q) for q in df["qty"]], "numbers not as shown"
            assert back["shipped"].tolist() == [d.isoformat() for d in df["shipped"]], "dates not ISO"
        writers: dict[str, Callable[[], Any]] = {}
        for label, module, wfn in (
            ("xlsxwriter, constant_memory", "xlsxwriter", write_xlsxwriter),
            ("openpyxl, write_only", "openpyxl", write_openpyxl),
            ("lf.export (as shipped)", "xlsxwriter", lambda frame, path: lf.export(frame, path)),
        ):
            if _installed(module):
                target = Path(tmp) / f"out-{len(writers)}.xlsx"
                writers[label] = lambda wfn=wfn, target=target: wfn(df, target)
            else:
                print(f"  skipped {label}: {module} is not installed")
        _table(f"write {args.rows:,} rows (best of {args.repeat}, interleaved):", interleaved(args.repeat, writers))


if __name__ == "__main__":
    main()
