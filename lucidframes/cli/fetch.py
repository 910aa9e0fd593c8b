"""``lucidframes fetch ENDPOINT -o FILE``: load one endpoint and write it, with pre-flight checks and exit codes."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pandas as pd

from lucidframes.cli import common, logs
from lucidframes.cli.plan import add_plan_flag, print_plan
from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import APIError, ConfigError, NotFoundError
from lucidframes.io import formats
from lucidframes.io.export import check_writer, export, format_for
from lucidframes.pipelines.targets import split_target

__all__ = ["add_parser", "run"]

DESCRIPTION = """Load every page of a list endpoint (or the pages you choose) and write it as CSV, Parquet, JSON Lines
or a DuckDB table. Data goes to the file or stdout; messages go to stderr. The output is written atomically: a
temp file renamed into place, so a failed run never leaves half a file under the name. Before any request the
format, its writer library and the output folder are checked."""

EXAMPLES = [
    "lucidframes fetch products --sandbox -o products.csv",
    "lucidframes fetch assets_images -o images.parquet --checkpoint images.ckpt",
    "lucidframes fetch batches -o out.duckdb --table batches --log-format json",
]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``fetch`` on the subcommands.

    Args:
        sub: the subparsers action.

    Returns:
        The parser.
    """
    p = common.subcommand(
        sub,
        "fetch",
        "load an endpoint and write it as CSV, Parquet, JSON Lines or a DuckDB table",
        DESCRIPTION,
        EXAMPLES,
    )
    p.add_argument("endpoint", help="an endpoint name (see `lucidframes endpoints`)")
    common.add_output_options(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--page", type=int, metavar="N", help="fetch only this page")
    group.add_argument("--pages", type=common.parse_pages, metavar="A-B", help="fetch only these pages, e.g. 2-5")
    p.add_argument("--param", type=common.parse_param, action="append", default=[], metavar="KEY=VALUE",
                   help="a path or query parameter, e.g. asset_type=images (repeatable); assets_images names "
                        "the same as assets --param asset_type=images, as snapshot does")  # fmt: skip
    p.add_argument("--checkpoint", metavar="FILE",
                   help="keep fetched pages in FILE, so that a re-run after a failure or Ctrl-C continues")  # fmt: skip
    common.add_client_options(p)
    common.add_log_options(p)
    add_plan_flag(p)
    p.set_defaults(run=run)
    return p


def preflight(args: argparse.Namespace) -> tuple[Endpoint, str]:
    """Everything that can be checked before the first request: endpoint, parameters, format, writer, folder.

    Args:
        args: the parsed options.

    Returns:
        The endpoint and the output format.
    """
    endpoint, params = split_target(args.endpoint, dict(args.param))  # assets_images: assets, asset_type=images
    args.endpoint, args.param = endpoint, list(params.items())
    ep = get_endpoint(args.endpoint)
    if ep.list_path is None:
        if ep.detail_path:
            raise ConfigError(f"{ep.name} has no list to fetch: use lucidframes lookup {ep.name} FILE --column COL.")
        raise ConfigError(f"{ep.name} takes submissions only: submit it from Python with client.submit.")
    ep.format_path(ep.list_path, dict(args.param))
    fmt = format_for(args.output, args.format)
    check_writer(args.output, fmt, excel_safe=args.excel_safe)
    if args.table is not None and formats.get(fmt).batch:
        raise ConfigError(f"--table names a DuckDB table; {args.output} is written as {fmt}.")
    if args.checkpoint is not None:
        if args.page is not None or args.pages is not None:
            raise ConfigError("--checkpoint keeps a whole drain: leave out --page and --pages.")
        if not Path(args.checkpoint).parent.is_dir():
            raise ConfigError(f"The folder of --checkpoint {args.checkpoint} does not exist: create it first.")
    return ep, fmt


def run(args: argparse.Namespace) -> int:
    """Run ``lucidframes fetch``.

    Args:
        args: the parsed options.

    Returns:
        The exit code.
    """
    _, fmt = preflight(args)
    kwargs: dict[str, Any] = dict(args.param)
    if args.checkpoint is not None:
        kwargs["checkpoint"] = args.checkpoint
    with common.make_client(args) as client:
        if args.plan:
            return print_plan(client, args.endpoint, params=dict(args.param), log_format=args.log_format)
        try:
            df = client.load(args.endpoint, page=args.page, pages=args.pages, **kwargs)
        except NotFoundError as exc:
            if (args.page is None and args.pages is None) or exc.detail != "Invalid page.":
                raise
            df = _past_the_end(args, exc)
        except (APIError, KeyboardInterrupt) as exc:
            try:
                _write_partial(args, fmt, exc)
            except Exception as err:  # a full disk: the failure (or Ctrl-C) is still what the command reports
                logs.say(f"the rows fetched could not be written: {common.failure_line(err)}", "partial_failed", 30)
            raise
    _write(df, args, fmt)
    return _summary(df, args)


def _write(df: pd.DataFrame, args: argparse.Namespace, fmt: str, output: str | None = None) -> None:
    """Write the frame where ``-o`` says (DuckDB: the table)."""
    target = output or args.output
    named = not formats.get(fmt).batch  # a database of named tables
    table = (args.table or "_".join([args.endpoint, *(v for _, v in args.param)])) if named else None
    export(df, target, fmt, table=table, excel_safe=args.excel_safe)


def _write_partial(args: argparse.Namespace, fmt: str, exc: BaseException) -> None:
    """Write what a failed or interrupted drain fetched as ``OUT.partial`` (never to stdout, never over OUT)."""
    partial = getattr(exc, "partial", None)
    if not isinstance(partial, pd.DataFrame) or args.output == "-" or not len(partial):
        return
    path = args.output + ".partial"
    if not formats.get(fmt).batch:  # a table of the database under another name: the real table stays as it was
        export(partial, args.output, fmt, table=(args.table or args.endpoint) + "_partial")
        path = f"{args.output} (table {(args.table or args.endpoint)}_partial)"
    else:
        export(partial, path, fmt, excel_safe=args.excel_safe)
    exc.partial_file = path  # type: ignore[attr-defined]


def _past_the_end(args: argparse.Namespace, exc: NotFoundError) -> pd.DataFrame:
    """Pages asked for beyond the last: the library's error says how many there are; keep the ones that exist."""
    partial = exc.partial if exc.partial is not None else pd.DataFrame()
    if not len(partial):
        raise exc  # the same message as in Python (exit 2)
    got = partial.attrs.get("lucidframes", {}).get("pages", [])
    logs.say(f"{exc.message} Writing the pages that exist ({_span(got)}).", "pages_past_the_end", 30,
             endpoint=args.endpoint)  # fmt: skip
    return partial


def _span(pages: list[int]) -> str:
    if not pages:
        return "none"
    return f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}-{pages[-1]}"


