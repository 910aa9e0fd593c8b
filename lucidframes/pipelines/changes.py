"""What changed since the last snapshot: keys added, removed and changed, from the previous snapshot's own files.

The state is the previous snapshot itself (its files next to the manifest), never a hidden folder. Both the
previous table and the new one are read back the same way (the same format reader, batch by batch) and reduced to
a fingerprint per key: ``updated_on`` where the endpoint has that column, otherwise a hash of the whole row. The
API documents no ``since`` filter, so a full drain and this diff are the honest way to know what changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from lucidframes.io import formats
from lucidframes.io.write import TableWriter

__all__ = ["CHANGE_COLUMNS", "count_changes", "diff", "duckdb_batches", "file_batches", "fingerprints", "write_changes"]

BATCH_ROWS = 50_000
STAMP_COLUMN = "updated_on"
CHANGE_COLUMNS = ("key", "change", "before", "after")
CHANGES_FORMAT = "parquet"  # the changes files are Parquet whatever the snapshot's format (pyarrow is core)


def file_batches(path: str | os.PathLike[str], fmt: str) -> Iterator[pd.DataFrame]:
    """Read a snapshot file back in batches, as its format's sink wrote it (CSV and JSON Lines values as text).

    Args:
        path: the file.
        fmt: a batch file format (csv, parquet, jsonl).

    Returns:
        An iterator of DataFrames.
    """
    return formats.get(fmt).batches(path, BATCH_ROWS)


def duckdb_batches(database: str | os.PathLike[str], source: str, *, parquet: bool = False) -> Iterator[pd.DataFrame]:
    """Read a DuckDB table (or a Parquet file, through DuckDB) back in batches.

    Args:
        database: the DuckDB file.
        source: a table name, or a Parquet file's path with ``parquet=True``.
        parquet: read ``source`` as a Parquet file.

    Returns:
        An iterator of DataFrames (nothing when the table does not exist).
    """
    return formats.get("duckdb").open_database(database).batches(source, BATCH_ROWS, parquet=parquet)


def fingerprints(batches: Iterator[pd.DataFrame], key: str) -> pd.DataFrame:
    """One row per key: the key and its fingerprint (``updated_on`` as text where present, else a row hash).

    Args:
        batches: the table, batch by batch.
        key: the registry's key column.

    Returns:
        A frame with columns ``key`` and ``stamp`` (both text), indexed by nothing in particular.
    """
    parts = []
    for frame in batches:
        if key not in frame.columns or not len(frame):
            continue
        if STAMP_COLUMN in frame.columns:
            stamp = frame[STAMP_COLUMN].astype(str)
        else:
            rest = frame.drop(columns=[key]).astype(str)
            stamp = pd.util.hash_pandas_object(rest, index=False).astype(str)
        parts.append(pd.DataFrame({"key": frame[key].astype(str).to_numpy(), "stamp": stamp.to_numpy()}))
    if not parts:
        return pd.DataFrame({"key": pd.Series(dtype=str), "stamp": pd.Series(dtype=str)})
    return pd.concat(parts, ignore_index=True).drop_duplicates("key")


def diff(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Keys added, removed and changed between two fingerprint frames.

    Args:
        before: the previous snapshot's fingerprints.
        after: this snapshot's fingerprints.

    Returns:
        Columns ``key``, ``change`` (added, removed, changed) and ``before`` / ``after`` (``updated_on`` or the
        row hash); sorted by change, then key.
    """
    merged = before.merge(after, on="key", how="outer", suffixes=("_before", "_after"), indicator=True)
    change = pd.Series("changed", index=merged.index, dtype=object)
    change[merged["_merge"] == "left_only"] = "removed"
    change[merged["_merge"] == "right_only"] = "added"
    out = pd.DataFrame(
        {
            "key": merged["key"].astype(str),
            "change": change.astype(str),
            "before": merged["stamp_before"].astype(object).where(merged["stamp_before"].notna(), None),
            "after": merged["stamp_after"].astype(object).where(merged["stamp_after"].notna(), None),
        }
    )
    same = (out["change"] == "changed") & (merged["stamp_before"] == merged["stamp_after"])
    out = out.loc[~same]
    return (
        out.sort_values(["change", "key"], kind="stable")
        .reset_index(drop=True)
        .astype({"key": "str", "change": "str", "before": "str", "after": "str"})
    )


def count_changes(changes: pd.DataFrame) -> dict[str, int]:
    """The counts of added, removed and changed keys.

    Args:
        changes: a frame from ``diff``.

    Returns:
        ``{"added": n, "removed": n, "changed": n}``.
    """
    counts = changes["change"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in ("added", "removed", "changed")}


def write_changes(changes: pd.DataFrame, path: Path) -> Path:
    """Write a changes frame atomically as Parquet, creating the ``changes`` folder.

    Args:
        changes: a frame from ``diff``.
        path: ``DIR/changes/<endpoint>.parquet``.

    Returns:
        The path written.
    """
    path.parent.mkdir(exist_ok=True)
    with TableWriter(path, CHANGES_FORMAT) as writer:
        writer.write(changes)
    return path
