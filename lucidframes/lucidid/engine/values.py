"""The rules on the well-formed values: ids that are not among the known ones, and repeats after the first one.

The well-formed values of every checked column form one long table (order = row * k + column, so the first
occurrence of a value is the first in row order, then column order). Duplicates are found with the engine's
group-by: the values that occur more than once come back (few, normally), then the rows holding them, so the
first occurrence of each is known and only the repeats after it are reported.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from lucidframes.lucidid.engine.collect import collect
from lucidframes.lucidid.engine.internal_columns import (
    CELL,
    COL,
    CORE,
    FIRST,
    KEY,
    ORD,
    RESCUED,
    ROW,
    N,
    passes,
    string_view,
)
from lucidframes.lucidid.engine.prepare import Prepared

__all__ = ["duplicates", "known_failures", "valid_values"]

_GROUPS_LIMIT = 1_000_000  # repeated values collected at most; beyond, only the count and the first rows


def valid_values(prep: Prepared, base: Any, bad: list[Any], normalize: bool) -> Any:
    """Every well-formed value as (ord, col, key, cell, keep...): the passing cells, and with ``normalize`` the rescued.

    Args:
        prep: the prepared input.
        base: its narwhals frame with the ``passes(j)`` flags.
        bad: per column, its failing rows (with CORE and RESCUED when normalising).
        normalize: whether cells that normalisation makes well-formed count, under their normalised value.

    Returns:
        A narwhals frame, lazy for lazy engines.
    """
    k = len(prep.names)
    parts = []
    for j in range(k):
        keep = [nw.col(c) for c in prep.keep]
        order = (nw.col(ROW) * k + j).alias(ORD)
        cell = nw.col(string_view(j)).alias(CELL)
        good = base.filter(nw.col(passes(j))).select(
            order, nw.lit(j).alias(COL), nw.col(string_view(j)).alias(KEY), cell, *keep
        )
        parts.append(good)
        if normalize:
            rescued = bad[j].filter(nw.col(RESCUED))
            parts.append(rescued.select(order, nw.lit(j).alias(COL), nw.col(CORE).alias(KEY), cell, *keep))
    return parts[0] if len(parts) == 1 else nw.concat(parts, how="vertical")


def _per_column(frame: Any) -> dict[int, int]:
    """The rows of ``frame`` per checked column (COL), counted on the engine."""
    counts = collect(frame.group_by(COL).agg(nw.len().alias(N)))
    return dict(zip(map(int, counts[COL].tolist()), map(int, counts[N].tolist()), strict=True))


def known_failures(
    values: Any, known: frozenset[str], cap: int, eager: bool
) -> tuple[Any, dict[int, int], pd.DataFrame, Any]:
    """Split well-formed values into known ones and unknown failures (counts per column exact, rows capped).

    Args:
        values: the long table of well-formed values.
        known: the ids known to exist.
        cap: the most failing rows collected.
        eager: every unknown value's order comes back too (eager engines).

    Returns:
        ``(known values, unknown per column, the first unknown rows, their orders or None)``.
    """
    known_list = sorted(known)
    unknown = values.filter(~nw.col(KEY).is_in(known_list))
    counts = _per_column(unknown)
    rows = collect(unknown.sort(ORD).head(cap)) if counts else pd.DataFrame()
    positions = collect(unknown.select(ORD))[ORD].to_numpy(dtype=np.int64) if eager and counts else None
    return values.filter(nw.col(KEY).is_in(known_list)), counts, rows, positions


def _repeats(values: Any, groups: Any) -> Any:
    """The values after the first occurrence of their key, joined on the engine."""
    return values.join(groups.select(KEY, FIRST), on=KEY).filter(nw.col(ORD) > nw.col(FIRST))


def duplicates(values: Any, cap: int, eager: bool) -> tuple[dict[int, int], pd.DataFrame]:
    """Repeats after the first occurrence: exact counts per column, the first ``cap`` rows (eager: all of them).

    Args:
        values: the long table of well-formed values.
        cap: the most rows collected (lazy engines).
        eager: collect every repeat (eager engines: their row positions make the valid mask).

    Returns:
        ``(repeats per column, the repeated rows with FIRST)``.
    """
    if eager:  # the engine's hash first (pandas' duplicated, polars' is_duplicated): group only the repeats
        values = values.filter(nw.col(KEY).is_duplicated())
    groups = values.group_by(KEY).agg(nw.len().alias(N), nw.col(ORD).min().alias(FIRST)).filter(nw.col(N) > 1)
    repeated = collect(groups.head(_GROUPS_LIMIT + 1))
    if not len(repeated):
        return {}, pd.DataFrame()
    if len(repeated) > _GROUPS_LIMIT:  # very many repeated values: join on the engine instead of in Python
        dups = _repeats(values, groups)
        return _per_column(dups), collect(dups.sort(ORD).head(cap) if not eager else dups.sort(ORD))
    first = dict(zip(repeated[KEY].tolist(), map(int, repeated[FIRST].tolist()), strict=True))
    limit = None if eager else cap + len(repeated)  # among these rows at most len(repeated) are first occurrences
    holders = values.filter(nw.col(KEY).is_in(list(first))).sort(ORD)
    rows = collect(holders if limit is None else holders.head(limit))
    rows = rows[[o != first[v] for o, v in zip(rows[ORD].tolist(), rows[KEY].tolist(), strict=True)]]
    rows = rows.assign(**{FIRST: [first[v] for v in rows[KEY].tolist()]})
    # Exact counts per column: the repeats of a value are its holders minus one, spread over columns by holder.
    total = int(sum(int(n) - 1 for n in repeated[N].tolist()))
    if limit is None or len(rows) == total:
        counts = {int(str(c)): int(n) for c, n in rows[COL].value_counts().items()}
    else:
        counts = _per_column(_repeats(values, groups))
    return counts, rows.head(cap) if not eager else rows
