"""A file's columns as written, on every engine ``validate_file`` reads it with, and the lazy engines' limits.

Each engine names odd columns its own way: pandas calls an empty name ``Unnamed: 0``, DuckDB ``column0`` (or
``C0`` in Parquet) and trims spaces, polars keeps a doubled quote (``a""b``) in a CSV header. The names as written
(the CSV header as the ``csv`` module reads it, the Parquet schema's names) are what a report names, so each
engine's columns are renamed to them by position (a name written twice keeps the engine's own spelling).

What an engine cannot do is a clear error naming it, and what to do instead: polars and DuckDB number rows under
``__lf_row`` (a file with a column of that name, or an id or ``keep=`` column named ``__lf_...``, is refused
there), DuckDB has no empty column name, and both read UTF-8 only (a cp1252 or UTF-16 file is refused with where
the first other byte is, before the scan; pandas decodes cp1252 with a warning).
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from lucidframes.errors import ConfigError, ReadError

__all__ = [
    "ROW",
    "as_written",
    "limits",
    "names_as_written",
    "not_utf8",
    "parquet_on_duckdb",
    "utf8_or_raise",
    "utf8_problem",
]

ROW = "__lf_row"  # engine.prepare.ROW: the lazy engines number rows under this name
_CHUNK = 1 << 20  # bytes read at a time when checking a file is UTF-8


def names_as_written(
    file: Path, parquet: bool, sep: str = ",", skip: int = 0, encoding: str = "utf-8-sig"
) -> list[str]:
    """The file's column names as written: the Parquet schema's, or the CSV header's as the csv module reads it.

    Args:
        file: a CSV or Parquet file.
        parquet: whether it is Parquet.
        sep: the CSV separator.
        skip: lines before the CSV header (Excel's ``sep=;`` line).
        encoding: the CSV's encoding (as ``read_table`` decoded it, for pandas; UTF-8 for the lazy engines).

    Returns:
        The names, in file order (empty when they cannot be read: the engine then says why).
    """
    try:
        if parquet:
            return list(pq.read_schema(file).names)
        with open(file, encoding=encoding, errors="replace", newline="") as fh:
            for _ in range(skip):
                fh.readline()
            return [str(n) for n in next(csv.reader(fh, delimiter=sep), [])]
    except (OSError, ValueError, LookupError, csv.Error):  # a damaged file: the engine's own error says it better
        return []


def as_written(native: Any, engine: str, names: list[str]) -> Any:
    """The engine's frame with its columns renamed, by position, to the names as written (where a name is unique).

    Args:
        native: a pandas DataFrame, a polars LazyFrame or a DuckDB relation, with the file's columns in order.
        engine: pandas, polars or duckdb.
        names: the names as written.

    Returns:
        The frame (the same object when nothing needs renaming).
    """
    have = _columns(native, engine)
    if len(have) != len(names):
        return native  # not the file's columns one for one: leave the engine's names
    renames = {old: new for old, new in zip(have, names, strict=True) if old != new and _renamable(new, names, engine)}
    if not renames:
        return native
    if engine == "pandas":
        out = native.rename(columns=renames)
        out.attrs = native.attrs
        return out
    if engine == "polars":
        return native.rename(renames)
    return native.project(", ".join(f"{_quoted(c)} AS {_quoted(renames.get(c, c))}" for c in have))


def parquet_on_duckdb(con: Any, file: Path, names: list[str]) -> Any:
    """A DuckDB relation of a Parquet file, its rows numbered under ROW in file order, its columns as written.

    DuckDB's ``file_row_number`` numbers rows as they are in the file, at no cost; a file with a column of that
    name cannot use it, and is numbered later by ``row_number()`` like a CSV scan.

    Args:
        con: the DuckDB connection.
        file: the Parquet file.
        names: the names as written.

    Returns:
        The relation.
    """
    numbered = "file_row_number" not in names
    option = ", file_row_number = true" if numbered else ""
    relation = con.sql(f"SELECT * FROM read_parquet($path{option})", params={"path": str(file)})
    columns = [c for c in relation.columns if not (numbered and c == "file_row_number")]
    if len(columns) != len(names):
        names = columns
    exprs = [
        f"{_quoted(c)} AS {_quoted(n)}" if _renamable(n, names, "duckdb") else _quoted(c)
        for c, n in zip(columns, names, strict=True)
    ]
    if numbered:
        exprs.append(f"file_row_number AS {_quoted(ROW)}")
    return relation.project(", ".join(exprs))


def limits(engine: str, names: list[str], wanted: list[Any]) -> None:
    """Raise ConfigError, naming the engine and what to do, for what polars or DuckDB cannot check.

    Args:
        engine: polars or duckdb.
        names: the file's columns as written.
        wanted: the id and ``keep=`` columns asked for.

    Returns:
        None.
    """
    label = "polars" if engine == "polars" else "DuckDB"
    instead = "use engine='pandas'"
    if ROW in names:
        raise ConfigError(
            f"{label} cannot check a file with a column named {ROW!r}: lucidframes numbers the rows of a lazy scan "
            f"under that name. Rename the column, or {instead}."
        )
    for name in wanted:
        if isinstance(name, str) and name.startswith("__lf_"):
            raise ConfigError(
                f"{label} cannot check the column {name!r}: names beginning with '__lf_' are lucidframes' own on a "
                f"lazy scan. Rename the column, or {instead}."
            )
        if engine == "duckdb" and name == "" and "" in names:
            raise ConfigError(
                f"DuckDB cannot check the column {name!r} (column {names.index('') + 1} has no name, and DuckDB has "
                f"no empty column name). Name the column, or {instead} (or 'polars')."
            )


def utf8_problem(file: Path, limit: int | None = None) -> str | None:
    """Where a file first stops being UTF-8 (``byte b'\\xe9' at offset 38 (line 2)``), or None when it is UTF-8.

    Args:
        file: the file.
        limit: read at most this many bytes (None: all of it, a megabyte at a time).

    Returns:
        The place, said as ``read_table`` says it; UTF-16 (a byte-order mark) is named as such.
    """
    with open(file, "rb") as fh:
        if fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "it is UTF-16 (Excel's Unicode text)"
        fh.seek(0)
        pending, offset = b"", 0
        while chunk := fh.read(min(limit, _CHUNK) if limit else _CHUNK):
            data = pending + chunk
            if data.isascii():  # ids files are mostly ASCII: checked at memory speed, nothing decoded
                offset, pending = offset + len(data), b""
            else:
                try:
                    _, used = codecs.utf_8_decode(data, "strict", False)
                except UnicodeDecodeError as exc:
                    at = offset + exc.start
                    return f"byte {data[exc.start : exc.start + 1]!r} at offset {at} (line {_line(file, at)})"
                offset, pending = offset + used, data[used:]
            if limit is not None and offset + len(pending) >= limit:
                return None  # the start is UTF-8 (a character cut at the limit is not a problem)
    return f"it ends inside a character (offset {offset})" if pending else None


def _line(file: Path, offset: int) -> int:
    """The line of a byte offset (1-based), counted only once a problem is found."""
    lines, done = 1, 0
    with open(file, "rb") as fh:
        while done < offset and (chunk := fh.read(min(_CHUNK, offset - done))):
            lines += chunk.count(b"\n")
            done += len(chunk)
    return lines


def not_utf8(file: Path, engine: str, where: str) -> ReadError:
    """The error for a file polars or DuckDB cannot read because it is not UTF-8.

    Args:
        file: the file.
        engine: polars or duckdb.
        where: what ``utf8_problem`` said.

    Returns:
        The error, to raise.
    """
    return ReadError(
        f"{file}: not UTF-8 ({where}); {engine} reads UTF-8 only. Save the file as CSV UTF-8, or use "
        "engine='pandas', which decodes it as cp1252 with a warning."
    )


def utf8_or_raise(file: Path, engine: str) -> None:
    """Refuse a CSV that is not UTF-8 before a lazy engine scans it (an engine may skip the columns it is not
    asked for, and read the file without a word: the same data would then be judged differently on pandas)."""
    where = utf8_problem(file)
    if where is not None:
        raise not_utf8(file, engine, where)


def _columns(native: Any, engine: str) -> list[str]:
    if engine == "pandas":
        return [str(c) for c in native.columns]
    if engine == "polars":
        return list(native.collect_schema().names())
    return list(native.columns)


def _renamable(name: str, names: list[str], engine: str) -> bool:
    """A name written once (a name written twice keeps the engine's spelling); DuckDB has no empty name."""
    return names.count(name) == 1 and not (engine == "duckdb" and name == "")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
