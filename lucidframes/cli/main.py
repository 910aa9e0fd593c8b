"""The ``lucidframes`` command: the parser of every subcommand, and ``main``, which maps errors to exit codes.

Data goes to stdout or the named file; progress and messages to stderr (``--log-format json`` for machines).
Exit codes: 0 complete, 1 the data failed a check, 2 usage, configuration or connection (any failure before the
first request), 3 gave up part way (any failure after it; partial output written where it can be), 130
interrupted, 141 the reader of stdout went away. Every failure, ours or the operating system's (a full disk, a
locked file) or a bug, is one line: exit 1 means the data failed a check, and nothing else.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lucidframes._version import __version__
from lucidframes.cli import common, endpoints, fetch, logs, lookup, snapshot, validate
from lucidframes.cli import sandbox as sandbox_cmd
from lucidframes.errors import APIError, LucidError, LucidIDValidationError

__all__ = ["build_parser", "main"]

DESCRIPTION = """The Lucid Green API as tables: fetch endpoints, snapshot them all with a manifest, look up ids,
validate LucidIDs, and run a local sandbox of the API. `lucidframes COMMAND --help` explains each command."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="lucidframes",
        description=DESCRIPTION,
        epilog=common.epilog(
            ["lucidframes fetch products --sandbox -o products.csv", "lucidframes snapshot --sandbox -o snap/"],
            environment=common.ENVIRONMENT + "\n" + common.ID_LENGTH.replace("(default 20)", "(lookup, validate)"),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lucidframes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fetch.add_parser(sub)
    snapshot.add_parser(sub)
    lookup.add_parser(sub)
    validate_parser = sub.add_parser(
        "validate",
        help="check the LucidID columns of a CSV or Parquet file",
        description=validate.DESCRIPTION,
        epilog=common.epilog(validate.EXAMPLES, exit_codes=False, environment=common.LENGTH_ENVIRONMENT)
        + "\n\n"
        + validate.EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_validate_arguments(validate_parser)
    common.add_log_options(validate_parser)
    validate_parser.set_defaults(run=validate.run_validate)
    endpoints.add_parser(sub)
    sandbox_cmd.add_parser(sub)
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
        return sandbox_cmd.run_sandbox(args_list[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    handler = logs.configure(args.log_format, args.quiet)
    try:
        with logs.warnings_as_lines():
            return _run(args)
    finally:
        logs.teardown(handler)


def _run(args: argparse.Namespace) -> int:
    """Run a parsed command; every error becomes one message and an exit code."""
    try:
        code: int = args.run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except LucidIDValidationError as exc:
        logs.say(common.cli_words(str(exc)), "invalid_ids", 40)
        return common.EXIT_DATA
    except APIError as exc:
        logs.say(common.cli_words(str(exc)), "api_error", 40, status=getattr(exc, "status_code", None))
        partial_file = getattr(exc, "partial_file", None)
        if exc.partial is not None and partial_file:
            logs.say(f"wrote the {len(exc.partial)} rows fetched so far to {partial_file}", "partial_written", 30)
            _hint(args)
            return common.EXIT_PARTIAL
        return common.EXIT_USAGE
    except LucidError as exc:
        logs.say(common.cli_words(str(exc)), "usage_error", 40)
        return common.EXIT_USAGE
    except KeyboardInterrupt as exc:
        partial_file = getattr(exc, "partial_file", None)
        done = f"; wrote the rows fetched so far to {partial_file}" if partial_file else ""
        logs.say(f"interrupted{done}", "interrupted", 40)
        _hint(args, getattr(exc, "resume_hint", None))
        return common.EXIT_INTERRUPTED
    except Exception as exc:  # the operating system's (a full disk, a locked file) or a bug: one line all the same
        logs.say(common.failure_line(exc), "failed", 40, error=type(exc).__name__)
        return common.EXIT_PARTIAL if getattr(args, "started", False) else common.EXIT_USAGE


def _hint(args: argparse.Namespace, command: str | None = None) -> None:
    """The line that says how to continue."""
    if command:
        logs.say(f"to continue: {command}", "resume", 30, command=command)
    elif args.command == "fetch":
        logs.say(fetch.resume_hint(args), "resume", 30)


def _broken_pipe() -> int:
    """stdout's reader went away (``| head``): no traceback, no further writes to the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return common.EXIT_PIPE
