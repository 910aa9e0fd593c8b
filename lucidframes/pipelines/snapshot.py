"""``lf.snapshot(client, DIR)``: every list endpoint into one folder, with what changed and a manifest: one transaction.

A run takes the folder's lock (``lock.py``: a second run is refused, naming the first), checks everything it can
before the first request (``preflight``; the previous snapshot's files against their hashes: ``previous.py``), then
drains each endpoint page by page into ``DIR/.lucidframes-staging/`` (``table.py``). Nothing of the previous
snapshot is touched until every endpoint is complete; then the change reports are computed into the staging folder
and the whole set is swapped in, ``manifest.json`` last (``staging.py`` says how, and why that way). A run killed at
any moment leaves the previous snapshot whole, and no half file under a final name.

A run that gives up, is interrupted, or fails for any other reason (a full disk, a locked DuckDB file) leaves the
previous snapshot and its manifest as they were, and renames its staging folder to ``DIR/partial/``: the tables it
completed, what it fetched of the one it was on (``NAME.partial``), that one's checkpoint, and a manifest whose
``resume.command`` continues it (``--resume``; ``resume=True`` here): the tables it completed are kept and the
pages in the checkpoint are not fetched again. With ``duckdb=FILE`` the tables go into one DuckDB file in one
transaction at the swap, and nowhere on a partial run.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shlex
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucidframes._version import __version__
from lucidframes.endpoints import get_endpoint
from lucidframes.errors import ConfigError
from lucidframes.io import formats
from lucidframes.io.write import sha256_of
from lucidframes.loaders.job import Job
from lucidframes.pipelines import changes as changes_mod
from lucidframes.pipelines.lock import FolderLock
from lucidframes.pipelines.manifest import MANIFEST_VERSION, STATUSES
from lucidframes.pipelines.preflight import before_requests, preflight
from lucidframes.pipelines.previous import DONE, Previous, one_line, plain_name
from lucidframes.pipelines.staging import Staging
from lucidframes.pipelines.table import TableRun, entry_of
from lucidframes.pipelines.targets import Target, snapshot_targets

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.client import Client

__all__ = ["Target", "preflight", "snapshot", "snapshot_targets"]

log = logging.getLogger("lucidframes.pipelines.snapshot")
_DUCKDB = formats.get("duckdb")  # snapshot(duckdb=FILE): the tables go into a DuckDB file (its name in the manifest)
_STAGED = "parquet"  # with duckdb=FILE each table is staged as Parquet, then read into the file at the swap


def snapshot(
    client: Client,
    directory: str | os.PathLike[str],
    endpoints: Iterable[str] | None = None,
    format: str = formats.SNAPSHOT_DEFAULT,  # noqa: A002
    *,
    duckdb: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    resume: bool = False,
    stop: threading.Event | None = None,
    background: bool = False,
    excel_safe: bool = False,
) -> Any:
    """Drain every list endpoint (or those named) into ``directory``; swap the whole set in only when all are complete.

    Args:
        client: the Client to fetch with.
        directory: the snapshot folder (created if its parent exists); a previous snapshot there is compared with.
        endpoints: target or endpoint names (``assets`` means all four asset types); all by default.
        format: parquet, csv or jsonl (one file per endpoint).
        duckdb: write tables into this DuckDB file instead (``CREATE OR REPLACE``, one transaction).
        progress: a bar per endpoint on stderr (default: the client's setting, and only when stderr is a terminal).
        resume: continue the run that stopped in ``directory`` (its ``partial/``): the tables it completed are
            kept, the endpoint it was on goes on from its checkpoint; without one, a full run.
        stop: an Event that stops the run (``DrainStopped``, after the partial output is written).
        background: return an ``lf.Job`` at once (every name checked first); ``job.result()`` is the manifest.
        excel_safe: CSV files for a spreadsheet (``format="csv"`` only): no text cell runs as a formula.

    Returns:
        The manifest (a Job with ``background=True``). When the run stops (it gives up, Ctrl-C, a Stop, any other
        error) the exception is raised after the partial output is written to ``DIR/partial/``; ``err.manifest``
        holds its manifest (absent when nothing was fetched). The previous snapshot and its manifest are untouched.
    """
    asked = [endpoints] if isinstance(endpoints, str) else None if endpoints is None else list(endpoints)
    targets = preflight(directory, asked, format, duckdb=duckdb, excel_safe=excel_safe)
    if not isinstance(background, bool):
        raise ConfigError(f"background takes True or False (got {background!r}).")
    if background:
        stop = stop or threading.Event()
        names = [t.name for t in targets]
        work = functools.partial(
            snapshot,
            client,
            directory,
            names,
            format,
            duckdb=duckdb,
            progress=False,
            resume=resume,
            stop=stop,
            excel_safe=excel_safe,
        )
        return Job("snapshot", work, stop=stop, kind="snapshot")
    folder = Path(directory)
    with before_requests(folder):
        folder.mkdir(exist_ok=True)
        lock = FolderLock(folder)
        lock.acquire()
    try:
        run = _Run(client, folder, format, Path(duckdb) if duckdb is not None else None, targets, asked)
        run.stop = stop
        run.excel_safe = excel_safe
        for result in run.results.values():
            result.options = {"excel_safe": True} if excel_safe else {}
        with before_requests(folder):
            run.prepare(resume, progress)
        return run.go()
    finally:
        lock.release()


class _Run:
    """One snapshot run: its tables, the staging folder, the previous snapshot, the manifest."""

    def __init__(
        self,
        client: Client,
        directory: Path,
        fmt: str,
        duckdb: Path | None,
        targets: list[Target],
        asked: list[str] | None,
    ) -> None:
        self.client = client
        self.directory = directory
        self.fmt = fmt
        self.duckdb = duckdb
        self.kind = _DUCKDB.name if duckdb is not None else fmt  # the manifest's format
        self.staged_fmt = _STAGED if duckdb is not None else fmt
        self.asked = asked
        self.started = _now()
        self.staging = Staging(directory)
        self.results = {t.name: TableRun(t) for t in targets}
        self.previous: Previous | None = None
        self.progress = False
        self.request_ids = _RequestIds()
        self.stop: threading.Event | None = None  # the caller's Stop (a background job's)
        self.excel_safe = False  # CSV for a spreadsheet: the continue line says so too

    # -- before the first request ------------------------------------------------------------------------------

    def prepare(self, resume: bool, progress: bool | None) -> None:
        """Complete a swap a killed run began, check the previous snapshot, and set up the staging folder."""
        try:
            self.staging.recover()
        except Exception as exc:
            raise ConfigError(
                f"{self.directory} holds a snapshot whose swap was cut short, and it cannot be completed now "
                f"({one_line(exc)}): run again once that is fixed, or delete {self.staging.folder} and run a full "
                "snapshot."
            ) from None
        _remove_stale_temps(self.directory if self.duckdb is None else self.duckdb.parent)
        self.previous = Previous(self.directory, self.kind, self.duckdb)
        for name, result in self.results.items():
            note = self.previous.check(name)
            if note is not None:
                result.notes.append(note)  # said in the manifest even when the run stops before the report
        if resume:
            self._check_stopped(self.staging.stopped())
            self._continue(self.staging.adopt())
        else:
            self.staging.fresh()
        self.staging.progress(self._manifest("interrupted"))  # whose pages the checkpoints hold, from the start
        show = self.client.progress if progress is None else progress
        self.progress = bool(show) and sys.stderr.isatty()

    def _check_stopped(self, stopped: dict[str, Any] | None) -> None:
        """A stopped run of another server is never continued with this one's answers (nothing is moved first)."""
        if stopped is not None and stopped.get("base_url") != self.client.base_url:
            raise ConfigError(
                f"{self.staging.partial} holds a run against {stopped.get('base_url')}, not {self.client.base_url}: "
                "run without --resume to start over."
            )

    def _continue(self, stopped: dict[str, Any] | None) -> None:
        """Keep the tables a stopped run completed (their files unchanged); its checkpoints stay where they are."""
        if stopped is None:
            log.info("nothing to continue in %s: a full run", self.directory)
            return
        entries = stopped.get("endpoints") or {}
        for name, result in self.results.items():
            entry = entries.get(name)
            if not isinstance(entry, dict) or stopped.get("format") != self.kind or entry.get("status") != "complete":
                continue
            file = plain_name(entry.get("file"))
            if file is None:
                continue
            path = self.staging.folder / file
            if path.is_file() and sha256_of(path) == entry.get("sha256"):
                result.keep(entry, path, f"kept from the run started at {stopped.get('started_at')}, continued")
        for stale in self.staging.folder.glob("*.partial"):  # their rows come back from the checkpoints
            stale.unlink()

    # -- the run -------------------------------------------------------------------------------------------------

    def go(self) -> dict[str, Any]:
        """Fetch what is not kept, then swap the set in; a stop of any kind writes the partial output and re-raises."""
        handler = self.request_ids
        # The transport logs a submission's request_id at INFO; where nothing listens at INFO no record is made
        # (and a handler of ours would only silence logging's last-resort output), so collect only then.
        if logging.getLogger("lucidframes").isEnabledFor(logging.INFO):
            logging.getLogger("lucidframes").addHandler(handler)
        try:
            try:
                for result in self.results.values():
                    if not result.kept:
                        self._fetch(result)
                return self._commit()
            except BaseException as exc:
                if not self.staging.committing():  # once the swap has begun, the next run completes it
                    self._stop(exc)
                raise
        finally:
            logging.getLogger("lucidframes").removeHandler(handler)

    def _fetch(self, result: TableRun) -> None:
        """Drain one target into the staging folder (with a checkpoint), then save the run's progress."""
        target = result.target
        log.info("fetching %s", target.name, extra={"event": "snapshot_start", "endpoint": target.name})
        path = self.staging.folder / (target.name + formats.get(self.staged_fmt).suffix)
        checkpoint = self.staging.folder / f"{target.name}.ckpt"
        result.drain(self.client, path, self.staged_fmt, progress=self.progress, checkpoint=checkpoint, stop=self.stop)
        self.staging.progress(self._manifest("interrupted"))  # what a run killed from now on continues from

    def _stop(self, exc: BaseException) -> None:
        """Write what was fetched as ``DIR/partial/`` with its manifest (``exc.manifest``); best effort throughout."""
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "partial"
        for result in self.results.values():
            try:
                result.stop(status)
            except Exception as err:  # a full disk: this table's rows are lost, the others are not
                log.warning("%s: what was fetched could not be written (%s)", result.target.name, one_line(err))
        if not any(r.file is not None for r in self.results.values()) and not any(self.staging.folder.glob("*.ckpt")):
            self.staging.discard()  # nothing was fetched: nothing to continue from
            return
        try:
            manifest = self._manifest(status)
            self.staging.progress(manifest)
            self.staging.publish()
        except Exception as err:
            log.warning("the partial output could not be written (%s)", one_line(err))
            return
        with contextlib.suppress(AttributeError, TypeError):
            exc.manifest = manifest  # type: ignore[attr-defined]

    # -- the swap ------------------------------------------------------------------------------------------------

    def _commit(self) -> dict[str, Any]:
        """Change reports into the staging folder, then the swap (tables, changes, manifest last)."""
        moves: list[str] = []
        removes: list[str] = []
        for result in self.results.values():
            self._changes(result, moves, removes)
        duck = None
        if self.duckdb is not None:
            tables = {n: r.file.name for n, r in self.results.items() if r.file is not None}
            duck = {"file": str(self.duckdb), "tables": tables}
        else:
            moves[:0] = [r.file.name for r in self.results.values() if r.file is not None]
        return self.staging.commit(self._manifest(None), moves, removes, duck)

    def _changes(self, result: TableRun, moves: list[str], removes: list[str]) -> None:
        """Compute one table's change report into the staging folder (or note why there is none)."""
        name, ep = result.target.name, get_endpoint(result.target.endpoint)
        rel = f"changes/{name}{formats.get(changes_mod.CHANGES_FORMAT).suffix}"
        assert self.previous is not None
        if ep.key is None or result.file is None:
            return
        if self.duckdb is not None:
            after = changes_mod.duckdb_batches(self.duckdb, str(result.file), parquet=True)
        else:
            after = changes_mod.file_batches(result.file, self.fmt)
        table, note = self.previous.changes(name, ep.key, after)
        if note is not None:
            result.notes.append(note)
        if table is None:
            removes.append(rel)  # a report left by an earlier snapshot would not describe this one
            return
        changes_mod.write_changes(table.rename(columns={"key": ep.key}), self.staging.folder / rel)
        by = "updated_on" if "updated_on" in ep.columns else "row_hash"
        result.change_report = {"file": rel, "by": by, **changes_mod.count_changes(table)}
        moves.append(rel)

    # -- the manifest --------------------------------------------------------------------------------------------

    def _manifest(self, stopped: str | None) -> dict[str, Any]:
        """The manifest: of the committed snapshot (``stopped`` None), or of a stopped run's partial output."""
        entries = {name: self._entry(r, final=stopped is None) for name, r in self.results.items()}
        statuses = [e["status"] for e in entries.values()]
        status = stopped or ("failed_check" if "failed_check" in statuses else "complete")
        left = [n for n, r in self.results.items() if r.status not in DONE]
        resume = None if stopped is None else {"endpoints": left, "command": self._resume_command()}
        assert self.previous is not None
        return {
            "lucidframes_manifest": MANIFEST_VERSION,
            "tool": {"name": "lucidframes", "version": __version__},
            "base_url": self.client.base_url,
            "started_at": self.started,
            "finished_at": _now(),
            "status": status,
            "exit_code": STATUSES[status],
            "format": self.kind,
            "directory": str(self.directory),
            "duckdb": None,  # filled in at the swap, once the tables are in the file
            "endpoints": entries,
            "request_ids": list(self.request_ids.ids),
            "previous": self.previous.summary(),
            "resume": resume,
        }

    def _entry(self, result: TableRun, *, final: bool) -> dict[str, Any]:
        """A table's entry: its file relative to the manifest's folder (the DuckDB table once committed)."""
        entry = entry_of(result)
        if result.file is None:
            entry.update(file=None, sha256=None, bytes=None, table=None)
        elif final and self.duckdb is not None:
            entry.update(file=None, sha256=None, bytes=None, table=result.target.name)
        else:
            entry.update(file=result.file.name, sha256=result.sha256, bytes=result.bytes, table=None)
        return entry

    def _resume_command(self) -> str:
        """The command that continues this run, shell-quoted (a folder named ``a; rm -rf ~`` stays one word)."""
        words = ["lucidframes", "snapshot", "-o", os.path.abspath(self.directory)]
        if self.duckdb is not None:
            words += ["--duckdb", os.path.abspath(self.duckdb)]
        else:
            words += ["--format", self.fmt]
        if self.excel_safe:
            words.append("--excel-safe")
        for name in self.asked or []:
            words += ["--endpoint", name]
        return shlex.join([*words, "--resume"])


def _remove_stale_temps(folder: Path) -> None:
    """Remove the hidden temp files a run of an earlier version left in the folder; never anything else."""
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
