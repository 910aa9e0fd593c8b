"""Read Excel workbooks (``.xlsx``, ``.xlsm``; ``.xls``, ``.xlsb``, ``.ods`` too), every cell as the text Excel shows.

The reader is fastexcel (calamine, in Rust, with Arrow output): ``bench/bench_excel.py`` measured it against
python-calamine, openpyxl and pandas' ``read_excel`` on a 100,000-row sheet (figures in ``bench/README.md``). Its
type for each column is decided from every row (``schema_sample_rows=None``), and each cell is then written as
text the way Excel shows it in the General format, never guessed from the text:

- text stays text exactly (``007`` stays ``007``, ``=cmd|...`` stays that text); an empty cell is missing;
- a number reads as Excel shows it: ``1234`` (not ``1234.0``), ``3.5``, at most 15 significant digits (Excel's
  precision), ``1.23456789012346E+19`` beyond; a number format (``00000``) is not applied: ``12`` reads ``12``;
- dates read as ISO text: ``2024-12-01``, ``2024-12-01T10:30:00`` when there is a time of day, ``10:30:00`` for a
  time alone; TRUE and FALSE as Excel writes them;
- a formula reads as its cached value, the value Excel saved with the file; a workbook written by a program that
  does not compute formulas has none, and such a cell reads as missing;
- a column mixing numbers with TRUE/FALSE reads them as 1 and 0, and one mixing text with dates reads those dates
  as ``2024-12-01 00:00:00`` (one type per column, chosen from every row; ids are text either way).

``header_row`` is the 1-based Excel row of the header (a title row above it is common); blank rows above the table
are skipped. ``attrs["source"]`` records the file, the sheet and ``first_row_line``, the Excel row of the first data
row, so failures name the row the user sees. A password-protected workbook, or a damaged one, is a ReadError.
"""

from __future__ import annotations

import importlib
import logging
import re
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lucidframes.errors import ConfigError, ReadError

__all__ = ["EXCEL_READER", "read_excel_file", "sheet_names"]

EXCEL_READER = "fastexcel"  # the module the [excel] extra provides for reading
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: an old .xls, or an encrypted workbook
_ZIP_MAGIC = b"PK\x03\x04"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_EPOCH_DAYS = ("1899-12-30", "1899-12-31")  # a time alone is a date-time on Excel's day zero
_EXACT = 2**53  # integers above this are not exact as doubles (Excel's numbers)
_CELL_REF = re.compile(r"[A-Z]+([0-9]+)")


def _reader() -> ModuleType:
    """fastexcel, or a one-line ConfigError naming the extra."""
    try:
        module = importlib.import_module(EXCEL_READER)
    except ImportError:
        raise ConfigError(f"Excel input needs {EXCEL_READER}: pip install 'lucidframes[excel]'.") from None
    # fastexcel logs one line per column whose type it cannot settle ("falling back to string"): that is our rule.
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
    return module


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _open(file: Path) -> Any:
    """The workbook, or a ReadError saying what the file is instead."""
    fastexcel = _reader()
    try:
        with open(file, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise ReadError(f"{file}: cannot read it ({exc.strerror or exc})") from exc
    if magic == _OLE_MAGIC and file.suffix.lower() != ".xls":
        raise ReadError(
            f"{file}: a password-protected (encrypted) workbook, or an old .xls saved under another name; "
            "save it without a password as .xlsx and try again"
        )
    if not magic:
        raise ReadError(f"{file}: the file is empty")
    try:
        return fastexcel.read_excel(str(file))
    except Exception as exc:  # fastexcel raises its own errors (CalamineError, ...) for damaged files
        raise ReadError(f"{file}: not a readable Excel workbook ({_first_line(exc)})") from exc


def sheet_names(path: str | Path) -> list[str]:
    """The sheets of a workbook, in the workbook's order (``read_table(path, sheet=name)`` reads one).

    Args:
        path: an Excel workbook.

    Returns:
        The sheet names. Raises ReadError for a file that is not a readable workbook.
    """
    return list(_open(Path(path)).sheet_names)


def _pick_sheet(book: Any, sheet: str | int | None, file: Path) -> tuple[str, int]:
    """The sheet's name and position: the first when None, else by name or 0-based position."""
    names = list(book.sheet_names)
    if not names:
        raise ReadError(f"{file}: the workbook has no sheet")
    if sheet is None:
        return names[0], 0
    if isinstance(sheet, bool) or not isinstance(sheet, str | int):
        raise ConfigError(f"sheet= takes a sheet's name or its 0-based position, not {type(sheet).__name__}")
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise ReadError(
                f"{file}: no sheet at position {sheet} (it has {len(names)}: {', '.join(map(repr, names))})"
            )
        return names[sheet], sheet
    if sheet not in names:
        raise ReadError(f"{file}: no sheet {sheet!r} (it has: {', '.join(map(repr, names))})")
    return sheet, names.index(sheet)


def _first_used_row(file: Path, position: int) -> int | None:
    """The 1-based row of the first cell holding a value in an .xlsx/.xlsm sheet (None: not known).

    The reader skips blank rows above a table; this says how many there were, so that row numbers stay Excel's.
    Only the start of the sheet's XML is read.
    """
    try:
        with zipfile.ZipFile(file) as z:
            sheets = ElementTree.fromstring(z.read("xl/workbook.xml")).find(f"{_MAIN}sheets")
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            if sheets is None or position >= len(sheets):
                return None
            rid = sheets[position].get(f"{_REL}id")
            target = next((r.get("Target", "") for r in rels if r.get("Id") == rid), "")
            name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            return _scan_rows(z, name)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return None


def _scan_rows(z: zipfile.ZipFile, name: str) -> int | None:
    """The row number of the first cell with a value (``<v>`` or inline text) in a sheet's XML."""
    row = 0
    with z.open(name) as fh:
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            if event == "start" and el.tag == f"{_MAIN}row":
                row = int(el.get("r") or row + 1)
            elif event == "end" and el.tag == f"{_MAIN}c":
                if el.find(f"{_MAIN}v") is not None or el.find(f"{_MAIN}is") is not None:
                    found = _CELL_REF.fullmatch(el.get("r") or "")
                    return int(found.group(1)) if found else row
                el.clear()
            elif event == "end" and el.tag == f"{_MAIN}row":
                el.clear()
    return None


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _numbers(column: pa.Array) -> pa.Array:
    """Doubles as Excel shows them in the General format: integers without ``.0``, 15 significant digits."""
    values = column.to_numpy(zero_copy_only=False).astype(np.float64)
    missing = np.isnan(values)
    whole = ~missing & np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < _EXACT)
    text = np.char.mod("%.15G", np.where(missing, 0.0, values)).astype(object)
    text[whole] = values[whole].astype(np.int64).astype(str)
    text[missing] = None
    return pa.array(text, type=pa.string())


