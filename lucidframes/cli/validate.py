"""``lucidframes validate FILE --column COL``: check the id columns of a sheet, thin over ``lf.validate_file``.

The summary goes to stderr; ``--report`` writes the failures to a CSV, JSON or HTML file (``-`` for CSV on
stdout); ``--normalize --output fixed.csv`` writes the normalised sheet. Big files are scanned lazily
(``--engine auto|pandas|polars|duckdb``). Hints name flags (``--normalize``), not Python arguments.
Exit codes: 0 every cell passed, 1 some cell failed, 2 a usage error or a file that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from lucidframes.cli.logs import stderr_stream
from lucidframes.errors import LucidError
from lucidframes.io.atomic import atomic_write
from lucidframes.io.csv_text import write_csv
from lucidframes.lucidid import KINDS, MAX_FAILURES, ValidationReport
from lucidframes.lucidid.cells import for_cli, is_missing, visible
from lucidframes.lucidid.files import ENGINES, validate_file

__all__ = ["DESCRIPTION", "EXAMPLES", "EXIT_CODES", "add_validate_arguments", "run_validate"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DESCRIPTION = """Check the LucidID (or uuid) columns of a CSV or Parquet file before anything is submitted: length,
alphabet, whitespace, scan URLs, duplicates. A summary goes to stderr; --report writes every failing cell."""
EXAMPLES = [
    "lucidframes validate data/submission_sheet.csv --column lucid_id",
    "lucidframes validate sheet.csv -c lucid_id --normalize --report failures.csv",
    "lucidframes validate batches.parquet -c uuid --kind uuid",
]
EXIT_CODES = """exit codes:
  0    every cell passed
  1    some cell failed the check
  2    usage error, or a file that cannot be read"""
_REPORT_SUFFIXES = (".csv", ".json", ".html", ".htm")
_SHOW = 10  # failures listed on stderr


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a length is a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a length is at least 1, not {value}")
    return value


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``lucidframes validate`` to ``parser``.

    Args:
        parser: the (sub)parser of the validate command.

    Returns:
        None.
    """
    parser.add_argument("file", metavar="FILE", help="a CSV (also as saved by Excel) or Parquet file")
    parser.add_argument("-c", "--column", action="append", required=True, metavar="COL",
                        help="a column of ids to check (repeat for more; repeats are found across them)")  # fmt: skip
    parser.add_argument("--kind", choices=KINDS, default="lucid_id",
                        help="lucid_id (20 characters by default) or uuid (22-character shortuuid)")  # fmt: skip
    parser.add_argument("--normalize", action="store_true",
                        help="check the ids after removing whitespace, invisible characters and scan URLs")  # fmt: skip
    parser.add_argument("--length", type=_positive, metavar="N",
                        help="the id length (default 20 for lucid_id, or $LUCID_ID_LENGTH; 22 for uuid)")  # fmt: skip
    parser.add_argument("--allow-duplicates", action="store_true", help="do not report repeated ids")
    parser.add_argument("--report", metavar="OUT",
                        help="write the failures to OUT.csv, OUT.json or OUT.html (- for CSV on stdout)")  # fmt: skip
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto (by file size and what is installed), pandas, polars or duckdb "
                             "(polars and duckdb scan big files lazily, with bounded memory)")  # fmt: skip
    parser.add_argument("--output", metavar="FIXED.csv",
                        help="with --normalize: write the sheet with the id columns normalised (CSV)")  # fmt: skip
    parser.add_argument("--max-failures", type=_positive, default=MAX_FAILURES, metavar="N",
                        help=f"failing cells listed at most (counts stay exact; default {MAX_FAILURES:,})")  # fmt: skip


