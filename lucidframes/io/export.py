"""Write loaded DataFrames: CSV, Parquet, JSON Lines files (atomically) or a table in a DuckDB file.

The formats, their suffixes and what each needs are in ``io/formats.py``. CSV is UTF-8 with ISO-8601 datetimes
(UTC, ``+00:00``), no index column, and lists or objects as JSON text, so a reporting pipeline reads back exactly
what was loaded. Parquet keeps the dtypes. JSON Lines writes one object per row. Files are written to a temp file
in the same folder and renamed into place, so a crash never leaves half a file under the name. DuckDB (the
``duckdb`` extra) gets ``CREATE OR REPLACE TABLE`` in one transaction: the other tables of the file stay, and a
crash leaves the previous table.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd

from lucidframes.errors import ConfigError
from lucidframes.io import formats
from lucidframes.io.atomic import check_folder
from lucidframes.io.formats import format_for
from lucidframes.io.write import TableWriter, write_text

__all__ = ["FORMATS", "check_writer", "export", "format_for"]

FORMATS = formats.names()


def check_writer(path: str | os.PathLike[str], fmt: str, *, excel_safe: bool = False) -> None:
    """Check, before anything is fetched, that ``fmt`` can be written to ``path``: library, folder, stdout, options.

    Args:
        path: the destination (``-`` for stdout).
        fmt: the format (from ``format_for``).
        excel_safe: the CSV option (refused for other formats).

    Returns:
        None.

    Raises:
        ConfigError: the writer's library is missing, the folder does not exist, the format cannot go to stdout,
            it does not take the option, or a database file cannot be opened for writing (another process holds its
            lock, it is not one).
    """
    entry = formats.get(fmt)
    if not entry.stdout and str(path) == "-":
        raise ConfigError(f"{entry.label} cannot go to stdout: name a file.")
    entry.chosen({"excel_safe": excel_safe}, str(path))
    entry.require()
    if str(path) != "-":
        check_folder(path)
        if not entry.batch:
            entry.open_database(path).check()


def _check_arguments(df: object, path: object, fmt: object, table: object) -> None:
    """``export``'s arguments, each of the type it takes (a ConfigError naming the one that is not)."""
    if not isinstance(df, pd.DataFrame):
        raise ConfigError(f"export() takes a pandas DataFrame as df, not {type(df).__name__}.")
    for name, value, takes in (("path", path, "a file path or '-'"), ("format", fmt, "a format name or None"),
                               ("table", table, "a table name or None")):  # fmt: skip
        allowed = (str, os.PathLike) if name == "path" else (str, type(None))
        if not isinstance(value, allowed):
            raise ConfigError(f"export() takes {takes} as {name}=, not {type(value).__name__} {value!r:.40}.")


def export(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    format: str | None = None,  # noqa: A002
    *,
    table: str | None = None,
    excel_safe: bool = False,
) -> Path | None:
    """Write a DataFrame as CSV, Parquet or JSON Lines (atomically), or as a table of a DuckDB file.

    Args:
        df: the data (as loaded).
        path: the file to write, or ``-`` for stdout (CSV or JSON Lines).
        format: csv, parquet, jsonl or duckdb; from the suffix when omitted.
        table: the DuckDB table (default: the endpoint the frame was loaded from).
        excel_safe: CSV for a spreadsheet: a text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or CR gets a
            leading ``'`` so that it is never run as a formula (numbers stay numbers). Off by default: a plain CSV
            reads back exactly.

    Returns:
        The path written (None for stdout).
    """
    _check_arguments(df, path, format, table)
    fmt = format_for(path, format)
    check_writer(path, fmt, excel_safe=excel_safe)
    options = {"excel_safe": True} if excel_safe else {}
    entry = formats.get(fmt)
    if not entry.batch:
        entry.open_database(path).write(table or _default_table(df), df)
        return Path(path)
    if table is not None:
        raise ConfigError(f"table= names a DuckDB table; {str(path)!r} is a {fmt} file.")
    if str(path) == "-":
        write_text(df, fmt, sys.stdout, **options)
        return None
    with TableWriter(path, fmt, **options) as writer:
        writer.write(df)
    return Path(path)


def _default_table(df: pd.DataFrame) -> str:
    """The endpoint a frame was loaded from (``assets`` with its type: ``assets_images``), as a table name."""
    info = df.attrs.get("lucidframes") or {}
    name = info.get("endpoint")
    if not name:
        raise ConfigError("Name the DuckDB table: export(df, 'out.duckdb', table='products').")
    params = info.get("params") or {}
    return "_".join([str(name), *(str(v) for v in params.values())])
