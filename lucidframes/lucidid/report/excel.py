"""The report as a workbook (``report.to_excel``, ``validate --report report.xlsx``): where analysts fix sheets.

Three sheets, written with xlsxwriter (the ``excel`` extra) through a temp file renamed into place:

- ``Summary`` (first): the verdict (PASS/FAIL, the share of valid cells against ``mostly=``), what was checked, and
  the count per column and reason with its severity; the notes;
- the data as it was read, under the name of its sheet (``data`` otherwise): each failing cell filled (red for an
  error, yellow for a warning) and commented with its reason, detail and hint. For a sheet or a CSV the header sits
  on the row it had there, so every row number is the one the user knows (the rows above it are left empty but
  for one line saying what this is). Lazy inputs (DuckDB, a polars LazyFrame, ...) are not held in memory: their
  workbook has no data sheet, and says so;
- ``Failures``: one row per failing cell, as ``report.failures`` has them, with the severity.

Text is written as text, never as a formula (a cell ``=cmd|...`` stays that text), as in every workbook we write.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Protocol

import narwhals as nw
import numpy as np
import pandas as pd

from lucidframes.io import formats
from lucidframes.io.atomic import atomic_path
from lucidframes.io.excel_sink import CellWriter, plain_columns, sheet_title
from lucidframes.lucidid.report.html import Report as HtmlReport

__all__ = ["write"]

_FILLS = {
    "error": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "warning": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
}
_MAX_WIDTH = 60


class Report(HtmlReport, Protocol):
    """What the workbook reads from a ValidationReport: what the HTML view reads, and the sheet's own parts."""

    sheet: str | None
    unique: bool
    data: Any
    positions: np.ndarray
    first_row_line: int | None

    @property
    def n_errors(self) -> int: ...

    @property
    def share_valid(self) -> float: ...

    def verdict(self) -> str: ...


def _as_pandas(data: Any) -> pd.DataFrame:
    """The report's input as a pandas frame (a Series becomes one column)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else "value")
    frame: pd.DataFrame = nw.from_native(data, eager_only=True).to_pandas()
    return frame


def _note(failure: dict[str, Any], level: str) -> str:
    """A cell's comment: reason and severity, detail, hint."""
    text = f"{failure['reason']} ({level}): {failure['detail']}"
    return text + (f"\nhint: {failure['hint']}" if failure.get("hint") else "")


def _data_sheet(book: Any, cells: CellWriter, report: Report, name: str) -> None:
    """The data as read, failing cells filled and commented; the header on its original row."""
    frame = _as_pandas(report.data)
    sheet = book.add_worksheet(name)
    styles = {level: book.add_format(fmt) for level, fmt in _FILLS.items()}
    header = max((report.first_row_line or 2) - 2, 0)  # 0-based row of the header
    if header:
        where = f"{report.source}" + (f", sheet {report.sheet!r}" if report.sheet else "")
        cells.text(sheet, 0, 0, f"Checked by lucidframes: {where}. Failing cells are filled; their comments say why.")
    bold = book.add_format({"bold": True})
    columns = plain_columns(frame)
    cells.headers = [str(c) for c in frame.columns]
    for col, (label, values) in enumerate(zip(frame.columns, columns, strict=True)):
        cells.text(sheet, header, col, str(label), bold)
        sheet.set_column(col, col, _width(str(label), values))
    marks = _marks(report, frame)
    for i, row_values in enumerate(zip(*columns, strict=True)):
        row = header + 1 + i
        for col, value in enumerate(row_values):
            found = marks.get((i, col))
            if found is None:
                cells.write(sheet, row, col, value)
                continue
            level = "error" if any(report.level(f["reason"]) == "error" for f in found) else "warning"
            cells.write(sheet, row, col, value, styles[level])
            sheet.write_comment(row, col, "\n".join(_note(f, report.level(f["reason"])) for f in found))
    sheet.freeze_panes(header + 1, 0)
    if len(frame.columns):
        sheet.autofilter(header, 0, header + max(len(frame), 1), len(frame.columns) - 1)


def _marks(report: Report, frame: pd.DataFrame) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """The failures of each (row position, column position) of the data."""
    marks: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    labels = list(frame.columns)
    for position, record in zip(report.positions.tolist(), report.failures.to_dict("records"), strict=True):
        failure = {str(k): v for k, v in record.items()}
        column = failure["column"]
        col = next((j for j, c in enumerate(labels) if c is column or c == column), None)
        if col is not None:
            marks[(int(position), col)].append(failure)
    return marks


