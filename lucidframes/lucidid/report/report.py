"""ValidationReport: the result of a LucidID check, for notebooks (HTML), pipelines (JSON, CSV) and code (raise).

The summary counts come from the engine and are exact; ``failures`` holds the first ``max_failures`` failing
cells in row order (``capped`` says when there were more).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lucidframes.errors import LucidIDValidationError
from lucidframes.lucidid.columns import CHANGE_COLUMNS
from lucidframes.lucidid.formats import IdFormat
from lucidframes.lucidid.report import html as report_html
from lucidframes.lucidid.wording import visible

__all__ = ["FAILURE_COLUMNS", "ValidationReport"]

FAILURE_COLUMNS = ["row", "column", "value", "reason", "detail", "hint"]
_IN_MESSAGE = 5  # failures named in an exception message


class ValidationReport:
    """What a LucidID check found; build it with ``lf.validate_lucid_ids`` or ``df.lucid.validate``.

    Attributes:
        failures: one row per bad cell, the first ``max_failures`` in row order: ``row`` (the input's index label;
            the 0-based position for other engines; missing on Spark, which has no row order), ``line`` (for a
            table read from an Excel sheet or a CSV file: the row number Excel shows, or the CSV's line, the header
            being line 1 unless ``header_row=`` moved it), ``column``, ``value``
            (the cell as it was), ``reason`` (a stable code, see ``lf.Reason``), ``detail`` and ``hint`` (never
            applied), then the ``keep=`` columns.
        summary: exact counts per column and reason, however many failures there are.
        capped: True when there were more failing cells than ``failures`` holds.
        valid_mask: eager engines: a boolean Series aligned to the input rows, True where every checked cell
            passed (None for lazy engines: use ``valid_rows()``).
        changes: with ``normalize=True``, what normalisation changed (row, column, before, after, action).
        normalized: with ``normalize=True``, the input with the checked columns normalised; else None.
        notes: remarks about whole columns (for example "every value has 22 characters: pass length=22").
        columns, kind, length, n_rows, engine: what was checked, and on which engine.
        source, sheet: the file checked (read_table's or validate_file's), and the Excel sheet (else None).
    """

    def __init__(
        self,
        *,
        failures: pd.DataFrame,
        summary: pd.DataFrame,
        n_rows: int,
        fmt: IdFormat,
        columns: list[Any],
        valid_mask: pd.Series | None,
        capped: bool = False,
        max_failures: int | None = None,
        engine: str = "pandas",
        valid_rows: Callable[[], Any] | None = None,
        changes: pd.DataFrame | None = None,
        normalized: Any = None,
        notes: list[str] | None = None,
        source: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.failures = failures
        self._summary = summary
        self.valid_mask = valid_mask
        self.kind = fmt.kind
        self.length = fmt.length
        self.columns = list(columns)
        self.n_rows = n_rows
        self.capped = capped
        self.max_failures = max_failures
        self.engine = engine
        self.source = source
        self.sheet = sheet  # the Excel sheet checked, when the input was read from a workbook
        self._valid_rows = valid_rows
        self.changes = changes if changes is not None else pd.DataFrame(columns=CHANGE_COLUMNS)
        self.normalized = normalized
        self.notes = list(notes or [])
        self._timings: dict[str, float] = {}  # seconds per phase, set by validate_lucid_ids for the bench
        self._label = fmt.label

    @property
    def ok(self) -> bool:
        """True when every checked cell passed."""
        return self.n_failed_cells == 0

    @property
    def n_failed_cells(self) -> int:
        """How many checked cells failed (exact, even when ``failures`` is capped)."""
        return int(self._summary["count"].sum())

    @property
    def n_failed_rows(self) -> int | None:
        """How many input rows have at least one failing cell (None for lazy engines, which have no mask)."""
        return None if self.valid_mask is None else int((~self.valid_mask).sum())

    @property
    def summary(self) -> pd.DataFrame:
        """Failure counts per column and reason: columns ``column``, ``reason``, ``count`` (check order)."""
        return self._summary.copy()

    def valid_rows(self) -> Any:
        """The rows whose checked cells all pass (first occurrences of repeats included), on the input's engine.

        Returns:
            A frame of the input's kind: for lazy engines (polars LazyFrame, DuckDB, Dask, Spark) a lazy one.
        """
        if self._valid_rows is None:
            raise ValueError("this report was built without its input: valid_rows() is not available")
        return self._valid_rows()

    def to_html(self, path: str | Path | None = None) -> str:
        """The report as a standalone HTML page (no external assets, no JavaScript); written to ``path`` if given.

        Args:
            path: where to write it (UTF-8), or None.

        Returns:
            The HTML text.
        """
        page = report_html.page(self)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

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
            "engine": self.engine,
            "failed_cells": self.n_failed_cells,
            "capped": self.capped,
            "failed_rows": self.n_failed_rows,
            "summary": [
                {"column": _jsonable(c), "reason": r, "count": int(n)} for c, r, n in self.summary.itertuples(False)
            ],
            "notes": self.notes,
            "failures": [
                {k: _jsonable(v) for k, v in zip(self.failures.columns, row, strict=True)}
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
        rows = "" if self.n_failed_rows is None else f" in {self.n_failed_rows}"
        head = prefix or f"{self.n_failed_cells} cell(s){rows} of {self.n_rows} row(s) failed the {self._label} check"
        shown = [
            f"row {_label(row)!s} column {column!r}: {reason} ({short(value)}: {detail})"
            for row, column, value, reason, detail in self.failures[["row", "column", "value", "reason", "detail"]]
            .head(_IN_MESSAGE)
            .itertuples(index=False)
        ]
        more = self.n_failed_cells - len(shown)
        text = head + (": " + "; ".join(shown) if shown else "")
        if more > 0:
            text += f"; and {more} more (see .report.failures)"
        if self.notes:
            text += ". " + " ".join(self.notes)
        return text

    def __repr__(self) -> str:
        if self.ok:
            return f"<ValidationReport ok: {self.n_rows} rows, columns {self.columns!r}>"
        by_reason: Counter[str] = Counter()
        for reason, count in zip(self._summary["reason"], self._summary["count"], strict=True):
            by_reason[reason] += int(count)
        counts = ", ".join(f"{r} {n}" for r, n in by_reason.most_common())
        rows = "" if self.n_failed_rows is None else f" in {self.n_failed_rows}"
        return f"<ValidationReport: {self.n_failed_cells} failing cell(s){rows} of {self.n_rows} rows ({counts})>"

    def _repr_html_(self) -> str:
        """The HTML view of notebooks: a badge, a bar per reason, the failing values with their bad characters."""
        return report_html.fragment(self)


def short(value: Any, limit: int = 40) -> str:
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
