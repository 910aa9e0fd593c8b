"""Write loaded DataFrames: CSV, Parquet, JSON Lines files (atomically) or a table in a DuckDB file.

CSV is UTF-8 with ISO-8601 datetimes (UTC, ``+00:00``), no index column, and lists or objects as JSON text, so
a reporting pipeline reads back exactly what was loaded. Parquet keeps the dtypes (the ``parquet`` extra). JSON
Lines writes one object per row. Files are written to a temp file in the same folder and renamed into place, so a
crash never leaves half a file under the name. DuckDB (the ``duckdb`` extra) gets ``CREATE OR REPLACE TABLE`` in
one transaction: the other tables of the file stay, and a crash leaves the previous table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from lucidframes.errors import ConfigError
from lucidframes.io.atomic import check_folder
from lucidframes.io.write import FILE_FORMATS, TableWriter, require_pyarrow, write_text

__all__ = ["FORMATS", "check_writer", "export", "format_for", "replace_duckdb_tables", "require_duckdb"]

FORMATS = (*FILE_FORMATS, "duckdb")
_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format for a path: ``fmt`` if given, else from the suffix (``-`` means CSV on stdout).

    Args:
        path: the destination.
        fmt: an explicit format (csv, parquet, jsonl, duckdb).

    Returns:
        The format name.
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"Unknown export format {fmt!r}: use one of {', '.join(FORMATS)}.")
        return fmt
    if str(path) == "-":
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"Cannot tell the format of {str(path)!r}: name it .csv, .parquet, .jsonl or .duckdb, or pass format=."
        )
    return _SUFFIXES[suffix]


def require_duckdb() -> Any:
    """The duckdb module, or a ConfigError naming the extra that installs it.

    Returns:
        The ``duckdb`` module.
    """
    try:
        import duckdb
    except ImportError:
        raise ConfigError("DuckDB output needs duckdb: pip install 'lucidframes[duckdb]'.") from None
    return duckdb


def check_writer(path: str | os.PathLike[str], fmt: str) -> None:
    """Check, before anything is fetched, that ``fmt`` can be written to ``path``: library, folder, stdout.

    Args:
        path: the destination (``-`` for stdout).
        fmt: the format (from ``format_for``).

    Returns:
        None.

    Raises:
        ConfigError: the writer's library is missing, the folder does not exist, or the format cannot go to stdout.
    """
    if fmt in ("parquet", "duckdb") and str(path) == "-":
        raise ConfigError(f"{fmt.capitalize()} cannot go to stdout: name a file.")
    if fmt == "parquet":
        require_pyarrow()
    elif fmt == "duckdb":
        require_duckdb()
        require_pyarrow("DuckDB output")
    if str(path) != "-":
        check_folder(path)


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
) -> Path | None:
    """Write a DataFrame as CSV, Parquet or JSON Lines (atomically), or as a table of a DuckDB file.

    Args:
        df: the data (as loaded).
        path: the file to write, or ``-`` for stdout (CSV or JSON Lines).
        format: csv, parquet, jsonl or duckdb; from the suffix when omitted.
        table: the DuckDB table (default: the endpoint the frame was loaded from).

    Returns:
        The path written (None for stdout).
    """
    _check_arguments(df, path, format, table)
    fmt = format_for(path, format)
    check_writer(path, fmt)
    if fmt == "duckdb":
        name = table or _default_table(df)
        pa = require_pyarrow("DuckDB output")
        clean = df.copy(deep=False)
        clean.attrs = {}
        replace_duckdb_tables(path, {name: pa.Table.from_pandas(clean, preserve_index=False)})
        return Path(path)
    if table is not None:
        raise ConfigError(f"table= names a DuckDB table; {str(path)!r} is a {fmt} file.")
    if str(path) == "-":
        write_text(df, fmt, sys.stdout)
        return None
    with TableWriter(path, fmt) as writer:
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


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes (a table name from the user)."""
    if not name or "\x00" in name:
        raise ConfigError(f"{name!r} is not a table name.")
    return '"' + name.replace('"', '""') + '"'


def replace_duckdb_tables(path: str | os.PathLike[str], tables: Mapping[str, Any]) -> None:
    """``CREATE OR REPLACE TABLE`` each of ``tables`` in the DuckDB file, all in one transaction.

    Args:
        path: the DuckDB file (created when missing; its folder must exist).
        tables: table name -> a pyarrow Table, or the path of a Parquet file to read.

    Returns:
        None.
    """
    duckdb = require_duckdb()
    check_folder(path)
    con = duckdb.connect(str(path))
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for i, (name, source) in enumerate(tables.items()):
                if isinstance(source, str | os.PathLike):
                    select = "SELECT * FROM read_parquet(?)"
                    con.execute(f"CREATE OR REPLACE TABLE {quote_identifier(name)} AS {select}", [str(source)])
                else:
                    view = f"_lucidframes_frame_{i}"
                    con.register(view, source)
                    con.execute(f"CREATE OR REPLACE TABLE {quote_identifier(name)} AS SELECT * FROM {view}")
                    con.unregister(view)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
