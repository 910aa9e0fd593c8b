"""What the commands share: exit codes, common options, help epilogs, the client, and messages in the CLI's words."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any

from lucidframes.cli import logs
from lucidframes.client import Client
from lucidframes.errors import LucidError
from lucidframes.io import formats
from lucidframes.pipelines.previous import one_line

__all__ = [
    "EXIT_DATA",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "add_client_options",
    "add_excel_safe",
    "add_output_options",
    "add_sheet_options",
    "cli_words",
    "epilog",
    "failure_line",
    "make_client",
    "parse_pages",
    "parse_param",
    "show_progress",
]

EXIT_OK = 0  # complete and consistent
EXIT_DATA = 1  # the data failed a check (files still written; the manifest says so)
EXIT_USAGE = 2  # usage, configuration or connection
EXIT_PARTIAL = 3  # gave up part way: what was fetched is in *.partial files
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_PIPE = 141  # the reader of stdout went away (`| head`): stop quietly, as a SIGPIPE'd Unix tool would

EXIT_CODES = """exit codes:
  0    complete and consistent
  1    the data failed a check (unresolved drift, rows != count after dedupe); files still written
  2    usage, configuration or connection error, or any failure before the first request (nothing fetched)
  3    gave up part way, for any reason (the API, a full disk, a locked file): what was fetched is written
       as *.partial (a snapshot's in DIR/partial/), with how to resume
  130  interrupted (Ctrl-C)"""

# Each command's help lists the variables that command reads, and no other (issue 22).
ENVIRONMENT = """environment (not read with --sandbox):
  LUCID_BASE_URL       the API host (default https://source.lucidgreen.io)
  LUCID_CLIENT_ID      OAuth2 client id            LUCID_CLIENT_SECRET  OAuth2 client secret
  LUCID_TOKEN          a fixed access token instead of client credentials (never renewed)
  TQDM_DISABLE=1       no progress bar"""
ID_LENGTH = "  LUCID_ID_LENGTH      the LucidID length the local check expects (default 20)"
LENGTH_ENVIRONMENT = "environment:\n" + ID_LENGTH


def epilog(examples: list[str], *, exit_codes: bool = True, environment: str | None = ENVIRONMENT) -> str:
    """The help epilog of a subcommand: examples, the variables it reads (if any) and (optionally) the exit codes.

    Args:
        examples: two or three command lines.
        exit_codes: include the exit code table.
        environment: the variables the command reads (None: it reads none).

    Returns:
        The epilog text (use with RawDescriptionHelpFormatter).
    """
    parts = ["examples:\n" + "\n".join(f"  {e}" for e in examples)]
    if environment:
        parts.append(environment)
    if exit_codes:
        parts.append(EXIT_CODES)
    return "\n\n".join(parts)


def subcommand(
    sub: Any,
    name: str,
    help_text: str,
    description: str,
    examples: list[str],
    *,
    exit_codes: bool = True,
    environment: str | None = ENVIRONMENT,
) -> argparse.ArgumentParser:
    """Register one subcommand with its description and an epilog of examples (and exit codes).

    Args:
        sub: the subparsers action.
        name: the command's name.
        help_text: the one line ``lucidframes --help`` shows.
        description: the paragraph ``lucidframes NAME --help`` starts with.
        examples: two or three command lines.
        exit_codes: add the exit-code table to the epilog.
        environment: the variables the command reads (None: it reads none).

    Returns:
        The parser.
    """
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=epilog(examples, exit_codes=exit_codes, environment=environment),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_log_options(parser: argparse.ArgumentParser) -> None:
    """``--log-format`` and ``--quiet``, on every subcommand.

    Args:
        parser: a subcommand's parser.

    Returns:
        None.
    """
    group = parser.add_argument_group("messages")
    group.add_argument("--log-format", choices=["text", "json"], default="text",
                       help="messages on stderr as human text (default) or one JSON object per line")  # fmt: skip
    group.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr; no bar")


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """``--workers``, ``--sandbox`` and ``--no-progress``.

    Args:
        parser: a subcommand's parser.

    Returns:
        None.
    """
    parser.add_argument("--workers", type=int, metavar="N", help="concurrent requests (default 8)")
    parser.add_argument("--sandbox", action="store_true", help="start the local sandbox in-process and use it")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (there is none anyway when stderr is not a terminal)")  # fmt: skip


def add_output_options(parser: argparse.ArgumentParser, *, default: str | None = "-") -> None:
    """``-o``, ``--format``, ``--table`` and ``--excel-safe``.

    Args:
        parser: a subcommand's parser.
        default: the default output.

    Returns:
        None.
    """
    suffixes = ", ".join(f.suffix for f in formats.TABLE)
    parser.add_argument("-o", "--output", default=default, metavar="OUT",
                        help=f"output file: {suffixes}, or - for stdout (default)")  # fmt: skip
    parser.add_argument("--format", choices=formats.names(),
                        help="output format (default: from the suffix of -o)")  # fmt: skip
    parser.add_argument("--table", metavar="NAME", help="the table of a .duckdb output (default: the endpoint)")
    add_excel_safe(parser)


def add_excel_safe(parser: argparse.ArgumentParser) -> None:
    """``--excel-safe``: a CSV meant for a spreadsheet, with no cell that runs as a formula.

    Args:
        parser: a subcommand's parser.

    Returns:
        None.
    """
    parser.add_argument("--excel-safe", action="store_true",
                        help="CSV for a spreadsheet: a text cell beginning with = + - @ (or tab, CR) gets a leading "
                             "' so that it never runs as a formula (numbers stay numbers)")  # fmt: skip


def parse_pages(text: str) -> range:
    """``A-B`` (inclusive) or ``N`` as a range of pages.

    Args:
        text: the option's value.

    Returns:
        The pages.
    """
    try:
        first, _, last = text.partition("-")
        start, stop = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"pages look like 2-5 or 3, not {text!r}") from None
    if start < 1 or stop < start:
        raise argparse.ArgumentTypeError(f"pages run from 1 upwards, low to high (got {text!r})")
    return range(start, stop + 1)


def parse_param(text: str) -> tuple[str, str]:
    """``key=value`` for a path parameter.

    Args:
        text: the option's value.

    Returns:
        (key, value).
    """
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"parameters look like asset_type=images, not {text!r}")
    return key, value


def show_progress(args: argparse.Namespace) -> bool:
    """A bar only when asked for (not ``--no-progress``, not ``--quiet``, text logs) and stderr is a terminal.

    Args:
        args: the parsed options.

    Returns:
        Whether to show progress bars.
    """
    wanted = not getattr(args, "no_progress", False) and not args.quiet and args.log_format == "text"
    return wanted and sys.stderr.isatty()


@contextlib.contextmanager
def make_client(args: argparse.Namespace) -> Iterator[Any]:
    """A Client from the LUCID_* environment, or on an in-process sandbox with ``--sandbox``.

    Args:
        args: the parsed options (``workers``, ``sandbox``).

    Returns:
        A context manager yielding the Client.
    """
    kwargs: dict[str, Any] = {"progress": show_progress(args)}
    if getattr(args, "workers", None):
        kwargs["workers"] = args.workers
    if not getattr(args, "sandbox", False):
        with Client(**kwargs) as client:
            args.started = True  # from here on a failure is "gave up part way" (exit 3), not usage (exit 2)
            yield client
        return
    from lucidframes.sandbox import serve

    with serve() as sb:
        logs.REDACT.add(sb.client_secret)
        logs.say(f"sandbox running at {sb.url}", "sandbox_started")
        with Client(sb.url, sb.client_id, sb.client_secret, **kwargs) as client:
            args.started = True
            yield client


def failure_line(exc: BaseException) -> str:
    """Any failure, ours or the operating system's, as the one line the command says (never a traceback).

    Args:
        exc: the exception.

    Returns:
        The line: our errors in the command line's words, an OSError as its reason and file, anything else as its
        type and message.
    """
    if isinstance(exc, LucidError):
        return " ".join(cli_words(str(exc)).split())
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return " ".join(f"{exc.strerror}{where}".split())
    return one_line(exc)


# The library's words -> the command line's. Each rule: (pattern, replacement).
_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"e\.g\. load\('[\w]+', (\w+)='([^']*)'\)"), r"e.g. --param \1=\2"),
    (re.compile(r"load\('([\w]+)', (\w+)='([^']*)'\)"), r"lucidframes fetch \1 --param \2=\3"),
    (re.compile(r"\bneeds (\w+)= \("), r"needs --param \1=VALUE ("),
    (re.compile(r"\bneeds ((?:\w+=(?:, )?)+)\."), r"needs --param \1VALUE."),
    (re.compile(r"\b(\w+)='([^']*)' is not one of"), r"--param \1=\2 is not one of"),
    (re.compile(r"takes no parameter (\w+)"), r"takes no --param \1"),
    (re.compile(r"use client\.lookup\('(\w+)', ids\)"), r"use lucidframes lookup \1 FILE --column COL"),
    (re.compile(r"use client\.submit\('(\w+)', \.\.\.\)"), r"submit it from Python: client.submit('\1', ...)"),
    (re.compile(r"Pass page= or pages=, not both"), r"Pass --page or --pages, not both"),
    (re.compile(r"\bor pass format=\."), r"or pass --format."),
    (re.compile(r"export\(df, 'out\.duckdb', table='(\w+)'\)"), r"--table \1"),
    (re.compile(r"table= names a DuckDB table"), r"--table names a DuckDB table"),
    (re.compile(r"\bexcel_safe="), r"--excel-safe"),
)


def cli_words(text: str) -> str:
    """A library message in the command line's words (``--param asset_type=texts``, ``--format``).

    Args:
        text: the message.

    Returns:
        The message as the command line says it.
    """
    for pattern, replacement in _WORDS:
        text = pattern.sub(replacement, text)
    return text


def _row(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a row number is a whole number, not {text!r}") from None
    if not 1 <= value <= 1_048_576:
        raise argparse.ArgumentTypeError(f"a row number is from 1 to 1,048,576, not {value}")
    return value


def add_sheet_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--sheet`` and ``--header-row`` (for ``validate`` and ``lookup``).

    Args:
        parser: the command's parser.

    Returns:
        None.
    """
    parser.add_argument("--sheet", metavar="NAME",
                        help="the sheet of an Excel workbook to read (default: the first)")  # fmt: skip
    parser.add_argument("--header-row", type=_row, default=1, metavar="N",
                        help="the row of the header as Excel numbers it (a CSV's line), when a title is above it; "
                             "default 1")  # fmt: skip
