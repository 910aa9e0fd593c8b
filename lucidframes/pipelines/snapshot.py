"""``lf.snapshot(client, DIR)``: every list endpoint into one folder, with what changed and a manifest written last.

Each endpoint is drained page by page into a hidden temp file next to its final name (rows typed as ``load`` types
them, duplicates dropped by the registry's key), so memory holds a batch, not the table. Nothing replaces the
previous snapshot's files until every endpoint is fetched; then the files are renamed into place and
``manifest.json`` is written. A run killed at any moment leaves the previous snapshot intact and no half file
under a final name. A run that gives up writes what it fetched as ``NAME.partial`` and says in the manifest how
to continue; with ``duckdb=FILE`` the tables go into one DuckDB file, replaced in one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lucidframes._version import __version__
from lucidframes.endpoints import get_endpoint
from lucidframes.errors import APIError, ConfigError
from lucidframes.io import formats
from lucidframes.io.database import DuckDBFile
from lucidframes.io.write import sha256_of
from lucidframes.pipelines import changes as changes_mod
from lucidframes.pipelines.manifest import MANIFEST_VERSION, STATUSES, read_manifest, write_manifest
from lucidframes.pipelines.table import TableRun, entry_of
from lucidframes.pipelines.targets import Target, resolve_targets, snapshot_targets

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.client import Client

__all__ = ["Target", "preflight", "snapshot", "snapshot_targets"]

log = logging.getLogger("lucidframes.pipelines.snapshot")
_DUCKDB = formats.get("duckdb")  # snapshot(duckdb=FILE): the tables go into a DuckDB file


def preflight(
    directory: str | os.PathLike[str],
    endpoints: Iterable[str] | None = None,
    format: str = formats.SNAPSHOT_DEFAULT,  # noqa: A002
    *,
    duckdb: str | os.PathLike[str] | None = None,
    excel_safe: bool = False,
) -> list[Target]:
    """Check what can be checked before the first request: names, format, writer libraries, folders.

    Args:
        directory: the snapshot folder (its parent must exist).
        endpoints: target or endpoint names, or None for all.
        format: parquet, csv or jsonl.
        duckdb: the DuckDB file, if any (its folder must exist).
        excel_safe: the CSV option (refused for other formats and for DuckDB).

    Returns:
        The targets to fetch.
    """
    choices = formats.snapshot_formats()
    if format not in choices:
        raise ConfigError(f"Unknown snapshot format {format!r}: use --format {formats.listed(choices)}.")
    formats.get(format).require()
    (formats.get(format) if duckdb is None else _DUCKDB).chosen({"excel_safe": excel_safe}, str(duckdb or directory))
    if duckdb is not None:
        _DUCKDB.require()
        if not Path(duckdb).parent.is_dir():
            raise ConfigError(f"The folder {str(Path(duckdb).parent)!r} does not exist: create it first.")
    folder = Path(directory)
    if not folder.parent.is_dir():
        raise ConfigError(f"The folder {str(folder.parent)!r} does not exist: create it first.")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{str(folder)!r} is a file, not a folder.")
    return resolve_targets(endpoints)


def snapshot(
    client: Client,
    directory: str | os.PathLike[str],
    endpoints: Iterable[str] | None = None,
    format: str = formats.SNAPSHOT_DEFAULT,  # noqa: A002
    *,
    duckdb: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    excel_safe: bool = False,
) -> dict[str, Any]:
    """Drain every list endpoint (or those named) into ``directory`` and write ``manifest.json`` last.

    Args:
        client: the Client to fetch with.
        directory: the snapshot folder (created if its parent exists); a previous snapshot there is compared with.
        endpoints: target or endpoint names (``assets`` means all four asset types); all by default.
        format: parquet, csv or jsonl (one file per endpoint).
        duckdb: write tables into this DuckDB file instead (``CREATE OR REPLACE``, one transaction).
        progress: a bar per endpoint on stderr (default: the client's setting, and only when stderr is a terminal).
        excel_safe: CSV files for a spreadsheet (``format="csv"`` only): no text cell runs as a formula.

    Returns:
        The manifest. When the run gives up, the APIError is raised after the partial files and the manifest are
        written (``err.manifest`` holds it); Ctrl-C likewise re-raises KeyboardInterrupt with ``.manifest``.
    """
    targets = preflight(directory, endpoints, format, duckdb=duckdb, excel_safe=excel_safe)
    run = _Run(client, Path(directory), format, duckdb, progress)
    for target in targets:
        run.results[target.name] = TableRun(target, options={"excel_safe": True} if excel_safe else {})
    try:
        for target in targets:
            run.fetch(run.results[target.name])
    except (APIError, KeyboardInterrupt) as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "partial"
        exc.manifest = run.finish(status)  # type: ignore[union-attr]
        raise
    except BaseException:
        run.discard()
        raise
    return run.finish(None)


class _Run:
    """One snapshot run: staging files, committing them, the manifest."""

    def __init__(
        self, client: Client, directory: Path, fmt: str, duckdb: str | os.PathLike[str] | None, progress: bool | None
    ) -> None:
        self.duckdb = Path(duckdb) if duckdb is not None else None
        if self.duckdb is not None:
            fmt = DuckDBFile.staged  # staged next to the DuckDB file, then read into it in one transaction
        directory.mkdir(exist_ok=True)
        self.client = client
        self.directory = directory
        self.fmt = fmt
        self.started = _now()
        self.previous = read_manifest(directory)
        show = client.progress if progress is None else progress
        self.progress = bool(show) and sys.stderr.isatty()
        self.results: dict[str, TableRun] = {}
        self.request_ids = _RequestIds()
        # The transport logs a submission's request_id at INFO; where nothing listens at INFO no record is made
        # (and a handler of ours would only silence logging's last-resort output), so collect only then.
        if logging.getLogger("lucidframes").isEnabledFor(logging.INFO):
            logging.getLogger("lucidframes").addHandler(self.request_ids)
        _remove_stale_temps(directory if self.duckdb is None else self.duckdb.parent)

    # -- per endpoint ----------------------------------------------------------------------------------------

    def final_path(self, target: Target) -> Path:
        """Where a target's file goes (the staging folder for DuckDB)."""
        folder = self.duckdb.parent if self.duckdb is not None else self.directory
        return folder / (target.name + formats.get(self.fmt).suffix)

    def fetch(self, result: TableRun) -> None:
        """Drain one target into a staged file; keep the counts; compute its changes against the previous one."""
        target = result.target
        log.info("fetching %s", target.name, extra={"event": "snapshot_start", "endpoint": target.name})
        result.drain(self.client, self.final_path(target), self.fmt, progress=self.progress)
        result.changes = self._changes(result, get_endpoint(target.endpoint).key)

    def _previous_source(self, target: Target) -> Iterator[pd.DataFrame] | None:
        """The previous snapshot's table for a target, batch by batch (None when there is none to compare)."""
        prev = self.previous
        if prev is None:
            return None
        if self.duckdb is not None:
            if prev.get("format") != _DUCKDB.name or not self.duckdb.exists():
                return None
            return changes_mod.duckdb_batches(self.duckdb, target.name)
        path = self.directory / (target.name + formats.get(self.fmt).suffix)
        if prev.get("format") != self.fmt or not path.exists():
            return None
        return changes_mod.file_batches(path, self.fmt)

    def _changes(self, result: TableRun, key: str | None) -> pd.DataFrame | None:
        before = self._previous_source(result.target)
        if before is None or key is None or result.writer is None:
            return None
        result.writer.close()
        if self.duckdb is not None:
            after = changes_mod.duckdb_batches(self.duckdb, str(result.writer.temp), parquet=True)
        else:
            after = changes_mod.file_batches(result.writer.temp, self.fmt)
        return changes_mod.diff(changes_mod.fingerprints(before, key), changes_mod.fingerprints(after, key))

    # -- the end ---------------------------------------------------------------------------------------------

    def discard(self) -> None:
        """Remove every staged file (an unexpected error): the previous snapshot stays as it was."""
        for result in self.results.values():
            if result.writer is not None:
                result.writer.discard()
        logging.getLogger("lucidframes").removeHandler(self.request_ids)

    def finish(self, stopped: str | None) -> dict[str, Any]:
        """Put the staged files in place (what a stopped run fetched as ``.partial``), then write the manifest."""
        try:
            done = {n: r for n, r in self.results.items() if r.status in ("complete", "failed_check")}
            for result in self.results.values():
                if result.status == "partial" and stopped is not None:
                    result.status = stopped
            if self.duckdb is not None:
                self._commit_duckdb(done)
            for result in self.results.values():
                self._commit_file(result)
            manifest = self._manifest(stopped)
            write_manifest(self.directory, manifest)
        finally:
            self.discard()
        return manifest

    def _commit_file(self, result: TableRun) -> None:
        target, writer = result.target, result.writer
        complete = result.status in ("complete", "failed_check")
        if complete and self.duckdb is not None:
            return  # read into the DuckDB file already (the staged file is removed by discard())
        entry = result.entry = entry_of(result)
        if writer is None or result.status == "not_fetched":
            return
        path = writer.commit(None if complete else Path(str(self.final_path(target)) + ".partial"))
        entry.update(file=os.path.relpath(path, self.directory), sha256=sha256_of(path), bytes=path.stat().st_size)
        self._commit_changes(result, entry)

    def _commit_duckdb(self, done: dict[str, TableRun]) -> None:
        assert self.duckdb is not None
        staged = {}
        for name, result in done.items():
            assert result.writer is not None
            result.writer.close()
            staged[name] = result.writer.temp
        if staged:
            _DUCKDB.open_database(self.duckdb).replace(staged)
        for name, result in done.items():
            result.entry = entry_of(result)
            result.entry["table"] = name
            self._commit_changes(result, result.entry)

    def _commit_changes(self, result: TableRun, entry: dict[str, Any]) -> None:
        if result.changes is None or result.status not in ("complete", "failed_check"):
            return
        key = get_endpoint(result.target.endpoint).key or "key"
        table = result.changes.rename(columns={"key": key})
        changes_file = result.target.name + formats.get(changes_mod.CHANGES_FORMAT).suffix
        path = changes_mod.write_changes(table, self.directory / "changes" / changes_file)
        by = "updated_on" if "updated_on" in get_endpoint(result.target.endpoint).columns else "row_hash"
        entry["changes"] = {"file": os.path.relpath(path, self.directory), "by": by,
                            **changes_mod.count_changes(result.changes)}  # fmt: skip

    def _manifest(self, stopped: str | None) -> dict[str, Any]:
        entries = {name: r.entry or entry_of(r) for name, r in self.results.items()}
        statuses = [e["status"] for e in entries.values()]
        status = stopped or ("failed_check" if "failed_check" in statuses else "complete")
        left = [n for n, r in self.results.items() if r.status not in ("complete", "failed_check")]
        resume = None
        if left:
            where = f" --duckdb {self.duckdb}" if self.duckdb is not None else f" --format {self.fmt}"
            command = f"lucidframes snapshot -o {self.directory}{where} " + " ".join(f"--endpoint {n}" for n in left)
            resume = {"endpoints": left, "command": command}
        duck = None
        if self.duckdb is not None and self.duckdb.exists():
            duck = {"file": str(self.duckdb), "sha256": sha256_of(self.duckdb), "bytes": self.duckdb.stat().st_size}
        return {
            "lucidframes_manifest": MANIFEST_VERSION,
            "tool": {"name": "lucidframes", "version": __version__},
            "base_url": self.client.base_url,
            "started_at": self.started,
            "finished_at": _now(),
            "status": status,
            "exit_code": STATUSES[status],
            "format": _DUCKDB.name if self.duckdb is not None else self.fmt,
            "directory": str(self.directory),
            "duckdb": duck,
            "endpoints": entries,
            "request_ids": list(self.request_ids.ids),
            "previous": None
            if self.previous is None
            else {"finished_at": self.previous.get("finished_at"), "format": self.previous.get("format")},
            "resume": resume,
        }


def _remove_stale_temps(folder: Path) -> None:
    """Remove the hidden temp files a killed run left (``.products.parquet.XXXX.tmp``); never anything else."""
    suffixes = [formats.get(name).suffix for name in formats.snapshot_formats()]
    names = [t.name + suffix for t in snapshot_targets().values() for suffix in suffixes]
    for name in names:
        for stale in folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()


class _RequestIds(logging.Handler):
    """Collects the ``request_id`` of every log record that carries one (the transport logs them for submissions)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.ids: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        value = getattr(record, "request_id", None)
        if isinstance(value, str) and value not in self.ids:
            self.ids.append(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
