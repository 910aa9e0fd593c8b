"""Read a sheet of ids for checking: Excel workbooks, CSV (plain or as Excel saves it) and Parquet, ids kept exactly.

The reader is the format's (``io/formats.py``: by the suffix, CSV for anything no reader claims); the readers
themselves are in ``parse.py`` and, for Excel workbooks, ``excel.py`` (which says how cells become text).

CSV cells are read as text, never guessed: ``007`` stays ``007`` and ``NA`` stays ``NA``; only empty cells become
missing. The separator is detected (``,``, ``;``, tab or ``|``, and Excel's ``sep=;`` first line); a UTF-8
byte-order mark is dropped, and UTF-16 (Excel's "Unicode text") is recognised by its byte-order mark.

Encoding: with ``encoding=None`` (the default) a file that is not valid UTF-8 is decoded as cp1252 (Windows
Western, the usual culprit), with an ``EncodingFallbackWarning`` saying so; bytes cp1252 leaves undefined fall
back to latin-1, which decodes any byte. LucidIDs are ASCII, so they survive either way; other text columns may
not. Pass ``encoding="utf-8"`` to refuse such files instead: the ReadError names the first undecodable byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lucidframes.errors import ConfigError, ReadError
from lucidframes.io import formats
from lucidframes.io.excel import sheet_names
from lucidframes.io.parse import sniff_csv

__all__ = ["PARQUET_SUFFIXES", "check_file", "read_table", "sheet_names", "sniff_csv"]


PARQUET_SUFFIXES = formats.get("parquet").suffixes
_MAX_HEADER_ROW = 1_048_576  # Excel's last row


def read_table(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int = 1,
) -> pd.DataFrame:
    """Read an Excel sheet, a CSV or a Parquet file into a DataFrame, keeping id columns exactly as written.

    Args:
        path: the file; ``.xlsx``/``.xlsm``/``.xls``/``.xlsb``/``.ods`` is read as a workbook (the ``excel``
            extra), ``.parquet``/``.pq`` as Parquet, anything else as CSV.
        sep: the CSV separator; detected when None.
        encoding: the CSV encoding; None means UTF-8 with the documented cp1252 fallback (see the module).
        sheet: a workbook's sheet, by name or 0-based position; None: the first sheet (``lf.sheet_names(path)``
            lists them, to read every one).
        header_row: the 1-based row of the header (Excel's row number; a CSV's line): rows above it, a title say,
            are skipped.

    Returns:
        The table; Excel and CSV columns are all strings (empty cells missing). ``df.attrs["source"]`` records the
        path, the format, and for Excel and CSV ``first_row_line`` (the row or line of row 0 as a spreadsheet
        shows it); for Excel also the sheet. Raises ReadError for anything that cannot be read.
    """
    file = check_file(path)
    fmt = formats.read_format(file)
    assert fmt.reader is not None  # read_format returns a format that has one
    if isinstance(header_row, bool) or not isinstance(header_row, int) or not 1 <= header_row <= _MAX_HEADER_ROW:
        raise ConfigError(f"header_row= is the row of the header, from 1, not {header_row!r}")
    if sheet is not None and fmt.name != "xlsx":
        raise ConfigError(f"sheet= names a sheet of an Excel workbook; {file.name} is read as {fmt.label}.")
    if header_row != 1 and fmt.name == "parquet":
        raise ConfigError(f"header_row= is for sheets and CSV files; {file.name} is Parquet, which has no title rows.")
    return fmt.reader(file, sep=sep, encoding=encoding, sheet=sheet, header_row=header_row)


def check_file(path: str | os.PathLike[str]) -> Path:
    """The path as a Path, once it is known to be a readable kind of file.

    Args:
        path: the file.

    Returns:
        The Path. Raises ReadError for a missing file, a directory or a spreadsheet (save it as CSV first).
    """
    file = Path(path)
    if not file.exists():
        raise ReadError(f"{file}: no such file")
    if file.is_dir():
        raise ReadError(f"{file}: is a directory, not a file")
    if formats.is_unread_spreadsheet(file):
        raise ReadError(f"{file}: a spreadsheet; save it as CSV UTF-8 (File > Save As) or Parquet and try again")
    return file
