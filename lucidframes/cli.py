"""The ``lucidframes`` command, thin over the library.

Data goes to stdout or the named file; progress and messages to stderr. Exit codes: 0 success, 1 the data failed
a check, 2 a usage, configuration or connection error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from lucidframes._version import __version__
from lucidframes.errors import LucidError, LucidIDValidationError

__all__ = ["main"]

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _pages(text: str) -> range:
    """``A-B`` (inclusive) or ``N`` as a range of pages."""
    try:
        first, _, last = text.partition("-")
        start, stop = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"pages look like 2-5 or 3, not {text!r}") from None
    if start < 1 or stop < start:
        raise argparse.ArgumentTypeError(f"pages run from 1 upwards, low to high (got {text!r})")
    return range(start, stop + 1)


def _param(text: str) -> tuple[str, str]:
    """``key=value`` for a path parameter."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"parameters look like asset_type=images, not {text!r}")
    return key, value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="lucidframes", description="The Lucid Green API as DataFrames.")
    parser.add_argument("--version", action="version", version=f"lucidframes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = sub.add_parser("fetch", help="load an endpoint and write it as CSV, Parquet or JSON Lines")
    fetch.add_argument("endpoint", help="an endpoint name (see `lucidframes endpoints`)")
    fetch.add_argument("-o", "--output", default="-", help="output file (.csv, .parquet, .jsonl) or - for stdout")
    fetch.add_argument("--format", choices=["csv", "parquet", "jsonl"], help="output format (default: from -o)")
    group = fetch.add_mutually_exclusive_group()
    group.add_argument("--page", type=int, help="fetch only this page")
    group.add_argument("--pages", type=_pages, help="fetch only these pages, e.g. 2-5")
    fetch.add_argument("--param", type=_param, action="append", default=[], metavar="KEY=VALUE",
                       help="a path parameter, e.g. asset_type=images")  # fmt: skip
    fetch.add_argument("--workers", type=int, help="concurrent page fetches")
    fetch.add_argument("--sandbox", action="store_true", help="start the local sandbox and fetch from it")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")

    validate = sub.add_parser("validate", help="check the LucidID columns of a CSV or Parquet file")
    from lucidframes.cli_validate import add_validate_arguments

    add_validate_arguments(validate)

    sandbox = sub.add_parser("sandbox", help="run the local imitation of the API in the foreground", add_help=False)
    sandbox.add_argument("args", nargs=argparse.REMAINDER, help="sandbox options (lucidframes sandbox --help)")

    sub.add_parser("endpoints", help="list the endpoints lucidframes knows")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit code.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        # The sandbox parses its own options (it is imported only when asked for).
        from lucidframes.sandbox.cli import main as sandbox_main

        return sandbox_main(args_list[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        if args.command == "fetch":
            return _fetch(args)
        if args.command == "validate":
            from lucidframes.cli_validate import run_validate

            return run_validate(args)
        if args.command == "endpoints":
            return _endpoints()
    except LucidIDValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except LucidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_USAGE
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE  # pragma: no cover


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    """A Client from the environment, or on an in-process sandbox with ``--sandbox``."""
    from lucidframes.client import Client

    kwargs: dict[str, Any] = {"progress": not args.no_progress}
    if args.workers:
        kwargs["workers"] = args.workers
    if not args.sandbox:
        with Client(**kwargs) as client:
            yield client
        return
    from lucidframes.sandbox import serve

    with serve() as sb:
        print(f"sandbox running at {sb.url}", file=sys.stderr)
        with Client(sb.url, sb.client_id, sb.client_secret, **kwargs) as client:
            yield client


def _fetch(args: argparse.Namespace) -> int:
    """``lucidframes fetch``: load and export."""
    from lucidframes.export import export, format_for
    from lucidframes.loaders.endpoints import get_endpoint

    get_endpoint(args.endpoint)  # an unknown name fails before any connection is made
    fmt = format_for(args.output, args.format)
    with _client(args) as client:
        df = client.load(args.endpoint, page=args.page, pages=args.pages, **dict(args.param))
    export(df, args.output, fmt)
    info = df.attrs.get("lucidframes", {})
    where = "stdout" if args.output == "-" else args.output
    print(
        f"{len(df)} rows x {df.shape[1]} columns of {args.endpoint} -> {where} "
        f"({len(info.get('pages', []))} pages, {info.get('retries', 0)} retries, "
        f"{info.get('duplicates_dropped', 0)} duplicates dropped, waited {info.get('total_wait', 0.0):.1f}s)",
        file=sys.stderr,
    )
    return EXIT_OK


def _endpoints() -> int:
    """``lucidframes endpoints``: the registry as a table on stdout."""
    from lucidframes.loaders.endpoints import ENDPOINTS

    rows = [("NAME", "PRODUCT", "METHODS", "PAGINATED", "PATH", "DESCRIPTION")]
    for ep in ENDPOINTS.values():
        path = ep.list_path or ep.detail_path or ep.submit_path or ""
        rows.append((ep.name, ep.product, ",".join(ep.methods), "yes" if ep.paginated else "no", path, ep.description))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True)) + "  " + row[5])
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
