"""Where a snapshot is put together before it replaces the previous one, how the swap is made, and where a stopped
run's output goes.

A run writes everything into ``DIR/.lucidframes-staging/``: the tables, the change reports (``changes/``), the
checkpoint of the endpoint it is on, and a manifest of its progress. The previous snapshot in DIR is not touched
until every endpoint is complete. Then the swap:

1. ``COMMITTING`` (the journal: what moves, what goes, the new manifest) is written into the staging folder,
   atomically and fsynced: from here on the run is committed;
2. with ``duckdb=FILE``, every table goes into the DuckDB file in one transaction (if that fails, for a lock say,
   the journal is removed and nothing has moved: the run stops as partial);
3. each staged file is renamed onto its name in DIR (the same filesystem: one ``rename`` each, no data copied),
   stale change reports are removed, and the folder is fsynced;
4. ``manifest.json`` is written last (temp, fsync, rename), then the staging folder and any ``partial/`` go.

Why this way and not a ``current`` symlink or a generation folder swapped by one rename: the snapshot stays real
files under the names every reader already uses (``DIR/products.parquet``, ``DIR/changes/...``); symlinks need
privileges on Windows and are copied, followed or skipped differently by sync and backup tools; and a folder of real
files (every snapshot written so far) cannot be turned into a symlink in one atomic step. The price is that the
swap is a handful of renames, not one: it writes no data and takes milliseconds, a run killed in the middle of it
is completed by the next run from the journal (``recover``), and the manifest, written last, holds every file's
SHA-256: a reader that must never see a swap in progress reads ``manifest.json`` and checks the hashes, or waits
while ``DIR/.lucidframes-staging/COMMITTING`` exists.

A run that stops before the swap (gives up, Ctrl-C, a full disk, any error) renames its staging folder to
``DIR/partial/``: clearly named, beside the previous snapshot, which stays as it was. ``adopt`` takes that folder
(or the staging folder a killed run left) back for a run that continues it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from lucidframes.io import formats
from lucidframes.io.atomic import atomic_write, fsync_folder
from lucidframes.io.write import sha256_of
from lucidframes.pipelines.manifest import read_manifest, write_manifest

__all__ = ["JOURNAL_NAME", "PARTIAL_NAME", "STAGING_NAME", "Staging"]

STAGING_NAME = ".lucidframes-staging"
PARTIAL_NAME = "partial"
JOURNAL_NAME = "COMMITTING"


class Staging:
    """The staging folder of a snapshot folder, its swap into place, and the partial output of a stopped run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.folder = directory / STAGING_NAME
        self.partial = directory / PARTIAL_NAME

    @property
    def journal(self) -> Path:
        """The journal of a swap under way."""
        return self.folder / JOURNAL_NAME

    def committing(self) -> bool:
        """Whether a swap has begun (and must be completed, never undone).

        Returns:
            True while the journal exists.
        """
        return self.journal.exists()

    def recover(self) -> bool:
        """Complete the swap a killed run began (its journal is there), before anything else looks at DIR.

        Returns:
            Whether there was one.
        """
        if not self.committing():
            return False
        journal = json.loads(self.journal.read_text(encoding="utf-8"))
        self._duckdb(journal)
        self._swap(journal)
        return True

    def fresh(self) -> None:
        """An empty staging folder (what a killed run left there is removed: a new run starts over).

        Returns:
            None.
        """
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir()

    def stopped(self) -> dict[str, Any] | None:
        """The manifest of the stopped run ``adopt`` would continue (nothing is moved).

        Returns:
            The manifest in the staging folder a killed run left, else in ``partial/``; None when there is none.
        """
        staged = read_manifest(self.folder) if self.folder.is_dir() else None
        return staged if staged is not None else read_manifest(self.partial)

    def adopt(self) -> dict[str, Any] | None:
        """Take back a stopped run's output to continue it: the staging folder a killed run left, else ``partial/``.

        Returns:
            The stopped run's manifest (None when there is none to continue: the folder starts empty).
        """
        stopped = read_manifest(self.folder) if self.folder.is_dir() else None
        if stopped is None and read_manifest(self.partial) is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            os.rename(self.partial, self.folder)
            stopped = read_manifest(self.folder)
        self.folder.mkdir(exist_ok=True)
        for temp in self.folder.glob(".*.tmp"):  # a killed writer's temp file
            temp.unlink(missing_ok=True)
        return stopped

    def publish(self) -> Path:
        """Rename the staging folder to ``partial/`` (replacing an older one): a stopped run's output.

        Returns:
            The partial folder.
        """
        if self.partial.exists():
            shutil.rmtree(self.partial)
        os.rename(self.folder, self.partial)
        fsync_folder(self.directory)
        return self.partial

    def discard(self) -> None:
        """Remove the staging folder (a run that fetched nothing leaves nothing).

        Returns:
            None.
        """
        shutil.rmtree(self.folder, ignore_errors=True)

    def commit(
        self,
        manifest: dict[str, Any],
        moves: list[str],
        removes: list[str],
        duckdb: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Swap the staged snapshot in, ``manifest.json`` last (the module docstring says how).

        Args:
            manifest: the new manifest.
            moves: staged files, relative to the staging folder, to rename to the same place in DIR.
            removes: files of DIR, relative to it, that the new snapshot no longer has (stale change reports).
            duckdb: ``{"file": path, "tables": {table: staged file}}`` to put into a DuckDB file first.

        Returns:
            The manifest written (with the DuckDB file's hash).
        """
        journal = {"moves": moves, "removes": removes, "duckdb": duckdb, "manifest": manifest}
        with atomic_write(self.journal) as fh:
            fh.write(json.dumps(journal))
        try:
            written = self._duckdb(journal)
        except BaseException:
            self.journal.unlink(missing_ok=True)  # nothing has moved: the run is not committed after all
            raise
        self._swap(journal)
        return written

    def _duckdb(self, journal: dict[str, Any]) -> dict[str, Any]:
        """Put the staged tables into the DuckDB file in one transaction; the manifest gets the file's hash."""
        manifest: dict[str, Any] = journal["manifest"]
        duckdb = journal.get("duckdb")
        if duckdb:
            path = Path(duckdb["file"])
            tables = {name: self.folder / rel for name, rel in duckdb["tables"].items()}
            if tables:
                formats.get("duckdb").open_database(path).replace(tables)
            manifest["duckdb"] = {"file": str(path), "sha256": sha256_of(path), "bytes": path.stat().st_size}
        return manifest

    def _swap(self, journal: dict[str, Any]) -> None:
        """Rename the staged files into DIR, remove the stale ones, write the manifest, clear up (idempotent)."""
        for rel in journal["moves"]:
            source, target = self.folder / rel, self.directory / rel
            if source.exists():  # a rename the killed run made already is not made twice
                target.parent.mkdir(exist_ok=True)
                os.replace(source, target)
        for rel in journal["removes"]:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / rel).unlink()
        for folder in {(self.directory / rel).parent for rel in [*journal["moves"], *journal["removes"]]}:
            fsync_folder(folder)
        write_manifest(self.directory, journal["manifest"])
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.partial, ignore_errors=True)
        fsync_folder(self.directory)

    def progress(self, manifest: dict[str, Any]) -> None:
        """Write the run's manifest so far into the staging folder (what a run killed now can be continued from).

        Args:
            manifest: the manifest of the run so far.

        Returns:
            None.
        """
        write_manifest(self.folder, manifest)
