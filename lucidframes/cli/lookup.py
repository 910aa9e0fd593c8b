"""``lucidframes lookup ENDPOINT FILE --column COL -o OUT``: the ids of a CSV or Parquet column, looked up."""

from __future__ import annotations

import argparse
from typing import Any

from lucidframes.cli import common, logs
from lucidframes.cli.plan import add_plan_flag, print_plan
from lucidframes.endpoints import get_endpoint
from lucidframes.errors import ConfigError
from lucidframes.io import formats
from lucidframes.io.export import check_writer, export, format_for
from lucidframes.io.read import read_table

__all__ = ["add_parser", "run"]

DESCRIPTION = """Read the ids in a column of a CSV or Parquet file and fetch each one from a single-resource endpoint
(items by LucidID, products, batches, collections, ...), into one table with a _status column (ok, not_found, ...).
LucidIDs are checked locally first: if one is malformed, nothing is sent and the command exits 1."""

EXAMPLES = [
    "lucidframes lookup items data/submission_sheet.csv --column lucid_id -o items.csv",
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
        sub, "lookup", "look up the ids of a CSV or Parquet column (LucidIDs checked first)", DESCRIPTION, EXAMPLES
    )
    p.add_argument("endpoint", help="a single-resource endpoint (items, products, batches, collections, ...)")
    p.add_argument("file", metavar="FILE", help="a CSV or Parquet file holding the ids")
    p.add_argument("-c", "--column", required=True, metavar="COL", help="the column of ids")
    common.add_output_options(p)
    p.add_argument("--no-validate", action="store_true",
                   help="send the ids without checking the LucidID format first (not recommended)")  # fmt: skip
    common.add_client_options(p)
    common.add_log_options(p)
    add_plan_flag(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``lucidframes lookup``.

    Args:
        args: the parsed options.

    Returns:
        The exit code (1 when a LucidID fails the local check: nothing is sent).
    """
    ep = get_endpoint(args.endpoint)
    if ep.detail_path is None:
        raise ConfigError(f"{ep.name} has no look-up by id: use lucidframes fetch {ep.name}.")
    fmt = format_for(args.output, args.format)
    check_writer(args.output, fmt, excel_safe=args.excel_safe)
    database = not formats.get(fmt).batch  # a database of named tables (DuckDB)
    if args.table is not None and not database:
        raise ConfigError(f"--table names a DuckDB table; {args.output} is written as {fmt}.")
    sheet = read_table(args.file)
    if args.column not in sheet.columns:
        have = ", ".join(map(str, sheet.columns))
        raise ConfigError(f"{args.file} has no column {args.column!r} (it has: {have}).")
    values = sheet[args.column]
    ids = [str(v) for v in values[values.notna() & (values.astype(str).str.strip() != "")].tolist()]
    if not ids:
        raise ConfigError(f"The column {args.column!r} of {args.file} holds no ids.")
    with common.make_client(args) as client:
        if args.plan:
            return print_plan(client, args.endpoint, ids=ids, log_format=args.log_format)
        df = client.lookup(args.endpoint, ids, validate=not args.no_validate)
    export(df, args.output, fmt, table=(args.table or args.endpoint) if database else None, excel_safe=args.excel_safe)
    statuses = df.attrs.get("lucidframes", {}).get("statuses", {})
    where = "stdout" if args.output == "-" else args.output
    shown = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    logs.say(f"{len(ids)} ids of {args.column} -> {len(df)} rows of {args.endpoint} -> {where} ({shown})",
             "lookup_done", endpoint=args.endpoint, ids=len(ids), statuses=statuses)  # fmt: skip
    return common.EXIT_OK
