"""Run the rules on the engine: exact counts per column and reason, and only the failing rows (capped) collected.

The same narwhals code serves eager frames (pandas, polars, Arrow: every step runs at once) and lazy ones (polars
lazy, DuckDB, Dask, Spark: each ``collect`` is one query on the engine). Here: the format failures of each column,
diagnosed, and the findings gathered into a TierResult; unknown ids and repeats are found among the well-formed
values (:mod:`.values`). DuckDB rescans its input for every query, so there :mod:`.duckdb_scan` first cuts the input
down to the rows that can fail, in two scans, and the same steps run on those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from lucidframes.lucidid.cells import diagnose_cell
from lucidframes.lucidid.engine import duckdb_scan, rules
from lucidframes.lucidid.engine.collect import collect, scalar_row
from lucidframes.lucidid.engine.internal_columns import (
    CELL,
    COL,
    CORE,
    DIAG,
    FIRST,
    KEY,
    ORD,
    REASON,
    RESCUED,
    ROW,
    N,
    bad_count,
    not_text,
    original,
    passes,
    string_view,
)
from lucidframes.lucidid.engine.prepare import Prepared, narwhals_frame
from lucidframes.lucidid.engine.values import duplicates, known_failures, valid_values
from lucidframes.lucidid.formats import IdFormat, Reason
from lucidframes.lucidid.known import KnownIds

__all__ = [
    "Check",
    "Findings",
    "TierResult",
    "bad_columns",
    "run",
]


@dataclass(frozen=True)
class Check:
    """What is checked: the format, normalisation, known ids, and the cap on collected failures."""

    fmt: IdFormat
    normalize: bool
    unique: bool
    known: KnownIds | None
    cap: int


@dataclass
class TierResult:
    """What the engine found: exact counts, the first ``max_failures`` failing cells, and what eager mode adds."""

    n_rows: int
    counts: dict[tuple[int, str], int]  # (column position, reason) -> cells
    failures: pd.DataFrame  # row, col, value, text, reason, core, first, keep columns: sorted, capped
    capped: bool
    failing_rows: np.ndarray | None = None  # eager engines: every row position with a failing cell
    changes: pd.DataFrame | None = None  # normalize=True: row, col, before, after (cells normalisation changed)
    extras: dict[str, Any] = field(default_factory=dict)


def bad_columns(prep: Prepared, j: int, fmt: IdFormat, normalize: bool) -> list[Any]:
    """The columns kept of a row whose j-th cell fails (ROW, the cell, flags, keep); ``normalize`` adds the rescue."""
    s = nw.col(string_view(j))
    columns = [nw.col(ROW), s]
    if prep.has_original[j]:
        columns.append(nw.col(original(j)))
    if prep.has_not_text[j]:
        columns.append(nw.col(not_text(j)))
    columns += [nw.col(k) for k in prep.keep]
    if normalize:
        checked = rules.core(s, fmt, normalize=True)
        columns += [checked.alias(CORE), rules.strict_ok(checked, fmt).fill_null(False).alias(RESCUED)]
    return columns


def _cells(prep: Prepared, rows: pd.DataFrame, j: int) -> list[Any]:
    """The original cells of collected rows: pandas' own objects (lists stay lists), else the engine's values."""
    if prep.series is not None:
        return list(prep.series[j].take(rows[ROW].to_numpy(dtype=np.int64)).tolist())
    return list(rows[original(j)] if prep.has_original[j] else rows[string_view(j)])


def _diagnosed(prep: Prepared, rows: pd.DataFrame, j: int, check: Check) -> pd.DataFrame:
    """Collected failing rows with their per-cell diagnosis; rows that normalisation fixes are dropped."""
    if not len(rows):
        return rows
    cells = _cells(prep, rows, j)
    cores = rows[CORE].tolist() if CORE in rows else [None] * len(rows)
    diags = [
        diagnose_cell(c, None, v, check.fmt, check.known, check.normalize) for c, v in zip(cells, cores, strict=True)
    ]
    keep = [d is not None for d in diags]
    value = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        value[i] = cell
    added: dict[str, Any] = {
        COL: j,
        "value": pd.Series(value, dtype=object, index=rows.index),  # never inferred: lone surrogates stay
        DIAG: pd.Series(diags, dtype=object, index=rows.index),
        REASON: pd.Series([d.reason if d is not None else None for d in diags], dtype=object, index=rows.index),
    }
    return rows.assign(**added)[keep]


def _format_failures(
    prep: Prepared, bad: Any, j: int, n_bad: int, check: Check
) -> tuple[dict[str, int], pd.DataFrame, Any]:
    """Counts per reason (exact), the first ``cap`` failing rows diagnosed, and (eager) every failing row position.

    When every failing row fits under the cap they are all collected and diagnosed in Python, which also gives the
    counts; beyond the cap the engine classifies every failing row (``rules.reason``) and only the first come back.
    """
    if not n_bad:
        return {}, pd.DataFrame(), None
    if n_bad <= check.cap:
        rows = _diagnosed(prep, collect(bad.sort(ROW)), j, check)
        counts = {str(r): int(n) for r, n in rows[REASON].value_counts().items()}
        positions = rows[ROW].to_numpy(dtype=np.int64) if prep.eager else None
        return counts, rows, positions
    s = nw.col(string_view(j))
    flag = nw.col(not_text(j)) if prep.has_not_text[j] else None
    failing = bad.with_columns(rules.reason(s, flag, check.fmt, normalize=check.normalize).alias(REASON)).filter(
        ~nw.col(REASON).is_null()
    )
    counts_frame = collect(failing.group_by(REASON).agg(nw.len().alias(N)))
    counts = dict(zip(counts_frame[REASON].tolist(), map(int, counts_frame[N].tolist()), strict=True))
    rows = _diagnosed(prep, collect(failing.drop(REASON).sort(ROW).head(check.cap)), j, check)
    positions = collect(failing.select(ROW))[ROW].to_numpy(dtype=np.int64) if prep.eager else None
    return counts, rows, positions


@dataclass
class Findings:
    """What the rules found so far, column by column; ``result`` turns it into the TierResult."""

    k: int  # checked columns: a value's order is row * k + column
    eager: bool
    counts: dict[tuple[int, str], int] = field(default_factory=dict)
    pieces: list[pd.DataFrame] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)
    changes: list[pd.DataFrame] = field(default_factory=list)

    def add_format(self, j: int, found: dict[str, int], rows: pd.DataFrame, where: Any) -> None:
        """The format failures of column j (``where``: every failing row position, eager engines only)."""
        self.counts.update({(j, r): n for r, n in found.items()})
        self.pieces.append(rows)
        if where is not None:
            self.positions.append(where)

    def add_column(self, prep: Prepared, bad: Any, j: int, n_bad: int, check: Check) -> None:
        """The j-th column's ``n_bad`` failing rows (``bad``): counts, diagnosed rows and, normalising, the changes."""
        self.add_format(j, *_format_failures(prep, bad, j, n_bad, check))
        if check.normalize:
            self.changes.append(_changed_cells(bad, j, check.cap, self.eager))

    def add_values(self, reason: str, found: dict[int, int], rows: pd.DataFrame, orders: Any) -> None:
        """Failures among the well-formed values (unknown, duplicate); ``orders``: all of them, eager engines only."""
        self.counts.update({(j, reason): n for j, n in found.items()})
        self.pieces.append(from_values(rows, self.k, reason))
        if orders is not None:
            self.positions.append(np.asarray(orders, dtype=np.int64) // self.k)

    def result(self, n_rows: int, cap: int) -> TierResult:
        """The TierResult: failures merged in (row, column) order and capped."""
        failures = merge(self.pieces, cap)
        failing_rows = None
        if self.eager:
            failing_rows = np.unique(np.concatenate(self.positions)) if self.positions else np.empty(0, np.int64)
        changes = None
        if self.changes:
            changes = pd.concat(self.changes, ignore_index=True).sort_values(["row", "col"], kind="stable")
        return TierResult(
            n_rows=n_rows,
            counts=self.counts,
            failures=failures,
            capped=sum(self.counts.values()) > len(failures),
            failing_rows=failing_rows,
            changes=changes,
        )


def run(prep: Prepared, check: Check) -> TierResult:
    """Run every rule on the engine of ``prep``.

    Args:
        prep: the prepared input.
        check: what to check.

    Returns:
        The TierResult: exact counts, the first ``check.cap`` failures diagnosed, and for eager engines every
        failing row position.
    """
    if prep.engine != "duckdb":
        return _run(prep, check)
    # DuckDB rescans its input for every query below: two scans first, then the same steps on the rows that can fail.
    known = check.known.ids if check.known is not None else None
    narrowing = duckdb_scan.narrowed(prep, check.fmt, normalize=check.normalize, unique=check.unique, known=known)
    with narrowing as (small, n_rows):
        result = _run(small, check)
    result.n_rows = n_rows
    return result


def _run(prep: Prepared, check: Check) -> TierResult:
    """Every rule on the engine of ``prep``: see ``run``."""
    k = len(prep.names)
    base = narwhals_frame(prep).with_columns(
        *(rules.strict_ok(nw.col(string_view(j)), check.fmt).fill_null(False).alias(passes(j)) for j in range(k))
    )
    totals = scalar_row(
        base.select(
            nw.len().alias(N), *((~nw.col(passes(j))).cast(nw.Int64).sum().alias(bad_count(j)) for j in range(k))
        )
    )
    bad = [base.filter(~nw.col(passes(j))).select(*bad_columns(prep, j, check.fmt, check.normalize)) for j in range(k)]
    found = Findings(k, prep.eager)
    for j in range(k):
        found.add_column(prep, bad[j], j, int(totals[bad_count(j)] or 0), check)
    if check.unique or check.known is not None:
        values = valid_values(prep, base, bad, check.normalize)
        if check.known is not None:
            values, unknown, rows, where = known_failures(values, check.known.ids, check.cap, prep.eager)
            found.add_values(Reason.UNKNOWN.value, unknown, rows, where)
        if check.unique:
            repeats, rows = duplicates(values, check.cap, prep.eager)
            found.add_values(Reason.DUPLICATE.value, repeats, rows, rows[ORD] if prep.eager and len(rows) else None)
    return found.result(int(totals[N]), check.cap)


def _changed_cells(bad: Any, j: int, cap: int, eager: bool) -> pd.DataFrame:
    """The cells normalisation changed: row, col, before, after (eager: all of them, else the first ``cap``)."""
    changed = bad.filter(~nw.col(CORE).is_null() & (nw.col(CORE) != nw.col(string_view(j)))).sort(ROW)
    # A case URL in a LucidID column is left as it was (core() does not unwrap it), so it is not a change.
    rows = collect(changed if eager else changed.head(cap))
    return pd.DataFrame(
        {
            "row": pd.Series(rows[ROW].tolist() if len(rows) else [], dtype="int64"),
            "col": pd.Series([j] * len(rows), dtype="int64"),
            "before": pd.Series(rows[string_view(j)].tolist() if len(rows) else [], dtype=object),
            "after": pd.Series(rows[CORE].tolist() if len(rows) else [], dtype=object),
        }
    )


def from_values(rows: pd.DataFrame, k: int, reason: str) -> pd.DataFrame:
    """Failures found among the well-formed values, in the shape of the format failures."""
    if not len(rows):
        return pd.DataFrame()
    order = rows[ORD].to_numpy(dtype=np.int64)
    out = rows.copy()
    out[ROW] = order // k
    out[COL] = rows[COL].astype(int)
    out["value"], out[REASON], out[CORE] = rows[CELL], reason, rows[KEY]
    return out


def merge(pieces: list[pd.DataFrame], cap: int) -> pd.DataFrame:
    """All failures in (row, column) order, the first ``cap`` of them."""
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return pd.DataFrame(columns=[ROW, COL, "value", REASON, CORE, FIRST])
    merged = pd.concat(pieces, ignore_index=True)
    merged[ROW] = merged[ROW].astype("int64")
    merged[COL] = merged[COL].astype("int64")
    merged = merged.sort_values([ROW, COL], kind="stable").head(cap).reset_index(drop=True)
    if FIRST not in merged:
        merged[FIRST] = None
    return merged
