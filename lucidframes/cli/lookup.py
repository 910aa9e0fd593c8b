"""``lucidframes lookup ENDPOINT FILE --column COL -o OUT``: the ids of a column of a sheet, looked up."""

from __future__ import annotations

import argparse
from typing import Any

from lucidframes.cli import common, logs
from lucidframes.cli.plan import add_plan_flag, print_plan
from lucidframes.endpoints import get_endpoint
from lucidframes.errors import ConfigError, LucidIDValidationError
from lucidframes.io import formats
from lucidframes.io.export import check_writer, export, format_for
from lucidframes.io.read import read_table
from lucidframes.lucidid import validate_lucid_ids
from lucidframes.lucidid.wording import for_cli
from lucidframes.pipelines.targets import split_target

__all__ = ["add_parser", "run"]

DESCRIPTION = """Read the ids in a column of an Excel sheet, a CSV or a Parquet file and fetch each one from a
single-resource endpoint (items by LucidID, products, batches, collections, ...), into one table with a _status
column (ok, not_found, ...).
LucidIDs are checked locally first: if one is malformed, nothing is sent and the command exits 1."""

EXAMPLES = [
    "lucidframes lookup items data/submission_sheet.csv --column lucid_id -o items.csv",
    "lucidframes lookup items submission.xlsx --sheet March --header-row 2 -c lucid_id -o items.xlsx",
    "lucidframes lookup products ids.parquet --column product_uuid -o products.parquet",
    "lucidframes lookup batches ids.csv --column batch_uuid -o out.duckdb --table batches",
]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``lookup`` on the subcommands.

    Args:
        sub: the subparsers action.

    Returns:
        The parser.
    """
    p = common.subcommand(
        sub, "lookup", "look up the ids of a column of a sheet (LucidIDs checked first)", DESCRIPTION, EXAMPLES,
        environment=common.ENVIRONMENT + "\n" + common.ID_LENGTH,
    )  # fmt: skip
    p.add_argument("endpoint", help="a single-resource endpoint (items, products, batches, collections, ...)")
    p.add_argument("file", metavar="FILE", help="an Excel workbook, a CSV or a Parquet file holding the ids")
    p.add_argument("-c", "--column", required=True, metavar="COL", help="the column of ids")
    common.add_sheet_options(p)
    common.add_output_options(p)
    p.add_argument("--no-validate", action="store_true",
                   help="send the ids without checking the LucidID format first (not recommended)")  # fmt: skip
    common.add_client_options(p)
    common.add_log_options(p)
    add_plan_flag(p)
    p.set_defaults(run=run)
    return p


def _check_sheet(sheet: Any, args: argparse.Namespace) -> None:
    """The guard, on the sheet itself: the counts ``validate`` gives and the rows the sheet shows; nothing sent."""
    # Empty cells are skipped (not looked up) and repeats are looked up once: neither fails the check here.
    report = validate_lucid_ids(sheet, [args.column], unique=False, severity={"missing": "warning"})
    if report.ok:
        return
    report.reword(for_cli)
    skipped = f"{report.n_warnings} empty cell(s) skipped" if report.n_warnings else ""
    fix = f"lucidframes validate {args.file} -c {args.column} --fix -o FIXED fixes what it can"
    raise LucidIDValidationError(report.refusal(f"ids in {args.column}", skipped) + f"\n  {fix}", report=report)


def run(args: argparse.Namespace) -> int:
    """Run ``lucidframes lookup``.

    Args:
        args: the parsed options.

    Returns:
        The exit code (1 when a LucidID fails the local check: nothing is sent).
    """
    name, params = split_target(args.endpoint, {})  # assets_images: assets, asset_type=images (as snapshot names it)
    ep = get_endpoint(name)
    if ep.detail_path is None:
        raise ConfigError(f"{ep.name} has no look-up by id: use lucidframes fetch {ep.name}.")
    fmt = format_for(args.output, args.format)
    check_writer(args.output, fmt, excel_safe=args.excel_safe)
    database = not formats.get(fmt).batch  # a database of named tables (DuckDB)
    if args.table is not None and not database:
        raise ConfigError(f"--table names a DuckDB table; {args.output} is written as {fmt}.")
    sheet = read_table(args.file, sheet=args.sheet, header_row=args.header_row)
    if args.column not in sheet.columns:
        have = ", ".join(map(str, sheet.columns))
        raise ConfigError(f"{args.file} has no column {args.column!r} (it has: {have}).")
    values = sheet[args.column]
    ids = [str(v) for v in values[values.notna() & (values.astype(str).str.strip() != "")].tolist()]
    if not ids:
        raise ConfigError(f"The column {args.column!r} of {args.file} holds no ids.")
    if not args.no_validate and ep.id_kind == "lucid_id":
        _check_sheet(sheet, args)
    with common.make_client(args) as client:
        if args.plan:
            return print_plan(client, name, ids=ids, log_format=args.log_format, params=params)
        df = client.lookup(name, ids, validate=not args.no_validate, **params)
    export(df, args.output, fmt, table=(args.table or args.endpoint) if database else None, excel_safe=args.excel_safe)
    statuses = df.attrs.get("lucidframes", {}).get("statuses", {})
    where = "stdout" if args.output == "-" else args.output
    shown = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    logs.say(f"{len(ids)} ids of {args.column} -> {len(df)} rows of {args.endpoint} -> {where} ({shown})",
             "lookup_done", endpoint=args.endpoint, ids=len(ids), statuses=statuses)  # fmt: skip
    return common.EXIT_OK
