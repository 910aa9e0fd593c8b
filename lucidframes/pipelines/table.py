"""One table of a snapshot: drained page by page into a staged file, its counts and checks, its manifest entry.

Rows are typed as ``load`` types them (``to_frame`` with the registry's columns) a batch of ``BATCH_ROWS`` at a
time, duplicates are dropped by the registry's key, and a new drain pass (the data moved) starts the file over.
A complete table is put in place in the staging folder at once (``NAME.parquet``); the pages also go into a
checkpoint beside it while the drain runs, so a run that continues a stopped one fetches only the pages it lacks.
When the drain gives up, the rows held are written too, including those of pages that arrived after another
failed (the error's ``.partial`` has them), so the ``NAME.partial`` file keeps everything fetched. A table that a
stopped run completed is ``kept``: its staged file is used as it is.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lucidframes.endpoints import get_endpoint
from lucidframes.io.formats import SNAPSHOT_DEFAULT
from lucidframes.io.write import TableWriter, sha256_of
from lucidframes.loaders.frames import to_frame
from lucidframes.pipelines import pages as pagesource
from lucidframes.pipelines.targets import Target

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.client import Client

__all__ = ["BATCH_ROWS", "TableRun", "entry_of", "new_rows"]

# Rows typed and written at a time (one Parquet row group): a batch, not the whole table, is in memory. Typing and
# encoding a batch leaves the allocators (Python's, Arrow's mimalloc) holding about its size again, so the peak
# grows with it: 2,000 rows peak at 2.4x the final frame on bench_snapshot.py, 10,000 at 3.1-3.4x.
BATCH_ROWS = 2_000


@dataclass
class TableRun:
    """One table of a snapshot: its staged file, its counts, what happened to it."""

    target: Target
    status: str = "not_fetched"
    writer: TableWriter | None = None
    info: dict[str, Any] = field(default_factory=dict)
    rows: int = 0
    pages: int = 0
    duplicates: int = 0
    entry: dict[str, Any] = field(default_factory=dict)  # a kept table's entry, from the run it was fetched in
    batch: list[dict[str, Any]] = field(default_factory=list)  # rows fetched, not yet written
    seen: set[Any] = field(default_factory=set)  # the keys written (duplicates are dropped by them)
    path: Path | None = None
    fmt: str = SNAPSHOT_DEFAULT
    file: Path | None = None  # the staged file once written: NAME.parquet when complete, NAME.parquet.partial
    sha256: str | None = None
    bytes: int | None = None
    notes: list[str] = field(default_factory=list)  # what the manifest should say of it (no change report: why)
    change_report: dict[str, Any] | None = None
    kept: bool = False
    options: dict[str, Any] = field(default_factory=dict)  # the writer's per-call options (CSV: excel_safe)

    def checks(self) -> list[str]:
        """The checks the fetched data failed (empty when it passed).

        Returns:
            One sentence per failed check.
        """
        info = self.info
        problems = []
        unresolved = (info.get("drift") or {}).get("unresolved")
        if unresolved:
            problems.append(f"the data changed during the drain and did not settle: {unresolved}")
        count = info.get("count")
        if count is not None and self.rows != count:
            problems.append(f"{self.rows} rows after dropping duplicates, but the server announced {count}")
        return problems

    def drain(
        self,
        client: Client,
        path: Path,
        fmt: str,
        *,
        progress: bool = False,
        checkpoint: Path | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Drain the target into a temp file next to ``path``, a batch at a time, duplicates dropped by key.

        Args:
            client: the Client.
            path: the file's final name (it is written to a temp file beside it, renamed when complete).
            fmt: a batch file format (parquet, csv, jsonl).
            progress: show the drain's progress bar.
            checkpoint: keep the pages in this file while the drain runs (the pages it holds are not fetched).
            stop: an Event that stops the drain (DrainStopped, with what was written kept).

        Returns:
            None (``status``, the counts, ``info`` and ``file`` are set).
        """
        self.status = "partial"
        self.path, self.fmt = path, fmt
        source = pagesource.pages(
            client, self.target.endpoint, self.target.params, progress=progress, checkpoint=checkpoint, stop=stop
        )
        self.writer = TableWriter(path, fmt, **self.options)
        try:
            self._pages(source)
        except BaseException as exc:
            self._flush(getattr(exc, "partial", None))  # a run that gives up keeps every row it fetched
            raise
        self.info = dict(source.info or {})
        status = "failed_check" if self.checks() else "complete"
        self._written(self.writer.commit())  # a commit that fails (a full disk) leaves the table partial
        self.writer, self.status = None, status

    def keep(self, entry: dict[str, Any], path: Path, note: str) -> None:
        """Use a table a stopped run completed, as it is (the run that continues it does not fetch it again).

        Args:
            entry: its manifest entry in the stopped run's manifest.
            path: its staged file.
            note: what the manifest should say of it.

        Returns:
            None.
        """
        self.status, self.kept, self.entry = str(entry["status"]), True, dict(entry)
        self.rows, self.pages = int(entry.get("rows") or 0), int(entry.get("pages") or 0)
        self.duplicates = int(entry.get("duplicates_dropped") or 0)
        self.file, self.path, self.sha256, self.bytes = path, path, entry.get("sha256"), entry.get("bytes")
        self.notes.append(note)

    def stop(self, status: str) -> None:
        """The run stops while this table is being drained: what it fetched goes to ``NAME.partial``.

        Args:
            status: ``partial`` (gave up or failed) or ``interrupted``.

        Returns:
            None.
        """
        if self.status != "partial":
            return  # complete, kept or never started: as it is
        self.status = status
        writer, self.writer = self.writer, None
        if writer is None or self.path is None:
            return
        if writer.rows:
            self._written(writer.commit(Path(str(self.path) + ".partial")))
        else:
            writer.discard()

    def _written(self, path: Path) -> None:
        self.file, self.sha256, self.bytes = path, sha256_of(path), os.path.getsize(path)

    def _flush(self, partial: Any) -> None:
        """On the way out of a failed drain: write the batch held, and the rows the drain kept but never yielded.

        Pages that arrived after another failed are in the error's ``.partial`` (typed as ours), not in a Page.
        """
        ep = get_endpoint(self.target.endpoint)
        if self.writer is None:
            return
        with contextlib.suppress(Exception):
            if self.batch:
                self.writer.write(to_frame(self.batch, ep.columns))
                self.rows += len(self.batch)
            self.batch = []
            if isinstance(partial, pd.DataFrame) and ep.key is not None and ep.key in partial.columns:
                unseen = partial.loc[~partial[ep.key].isin(self.seen) & partial[ep.key].notna()]
                unseen = unseen.drop_duplicates(subset=[ep.key])
                if len(unseen):
                    self.writer.write(unseen.reset_index(drop=True))
                    self.rows += len(unseen)
                    self.seen.update(unseen[ep.key].tolist())

    def _pages(self, source: pagesource.PageStream) -> None:
        """Pages into the writer, a batch at a time; a new drain pass starts the file over."""
        ep = get_endpoint(self.target.endpoint)
        seen = self.seen
        drain_pass = 1
        assert self.writer is not None and self.path is not None
        for page in source:
            if page.drain_pass != drain_pass:  # the data moved: what the earlier pass wrote is discarded
                drain_pass = page.drain_pass
                self.writer.discard()
                self.writer = TableWriter(self.path, self.fmt, **self.options)
                seen.clear()
                self.batch = []
                self.rows = self.pages = self.duplicates = 0
            kept = new_rows(page.rows, ep.key, seen)
            self.duplicates += len(page.rows) - len(kept)
            self.batch.extend(kept)
            self.pages += 1
            if len(self.batch) >= BATCH_ROWS:
                self._write_batch()
        if self.batch or self.writer.rows == 0:
            self._write_batch()

    def _write_batch(self) -> None:
        """Type the batch held and write it; the raw rows go before the write (not alive with its Arrow table)."""
        assert self.writer is not None
        frame = to_frame(self.batch, get_endpoint(self.target.endpoint).columns)
        self.batch = []
        self.writer.write(frame)
        self.rows += len(frame)


