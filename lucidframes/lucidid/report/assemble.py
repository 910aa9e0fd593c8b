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


def _ints(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A collected integer column (row positions, column positions) as int64; empty when nothing failed."""
    return rows[name].to_numpy(dtype=np.int64) if len(rows) else np.empty(0, dtype=np.int64)


def _or_nones(rows: pd.DataFrame, name: str) -> list[Any]:
    """A collected column as a list; Nones when the engine did not add it (no duplicates, say)."""
    return rows[name].tolist() if name in rows else [None] * len(rows)


def _as_they_were(prep: Prepared, rows: pd.DataFrame, positions: np.ndarray, cols: np.ndarray) -> list[Any]:
    """The failing cells: pandas' own objects when pandas was checked (lists stay lists), else as collected."""
    values = rows["value"].tolist() if len(rows) else []
    if prep.series is None or not len(rows):
        return values
    for j, source in enumerate(prep.series):
        mine = np.flatnonzero(cols == j)
        for i, cell in zip(mine.tolist(), source.take(positions[mine]).tolist(), strict=True):
            values[i] = cell
    return values


def _diagnoses(
    prep: Prepared, rows: pd.DataFrame, values: list[Any], fmt: IdFormat, known: KnownIds | None, normalize: bool
) -> list[Diagnosis]:
    """Each collected failure's Diagnosis: the engine's own when it made one, else made here (duplicates, unknown)."""
    reasons = [str(r) for r in rows[REASON].tolist()] if len(rows) else []
    stored, firsts, cores = _or_nones(rows, DIAG), _or_nones(rows, FIRST), _or_nones(rows, CORE)
    diags: list[Diagnosis] = []
    for i, reason in enumerate(reasons):
        if reason == Reason.DUPLICATE:
            diags.append(_duplicate(prep, int(float(str(firsts[i])))))
        elif isinstance(kept := stored[i], Diagnosis):
            diags.append(kept)
        else:  # unknown ids: found among the well-formed values, diagnosed here
            found = diagnose_cell(values[i], reason, cores[i], fmt, known, normalize)
            diags.append(found if found is not None else Diagnosis(reason, "failed the engine's check", ""))
    return diags


def _one_per_cell(values: list[Any]) -> np.ndarray:
    """The cells as an object array, one by one: a cell that is a list must stay one cell."""
    cells = np.empty(len(values), dtype=object)
    for i, cell in enumerate(values):
        cells[i] = cell
    return cells


def _line_numbers(prep: Prepared, positions: np.ndarray) -> pd.Series | None:
    """The spreadsheet line of each failing row (Excel's row number), for a sheet or CSV read by ``read_table``."""
    first_line = prep.source.get("first_row_line") if prep.source.get("format") in ("csv", "xlsx") else None
    return None if first_line is None else pd.Series(positions + int(first_line), dtype="int64")


def _failures(
    prep: Prepared, result: TierResult, fmt: IdFormat, known: KnownIds | None, normalize: bool
) -> pd.DataFrame:
    """One row per collected failing cell: row label, (line,) column, the value as it was, reason, detail, hint."""
    rows = result.failures
    positions, cols = _ints(rows, ROW), _ints(rows, COL)
    values = _as_they_were(prep, rows, positions, cols)
    diags = _diagnoses(prep, rows, values, fmt, known, normalize)
    labels = [None] * len(positions) if prep.index is not None else [_row_label(prep, p) for p in positions.tolist()]
    data: dict[str, Any] = {
        "row": pd.Series(labels, dtype=object),
        "column": pd.Series([prep.names[j] for j in cols.tolist()], dtype=object),
        "value": pd.Series(_one_per_cell(values), dtype=object),
        "reason": pd.Series([d.reason for d in diags], dtype=object),
        "detail": pd.Series([d.detail for d in diags], dtype=object),
        "hint": pd.Series([d.hint for d in diags], dtype=object),
    }
    order = list(FAILURE_COLUMNS)
    lines = _line_numbers(prep, positions)
    if lines is not None:
        data["line"] = lines
        order.insert(1, "line")
    for name in prep.keep:
        data[name] = pd.Series(rows[name].tolist() if len(rows) else [], dtype=object)
        order.append(name)
    frame = pd.DataFrame(data, columns=order)
    if prep.index is not None:  # the caller's own labels, in the index's dtype
        frame["row"] = prep.index.take(positions) if len(rows) else pd.Series([], dtype=prep.index.dtype)
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


def _every_row_failed(result: TierResult, j: int, listed: int) -> bool:
    """Whether every row of column j failed and each of its failures is among the ``listed`` ones."""
    failed = sum(n for (c, _), n in result.counts.items() if c == j)
    return failed >= result.n_rows and listed > 0 and not (result.capped and listed < failed)


def _common_length(failures: pd.DataFrame, fmt: IdFormat, known: KnownIds | None) -> tuple[int | None, int]:
    """The one core length shared by every id-like failing value (None when they differ), and how many there are."""
    lengths = set()
    count = 0
    for cell, reason in zip(failures["value"].tolist(), failures["reason"].tolist(), strict=True):
        found = diagnose(cell, fmt, known) if reason not in ("duplicate", "unknown") else None
        if found is not None and found.core_length is not None:
            lengths.add(found.core_length)
            count += 1
    return (next(iter(lengths)) if len(lengths) == 1 else None), count


def _length_note(name: Any, other: int, count: int, fmt: IdFormat) -> str:
    """The note for a column whose ids all have ``other`` characters: pass that length (or kind='uuid')."""
    note = (
        f"Column {name!r}: all {count} id-like values have {other} characters, none {fmt.length}: if that is "
        f"the format of your ids, pass length={other} (or set LUCID_ID_LENGTH={other})"
    )
    if fmt.kind == "lucid_id" and other == UUID_LENGTH:
        note += " or kind='uuid'"
    return note + "."


def _length_notes(
    prep: Prepared, result: TierResult, failures: pd.DataFrame, fmt: IdFormat, known: KnownIds | None
) -> list[str]:
    """A note for each column that fails only because all its ids have another, consistent length."""
    notes = []
    for j, name in enumerate(prep.names):
        mine = failures[failures["column"].map(lambda c, name=name: c is name or c == name)]
        if not _every_row_failed(result, j, len(mine)):
            continue
        other, count = _common_length(mine, fmt, known)
        if other is not None and other != fmt.length:
            notes.append(_length_note(name, other, count, fmt))
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
    report = ValidationReport(
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
        sheet=prep.source.get("sheet"),
    )
    # What apply_fixes and to_excel need: the data in memory (eager engines) and the row of each failure.
    report.data = prep.native if prep.eager else None
    report.positions = _ints(result.failures, ROW)
    report.first_row_line = prep.source.get("first_row_line") if prep.source.get("format") in ("csv", "xlsx") else None
    return report
