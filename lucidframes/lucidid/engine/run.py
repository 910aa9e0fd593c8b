"""Run the rules on the engine: exact counts per column and reason, and only the failing rows (capped) collected.

The same narwhals code serves eager frames (pandas, polars, Arrow: every step runs at once) and lazy ones (polars
lazy, DuckDB, Dask, Spark: each ``collect`` is one query on the engine). Duplicates are found with the engine's
group-by: the values that occur more than once come back (few, normally), then the rows holding them, so the
first occurrence of each in row order (row, then column) is known and only the repeats after it are reported.
DuckDB rescans its input for every query, so there :mod:`.duckscan` first cuts the input down to the rows that can
fail, in two scans, and the same steps run on those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from lucidframes.lucidid.cells import KnownIds, diagnose_cell
from lucidframes.lucidid.engine import duckdb_scan, rules
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
    checked_key,
    not_text,
    original,
    passes,
    string_view,
)
from lucidframes.lucidid.engine.prepare import Prepared, narwhals_frame, with_row
from lucidframes.lucidid.formats import IdFormat, Reason

__all__ = [
    "Check",
    "Findings",
    "TierResult",
    "bad_columns",
    "duplicates",
    "known_failures",
    "run",
    "valid_rows",
]

_GROUPS_LIMIT = 1_000_000  # repeated values collected at most; beyond, only the count and the first rows


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


def _collect(frame: Any) -> pd.DataFrame:
    """A narwhals frame (eager or lazy) as a pandas DataFrame of Python objects (ints stay ints, nulls None)."""
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    native = eager.to_native()
    if isinstance(native, pd.DataFrame):
        return pd.DataFrame({k: _objects(native[k]) for k in native.columns}, columns=list(native.columns))
    data = eager.to_dict(as_series=False)
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()}, columns=list(data))


def _objects(column: pd.Series) -> pd.Series:
    """A pandas column as Python objects, exactly as ``DataFrame.to_dict`` gives them."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind in "biuf"):
        # numpy's object cast boxes these as to_dict does, without a Python call per cell
        return pd.Series(column.to_numpy(dtype=object), dtype=object)
    return pd.Series(column.to_frame().to_dict(orient="list")[column.name], dtype=object)


def _scalar_row(frame: Any) -> dict[str, Any]:
    """The single row of an aggregate as a dict."""
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    return {k: v[0] if v else None for k, v in eager.to_dict(as_series=False).items()}


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


def _valid_values(prep: Prepared, base: Any, bad: list[Any], normalize: bool) -> Any:
    """Every well-formed value as (ord, col, key, keep...): the passing cells, and with ``normalize`` the rescued."""
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
        rows = _diagnosed(prep, _collect(bad.sort(ROW)), j, check)
        counts = {str(r): int(n) for r, n in rows[REASON].value_counts().items()}
        positions = rows[ROW].to_numpy(dtype=np.int64) if prep.eager else None
        return counts, rows, positions
    s = nw.col(string_view(j))
    flag = nw.col(not_text(j)) if prep.has_not_text[j] else None
    failing = bad.with_columns(rules.reason(s, flag, check.fmt, normalize=check.normalize).alias(REASON)).filter(
        ~nw.col(REASON).is_null()
    )
    counts_frame = _collect(failing.group_by(REASON).agg(nw.len().alias(N)))
    counts = dict(zip(counts_frame[REASON].tolist(), map(int, counts_frame[N].tolist()), strict=True))
    rows = _diagnosed(prep, _collect(failing.drop(REASON).sort(ROW).head(check.cap)), j, check)
    positions = _collect(failing.select(ROW))[ROW].to_numpy(dtype=np.int64) if prep.eager else None
    return counts, rows, positions


def known_failures(
    values: Any, known: frozenset[str], cap: int, eager: bool
) -> tuple[Any, dict[int, int], pd.DataFrame, Any]:
    """Split well-formed values into known ones and unknown failures (counts per column exact, rows capped)."""
    known_list = sorted(known)
    unknown = values.filter(~nw.col(KEY).is_in(known_list))
    counts_frame = _collect(unknown.group_by(COL).agg(nw.len().alias(N)))
    counts = dict(zip(map(int, counts_frame[COL].tolist()), map(int, counts_frame[N].tolist()), strict=True))
    rows = _collect(unknown.sort(ORD).head(cap)) if counts else pd.DataFrame()
    positions = _collect(unknown.select(ORD))[ORD].to_numpy(dtype=np.int64) if eager and counts else None
    return values.filter(nw.col(KEY).is_in(known_list)), counts, rows, positions