def entry_of(result: TableRun) -> dict[str, Any]:
    """A table's manifest entry (the snapshot fills in where its file is); a kept table's is the one it was given.

    Args:
        result: the table.

    Returns:
        The entry, as the manifest schema describes it.
    """
    if result.kept:
        return {**result.entry, "status": result.status, "notes": list(result.notes), "changes": result.change_report}
    info = result.info
    drift = info.get("drift") or {}
    checks = result.checks() if result.status in ("complete", "failed_check") else []
    return {
        "endpoint": result.target.endpoint,
        "params": dict(result.target.params),
        "status": result.status,
        "count": info.get("count"),
        "rows": result.rows,
        "pages": result.pages,
        # the drain counts duplicates by key too; both see the same pages, so the larger count is the honest one
        "duplicates_dropped": max(result.duplicates, int(info.get("duplicates_dropped") or 0)),
        "drift": {
            "detected": bool(drift.get("detected")),
            "refetches": int(drift.get("refetches") or 0),
            "resolved": bool(drift.get("detected")) and not drift.get("unresolved"),
            "unresolved": drift.get("unresolved"),
        },
        "retries": int(info.get("retries") or 0),
        "wait_seconds": float(info.get("total_wait") or 0.0),
        "fetched_at": info.get("fetched_at"),
        "file": None,
        "sha256": None,
        "bytes": None,
        "table": None,
        "checks": checks,
        "changes": result.change_report,
        "notes": list(result.notes),
    }


def new_rows(rows: list[dict[str, Any]], key: str | None, seen: set[Any]) -> list[dict[str, Any]]:
    """The rows whose key has not been seen (all rows when the endpoint has no key); ``seen`` is updated.

    Args:
        rows: a page's records.
        key: the registry's key column.
        seen: the keys kept so far.

    Returns:
        The rows to keep.
    """
    if key is None:
        return rows
    kept = []
    for row in rows:
        value = row.get(key)
        if value is not None and value in seen:
            continue
        seen.add(value)
        kept.append(row)
    return kept
