"""Write Excel workbooks (``.xlsx``) with xlsxwriter: every text cell stored as text, typed values typed.

What a workbook written here holds (``lf.export(df, "out.xlsx")``, ``fetch -o out.xlsx``, a snapshot in xlsx):

- one sheet per table, named after the file (``products.xlsx`` -> ``products``), its header bold and frozen, an
  autofilter on it, and columns sized to their first rows (at most 60 characters wide);
- text as text, always: ids keep their leading zeros, and a value such as ``=HYPERLINK(...)`` or ``=cmd|...`` is
  text, never a live formula (xlsxwriter's ``write_string``); lists and objects as JSON text, as in CSV;
- numbers as numbers, except integers beyond 2**53 (Excel's numbers are doubles), which are written as text to stay
  exact; TRUE/FALSE as booleans; dates and date-times as Excel dates (time zones converted to UTC: Excel has none);
- refused with a one-line ConfigError naming the cell: text longer than Excel's 32,767 characters a cell, text that
  is not valid Unicode (a lone surrogate), more than 1,048,575 rows or 16,384 columns (write CSV or Parquet).

xlsxwriter's ``constant_memory`` mode writes row by row, so a batch's rows leave memory as they are written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from lucidframes.errors import ConfigError
from lucidframes.io.excel import read_excel_file
from lucidframes.io.sinks import Sink

__all__ = ["EXCEL_WRITER", "MAX_CELL_CHARS", "MAX_ROWS", "CellWriter", "ExcelSink", "plain_columns", "sheet_title"]

EXCEL_WRITER = "xlsxwriter"  # the module the [excel] extra provides for writing
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell's text
MAX_ROWS = 1_048_576  # rows in one sheet, the header included
MAX_COLUMNS = 16_384
_EXACT = 2**53
_WIDTH_SAMPLE = 1_000  # rows whose text sizes the columns
_MAX_WIDTH = 60
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str) -> str:
    """A valid Excel sheet name: at most 31 characters, none of ``[]:*?/\\``, not blank.

    Args:
        name: the wanted name (a file's stem, a table's name).

    Returns:
        The sheet name.
    """
    title = _BAD_TITLE.sub("_", name).strip().strip("'")[:31]
    return title or "data"


class CellWriter:
    """Writes one value into a cell by its type (shared by the export and the report workbook)."""

    def __init__(self, book: Any) -> None:
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.time = book.add_format({"num_format": "hh:mm:ss"})
        self.headers: list[str] = []  # the column names, for messages

    def where(self, row: int, col: int) -> str:
        """A cell as a person finds it: Excel's row number and the column's name."""
        name = f"column {self.headers[col]!r}" if col < len(self.headers) else f"column {col + 1}"
        return f"row {row + 1}, {name}"

    def write(self, sheet: Any, row: int, col: int, value: Any, style: Any = None) -> None:
        """Write ``value`` at (row, col), 0-based; missing values leave the cell blank (or styled, with ``style``).

        Args:
            sheet: an xlsxwriter worksheet.
            row: the row.
            col: the column.
            value: the value.
            style: an xlsxwriter format for the cell (its number format is kept for dates).

        Returns:
            None.
        """
        if isinstance(value, str):
            self.text(sheet, row, col, value, style)
        elif value is None or value is pd.NA or value is pd.NaT:
            if style is not None:
                sheet.write_blank(row, col, None, style)
        elif isinstance(value, bool | np.bool_):
            sheet.write_boolean(row, col, bool(value), style)
        elif isinstance(value, int | np.integer):
            self._integer(sheet, row, col, int(value), style)
        elif isinstance(value, float | np.floating):
            self._float(sheet, row, col, float(value), style)
        elif isinstance(value, dt.datetime | dt.date | dt.time):
            self._when(sheet, row, col, value, style)
        elif isinstance(value, list | tuple | dict | np.ndarray):  # as CSV writes them: JSON text
            self.text(sheet, row, col, json.dumps(_jsonable(value), ensure_ascii=False, default=str), style)
        else:
            self.text(sheet, row, col, str(value), style)

    def text(self, sheet: Any, row: int, col: int, value: str, style: Any = None) -> None:
        """Write text as text (never a formula, a number or a link); refuse what Excel cannot hold."""
        if len(value) > MAX_CELL_CHARS:
            raise ConfigError(
                f"Excel holds at most {MAX_CELL_CHARS:,} characters a cell; {self.where(row, col)} has "
                f"{len(value):,}: write CSV or Parquet instead."
            )
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigError(
                    "Excel cannot store text that is not valid Unicode (a lone surrogate), as in "
                    f"{self.where(row, col)}: clean it, or write Parquet instead."
                ) from None
        sheet.write_string(row, col, value, style)

    def _integer(self, sheet: Any, row: int, col: int, value: int, style: Any) -> None:
        if abs(value) < _EXACT:
            sheet.write_number(row, col, value, style)
        else:  # beyond a double's exact integers: text keeps every digit
            self.text(sheet, row, col, str(value), style)

    def _float(self, sheet: Any, row: int, col: int, value: float, style: Any) -> None:
        if value != value:  # NaN: a missing value
            if style is not None:
                sheet.write_blank(row, col, None, style)
        elif value in (float("inf"), float("-inf")):
            self.text(sheet, row, col, str(value), style)
        else:
            sheet.write_number(row, col, value, style)

    def _when(self, sheet: Any, row: int, col: int, value: dt.datetime | dt.date | dt.time, style: Any) -> None:
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            fmt = self.datetime
        else:
            fmt = self.date if isinstance(value, dt.date) else self.time
        sheet.write_datetime(row, col, value, style or fmt)


def _jsonable(value: Any) -> Any:
    """Lists, dicts and numpy arrays (as Parquet reads lists back) as plain JSON values."""
    return value.tolist() if isinstance(value, np.ndarray) else value


def _width(header: str, values: list[Any]) -> int:
    """A column's width: its header and the text of its first rows, within 8 and 60 characters."""
    widest = len(header)
    for value in values[:_WIDTH_SAMPLE]:
        if isinstance(value, dt.datetime):
            size = 19
        elif isinstance(value, dt.date):
            size = 10
        elif value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            size = 0
        else:
            size = len(str(value))
        widest = max(widest, size)
    return max(8, min(widest + 2, _MAX_WIDTH))