def _width(header: str, values: list[Any]) -> int:
    widest = max([len(header), *(len(str(v)) for v in values[:1000] if v is not None)], default=8)
    return max(8, min(widest + 2, _MAX_WIDTH))


def _facts(report: Report, data_sheet: str | None) -> list[tuple[str, Any]]:
    """The summary's first block: the verdict and what was checked."""
    facts: list[tuple[str, Any]] = [
        ("Result", report.verdict()),
        ("File", report.source or "(data in memory)"),
    ]
    if report.sheet:
        facts.append(("Sheet", report.sheet))
    facts += [
        ("Columns", ", ".join(map(str, report.columns))),
        ("Kind", f"{'LucidID' if report.kind == 'lucid_id' else 'uuid'}, {report.length} characters"),
        ("Repeats", "reported as duplicate" if report.unique else "not checked (references may repeat)"),
        ("Engine", report.engine),
        ("Rows checked", report.n_rows),
        ("Cells checked", report.n_cells),
        ("Failing cells", report.n_failed_cells),
        ("Errors", report.n_errors),
        ("Warnings", report.n_warnings),
        ("Share of cells valid", report.share_valid),
        ("Threshold (mostly)", report.mostly if report.mostly is not None else "every cell"),
    ]
    if data_sheet is None:
        facts.append(("Data", f"not included: the input was lazy ({report.engine}); the Failures sheet lists them"))
    else:
        facts.append(("Data", f"sheet {data_sheet!r}: failing cells filled (red: error, yellow: warning), commented"))
    if report.capped:
        facts.append(("Listed", f"the first {len(report.failures):,} failing cells (raise max_failures= for more)"))
    return facts


def _summary_sheet(book: Any, cells: CellWriter, report: Report, data_sheet: str | None) -> None:
    sheet = book.add_worksheet("Summary")
    bold = book.add_format({"bold": True})
    share = book.add_format({"num_format": "0.0%"})
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 70)
    sheet.set_column(2, 3, 12)
    row = 0
    for label, value in _facts(report, data_sheet):
        cells.text(sheet, row, 0, label, bold)
        style = share if label == "Share of cells valid" or (label.startswith("Threshold") and report.mostly) else None
        cells.write(sheet, row, 1, value, style)
        row += 1
    row += 1
    for col, head in enumerate(["column", "reason", "severity", "count"]):
        cells.text(sheet, row, col, head, bold)
    for column, reason, count in report.summary.itertuples(index=False):
        row += 1
        for col, value in enumerate([str(column), reason, report.level(reason), int(count)]):
            cells.write(sheet, row, col, value)
    for note in report.notes:
        row += 2
        cells.text(sheet, row, 0, "Note", bold)
        cells.text(sheet, row, 1, note)


def _failures_sheet(book: Any, cells: CellWriter, report: Report) -> None:
    sheet = book.add_worksheet("Failures")
    failures = report.failures.copy()
    after_reason = list(failures.columns).index("reason") + 1
    failures.insert(after_reason, "severity", [report.level(r) for r in failures["reason"]])
    bold = book.add_format({"bold": True})
    columns = plain_columns(failures)
    cells.headers = [str(c) for c in failures.columns]
    for col, (label, values) in enumerate(zip(failures.columns, columns, strict=True)):
        cells.text(sheet, 0, col, str(label), bold)
        sheet.set_column(col, col, _width(str(label), values))
    for i, row_values in enumerate(zip(*columns, strict=True), start=1):
        for col, value in enumerate(row_values):
            cells.write(sheet, i, col, value)
    sheet.freeze_panes(1, 0)


def write(report: Report, path: Path) -> Path:
    """Write the report's workbook (see the module).

    Args:
        report: the ValidationReport.
        path: the ``.xlsx`` file.

    Returns:
        The path.
    """
    formats.get("xlsx").require()  # a missing extra is one line naming it
    import xlsxwriter

    data_sheet = None
    if report.data is not None:
        data_sheet = sheet_title(report.sheet or (Path(report.source).stem if report.source else "data"))
        if data_sheet in ("Summary", "Failures"):
            data_sheet = sheet_title(f"{data_sheet} (data)")
    with atomic_path(path) as temp:
        book = xlsxwriter.Workbook(
            str(temp), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        try:
            cells = CellWriter(book)
            _summary_sheet(book, cells, report, data_sheet)
            if data_sheet is not None:
                _data_sheet(book, cells, report, data_sheet)
            _failures_sheet(book, cells, report)
        finally:
            book.close()
    return path