def _datetimes(column: pa.Array) -> pa.Array:
    """ISO text: a date alone at midnight, a time alone on Excel's day zero, else date and time."""
    stamps = pc.cast(column, pa.timestamp("ms"))
    seconds = pc.cast(stamps, pa.timestamp("s"), safe=False)  # whole seconds: %S would add the fraction
    day = pc.strftime(seconds, format="%Y-%m-%d")
    clock = pc.strftime(seconds, format="%H:%M:%S")
    millis = pc.cast(pc.millisecond(stamps), pa.int64())
    clock = pc.if_else(
        pc.equal(millis, 0),
        clock,
        pc.binary_join_element_wise(clock, pc.utf8_lpad(pc.cast(millis, pa.string()), 3, "0"), "."),
    )
    midnight = pc.equal(clock, "00:00:00")
    day_zero = pc.is_in(day, value_set=pa.array(_EPOCH_DAYS))
    full = pc.binary_join_element_wise(day, clock, "T")
    return _flat(pc.if_else(day_zero, clock, pc.if_else(midnight, day, full)))


def _as_text(column: pa.Array) -> pa.Array:
    """One column of the sheet as the text a person sees (missing stays missing)."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.cast(column, pa.string())
        return _flat(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text))
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return _numbers(column)
    if pa.types.is_boolean(kind):
        return _flat(pc.if_else(column, "TRUE", "FALSE"))
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _datetimes(column)
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    return pa.array([None if v is None else str(v) for v in column.to_pylist()], type=pa.string())


def read_excel_file(
    file: Path,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int = 1,
) -> pd.DataFrame:
    """Read one sheet of a workbook with every cell as the text a person sees (see the module).

    Args:
        file: the workbook.
        sep: ignored (the readers share one signature).
        encoding: ignored.
        sheet: the sheet's name or 0-based position; None: the first sheet.
        header_row: the 1-based Excel row of the header; blank rows above the table are skipped.

    Returns:
        The table, every column text (only empty cells missing); ``attrs["source"]`` holds the path, ``format``
        ``xlsx``, the sheet, ``header_row`` (as found) and ``first_row_line`` (the Excel row of row 0).
    """
    book = _open(file)
    name, position = _pick_sheet(book, sheet, file)
    first_used = _first_used_row(file, position) if file.suffix.lower() in (".xlsx", ".xlsm") else None
    header = max(header_row, first_used or 1)
    try:
        table = book.load_sheet(name, header_row=header - 1, schema_sample_rows=None).to_arrow()
    except Exception as exc:  # fastexcel's own errors: a damaged sheet, a header row below the table
        raise ReadError(f"{file}: cannot read sheet {name!r} ({_first_line(exc)})") from exc
    frame = pd.DataFrame(
        {str(col): _as_text(table.column(i)).to_pandas() for i, col in enumerate(table.column_names)},
        columns=[str(col) for col in table.column_names],
    )
    frame.attrs["source"] = {
        "path": str(file),
        "format": "xlsx",
        "sheet": name,
        "header_row": header,
        "first_row_line": header + 1,  # the Excel row of row 0: failures name the rows the user sees
    }
    return frame