def plain_columns(df: pd.DataFrame) -> list[list[Any]]:
    """The frame's columns as lists of Python values, date-times with a time zone in UTC (Excel has none).

    Args:
        df: a typed frame.

    Returns:
        One list per column.
    """
    out = []
    for name in df.columns:
        series = df[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(series):
            out.append(series.astype(object).tolist())
        else:
            out.append(series.tolist())
    return out


class ExcelSink(Sink):
    """An ``.xlsx`` file of one sheet, written batch by batch (see the module)."""

    def __init__(self, path: Path, name: str) -> None:
        import xlsxwriter  # the excel extra: Format.require has checked it is installed

        self.path = path
        self.name = name
        self._book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._sheet = self._book.add_worksheet(sheet_title(Path(name).stem))
        self._cells = CellWriter(self._book)
        self._bold = self._book.add_format({"bold": True})
        self._row = 0
        self._columns = 0
        self._closed = False

    @classmethod
    def open(cls, path: Path, name: str, **options: Any) -> Self:
        """Start writing ``path`` (the workbook is written at ``close``).

        Args:
            path: the file to write.
            name: the file as messages call it; its stem names the sheet.
            **options: none: the table entry names no option for .xlsx (``Format.chosen`` refuses any first).

        Returns:
            The sink.
        """
        return cls(path, name)

    def write(self, df: pd.DataFrame) -> None:
        """Append one batch; the first also writes the header, freezes it and sizes the columns.

        Args:
            df: a typed frame.

        Returns:
            None.
        """
        columns = plain_columns(df)
        if self._row == 0:
            self._header(df, columns)
        if self._row + len(df) > MAX_ROWS:
            raise ConfigError(
                f"{self.name}: Excel holds at most {MAX_ROWS - 1:,} rows under a header; this table has more: "
                "write CSV or Parquet instead."
            )
        write = self._cells.write
        sheet = self._sheet
        for offset, values in enumerate(zip(*columns, strict=True)):
            row = self._row + offset
            for col, value in enumerate(values):
                write(sheet, row, col, value)
        self._row += len(df)

    def _header(self, df: pd.DataFrame, columns: list[list[Any]]) -> None:
        if len(df.columns) > MAX_COLUMNS:
            raise ConfigError(
                f"{self.name}: Excel holds at most {MAX_COLUMNS:,} columns; this table has {len(df.columns):,}."
            )
        self._cells.headers = [str(name) for name in df.columns]
        for col, (name, values) in enumerate(zip(df.columns, columns, strict=True)):
            self._cells.text(self._sheet, 0, col, str(name), self._bold)
            self._sheet.set_column(col, col, _width(str(name), values))
        self._sheet.freeze_panes(1, 0)
        self._columns = len(df.columns)
        self._row = 1

    def close(self) -> None:
        """Write the workbook (a second call does nothing).

        Returns:
            None.
        """
        if self._closed:
            return
        self._closed = True
        if self._columns:
            self._sheet.autofilter(0, 0, max(self._row - 1, 0), self._columns - 1)
        self._book.close()

    @classmethod
    def batches(cls, path: Path, rows: int) -> Iterator[pd.DataFrame]:
        """Read the file back with every value as the text Excel shows (``read_table``'s reader).

        Args:
            path: the file.
            rows: rows per batch.

        Returns:
            An iterator of DataFrames.
        """
        frame = read_excel_file(Path(path))
        for start in range(0, len(frame), rows):
            yield frame.iloc[start : start + rows].reset_index(drop=True)
