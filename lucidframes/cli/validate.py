"""``lucidframes validate FILE --column COL``: check the id columns of a sheet, thin over ``lf.validate_file``.

The summary goes to stderr; ``--report`` writes the failures to a CSV, JSON or HTML file (``-`` for CSV on
stdout), or a workbook (``.xlsx``: ``report.to_excel``); ``--normalize --output fixed.csv`` writes the normalised
sheet, ``--fix -o fixed.xlsx`` the fixed one (``report.apply_fixes``) with its change log beside it, and then the
exit code is the fixed sheet's. Big files are scanned lazily (``--engine auto|pandas|polars|duckdb``). Hints name
flags (``--normalize``), not Python arguments.
Exit codes: 0 every cell passed, 1 some cell failed, 2 a usage error or a file that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from lucidframes.cli.common import add_sheet_options
from lucidframes.cli.logs import stderr_stream
from lucidframes.errors import LucidError
from lucidframes.io.atomic import atomic_write
from lucidframes.io.csv_text import write_csv
from lucidframes.io.export import export
from lucidframes.lucidid import KINDS, MAX_FAILURES, REASONS, ValidationReport, validate_lucid_ids
from lucidframes.lucidid.cells import is_missing
from lucidframes.lucidid.files import ENGINES, validate_file
from lucidframes.lucidid.wording import for_cli, visible

__all__ = ["DESCRIPTION", "EXAMPLES", "EXIT_CODES", "add_validate_arguments", "run_validate"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DESCRIPTION = """Check the LucidID (or uuid) columns of an Excel sheet, a CSV or a Parquet file before anything is
submitted: length, alphabet, whitespace, scan URLs, duplicates. A summary goes to stderr (with the row numbers Excel
shows); --report writes every failing cell (report.xlsx: the sheet with them marked); --fix -o fixed.xlsx fixes
what the hints point to and writes a change log beside it."""
EXAMPLES = [
    "lucidframes validate submission.xlsx --column lucid_id --sheet March --header-row 2",
    "lucidframes validate submission.xlsx -c lucid_id --report report.xlsx --mostly 0.99 --warn whitespace",
    "lucidframes validate submission.xlsx -c lucid_id --fix -o fixed.xlsx",
    "lucidframes validate data/submission_sheet.csv --column lucid_id",
    "lucidframes validate sheet.csv -c lucid_id --normalize --report failures.csv",
    "lucidframes validate batches.parquet -c uuid --kind uuid",
]
EXIT_CODES = """exit codes:
  0    every cell passed
  1    some cell failed the check
  2    usage error, or a file that cannot be read"""
_REPORT_SUFFIXES = (".csv", ".json", ".html", ".htm", ".xlsx")
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
    parser.add_argument(
        "file", metavar="FILE", help="an Excel workbook (.xlsx, .xls, .ods, ...), a CSV or a Parquet file"
    )
    add_sheet_options(parser)
    parser.add_argument("-c", "--column", action="append", required=True, metavar="COL",
                        help="a column of ids to check (repeat for more; repeats are found across them)")  # fmt: skip
    parser.add_argument("--kind", choices=KINDS, default="lucid_id",
                        help="lucid_id (20 characters by default) or uuid (22-character shortuuid)")  # fmt: skip
    parser.add_argument("--normalize", action="store_true",
                        help="check the ids after removing whitespace, invisible characters and scan URLs")  # fmt: skip
    parser.add_argument("--length", type=_positive, metavar="N",
                        help="the id length (default 20 for lucid_id, or $LUCID_ID_LENGTH; 22 for uuid)")  # fmt: skip
    repeats = parser.add_mutually_exclusive_group()
    repeats.add_argument("--allow-duplicates", action="store_true", help="do not report repeated ids")
    repeats.add_argument("--unique", action="store_true",
                         help="report repeated ids as duplicates whatever the column (by default: LucidIDs always, "
                              "uuids only in a column named uuid, the row's own id)")  # fmt: skip
    parser.add_argument("--mostly", type=_share, metavar="SHARE",
                        help="pass (exit 0) when at least this share of cells is valid, e.g. 0.99")  # fmt: skip
    parser.add_argument("--warn", action="append", choices=REASONS, default=[], metavar="REASON",
                        help="report REASON as a warning that does not fail the check (repeatable; e.g. whitespace, "
                             "url_wrapped, which --fix and --normalize remove)")  # fmt: skip
    parser.add_argument("--report", metavar="OUT",
                        help="write the failures to OUT.csv, OUT.json or OUT.html, or the sheet with its failing "
                             "cells marked, a summary and the failures to OUT.xlsx (- for CSV on stdout)")  # fmt: skip
    parser.add_argument("--fix", action="store_true",
                        help="apply the fixes the hints point to (whitespace, scan URLs, unambiguous lookalikes) and "
                             "write the fixed sheet to --output, a change log beside it (OUT.changes.EXT)")  # fmt: skip
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto (by file size and what is installed), pandas, polars or duckdb "
                             "(polars and duckdb scan big files lazily, with bounded memory)")  # fmt: skip
    parser.add_argument("-o", "--output", metavar="FIXED",
                        help="with --fix, or --normalize: write the fixed (or normalised) sheet to FIXED.xlsx, "
                             ".csv or .parquet")  # fmt: skip
    parser.add_argument("--max-failures", type=_positive, default=MAX_FAILURES, metavar="N",
                        help=f"failing cells listed at most (counts stay exact; default {MAX_FAILURES:,})")  # fmt: skip


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a share is a number from 0 to 1 (0.99), not {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a share is from 0 to 1 (0.99 for 99%), not {text}")
    return value


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The check's options from the command line (the same for the sheet and, with --fix, the fixed sheet)."""
    unique = False if args.allow_duplicates else True if args.unique else None
    return dict(
        kind=args.kind, normalize=args.normalize, unique=unique, length=args.length, max_failures=args.max_failures,
        mostly=args.mostly, severity=dict.fromkeys(args.warn, "warning"),
    )  # fmt: skip


