"""From what the engine found to a ValidationReport: per-cell diagnosis of the collected failures, labels, masks.

Only the collected failing cells (at most ``max_failures``) are diagnosed one by one (:mod:`.cells`); the counts
come from the engine and stay exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lucidframes.lucidid.cells import Diagnosis, diagnose, diagnose_cell, normalize_value
from lucidframes.lucidid.columns import CHANGE_COLUMNS, replace_columns, with_changes
from lucidframes.lucidid.engine.internal_columns import COL, CORE, DIAG, FIRST, REASON, ROW
from lucidframes.lucidid.engine.prepare import Prepared
from lucidframes.lucidid.engine.run import TierResult
from lucidframes.lucidid.formats import REASONS, UUID_LENGTH, IdFormat, Reason
from lucidframes.lucidid.known import KnownIds
from lucidframes.lucidid.report.report import FAILURE_COLUMNS, ValidationReport

__all__ = ["build_report"]


def _row_label(prep: Prepared, position: int) -> Any:
    if not prep.ordered:
        return pd.NA
    if prep.index is not None:
        label = prep.index[position]
        return label.item() if isinstance(label, np.generic) else label
    return position


def _failures(
    prep: Prepared, result: TierResult, fmt: IdFormat, known: KnownIds | None, normalize: bool
) -> pd.DataFrame:
    rows = result.failures
    positions = rows[ROW].to_numpy(dtype=np.int64) if len(rows) else np.empty(0, dtype=np.int64)
    cols = rows[COL].to_numpy(dtype=np.int64) if len(rows) else np.empty(0, dtype=np.int64)
    values = rows["value"].tolist() if len(rows) else []
    if prep.series is not None and len(rows):  # pandas: the cells exactly as they were (lists stay lists)
        for j, source in enumerate(prep.series):
            mine = np.flatnonzero(cols == j)
            for i, cell in zip(mine.tolist(), source.take(positions[mine]).tolist(), strict=True):
                values[i] = cell
    diags: list[Diagnosis] = []
    reasons = [str(r) for r in rows[REASON].tolist()] if len(rows) else []
    stored: list[Any] = rows[DIAG].tolist() if DIAG in rows else [None] * len(rows)
    firsts = rows[FIRST].tolist() if FIRST in rows else [None] * len(rows)
    cores = rows[CORE].tolist() if CORE in rows else [None] * len(rows)
    for i, reason in enumerate(reasons):
        if reason == Reason.DUPLICATE:
            diags.append(_duplicate(prep, int(float(str(firsts[i])))))
        elif isinstance(kept := stored[i], Diagnosis):
            diags.append(kept)
        else:  # unknown ids: found among the well-formed values, diagnosed here
            found = diagnose_cell(values[i], reason, cores[i], fmt, known, normalize)
            diags.append(found if found is not None else Diagnosis(reason, "failed the engine's check", ""))
    cells = np.empty(len(values), dtype=object)
    for i, cell in enumerate(values):
        cells[i] = cell  # one by one: a cell that is a list must stay one cell
    data: dict[str, Any] = {
        "row": pd.Series(
            [None] * len(positions) if prep.index is not None else [_row_label(prep, p) for p in positions.tolist()],
            dtype=object,
        ),
        "column": pd.Series([prep.names[j] for j in cols.tolist()], dtype=object),
        "value": pd.Series(cells, dtype=object),
        "reason": pd.Series([d.reason for d in diags], dtype=object),
        "detail": pd.Series([d.detail for d in diags], dtype=object),
        "hint": pd.Series([d.hint for d in diags], dtype=object),
    }
    order = list(FAILURE_COLUMNS)
    first_line = prep.source.get("first_row_line") if prep.source.get("format") == "csv" else None
    if first_line is not None:
        data["line"] = pd.Series(positions + int(first_line), dtype="int64")
        order.insert(1, "line")
    for name in prep.keep:
        data[name] = pd.Series(rows[name].tolist() if len(rows) else [], dtype=object)
        order.append(name)
    frame = pd.DataFrame(data, columns=order)
    if prep.index is not None and len(rows) == 0:
        frame["row"] = pd.Series([], dtype=prep.index.dtype)
    elif prep.index is not None:
        frame["row"] = prep.index.take(positions)
    return frame


def _duplicate(prep: Prepared, first: int) -> Diagnosis:
    k = len(prep.names)
    row, col = divmod(first, k)
    where = f"row {_row_label(prep, row)!r}" if prep.ordered else "another row"
    if k > 1:
        where += f", column {prep.names[col]!r}"
    return Diagnosis(
        "duplicate",
        f"same id as {where} (first occurrence)",
        "remove the repeated row, or pass unique=False if repeats are expected",
    )


def _summary(prep: Prepared, counts: dict[tuple[int, str], int]) -> pd.DataFrame:
    keys = sorted((k for k, n in counts.items() if n), key=lambda k: (k[0], REASONS.index(k[1])))
    return pd.DataFrame(
        {
            "column": pd.Series([prep.names[j] for j, _ in keys], dtype=object),
            "reason": pd.Series([r for _, r in keys], dtype=object),
            "count": pd.Series([counts[k] for k in keys], dtype="int64"),
        }
    )


def _length_notes(
    prep: Prepared, result: TierResult, failures: pd.DataFrame, fmt: IdFormat, known: KnownIds | None
) -> list[str]:
    """A note for each column that fails only because all its ids have another, consistent length."""
    notes = []
    for j, name in enumerate(prep.names):
        failed = sum(n for (c, _), n in result.counts.items() if c == j)
        mine = failures[failures["column"].map(lambda c, name=name: c is name or c == name)]
        if failed < result.n_rows or not len(mine) or (result.capped and len(mine) < failed):
            continue
        lengths = set()
        count = 0
        for cell, reason in zip(mine["value"].tolist(), mine["reason"].tolist(), strict=True):
            found = diagnose(cell, fmt, known) if reason not in ("duplicate", "unknown") else None
            if found is not None and found.core_length is not None:
                lengths.add(found.core_length)
                count += 1
        if len(lengths) != 1 or fmt.length in lengths:
            continue
        (other,) = lengths
        note = (
            f"Column {name!r}: all {count} id-like values have {other} characters, none {fmt.length}: if that is "
            f"the format of your ids, pass length={other} (or set LUCID_ID_LENGTH={other})"
        )
        if fmt.kind == "lucid_id" and other == UUID_LENGTH:
            note += " or kind='uuid'"
        notes.append(note + ".")
    return notes


def _changes(prep: Prepared, result: TierResult) -> pd.DataFrame:
    changes = result.changes if result.changes is not None else pd.DataFrame(columns=["row", "col", "before", "after"])
    actions = [
        "; ".join(normalize_value(before)[1]) if isinstance(before, str) else ""
        for before in changes["before"].tolist()
    ]
    positions = changes["row"].to_numpy(dtype=np.int64) if len(changes) else np.empty(0, dtype=np.int64)
    rows: Any = [_row_label(prep, p) for p in positions.tolist()]
    if prep.index is not None:
        rows = prep.index.take(positions) if len(positions) else pd.Index([], dtype=object)
    return pd.DataFrame(
        {
            "row": rows,
            "column": pd.Series([prep.names[int(j)] for j in changes["col"].tolist()], dtype=object),
            "before": pd.Series(changes["before"].tolist(), dtype=object),
            "after": pd.Series(changes["after"].tolist(), dtype=object),
            "action": pd.Series(actions, dtype=object),
        },
        columns=CHANGE_COLUMNS,
    )


def _normalized(prep: Prepared, result: TierResult, changes: pd.DataFrame) -> Any:
    """The input with the checked columns normalised: pandas as before; other engines through narwhals."""
    raw = result.changes if result.changes is not None else pd.DataFrame(columns=["row", "col", "before", "after"])
    if prep.series is not None:
        per_column: list[pd.Series | None] = []
        for j, series in enumerate(prep.series):
            mine = raw[raw["col"] == j]
            per_column.append(
                with_changes(
                    series,
                    [(int(p), b, a, "") for p, b, a in zip(mine["row"], mine["before"], mine["after"], strict=True)],
                )
            )
        return replace_columns(prep.frame_pd, prep.names, per_column)
    return None


def build_report(
    prep: Prepared,
    result: TierResult,
    fmt: IdFormat,
    *,
    known: KnownIds | None,
    normalize: bool,
    max_failures: int,
    valid_rows: Any,
) -> ValidationReport:
    """Assemble the ValidationReport.

    Args:
        prep: the prepared input.
        result: what the engine found.
        fmt: the expected format.
        known: ids known to exist, or None.
        normalize: whether values were checked normalised.
        max_failures: the cap on collected failures.
        valid_rows: a callable giving the valid rows on the input's engine.

    Returns:
        The ValidationReport.
    """
    failures = _failures(prep, result, fmt, known, normalize)
    valid_mask = None
    if prep.eager:
        valid = np.ones(result.n_rows, dtype=bool)
        if result.failing_rows is not None:
            valid[result.failing_rows] = False
        index = prep.index if prep.index is not None else pd.RangeIndex(result.n_rows)
        valid_mask = pd.Series(valid, index=index, name="valid")
    changes = _changes(prep, result) if normalize else None
    source = prep.source.get("path")
    return ValidationReport(
        failures=failures,
        summary=_summary(prep, result.counts),
        n_rows=result.n_rows,
        fmt=fmt,
        columns=prep.names,
        valid_mask=valid_mask,
        capped=result.capped,
        max_failures=max_failures,
        engine=prep.engine,
        valid_rows=valid_rows,
        changes=changes,
        normalized=_normalized(prep, result, changes) if normalize and changes is not None else None,
        notes=_length_notes(prep, result, failures, fmt, known),
        source=str(source) if source else None,
    )
