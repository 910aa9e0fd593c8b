"""The names of the internal columns: those the engine adds to the caller's frame and the report reads back.

One definition for every side (``prepare``, ``run``, ``values``, ``valid``, ``pandas_path``, ``files`` and
``report/assemble``), so that renaming a column cannot leave one side reading a name the other no longer writes.
Every name starts with ``__lf_`` so that it cannot meet a caller's column. :mod:`.duckdb_scan` names the columns
of its own SQL there.
"""

from __future__ import annotations

__all__ = [
    "CELL",
    "COL",
    "CORE",
    "DIAG",
    "FIRST",
    "KEY",
    "ORD",
    "REASON",
    "RESCUED",
    "ROW",
    "N",
    "bad_count",
    "checked_key",
    "not_text",
    "original",
    "passes",
    "string_view",
]

# The prepared frame (:mod:`.prepare`): every row's 0-based position (for Spark, the order of ``keep=``).
ROW = "__lf_row"

# Collected failures (:mod:`.run`, read by :mod:`..report.assemble`): one row per failing cell.
COL = "__lf_col"  # the position of the checked column among ``columns=``
REASON = "__lf_reason"  # the reason code
CORE = "__lf_core"  # the value that was checked (normalised with ``normalize=True``)
DIAG = "__lf_diag"  # the cell's Diagnosis, when the engine diagnosed it already
FIRST = "__lf_first"  # duplicates: the order (row * k + column) of the value's first occurrence

# The long table of well-formed values, one row per value (:mod:`.values`, :mod:`.run`, :mod:`.pandas_path`).
KEY = "__lf_key"  # the value compared (normalised with ``normalize=True``)
ORD = "__lf_ord"  # its order: row * k + column
CELL = "__lf_cell"  # the cell as it was
RESCUED = "__lf_rescued"  # True where normalisation turns a failing cell into a well-formed id
N = "__lf_n"  # a count in an aggregate


def string_view(j: int) -> str:
    """The internal name of the j-th checked column as strings."""
    return f"__lf_s{j}"


def not_text(j: int) -> str:
    """The internal name of the j-th column's "not a string" flag."""
    return f"__lf_x{j}"


def original(j: int) -> str:
    """The internal name of the j-th column's original cells (when they differ from the string view)."""
    return f"__lf_o{j}"


def passes(j: int) -> str:
    """The internal name of the j-th column's "well-formed as it is" flag."""
    return f"__lf_ok{j}"


def bad_count(j: int) -> str:
    """The internal name of the number of the j-th column's cells that are not well-formed."""
    return f"__lf_bad{j}"


def checked_key(j: int) -> str:
    """The internal name of the j-th column's value as compared (for valid rows): the cell, or normalised."""
    return f"__lf_key{j}"
