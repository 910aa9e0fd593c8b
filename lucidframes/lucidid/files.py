"""``validate_file``: check the id columns of a CSV or Parquet file, scanning it lazily when it is big.

Engines: ``pandas`` reads the whole file (``read_table``: ids exactly as written); ``polars`` scans it lazily
(streaming); ``duckdb`` scans it in its own process memory with a memory limit, so files far bigger than memory
work. ``auto`` takes pandas for files under ``AUTO_LAZY_BYTES``, else DuckDB, else polars, else pandas. CSV cells
are read as text on every engine (no type guessing) and only empty cells are missing. Columns are named as written
on every engine, and what polars or DuckDB cannot read is a clear error naming it (``file_columns.py``).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from lucidframes.errors import ConfigError, ReadError
from lucidframes.io.formats import read_format
from lucidframes.io.read import check_file, read_table, sniff_csv
from lucidframes.lucidid.api import MAX_FAILURES, validate_lucid_ids
from lucidframes.lucidid.file_columns import (
    as_written,
    limits,
    names_as_written,
    not_utf8,
    parquet_on_duckdb,
    utf8_or_raise,
    utf8_problem,
)
from lucidframes.lucidid.labels import as_labels
from lucidframes.lucidid.report.report import ValidationReport

__all__ = ["AUTO_LAZY_BYTES", "DUCKDB_MEMORY_LIMIT", "ENGINES", "choose_engine", "scan", "validate_file"]

ENGINES = ("auto", "pandas", "polars", "duckdb")
AUTO_LAZY_BYTES = 200 * 2**20  # files from this size are scanned lazily when a lazy engine is installed
# DuckDB spills to disk beyond this: bounded memory for files of any size. Below 1 GB so that the whole process
# (Python, pandas and the collected failures, about 150 MB more) stays under 1 GB on a file of 20M ids.
DUCKDB_MEMORY_LIMIT = "750MB"


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_engine(path: str | os.PathLike[str], engine: str = "auto") -> str:
    """The engine ``validate_file`` uses for ``path``.

    Args:
        path: the file.
        engine: auto, pandas, polars or duckdb.

    Returns:
        The engine's name. Raises ConfigError for an unknown engine or one that is not installed.
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "auto":
        if Path(path).stat().st_size < AUTO_LAZY_BYTES:
            return "pandas"
        return next((e for e in ("duckdb", "polars") if _installed(e)), "pandas")
    if engine != "pandas" and not _installed(engine):
        raise ConfigError(f"engine={engine!r} needs {engine}: pip install 'lucidframes[{engine}]'")
    return engine


def _duckdb_config() -> dict[str, Any]:
    """The DuckDB settings of a scan: bounded memory, rows in file order, spills to a directory of its own."""
    # DuckDB's default spill directory is ".tmp" in the working directory; one under the system's temporary
    # directory instead, unique per scan, which DuckDB creates when it first spills and removes when it closes.
    spill = Path(tempfile.gettempdir()) / f"lucidframes-duckdb-{uuid.uuid4().hex}"
    return {"memory_limit": DUCKDB_MEMORY_LIMIT, "preserve_insertion_order": True, "temp_directory": str(spill)}


def scan(file: Path, engine: str, sep: str | None = None, names: list[str] | None = None) -> tuple[Any, int | None]:
    """A lazy scan of ``file`` on ``engine`` (polars or duckdb), and the spreadsheet line of row 0 (CSV only).

    Args:
        file: a CSV or Parquet file.
        engine: polars or duckdb.
        sep: the CSV separator; detected when None.
        names: the columns as written (``file_columns.names_as_written``), which the scan's are renamed to.

    Returns:
        ``(lazy frame, first row line)``. Raises ReadError when the engine cannot read the file.
    """
    parquet = read_format(file).name == "parquet"  # the lazy engines scan Parquet and CSV, nothing else
    skip = 0
    if not parquet:
        sep, skip = sniff_csv(file, sep)
        utf8_or_raise(file, engine)  # UTF-8 only: said before the scan, with where the first other byte is
    names = names if names is not None else names_as_written(file, parquet, sep or ",", skip)
    try:
        if engine == "polars":
            import polars as pl

            if parquet:
                return as_written(pl.scan_parquet(file), engine, names), None
            frame = pl.scan_csv(file, separator=sep or ",", infer_schema=False, skip_rows=skip, encoding="utf8")
            return as_written(frame, engine, names), 2 + skip
        import duckdb

        con = duckdb.connect(config=_duckdb_config())
        if parquet:
            return parquet_on_duckdb(con, file, names), None
        relation = con.read_csv(str(file), header=True, sep=sep or ",", all_varchar=True, skiprows=skip)
        return as_written(relation, engine, names), 2 + skip
    except Exception as exc:  # each engine raises its own errors for damaged or unreadable files
        raise _unreadable(file, engine, parquet, exc) from exc


