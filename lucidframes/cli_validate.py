"""``lucidframes validate FILE --column COL``: check the id columns of a sheet, thin over ``validate_lucid_ids``.

The summary goes to stderr; ``--report`` writes every failure to a CSV or JSON file (``-`` for CSV on stdout).
Exit codes: 0 every cell passed, 1 some cell failed, 2 a usage error or a file that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from lucidframes.errors import LucidError
from lucidframes.lucidid import KINDS, ValidationReport, validate_lucid_ids
from lucidframes.lucidid.cells import is_missing, visible
from lucidframes.readers import ReadError, read_table

__all__ = ["add_validate_arguments", "run_validate"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_REPORT_SUFFIXES = (".csv", ".json")
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
                        help="write every failure to OUT.csv or OUT.json (- for CSV on stdout)")  # fmt: skip


def run_validate(args: argparse.Namespace) -> int:
    """Run ``lucidframes validate`` with parsed arguments.

    Args:
        args: the namespace from a parser set up by ``add_validate_arguments``.

    Returns:
        0 when every cell passed, 1 when some failed, 2 on a usage error or an unreadable file.
    """
    out = args.report
    if out is not None and out != "-" and Path(out).suffix.lower() not in _REPORT_SUFFIXES:
        return _usage(f"--report writes .csv or .json files (or - for CSV on stdout), not {out!r}")
    try:
        frame = read_table(args.file)
    except ReadError as exc:
        return _usage(str(exc))
    missing = [c for c in args.column if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns))
        return _usage(f"{args.file}: no column {', '.join(missing)} (the file has: {have})")
    try:
        report = validate_lucid_ids(
            frame,
            columns=args.column,
            kind=args.kind,
            normalize=args.normalize,
            unique=not args.allow_duplicates,
            length=args.length,
        )
    except (LucidError, ValueError, KeyError) as exc:  # a bad LUCID_ID_LENGTH, repeated column names
        return _usage(str(exc.args[0]) if exc.args else str(exc))
    from_csv = frame.attrs.get("source", {}).get("format") == "csv"
    _summary(report, args.file, sys.stderr, from_csv=from_csv)
    if out is not None:
        try:
            _write_report(report, out)
        except OSError as exc:
            return _usage(f"cannot write {out}: {exc.strerror or exc}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _usage(message: str) -> int:
    print(f"lucidframes validate: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _write_report(report: ValidationReport, out: str) -> None:
    if out == "-":
        report.failures.to_csv(sys.stdout, index=False)
    elif out.lower().endswith(".json"):
        Path(out).write_text(report.to_json() + "\n", encoding="utf-8")
    else:  # errors="backslashreplace": a lone surrogate in a cell must not stop the report
        report.failures.to_csv(out, index=False, encoding="utf-8", errors="backslashreplace")
    if out != "-":
        print(f"report: {out}", file=sys.stderr)


def _summary(report: ValidationReport, file: str, stream: TextIO, *, from_csv: bool) -> None:
    """Counts per column and reason, notes, and the first failures, for people reading a terminal."""
    columns = ", ".join(map(str, report.columns))
    if report.ok:
        print(f"{file}: {report.n_rows} rows, {columns}: every {report.kind} passed (length {report.length})",
              file=stream)  # fmt: skip
        return
    print(
        f"{file}: {len(report.failures)} failing cell(s) in {report.n_failed_rows} of {report.n_rows} rows "
        f"({columns}; {report.kind}, length {report.length})",
        file=stream,
    )
    for column, reason, count in report.summary.itertuples(index=False):
        print(f"  {column}: {reason} {count}", file=stream)
    for note in report.notes:
        print(f"note: {note}", file=stream)
    if from_csv:
        print("  (rows count from 0 below the header: in a spreadsheet, row N is line N + 2)", file=stream)
    for row, column, value, reason, detail, hint in report.failures.head(_SHOW).itertuples(index=False):
        shown = visible(value, 40) if isinstance(value, str) else "(empty)" if is_missing(value) else repr(value)
        print(f"  row {row} {column}: {reason}: {shown!s}: {detail}" + (f" (hint: {hint})" if hint else ""),
              file=stream)  # fmt: skip
    if len(report.failures) > _SHOW:
        print(f"  ... and {len(report.failures) - _SHOW} more (--report FILE writes them all)", file=stream)
    if report.changes is not None and len(report.changes):
        print(f"normalised {len(report.changes)} cell(s) before checking", file=stream)
