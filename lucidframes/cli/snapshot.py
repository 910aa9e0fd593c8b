"""``lucidframes snapshot -o DIR``: every list endpoint into one folder, what changed, and a manifest."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from lucidframes.cli import common, logs
from lucidframes.errors import APIError
from lucidframes.io import formats
from lucidframes.pipelines.manifest import STATUSES
from lucidframes.pipelines.snapshot import preflight, snapshot

__all__ = ["add_parser", "run"]

DESCRIPTION = """Drain every list endpoint that needs no value only you can choose (products, batches, the four asset
types, brands), or those named with --endpoint, into DIR: one file per endpoint (or tables of one DuckDB file with
--duckdb), DIR/changes/<endpoint>.parquet with the keys added, removed and changed since the snapshot already in
DIR, and DIR/manifest.json, written last (counts, pages, retries, waits, drift, files and their SHA-256). One run at a
time: a second is refused, naming the first. Nothing of the previous snapshot is replaced until every endpoint is
fetched: a run that gives up or is interrupted writes what it fetched to DIR/partial/ and prints the line that
continues it (--resume)."""

EXAMPLES = [
    "lucidframes snapshot --sandbox -o snap/",
    "lucidframes snapshot -o snap/ --endpoint products --endpoint batches --format csv",
    "lucidframes snapshot -o snap/ --duckdb lucid.duckdb --log-format json",
    "lucidframes snapshot -o snap/ --resume",
]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``snapshot`` on the subcommands.

    Args:
        sub: the subparsers action.

    Returns:
        The parser.
    """
    p = common.subcommand(
        sub,
        "snapshot",
        "every list endpoint into a folder, with the changes since the last snapshot and a manifest",
        DESCRIPTION,
        EXAMPLES,
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="the snapshot folder (created if missing)")
    p.add_argument("--endpoint", action="append", metavar="NAME",
                   help="only this endpoint (repeatable); assets means all four types, assets_images one")  # fmt: skip
    p.add_argument("--format", choices=formats.snapshot_formats(), default=formats.SNAPSHOT_DEFAULT,
                   help=f"one file per endpoint in this format (default: {formats.SNAPSHOT_DEFAULT})")  # fmt: skip
    p.add_argument("--duckdb", metavar="FILE", help="write the tables into this DuckDB file instead of files")
    p.add_argument("--resume", action="store_true",
                   help="continue the run that stopped (DIR/partial): keep the tables it completed, go on from its "
                   "checkpoint; a full run when there is none")  # fmt: skip
    common.add_excel_safe(p)
    common.add_client_options(p)
    common.add_log_options(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``lucidframes snapshot``.

    Args:
        args: the parsed options.

    Returns:
        The exit code: the worst endpoint's (0 complete, 1 a check failed, 3 gave up part way, 130 interrupted).
    """
    preflight(args.output, args.endpoint, args.format, duckdb=args.duckdb, excel_safe=args.excel_safe)
    with common.make_client(args) as client:
        try:
            manifest = snapshot(client, args.output, args.endpoint, args.format, duckdb=args.duckdb,
                                progress=common.show_progress(args), resume=args.resume,
                                excel_safe=args.excel_safe)  # fmt: skip
        except BaseException as exc:
            return _stopped(exc)
    _report(manifest)
    return int(STATUSES[manifest["status"]])


def _stopped(exc: BaseException) -> int:
    """A run that stopped with its partial output written: the report, one error line, the line that continues."""
    written: dict[str, Any] | None = getattr(exc, "manifest", None)
    if written is None:
        raise exc  # nothing was written: main says what happened (2 before the first request, 3 after)
    if isinstance(exc, APIError) and not _fetched_any(written):
        raise exc  # nothing came back at all: a connection or configuration problem (exit 2)
    _report(written)
    with contextlib.suppress(AttributeError, TypeError):
        exc.resume_hint = (written.get("resume") or {}).get("command")  # type: ignore[attr-defined]
    if isinstance(exc, KeyboardInterrupt):
        raise exc  # main says "interrupted" and how to continue (exit 130)
    logs.say(common.failure_line(exc), "gave_up", 40)
    _resume_line(written)
    return common.EXIT_PARTIAL


def _fetched_any(manifest: dict[str, Any]) -> bool:
    return any(e["rows"] or e["status"] in ("complete", "failed_check") for e in manifest["endpoints"].values())


def _resume_line(manifest: dict[str, Any]) -> None:
    resume = manifest.get("resume")
    if resume:
        logs.say(f"to continue: {resume['command']}", "resume", 30, command=resume["command"])


def _report(manifest: dict[str, Any]) -> None:
    """One line per endpoint and one for the run (as JSON lines with --log-format json)."""
    for name, entry in manifest["endpoints"].items():
        changes = entry.get("changes")
        delta = ""
        if changes:
            delta = f", changes +{changes['added']} -{changes['removed']} ~{changes['changed']}"
        where = entry.get("file") or entry.get("table") or "-"
        level = 30 if entry["checks"] or entry["status"] not in ("complete", "not_fetched") else 20
        logs.say(
            f"{name}: {entry['status']}, {entry['rows']} rows, {entry['pages']} pages, {entry['retries']} retries, "
            f"waited {entry['wait_seconds']:.1f}s -> {where}{delta}",
            "snapshot_endpoint_done",
            level,
            endpoint=name,
            status=entry["status"],
            rows=entry["rows"],
            wait=entry["wait_seconds"],
        )
        for check in entry["checks"]:
            logs.say(f"{name}: {check}", "check_failed", 40, endpoint=name)
        for note in entry.get("notes") or []:
            logs.say(f"{name}: {note}", "snapshot_note", 30, endpoint=name)
    where = manifest["directory"] if manifest["resume"] is None else f"{manifest['directory']}/partial"
    logs.say(
        f"snapshot {manifest['status']}: manifest {where}/manifest.json",
        "snapshot_done",
        status=manifest["status"],
        exit_code=manifest["exit_code"],
    )