def duplicates(values: Any, cap: int, eager: bool) -> tuple[dict[int, int], pd.DataFrame]:
    """Repeats after the first occurrence: exact counts per column, the first ``cap`` rows (eager: all of them)."""
    if eager:  # the engine's hash first (pandas' duplicated, polars' is_duplicated): group only the repeats
        values = values.filter(nw.col(KEY).is_duplicated())
    groups = values.group_by(KEY).agg(nw.len().alias(N), nw.col(ORD).min().alias(FIRST)).filter(nw.col(N) > 1)
    repeated = _collect(groups.head(_GROUPS_LIMIT + 1))
    if not len(repeated):
        return {}, pd.DataFrame()
    if len(repeated) > _GROUPS_LIMIT:  # very many repeated values: join on the engine instead of in Python
        dups = values.join(groups.select(KEY, FIRST), on=KEY).filter(nw.col(ORD) > nw.col(FIRST))
        counts_frame = _collect(dups.group_by(COL).agg(nw.len().alias(N)))
        counts = dict(zip(map(int, counts_frame[COL].tolist()), map(int, counts_frame[N].tolist()), strict=True))
        return counts, _collect(dups.sort(ORD).head(cap) if not eager else dups.sort(ORD))
    first = dict(zip(repeated[KEY].tolist(), map(int, repeated[FIRST].tolist()), strict=True))
    limit = None if eager else cap + len(repeated)  # among these rows at most len(repeated) are first occurrences
    holders = values.filter(nw.col(KEY).is_in(list(first))).sort(ORD)
    rows = _collect(holders if limit is None else holders.head(limit))
    rows = rows[[o != first[v] for o, v in zip(rows[ORD].tolist(), rows[KEY].tolist(), strict=True)]]
    rows = rows.assign(**{FIRST: [first[v] for v in rows[KEY].tolist()]})
    # Exact counts per column: the repeats of a value are its holders minus one, spread over columns by holder.
    total = int(sum(int(n) - 1 for n in repeated[N].tolist()))
    if limit is None or len(rows) == total:
        counts = {int(str(c)): int(n) for c, n in rows[COL].value_counts().items()}
    else:
        counts_frame = _collect(
            values.join(groups.select(KEY, FIRST), on=KEY)
            .filter(nw.col(ORD) > nw.col(FIRST))
            .group_by(COL)
            .agg(nw.len().alias(N))
        )
        counts = dict(zip(map(int, counts_frame[COL].tolist()), map(int, counts_frame[N].tolist()), strict=True))
    return counts, rows.head(cap) if not eager else rows


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
    totals = _scalar_row(
        base.select(
            nw.len().alias(N), *((~nw.col(passes(j))).cast(nw.Int64).sum().alias(bad_count(j)) for j in range(k))
        )
    )
    bad = [base.filter(~nw.col(passes(j))).select(*bad_columns(prep, j, check.fmt, check.normalize)) for j in range(k)]
    found = Findings(k, prep.eager)
    for j in range(k):
        found.add_column(prep, bad[j], j, int(totals[bad_count(j)] or 0), check)
    if check.unique or check.known is not None:
        values = _valid_values(prep, base, bad, check.normalize)
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
    rows = _collect(changed if eager else changed.head(cap))
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


def valid_rows(prep: Prepared, fmt: IdFormat, *, normalize: bool, unique: bool, known: frozenset[str] | None) -> Any:
    """The caller's rows whose checked cells all pass, as a query on the input's engine (nothing is collected).

    Args:
        prep: the prepared input.
        fmt: the expected format.
        normalize: values were checked normalised (the rows come back as they were, not normalised).
        unique: repeats after the first occurrence do not pass.
        known: ids known to exist, or None.

    Returns:
        A native frame of the input's engine (lazy for lazy engines).
    """
    k = len(prep.names)
    base = narwhals_frame(prep).with_columns(
        *(rules.strict_ok(nw.col(string_view(j)), fmt).fill_null(False).alias(passes(j)) for j in range(k))
    )
    keys, conds = [], []
    for j in range(k):
        s = nw.col(string_view(j))
        ok = nw.col(passes(j))
        if normalize:
            checked = rules.core(s, fmt, normalize=True)
            rescued = ~ok & rules.strict_ok(checked, fmt).fill_null(False)
            key = nw.when(ok).then(s).when(rescued).then(checked)
            cond = ok | rescued
        else:
            key, cond = nw.when(ok).then(s), ok
        if known is not None:
            cond = cond & key.is_in(sorted(known))
        keys.append(key.alias(checked_key(j)))
        conds.append(cond)
    good = base.with_columns(*keys).filter(*conds)
    if unique:
        long_parts = [
            good.select((nw.col(ROW) * k + j).alias(ORD), nw.col(checked_key(j)).alias(KEY)) for j in range(k)
        ]
        long = long_parts[0] if k == 1 else nw.concat(long_parts, how="vertical")
        firsts = long.group_by(KEY).agg(nw.col(ORD).min().alias(FIRST))
        repeats = long.join(firsts, on=KEY).filter(nw.col(ORD) > nw.col(FIRST)).select((nw.col(ORD) // k).alias(ROW))
        good = good.join(repeats, on=ROW, how="anti")
    rows = good.select(ROW)
    if prep.eager:
        mask = np.zeros(int(_scalar_row(narwhals_frame(prep).select(nw.len().alias(N)))[N]), dtype=bool)
        mask[_collect(rows)[ROW].to_numpy(dtype=np.int64)] = True
        if isinstance(prep.native, pd.DataFrame | pd.Series):
            return prep.native.loc[mask]
        return nw.from_native(prep.native, eager_only=True).filter(mask.tolist()).to_native()
    full = _full_frame(prep)
    joined = full.join(rows, on=ROW, how="semi").sort(ROW) if prep.ordered else full.join(rows, on=ROW, how="semi")
    return joined.drop(ROW).to_native()


def _full_frame(prep: Prepared) -> Any:
    """The caller's frame with ROW, numbered exactly as in ``prep.frame``."""
    frame, _ = with_row(prep.native, prep.engine, prep.names, prep.keep)
    return frame
