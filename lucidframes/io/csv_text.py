"""CSV text that reads back, and CSV for a spreadsheet: ``write_csv`` (what the CSV sink and the reports write with).

Every field holding a line feed, a carriage return (a bare one too), a quote or a comma is quoted (RFC 4180), so
text from the server never starts a new record; records end in LF. ``excel_safe=True`` is for a file a person opens
in a spreadsheet: OWASP's rule against CSV injection, a ``'`` before text cells (and column names) that begin with
``=``, ``+``, ``-``, ``@``, tab or CR. Numbers are left as they are, and so is text that is a plain number.
"""

from __future__ import annotations

import re
from typing import IO, Any

import pandas as pd

__all__ = ["CSV_CHUNK_ROWS", "neutralised", "write_csv"]

CSV_CHUNK_ROWS = 50_000  # rows rendered at a time: memory holds a chunk's text, not the whole file's
_WRITE_CHARS = 1 << 13  # a text stream's own chunk: writes reach a pipe as they do from pandas
# A quoted field, or a record's end: in CSV written with CRLF record ends, a CR outside quotes ends a record.
_FIELD_OR_END = re.compile(r'("[^"]*(?:""[^"]*)*")|\r\n')


def write_csv(df: pd.DataFrame, fh: IO[str], *, header: bool = True, excel_safe: bool = False) -> None:
    """Write a frame as CSV, records ending in LF, every field holding CR, LF, a quote or a comma quoted (RFC 4180).

    Args:
        df: the frame (as ``textual`` leaves it: datetimes and lists already text).
        fh: where to write.
        header: write the header line first.
        excel_safe: neutralise text cells (and column names) a spreadsheet would run as a formula (see
            ``excel_safe``); numbers stay as they are.

    Returns:
        None.
    """
    if excel_safe:
        df = neutralised(df)
    for start in range(0, max(len(df), 1), CSV_CHUNK_ROWS):
        text = _csv_chunk(df.iloc[start : start + CSV_CHUNK_ROWS], header=header and start == 0)
        # In a text stream's own 8 KiB pieces, as pandas writes: a large write to a pipe whose reader left
        # (`| head`) can end short without an error (64 KiB pieces: fetch -o - | head exited 0 in 4 runs of 10).
        for at in range(0, len(text), _WRITE_CHARS):
            fh.write(text[at : at + _WRITE_CHARS])


def _csv_chunk(df: pd.DataFrame, *, header: bool) -> str:
    """Rows as CSV text; a field holding a bare CR is quoted like one holding LF."""
    text = df.to_csv(index=False, header=header, lineterminator="\n")
    if "\r" not in text:
        return text
    # Python's csv module (before 3.13) quotes a field holding LF but not one holding a bare CR, which every
    # reader takes for a record's end: a forged row. With CRLF record ends it quotes both; the record ends,
    # the only CRs left outside quotes, are then written back as LF.
    text = df.to_csv(index=False, header=header, lineterminator="\r\n")
    return _FIELD_OR_END.sub(lambda m: m.group(1) or "\n", text)


def neutralised(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names a spreadsheet would take for a formula begin with ``'``.

    OWASP's rule for CSV injection: a cell beginning with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading
    ``'``. Only text is changed: numbers (``-5`` in a numeric column) are not formulas, and neither is text that is
    a plain number (``-12.5``, ``+3``: registry decimals are text), which a spreadsheet reads as that number.

    Args:
        df: the frame as ``textual`` leaves it.

    Returns:
        The copy.
    """
    out = df.copy()
    out.columns = [_defused(c) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            out.isetitem(i, col.map(_defused, na_action="ignore").to_numpy(dtype=object))
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _defused(value: Any) -> Any:
    """``'`` before text that starts like a formula (and is not a plain number); anything else as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
