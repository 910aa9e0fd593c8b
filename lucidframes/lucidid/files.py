"""``validate_file``: check the id columns of an Excel sheet, a CSV or a Parquet file, scanning big files lazily.

Engines: ``pandas`` reads the whole file (``read_table``: ids exactly as written); ``polars`` scans it lazily
(streaming); ``duckdb`` scans it in its own process memory with a memory limit, so files far bigger than memory
work. ``auto`` takes pandas for files under ``AUTO_LAZY_BYTES``, else DuckDB, else polars, else pandas. CSV cells
are read as text on every engine (no type guessing) and only empty cells are missing. Columns are named as written
on every engine, and what polars or DuckDB cannot read is a clear error naming it (``file_columns.py``).

An Excel sheet (at most 1,048,576 rows) is always read whole by ``read_table``, cells as the text Excel shows;
``auto`` then checks it on pandas, and ``polars`` or ``duckdb`` get that table (the same report either way).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

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


def _sheet_on(frame: Any, engine: str) -> tuple[Any, int | None]:
    """A sheet read by ``read_table`` as a frame of ``engine`` (polars or duckdb), and the Excel row of row 0."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if engine == "polars":
        import polars as pl

        native: Any = pl.from_arrow(table)
    else:
        import duckdb

        native = duckdb.connect(config=_duckdb_config()).from_arrow(table)
    return native, frame.attrs["source"]["first_row_line"]


def scan(
    file: Path, engine: str, sep: str | None = None, header_row: int = 1, names: list[str] | None = None
) -> tuple[Any, int | None]:
    """A lazy scan of ``file`` on ``engine`` (polars or duckdb), and the spreadsheet line of row 0 (CSV only).

    Args:
        file: a CSV or Parquet file.
        engine: polars or duckdb.
        sep: the CSV separator; detected when None.
        header_row: the CSV line of the header (lines above it are skipped).
        names: the columns as written (``file_columns.names_as_written``), which the scan's are renamed to.

    Returns:
        ``(lazy frame, first row line)``. Raises ReadError when the engine cannot read the file.
    """
    parquet = read_format(file).name == "parquet"  # the lazy engines scan Parquet and CSV, nothing else
    skip = 0
    if not parquet:
        sep, skip = sniff_csv(file, sep)
        skip += header_row - 1
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


def _names_scanned(file: Path, parquet: bool, sep: str | None, header_row: int = 1) -> list[str]:
    """The columns as written, as a lazy engine reads the file (UTF-8, the separator and lines ``scan`` finds)."""
    if parquet:
        return names_as_written(file, True)
    found, skip = sniff_csv(file, sep)
    return names_as_written(file, False, found, skip + header_row - 1)


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
    unique: bool | None = None,
    known_ids: Any = None,
    length: int | None = None,
    keep: Any = None,
    max_failures: int = MAX_FAILURES,
    sep: str | None = None,
    sheet: str | int | None = None,
    header_row: int = 1,
    mostly: float | None = None,
    severity: Any = None,
) -> ValidationReport:
    """Check the id columns of an Excel sheet, a CSV or a Parquet file; big files are scanned lazily.

    Args:
        path: the file (``.xlsx`` and the other workbooks ``read_table`` reads, ``.parquet``/``.pq``, else CSV).
        columns: the id column or columns.
        engine: auto (by size and what is installed), pandas, polars or duckdb.
        kind: "lucid_id" or "uuid".
        normalize: check values once normalised.
        unique: report repeats after the first occurrence (None: as ``validate_lucid_ids`` decides).
        known_ids: ids known to exist.
        length: the id length.
        keep: columns to carry into the failures.
        max_failures: failing cells collected at most (counts stay exact).
        sep: the CSV separator; detected when None.
        sheet: a workbook's sheet (name or 0-based position); None: the first.
        header_row: the 1-based row of the header (Excel's row, or a CSV's line).
        mostly: pass when at least this share of cells is valid.
        severity: reason codes mapped to "warning" or "error".

    Returns:
        The ValidationReport; for Excel and CSV files its failures carry the spreadsheet ``line`` (Excel's row
        number; for CSV the line, the header being line 1 unless ``header_row`` says otherwise).
        Raises ReadError for a file that cannot be read, ConfigError for an unusable engine or columns.
    """
    file = check_file(path)
    sheet_file = read_format(file).name == "xlsx"
    chosen = choose_engine(file, "pandas" if sheet_file and engine == "auto" else engine)
    options: dict[str, Any] = dict(
        kind=kind, normalize=normalize, unique=unique, known_ids=known_ids, length=length, keep=keep,
        max_failures=max_failures, mostly=mostly, severity=severity,
    )  # fmt: skip
    if chosen == "pandas" or sheet_file or sheet is not None:  # a sheet is read whole, whatever the engine
        frame = read_table(file, sep=sep, sheet=sheet, header_row=header_row)
        frame = as_written(frame, "pandas", _names_read(file, frame))  # a CSV's columns as written (issue 18)
        if chosen == "pandas":
            return validate_lucid_ids(frame, columns, **options)
        native, first_line = _sheet_on(frame, chosen)
        read_sheet = frame.attrs["source"].get("sheet")
    else:
        parquet = read_format(file).name == "parquet"
        names = _names_scanned(file, parquet, sep, header_row)
        limits(chosen, names, [*(as_labels(columns) or []), *(as_labels(keep) or [])])
        native, first_line = scan(file, chosen, sep, header_row, names)
        read_sheet = None
    try:
        report = validate_lucid_ids(native, columns, **options)
    except Exception as exc:  # a lazy scan only reads the file here: its engine's errors mean an unreadable file
        if type(exc).__module__.split(".")[0] not in ("polars", "narwhals", "duckdb", "_duckdb"):
            raise
        raise _unreadable(file, chosen, parquet, exc) from exc
    report.source = str(file)
    report.sheet, report.first_row_line = read_sheet, first_line
    if first_line is not None and "line" not in report.failures:
        report.failures.insert(1, "line", report.failures["row"].astype("int64") + first_line)
    return report
