"""``lucidframes sandbox``: the local imitation of the API, in the foreground (its options are the sandbox's own)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from lucidframes.cli import common, logs

__all__ = ["add_parser", "run_sandbox"]

EXAMPLES = [
    "lucidframes sandbox                      # prints its URL, credentials and the export line",
    "lucidframes sandbox --port 0 --latency 0.05 --rate-limit source=60/60",
    "lucidframes sandbox --fault /api/v1.5/products/:503:2 --products 5000",
]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``sandbox`` on the subcommands (for the command list; it parses its own options).

    Args:
        sub: the subparsers action.

    Returns:
        The parser.
    """
    p: argparse.ArgumentParser = sub.add_parser(
        "sandbox", help="run the local imitation of the API in the foreground", add_help=False
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help="sandbox options (lucidframes sandbox --help)")
    return p


def _parser() -> argparse.ArgumentParser:
    """The sandbox's own parser, with the epilog and message options every command has."""
    from lucidframes.sandbox.cli import parser

    p = parser()
    p.epilog = common.epilog(EXAMPLES, exit_codes=False, environment=None) + (
        "\n\nIt reads no LUCID_* variable: it prints the export lines that set LUCID_BASE_URL, LUCID_CLIENT_ID and\n"
        "LUCID_CLIENT_SECRET, for the other commands to use the sandbox."
    )
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    common.add_log_options(p)
    return p


def run_sandbox(argv: Sequence[str]) -> int:
    """Run ``lucidframes sandbox`` with its own options (imported only now: the core never imports the sandbox).

    Args:
        argv: the arguments after ``sandbox``.

    Returns:
        The exit code.
    """
    argv = list(argv)
    if any(a in ("-h", "--help") for a in argv):
        _parser().print_help()
        return common.EXIT_OK
    ours = argparse.ArgumentParser(add_help=False)
    common.add_log_options(ours)
    known, rest = ours.parse_known_args(argv)
    handler = logs.configure(known.log_format, known.quiet)
    try:
        from lucidframes.sandbox.cli import main as sandbox_main

        return int(sandbox_main(rest))
    finally:
        logs.teardown(handler)
