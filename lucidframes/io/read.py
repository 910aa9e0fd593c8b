"""Read a sheet of ids for checking: CSV (plain or as Excel saves it) and Parquet, ids kept exactly as written.

The reader is the format's (``io/formats.py``: by the suffix, CSV for anything no reader claims); the readers
themselves are in ``parse.py``.

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

from lucidframes.errors import ReadError
from lucidframes.io import formats
from lucidframes.io.parse import sniff_csv

__all__ = ["PARQUET_SUFFIXES", "check_file", "read_table", "sniff_csv"]


PARQUET_SUFFIXES = formats.get("parquet").suffixes


def read_table(path: str | os.PathLike[str], *, sep: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame, keeping id columns exactly as written.

    Args:
        path: the file; ``.parquet`` / ``.pq`` is read as Parquet, anything else as CSV.
        sep: the CSV separator; detected when None.
        encoding: the CSV encoding; None means UTF-8 with the documented cp1252 fallback (see the module).

    Returns:
        The table; CSV columns are all strings (empty cells missing). ``df.attrs["source"]`` records the path,
        and for CSV the separator, the encoding used and ``first_row_line`` (the spreadsheet line of row 0).
        Raises ReadError for anything that cannot be read.
    """
    file = check_file(path)
    reader = formats.read_format(file).reader
    assert reader is not None  # read_format returns a format that has one
    return reader(file, sep=sep, encoding=encoding)


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
