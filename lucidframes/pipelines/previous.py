"""The snapshot already in the folder, as a new run compares with it: checked before the first request.

The previous snapshot is the state the change report is computed from (``changes.py``). Before the first request,
every previous file the run will compare with is checked against the SHA-256 its manifest recorded: a file cut
short (a full disk, a killed copy), edited or missing gets no change report, and the endpoint's ``notes`` in the new
manifest say why, instead of a raw ``ArrowInvalid`` or ``JSONDecodeError`` after everything was fetched, every run,
until someone deleted the file. A file that passes and still cannot be read (or a DuckDB table that cannot be) is
noted the same way when the report is computed; so is a ``manifest.json`` that cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from lucidframes.io.write import sha256_of
from lucidframes.pipelines import changes as changes_mod
from lucidframes.pipelines.manifest import MANIFEST_NAME, read_manifest

__all__ = ["DONE", "Previous", "plain_name"]

DONE = ("complete", "failed_check")  # the statuses of a table that was fetched whole


def plain_name(value: Any) -> str | None:
    """A file name a manifest gives, if it is a bare name in its folder (never a path elsewhere).

    Args:
        value: the manifest's ``file``.

    Returns:
        The name, or None.
    """
    if not isinstance(value, str) or not value or value in (".", "..") or Path(value).name != value:
        return None
    return value


class Previous:
    """The previous snapshot of a folder: which of its tables can be compared with, and the change reports."""

    def __init__(self, directory: Path, kind: str, duckdb: Path | None) -> None:
        self.directory = directory
        self.kind = kind  # this run's format: parquet, csv, jsonl or duckdb
        self.duckdb = duckdb
        self.manifest = read_manifest(directory)
        self.unreadable = self.manifest is None and (directory / MANIFEST_NAME).exists()
        self.notes: dict[str, str] = {}
        self.files: dict[str, Path] = {}

    def summary(self) -> dict[str, Any] | None:
        """What the manifest says of the snapshot compared with (None for a first snapshot).

        Returns:
            ``{"finished_at", "format"}`` or None.
        """
        prev = self.manifest
        return None if prev is None else {"finished_at": prev.get("finished_at"), "format": prev.get("format")}

    def check(self, name: str) -> str | None:
        """Decide, before the first request, whether table ``name`` can be compared with; the note when not.

        Args:
            name: a target name.

        Returns:
            Why there will be no change report, or None.
        """
        note = self._check(name)
        if note is not None:
            self.notes[name] = note
        return note

    def _check(self, name: str) -> str | None:
        prev = self.manifest
        if prev is None:
            return f"no change report: the previous {MANIFEST_NAME} cannot be read" if self.unreadable else None
        if prev.get("format") != self.kind:
            return f"no change report: the previous snapshot is {prev.get('format')}, this one {self.kind}"
        entry = (prev.get("endpoints") or {}).get(name)
        if not isinstance(entry, dict) or entry.get("status") not in DONE:
            return None  # new to this folder: nothing to compare with, and nothing wrong
        if self.duckdb is not None:
            return None if self.duckdb.exists() else f"no change report: {self.duckdb} is gone"
        file = plain_name(entry.get("file"))
        path = self.directory / file if file is not None else None
        if path is None or not path.is_file():
            return f"no change report: the previous {entry.get('file')} is missing"
        if sha256_of(path) != entry.get("sha256"):
            return (
                f"no change report: the previous {file} does not match the SHA-256 in its manifest "
                "(damaged or changed since)"
            )
        self.files[name] = path
        return None

    def changes(self, name: str, key: str, after: Iterator[pd.DataFrame]) -> tuple[pd.DataFrame | None, str | None]:
        """The keys added, removed and changed since the previous snapshot's table ``name``.

        Args:
            name: the target name (checked by ``check`` first).
            key: the registry's key column.
            after: this run's table, batch by batch.

        Returns:
            (the changes or None, a note when the previous table could not be read; ``check``'s notes are not
            repeated).
        """
        if name in self.notes:
            return None, None
        before = self._batches(name)
        if before is None:
            return None, None
        try:
            return changes_mod.diff(changes_mod.fingerprints(before, key), changes_mod.fingerprints(after, key)), None
        except Exception as exc:  # a file that passed its hash and still does not read: noted, never the run's end
            what = self.files[name].name if name in self.files else f"table {name} of {self.duckdb}"
            return None, f"no change report: the previous {what} could not be read ({one_line(exc)})"

    def _batches(self, name: str) -> Iterator[pd.DataFrame] | None:
        if self.manifest is None:
            return None
        if self.duckdb is not None:
            if name not in (self.manifest.get("endpoints") or {}):
                return None
            return changes_mod.duckdb_batches(self.duckdb, name)
        path = self.files.get(name)
        return None if path is None else changes_mod.file_batches(path, self.kind)


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its type and its message, whitespace folded.

    Args:
        exc: the exception.

    Returns:
        ``Type: message`` on one line, at most 300 characters.
    """
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."