def run_validate(args: argparse.Namespace) -> int:
    """Run ``lucidframes validate`` with parsed arguments.

    Args:
        args: the namespace from a parser set up by ``add_validate_arguments``.

    Returns:
        0 when every cell passed, 1 when some failed, 2 on a usage error or an unreadable file.
    """
    problem = _argument_error(args)
    if problem is not None:
        return _usage(problem)
    try:
        report = validate_file(
            args.file,
            columns=args.column,
            engine="pandas" if args.output is not None else args.engine,
            sheet=args.sheet,
            header_row=args.header_row,
            **_options(args),
        )
    except (LucidError, ValueError, KeyError) as exc:  # unreadable files, missing columns, a bad LUCID_ID_LENGTH
        return _usage(str(exc.args[0]) if exc.args else str(exc))
    _word_for_cli(report)
    _summary(report, args.file, stderr_stream("validate_summary"))
    try:
        _write_outputs(report, args)
        if args.fix:
            return _fix(report, args)
    except OSError as exc:
        return _usage(f"cannot write {exc.filename or args.report}: {exc.strerror or exc}")
    except LucidError as exc:  # a writer's extra missing, an output Excel cannot hold
        return _usage(str(exc))
    return EXIT_OK if report.ok else EXIT_FAILED


def _fix(report: ValidationReport, args: argparse.Namespace) -> int:
    """Apply the fixes, write the fixed sheet and its change log, check the fixed sheet: its result is the exit code."""
    stream = stderr_stream("validate_fix")
    fixed, changes = report.apply_fixes()
    out = Path(args.output)
    log_path = out.with_name(f"{out.stem}.changes{out.suffix}")
    export(fixed, out)
    export(changes, log_path)
    applied = int(changes["applied"].sum()) if len(changes) else 0
    skipped = f"; {len(changes) - applied} not applied (the change log says why)" if len(changes) > applied else ""
    print(f"fixed {applied} cell(s){skipped}: {out} (change log: {log_path})", file=stream)
    if report.capped:
        print("  only the listed failures were fixed: --max-failures N lists more", file=stream)
    after = validate_lucid_ids(fixed, args.column, **_options(args))
    print(f"after the fixes: {after.verdict()}, {after.n_failed_cells} failing cell(s) left", file=stream)
    return EXIT_OK if after.ok else EXIT_FAILED


def _argument_error(args: argparse.Namespace) -> str | None:
    """What is wrong with a combination of options that argparse does not check; None when nothing is."""
    out = args.report
    if out is not None and out != "-" and Path(out).suffix.lower() not in _REPORT_SUFFIXES:
        return f"--report writes .csv, .json or .html files, or an .xlsx workbook (- for CSV on stdout), not {out!r}"
    if args.output is not None and not (args.normalize or args.fix):
        return "--output writes the normalised or fixed sheet: add --normalize, or --fix"
    if args.fix and args.output is None:
        return "--fix writes the fixed sheet: name it with -o FIXED.xlsx (or .csv, .parquet)"
    if args.output is not None and args.engine not in ("auto", "pandas"):
        return "--output writes the whole sheet, which needs --engine pandas (or auto)"
    return None


def _write_outputs(report: ValidationReport, args: argparse.Namespace) -> None:
    """The failures to ``--report`` and the normalised sheet to ``--output``, when asked for."""
    if args.report is not None:
        _write_report(report, args.report)
    if args.output is not None and not args.fix:
        export(report.normalized, args.output)
        print(f"normalised sheet: {args.output}", file=stderr_stream("validate_output"))


def _word_for_cli(report: ValidationReport) -> None:
    """Hints and notes that name flags (--normalize) rather than Python arguments (normalize=True)."""
    report.reword(for_cli)


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
    elif out.lower().endswith(".xlsx"):
        report.to_excel(out)
    else:  # errors="backslashreplace": a lone surrogate in a cell must not stop the report
        _write_atomic(Path(out), lambda f: write_csv(report.failures, f))
    if out != "-":
        print(f"report: {out}", file=stderr_stream("validate_report"))


def _line_means(report: ValidationReport) -> str:
    """What the ``line`` of a failure is: Excel's row number in a sheet, or a CSV's line."""
    return f"the row number Excel shows in sheet {report.sheet!r}" if report.sheet else "the line in a spreadsheet"


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
        print(f"  (line: {_line_means(report)}; row: counted from 0)", file=stream)
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