def run_validate(args: argparse.Namespace) -> int:
    """Run ``lucidframes validate`` with parsed arguments.

    Args:
        args: the namespace from a parser set up by ``add_validate_arguments``.

    Returns:
        0 when every cell passed, 1 when some failed, 2 on a usage error or an unreadable file.
    """
    out = args.report
    if out is not None and out != "-" and Path(out).suffix.lower() not in _REPORT_SUFFIXES:
        return _usage(f"--report writes .csv, .json or .html files (or - for CSV on stdout), not {out!r}")
    if args.output is not None and not args.normalize:
        return _usage("--output writes the normalised sheet: add --normalize")
    if args.output is not None and args.engine not in ("auto", "pandas"):
        return _usage("--output writes the whole sheet, which needs --engine pandas (or auto)")
    try:
        report = validate_file(
            args.file,
            columns=args.column,
            engine="pandas" if args.output is not None else args.engine,
            kind=args.kind,
            normalize=args.normalize,
            unique=not args.allow_duplicates,
            length=args.length,
            max_failures=args.max_failures,
        )
    except (LucidError, ValueError, KeyError) as exc:  # unreadable files, missing columns, a bad LUCID_ID_LENGTH
        return _usage(str(exc.args[0]) if exc.args else str(exc))
    _word_for_cli(report)
    _summary(report, args.file, stderr_stream("validate_summary"))
    try:
        if out is not None:
            _write_report(report, out)
        if args.output is not None:
            _write_atomic(Path(args.output), lambda f: write_csv(report.normalized, f))
            print(f"normalised sheet: {args.output}", file=stderr_stream("validate_output"))
    except OSError as exc:
        return _usage(f"cannot write {exc.filename or out}: {exc.strerror or exc}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _word_for_cli(report: ValidationReport) -> None:
    """Hints and notes that name flags (--normalize) rather than Python arguments (normalize=True)."""
    report.failures["hint"] = [for_cli(h) if isinstance(h, str) else h for h in report.failures["hint"]]
    report.notes = [for_cli(n) for n in report.notes]


def _write_atomic(path: Path, write: Any) -> None:
    """Write through ``atomic_write`` (temp file, fsync, rename): readers never see half a file."""
    with atomic_write(path, encoding="utf-8", errors="backslashreplace") as f:
        write(f)


def _usage(message: str) -> int:
    print(f"lucidframes validate: error: {message}", file=stderr_stream("usage_error"))
    return EXIT_USAGE


def _write_report(report: ValidationReport, out: str) -> None:
    if out == "-":
        write_csv(report.failures, sys.stdout)
    elif out.lower().endswith(".json"):
        _write_atomic(Path(out), lambda f: f.write(report.to_json() + "\n"))
    elif out.lower().endswith((".html", ".htm")):
        _write_atomic(Path(out), lambda f: f.write(report.to_html()))
    else:  # errors="backslashreplace": a lone surrogate in a cell must not stop the report
        _write_atomic(Path(out), lambda f: write_csv(report.failures, f))
    if out != "-":
        print(f"report: {out}", file=stderr_stream("validate_report"))


def _summary(report: ValidationReport, file: str, stream: TextIO) -> None:
    """Counts per column and reason, notes, and the first failures, for people reading a terminal."""
    columns = ", ".join(map(str, report.columns))
    if report.ok:
        print(f"{file}: {report.n_rows} rows, {columns}: every {report.kind} passed (length {report.length}; "
              f"{report.engine})", file=stream)  # fmt: skip
        return
    rows = "" if report.n_failed_rows is None else f" in {report.n_failed_rows}"
    print(
        f"{file}: {report.n_failed_cells} failing cell(s){rows} of {report.n_rows} rows "
        f"({columns}; {report.kind}, length {report.length}; {report.engine})",
        file=stream,
    )
    for column, reason, count in report.summary.itertuples(index=False):
        print(f"  {column}: {reason} {count}", file=stream)
    for note in report.notes:
        print(f"note: {note}", file=stream)
    has_line = "line" in report.failures.columns
    if has_line:
        print("  (line: the line in a spreadsheet, the header being line 1; row: counted from 0)", file=stream)
    for record in report.failures.head(_SHOW).to_dict("records"):
        value = record["value"]
        shown = visible(value, 40) if isinstance(value, str) else "(empty)" if is_missing(value) else repr(value)
        where = f"line {record['line']} (row {record['row']})" if has_line else f"row {record['row']}"
        hint = f" (hint: {record['hint']})" if record["hint"] else ""
        print(f"  {where} {record['column']}: {record['reason']}: {shown!s}: {record['detail']}{hint}", file=stream)
    if report.n_failed_cells > _SHOW:
        capped = f" (the first {len(report.failures):,} are listed: --max-failures N)" if report.capped else ""
        print(f"  ... and {report.n_failed_cells - _SHOW} more (--report FILE writes them){capped}", file=stream)
    if report.changes is not None and len(report.changes):
        print(f"normalised {len(report.changes)} cell(s) before checking", file=stream)
