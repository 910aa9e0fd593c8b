"""ValidationReport: the result of a LucidID check, for notebooks (HTML), pipelines (JSON, CSV) and code (raise)."""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from lucidframes.errors import LucidIDValidationError
from lucidframes.lucidid.cells import REASONS, IdFormat, visible

__all__ = ["FAILURE_COLUMNS", "ValidationReport"]

FAILURE_COLUMNS = ["row", "column", "value", "reason", "detail", "hint"]
CHANGE_COLUMNS = ["row", "column", "before", "after", "action"]
_SHOW = 20  # failures shown in the HTML view
_IN_MESSAGE = 5  # failures named in an exception message


class ValidationReport:
    """What a LucidID check found; build it with ``lf.validate_lucid_ids`` or ``df.lucid.validate``.

    Attributes:
        failures: one row per bad cell: ``row`` (the input's index label), ``column``, ``value`` (the cell as it
            was), ``reason`` (a stable code, see ``lucidid.REASONS``), ``detail`` and ``hint`` (never applied).
        valid_mask: a boolean Series aligned to the input rows, True where every checked cell passed.
        changes: with ``normalize=True``, what normalisation changed (row, column, before, after, action).
        normalized: with ``normalize=True``, the input with the checked columns normalised; else None.
        notes: remarks about whole columns (for example "every value has 22 characters: pass length=22").
        columns, kind, length, n_rows: what was checked.
    """

    def __init__(
        self,
        *,
        failures: pd.DataFrame,
        valid_mask: pd.Series,
        fmt: IdFormat,
        columns: list[Any],
        changes: pd.DataFrame | None = None,
        normalized: pd.Series | pd.DataFrame | None = None,
        notes: list[str] | None = None,
    ) -> None:
        self.failures = failures
        self.valid_mask = valid_mask
        self.kind = fmt.kind
        self.length = fmt.length
        self.columns = list(columns)
        self.n_rows = len(valid_mask)
        self.changes = changes if changes is not None else pd.DataFrame(columns=CHANGE_COLUMNS)
        self.normalized = normalized
        self.notes = list(notes or [])
        self._timings: dict[str, float] = {}  # seconds per phase, set by validate_lucid_ids for the bench
        self._label = fmt.label

    @property
    def ok(self) -> bool:
        """True when every checked cell passed."""
        return self.failures.empty

    @property
    def n_failed_rows(self) -> int:
        """How many input rows have at least one failing cell."""
        return int((~self.valid_mask).sum())

    @property
    def summary(self) -> pd.DataFrame:
        """Failure counts per column and reason: columns ``column``, ``reason``, ``count`` (check order)."""
        counts = Counter(zip(self.failures["column"].tolist(), self.failures["reason"].tolist(), strict=True))
        order = {c: i for i, c in enumerate(self.columns)}
        keys = sorted(counts, key=lambda k: (order.get(k[0], len(order)), REASONS.index(k[1])))
        return pd.DataFrame(
            {
                "column": pd.Series([k[0] for k in keys], dtype=object),
                "reason": pd.Series([k[1] for k in keys], dtype=object),
                "count": pd.Series([counts[k] for k in keys], dtype="int64"),
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The failures as a new DataFrame (one row per bad cell)."""
        return self.failures.copy()

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-ready Python values."""
        return {
            "ok": self.ok,
            "kind": self.kind,
            "length": self.length,
            "columns": [_jsonable(c) for c in self.columns],
            "rows": self.n_rows,
            "failed_cells": len(self.failures),
            "failed_rows": self.n_failed_rows,
            "summary": [
                {"column": _jsonable(c), "reason": r, "count": int(n)} for c, r, n in self.summary.itertuples(False)
            ],
            "notes": self.notes,
            "failures": [
                {k: _jsonable(v) for k, v in zip(FAILURE_COLUMNS, row, strict=True)}
                for row in self.failures.itertuples(index=False)
            ],
            "changes": [
                {k: _jsonable(v) for k, v in zip(CHANGE_COLUMNS, row, strict=True)}
                for row in self.changes.itertuples(index=False)
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON (non-ASCII escaped, so invisible characters stay visible in the file)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=True)

    def raise_for_errors(self) -> ValidationReport:
        """Raise LucidIDValidationError (carrying this report) if any cell failed; else return the report."""
        if not self.ok:
            raise LucidIDValidationError(self.message(), report=self)
        return self

    def message(self, prefix: str = "") -> str:
        """A one-paragraph account naming the first few bad cells, as used in exception messages."""
        head = prefix or (
            f"{len(self.failures)} cell(s) in {self.n_failed_rows} of {self.n_rows} row(s) failed the "
            f"{self._label} check"
        )
        shown = [
            f"row {_label(row)!s} column {column!r}: {reason} ({_short(value)}: {detail})"
            for row, column, value, reason, detail, _ in self.failures.head(_IN_MESSAGE).itertuples(index=False)
        ]
        more = len(self.failures) - len(shown)
        text = head + (": " + "; ".join(shown) if shown else "")
        if more > 0:
            text += f"; and {more} more (see .report.failures)"
        if self.notes:
            text += ". " + " ".join(self.notes)
        return text

    def __repr__(self) -> str:
        if self.ok:
            return f"<ValidationReport ok: {self.n_rows} rows, columns {self.columns!r}>"
        counts = ", ".join(f"{r} {n}" for r, n in Counter(self.failures["reason"]).most_common())
        return (
            f"<ValidationReport: {len(self.failures)} failing cell(s) in {self.n_failed_rows} of {self.n_rows} "
            f"rows ({counts})>"
        )

    def _repr_html_(self) -> str:
        """Counts per reason and column, notes, and the first failures with invisible characters made visible."""
        esc = html.escape
        title = (
            f"{self._label} check of {esc(', '.join(map(str, self.columns)))} "
            f"(length {self.length}): {self.n_rows} rows"
        )
        if self.ok:
            return f"<div class='lucidframes-report'><b>{title}</b>: all cells pass.</div>"
        parts = [
            "<div class='lucidframes-report'>",
            f"<b>{title}</b>: {len(self.failures)} failing cell(s) in {self.n_failed_rows} row(s)",
            "<table><thead><tr><th>column</th><th>reason</th><th>count</th></tr></thead><tbody>",
        ]
        for column, reason, count in self.summary.itertuples(index=False):
            parts.append(f"<tr><td>{esc(str(column))}</td><td>{esc(reason)}</td><td>{count}</td></tr>")
        parts.append("</tbody></table>")
        parts.extend(f"<p>{esc(note)}</p>" for note in self.notes)
        parts.append("<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in FAILURE_COLUMNS) + "</tr></thead><tbody>")
        for row in self.failures.head(_SHOW).itertuples(index=False):
            cells = [str(_label(row[0])), str(row[1]), _short(row[2], 60), *row[3:]]
            parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
        parts.append("</tbody></table>")
        if len(self.failures) > _SHOW:
            parts.append(f"<p>… and {len(self.failures) - _SHOW} more in <code>report.failures</code></p>")
        parts.append("</div>")
        return "".join(parts)


def _short(value: Any, limit: int = 40) -> str:
    """A cell for display: strings quoted with invisible characters shown, other values by type and repr."""
    if isinstance(value, str):
        return "'" + visible(value, limit) + "'"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not break the report
        text = "<unrepresentable>"
    return visible(text, limit)


def _label(row: Any) -> Any:
    return row.item() if isinstance(row, np.generic) else row


def _jsonable(value: Any) -> Any:
    """A value JSON can carry: strings and finite numbers as they are, missing as null, others by repr."""
    value = _label(value)
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None if math.isnan(value) else repr(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    try:
        return repr(value)
    except Exception:
        return "<unrepresentable>"
