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

from lucidframes.errors import ConfigError, LucidIDValidationError
from lucidframes.lucidid.apply import Fixed, apply_changes, plan_fixes
from lucidframes.lucidid.columns import CHANGE_COLUMNS
from lucidframes.lucidid.formats import IdFormat
from lucidframes.lucidid.report import excel as report_excel
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
        self._fmt = fmt
        self.mostly: float | None = None  # pass when at least this share of cells is free of errors
        self.severity: dict[str, str] = {}  # reason -> "warning" (every other reason is an error)
        self.unique = True  # whether repeats were reported (see validate_lucid_ids' unique=)
        self.data: Any = None  # the input, for eager engines (apply_fixes, to_excel); None for lazy ones
        self.positions = np.empty(0, dtype=np.int64)  # the 0-based input row of each failure
        self.first_row_line: int | None = None  # the spreadsheet row of input row 0, for a sheet or a CSV

    @property
    def ok(self) -> bool:
        """True when the check passes: no cell fails with an error, or with ``mostly=`` enough of them are free of one.

        Warnings (``severity=``) never fail it. Without ``mostly`` and ``severity`` this is "every cell passed".
        """
        if self.mostly is None:
            return self.n_errors == 0
        return self.share_valid >= self.mostly

    @property
    def n_cells(self) -> int:
        """How many cells were checked (rows times columns)."""
        return self.n_rows * len(self.columns)

    @property
    def n_errors(self) -> int:
        """How many cells fail with a reason whose severity is an error (all of them, without ``severity=``)."""
        return self.n_failed_cells - self.n_warnings

    @property
    def n_warnings(self) -> int:
        """How many cells fail only with a reason ``severity=`` made a warning."""
        warned = self._summary["reason"].map(lambda r: self.severity.get(r) == "warning")
        return int(self._summary.loc[warned.astype(bool), "count"].sum()) if len(self._summary) else 0

    @property
    def share_valid(self) -> float:
        """The share of checked cells free of errors (warnings count as valid), from 0 to 1."""
        return 1.0 if self.n_cells == 0 else 1 - self.n_errors / self.n_cells

    def level(self, reason: str) -> str:
        """The severity of a reason code: "warning" where ``severity=`` says so, else "error"."""
        return self.severity.get(reason, "error")

    def verdict(self) -> str:
        """The result in one line: PASS or FAIL, the share valid against ``mostly`` when set, and warnings."""
        text = "PASS" if self.ok else "FAIL"
        if self.mostly is not None:
            text += f": {_percent(self.share_valid)} of {self.n_cells:,} cells valid (mostly={self.mostly:g})"
        if self.n_warnings:
            text += f"; {self.n_warnings:,} warning(s)"
        return text

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

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the way back to the input (a closure over it): after a round trip valid_rows() says so."""
        return {**self.__dict__, "_valid_rows": None}

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

    def to_excel(self, path: str | Path) -> Path:
        """The report as a workbook: the data with bad cells filled and commented, a summary, the failures.

        Args:
            path: the ``.xlsx`` file to write (atomically; the ``excel`` extra).

        Returns:
            The path written.
        """
        return report_excel.write(self, Path(path))

    def apply_fixes(self, client: Any = None) -> Fixed:
        """The data with the fixes the hints point to applied (whitespace, scan URLs, unambiguous lookalikes).

        Args:
            client: an ``lf.Client``: a fix to an id the API does not know is not applied (read-only look-ups).

        Returns:
            ``Fixed(frame, changes)``: a copy of the input (its own kind) and the change log, one row per proposed
            fix: ``row`` (``line`` for a sheet), ``column``, ``before``, ``after``, ``why``, ``applied``.
        """
        if self.data is None:
            raise ConfigError(
                f"apply_fixes rewrites data in memory; this report's input ({self.engine}) is lazy: collect it "
                "(polars .collect(), DuckDB .df()) and validate that, or apply report.failures yourself."
            )
        log, which = plan_fixes(self.failures, self._fmt, client)
        applied = log["applied"].to_numpy(dtype=bool)
        rows = np.asarray(self.positions, dtype=np.int64)[which[applied]]
        after = log.loc[applied, "after"].tolist()
        frame = apply_changes(self.data, self.columns, rows, log.loc[applied, "column"].tolist(), after)
        return Fixed(frame, log)

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
                {"column": _jsonable(c), "reason": r, "count": int(n), "severity": self.level(r)}
                for c, r, n in self.summary.itertuples(False)
            ],
            "mostly": self.mostly,
            "share_valid": self.share_valid,
            "errors": self.n_errors,
            "warnings": self.n_warnings,
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
        if self.mostly is not None or self.n_warnings:
            text += f". {self.verdict()}"
        if self.notes:
            text += ". " + " ".join(self.notes)
        return text

    def reword(self, words: Callable[[str], str]) -> ValidationReport:
        """Word the hints and notes for another audience (``wording.for_cli``, ``for_widget``), in place.

        Args:
            words: a function from a hint to its new wording.

        Returns:
            This report.
        """
        self.failures["hint"] = [words(h) if isinstance(h, str) else h for h in self.failures["hint"]]
        self.notes = [words(n) for n in self.notes]
        return self

    def refusal(self, what: str, note: str = "") -> str:
        """The send guard's message: one summary line with the counts ``validate`` gives, then the first few cells.

        Args:
            what: what was checked, plural (``LucidIDs``, ``ids in lucid_id``).
            note: added to the summary line (what the counts leave out).

        Returns:
            The message (a few lines).
        """
        counts: Counter[str] = Counter()
        for reason, count in zip(self._summary["reason"], self._summary["count"], strict=True):
            if self.level(reason) == "error":
                counts[reason] += int(count)
        listed = ", ".join(f"{r} {n}" for r, n in counts.most_common())
        head = f"Nothing was sent: {self.n_errors} of {self.n_cells} {what} failed the local check ({listed})"
        lines = [head + (f"; {note}" if note else "") + "."]
        failures = self.failures[[self.level(r) == "error" for r in self.failures["reason"]]]
        for record in failures.head(_IN_MESSAGE).to_dict("records"):
            where = f"line {record['line']}" if "line" in record else f"id {_position(record['row'])}"
            hint = str(record["hint"] or record["detail"]).split("; ")[0]
            lines.append(f"  {where}: {short(record['value'])}: {record['reason']}: {hint}")
        more = self.n_errors - min(len(failures), _IN_MESSAGE)
        if more > 0:
            lines.append(f"  ... and {more} more: .report.failures lists every one")
        return "\n".join(lines)

    def __repr__(self) -> str:
        if self.n_failed_cells == 0:
            return f"<ValidationReport ok: {self.n_rows} rows, columns {self.columns!r}>"
        by_reason: Counter[str] = Counter()
        for reason, count in zip(self._summary["reason"], self._summary["count"], strict=True):
            by_reason[reason] += int(count)
        counts = ", ".join(f"{r} {n}" for r, n in by_reason.most_common())
        rows = "" if self.n_failed_rows is None else f" in {self.n_failed_rows}"
        verdict = f"; {self.verdict()}" if self.mostly is not None or self.n_warnings else ""
        return (
            f"<ValidationReport: {self.n_failed_cells} failing cell(s){rows} of {self.n_rows} rows ({counts}){verdict}>"
        )

    def _repr_html_(self) -> str:
        """The HTML view of notebooks: a badge, a bar per reason, the failing values with their bad characters."""
        return report_html.fragment(self)


def _percent(share: float) -> str:
    """A share as people read it: 98.5%, and never 100% unless it is."""
    text = f"{100 * share:.1f}".rstrip("0").rstrip(".")
    return f"{'99.9' if text == '100' and share < 1 else text}%"


def short(value: Any, limit: int = 40) -> str:
    """A cell for display: strings quoted with invisible characters shown, other values by type and repr."""
    if isinstance(value, str):
        return "'" + visible(value, limit) + "'"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not break the report
        text = "<unrepresentable>"
    return visible(text, limit)


def _position(row: Any) -> str:
    """A 0-based row of a list of ids as people count it (from 1); other labels as they are."""
    row = _label(row)
    return str(row + 1) if isinstance(row, int) and not isinstance(row, bool) else repr(row)


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