def _names_scanned(file: Path, parquet: bool, sep: str | None) -> list[str]:
    """The columns as written, as a lazy engine reads the file (UTF-8, the separator and lines ``scan`` finds)."""
    if parquet:
        return names_as_written(file, True)
    found, skip = sniff_csv(file, sep)
    return names_as_written(file, False, found, skip)


def _names_read(file: Path, frame: Any) -> list[str]:
    """The columns as written, as ``read_table`` read the file (its separator, lines skipped and encoding)."""
    source = frame.attrs.get("source") or {}
    if source.get("format") != "csv":
        return names_as_written(file, True) if source.get("format") == "parquet" else []
    skip = int(source.get("first_row_line") or 2) - 2
    return names_as_written(file, False, source.get("sep") or ",", skip, source.get("encoding") or "utf-8-sig")


def _unreadable(file: Path, engine: str, parquet: bool, exc: Exception) -> ReadError:
    """The ReadError for a file an engine failed on: a CSV that is not UTF-8 says where, anything else the cause."""
    where = None if parquet else utf8_problem(file)
    if where is not None:
        return not_utf8(file, engine, where)
    return ReadError(f"{file}: {engine} cannot read it ({type(exc).__name__}: {exc})")


def validate_file(
    path: str | os.PathLike[str],
    columns: Any,
    *,
    engine: str = "auto",
    kind: str = "lucid_id",
    normalize: bool = False,
    unique: bool = True,
    known_ids: Any = None,
    length: int | None = None,
    keep: Any = None,
    max_failures: int = MAX_FAILURES,
    sep: str | None = None,
) -> ValidationReport:
    """Check the id columns of a CSV or Parquet file; big files are scanned lazily with bounded memory.

    Args:
        path: the file (``.parquet``/``.pq`` is Parquet, anything else CSV).
        columns: the id column or columns.
        engine: auto (by size and what is installed), pandas, polars or duckdb.
        kind: "lucid_id" or "uuid".
        normalize: check values once normalised.
        unique: report repeats after the first occurrence.
        known_ids: ids known to exist.
        length: the id length.
        keep: columns to carry into the failures.
        max_failures: failing cells collected at most (counts stay exact).
        sep: the CSV separator; detected when None.

    Returns:
        The ValidationReport; for CSV files its failures carry the spreadsheet ``line`` (header = line 1).
        Raises ReadError for a file that cannot be read, ConfigError for an unusable engine or columns.
    """
    file = check_file(path)
    chosen = choose_engine(file, engine)
    options: dict[str, Any] = dict(
        kind=kind, normalize=normalize, unique=unique, known_ids=known_ids, length=length, keep=keep,
        max_failures=max_failures,
    )  # fmt: skip
    if chosen == "pandas":
        frame = read_table(file, sep=sep)
        return validate_lucid_ids(as_written(frame, chosen, _names_read(file, frame)), columns, **options)
    parquet = read_format(file).name == "parquet"
    names = _names_scanned(file, parquet, sep)
    limits(chosen, names, [*(as_labels(columns) or []), *(as_labels(keep) or [])])
    native, first_line = scan(file, chosen, sep, names)
    try:
        report = validate_lucid_ids(native, columns, **options)
    except Exception as exc:  # a lazy scan only reads the file here: its engine's errors mean an unreadable file
        if type(exc).__module__.split(".")[0] not in ("polars", "narwhals", "duckdb", "_duckdb"):
            raise
        raise _unreadable(file, chosen, parquet, exc) from exc
    report.source = str(file)
    if first_line is not None and "line" not in report.failures:
        report.failures.insert(1, "line", report.failures["row"].astype("int64") + first_line)
    return report