def _summary(df: pd.DataFrame, args: argparse.Namespace) -> int:
    """The summary line, and exit 1 when the data failed a check (the file is written all the same)."""
    info = df.attrs.get("lucidframes", {})
    where = "stdout" if args.output == "-" else args.output
    logs.say(
        f"{len(df)} rows x {df.shape[1]} columns of {args.endpoint} -> {where} "
        f"({len(info.get('pages', []))} pages, {info.get('retries', 0)} retries, "
        f"{info.get('duplicates_dropped', 0)} duplicates dropped, waited {info.get('total_wait', 0.0):.1f}s)",
        "fetch_done",
        endpoint=args.endpoint,
        rows=len(df),
        pages=len(info.get("pages", [])),
        retries=info.get("retries", 0),
        wait=info.get("total_wait", 0.0),
    )
    problems = []
    drift = info.get("drift") or {}
    if drift.get("unresolved"):
        problems.append(f"the data changed during the drain and did not settle ({drift['unresolved']})")
    count = info.get("count")
    if info.get("complete") and count is not None and len(df) != count:
        problems.append(f"{len(df)} rows after dropping duplicates, but the server announced {count}")
    for problem in problems:
        logs.say(f"{args.endpoint}: {problem}; the file is written, check it before use", "check_failed", 40)
    return common.EXIT_DATA if problems else common.EXIT_OK


def resume_hint(args: argparse.Namespace) -> str:
    """How to continue an interrupted or failed fetch.

    Args:
        args: the parsed options.

    Returns:
        One line.
    """
    if getattr(args, "checkpoint", None):
        return f"to continue, run the same command again: the pages fetched so far are kept in {args.checkpoint}"
    params = "".join(f" --param {k}={v}" for k, v in args.param)
    checkpoint = os.path.splitext(args.output)[0] + ".ckpt" if args.output != "-" else f"{args.endpoint}.ckpt"
    command = f"lucidframes fetch {args.endpoint} -o {args.output}{params} --checkpoint {checkpoint}"
    return f"to continue next time without fetching again, keep pages in a checkpoint: {command}"
