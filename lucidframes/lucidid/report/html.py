"""The HTML view of a ValidationReport: a badge, a bar per reason, and the failing values with bad characters marked.

Standalone: inline CSS only, no scripts, no external URL (the page works offline and in a mail attachment). Text
is left-aligned whatever the notebook's stylesheet says. Hints are short; the detail opens under each (a
``<details>`` element: no JavaScript needed). With thousands of failures only the first few of each reason are
listed, and the page says where the rest are.
"""

from __future__ import annotations

import html
import unicodedata
from typing import Any, Protocol

import pandas as pd

from lucidframes.lucidid.formats import ALPHABET, REASONS

__all__ = ["fragment", "page"]

_ALPHABET = frozenset(ALPHABET)
_ALL_ROWS = 100  # up to this many failures, every one is listed
_PER_REASON = 10  # beyond, the first few of each reason
_VALUE_CHARS = 64  # characters of a value shown

_STYLE = """
.lf-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:13px;color:#1f2328;
  text-align:left;max-width:72rem}
.lf-report *{text-align:left !important}
.lf-report .lf-head{display:flex;align-items:center;gap:.6rem;margin:.2rem 0 .6rem}
.lf-report .lf-badge{font-weight:700;padding:.15rem .6rem;border-radius:1rem;color:#fff;font-size:12px;
  letter-spacing:.04em}
.lf-report .lf-pass{background:#1a7f37}.lf-report .lf-fail{background:#cf222e}
.lf-report .lf-title{font-weight:600}.lf-report .lf-sub{color:#59636e}
.lf-report .lf-bars{display:grid;grid-template-columns:max-content 1fr max-content;gap:.25rem .6rem;
  align-items:center;margin:.4rem 0 .8rem;max-width:40rem}
.lf-report .lf-track{background:#eef1f4;border-radius:3px;height:.8rem;min-width:8rem}
.lf-report .lf-bar{background:#cf222e;height:100%;border-radius:3px;min-width:2px}
.lf-report .lf-bar.lf-warn{background:#d4a72c}
.lf-report .lf-count{font-variant-numeric:tabular-nums;color:#59636e}
.lf-report code,.lf-report .lf-value{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.lf-report mark{background:#ffd8d3;color:#82071e;border-radius:2px;padding:0 1px;font-weight:700}
.lf-report mark.lf-invisible{background:#fff1c2;color:#7d4e00;font-weight:400}
.lf-report table{border-collapse:collapse;margin:.3rem 0;width:auto}
.lf-report th{font-weight:600;border-bottom:1px solid #d1d9e0;padding:.25rem .6rem;background:#f6f8fa}
.lf-report td{border-bottom:1px solid #eef1f4;padding:.25rem .6rem;vertical-align:top}
.lf-report td.lf-num{font-variant-numeric:tabular-nums;color:#59636e}
.lf-report .lf-reason{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;background:#f6f8fa;
  border:1px solid #d1d9e0;border-radius:4px;padding:0 .3rem;white-space:nowrap}
.lf-report details summary{cursor:pointer;color:#1f2328}
.lf-report details div{color:#59636e;margin-top:.2rem;max-width:36rem}
.lf-report .lf-note{background:#fff8c5;border-left:3px solid #d4a72c;padding:.3rem .6rem;margin:.4rem 0}
.lf-report .lf-more{color:#59636e;margin:.4rem 0}
"""


class Report(Protocol):
    """What the HTML view reads from a ValidationReport."""

    failures: pd.DataFrame
    columns: list[Any]
    kind: str
    length: int
    n_rows: int
    capped: bool
    engine: str
    notes: list[str]
    source: str | None

    @property
    def ok(self) -> bool: ...

    @property
    def summary(self) -> pd.DataFrame: ...

    @property
    def n_failed_cells(self) -> int: ...

    @property
    def n_failed_rows(self) -> int | None: ...

    @property
    def n_cells(self) -> int: ...

    @property
    def n_warnings(self) -> int: ...

    mostly: float | None

    def level(self, reason: str) -> str: ...

    def verdict(self) -> str: ...


_PLAIN = frozenset({"missing", "url_wrapped", "case_id", "duplicate", "unknown"})  # no character is at fault


def marked(value: Any, reason: str = "") -> str:
    """A cell as HTML: characters outside the alphabet marked, invisible ones named, long values cut."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return '<span class="lf-sub">(empty)</span>'
    if isinstance(value, str) and reason in _PLAIN and value.strip() == value:
        return f'<span class="lf-value">{html.escape(value[:_VALUE_CHARS])}</span>'
    if not isinstance(value, str):
        try:
            text = repr(value)
        except Exception:  # a hostile __repr__ must not break the report
            text = "<unrepresentable>"
        return f'<span class="lf-value">{html.escape(text[:_VALUE_CHARS])}</span>'
    parts = []
    for ch in value[:_VALUE_CHARS]:
        if ch in _ALPHABET:
            parts.append(ch)
        elif ch == " ":
            parts.append('<mark class="lf-invisible" title="SPACE">·</mark>')
        elif unicodedata.category(ch)[0] in "CZM":
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            parts.append(f'<mark class="lf-invisible" title="{html.escape(name)}">⟨U+{ord(ch):04X}⟩</mark>')
        else:
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            parts.append(f'<mark title="{html.escape(name)}">{html.escape(ch)}</mark>')
    if len(value) > _VALUE_CHARS:
        parts.append(f" …(+{len(value) - _VALUE_CHARS} characters)")
    return f'<span class="lf-value">{"".join(parts)}</span>'


def _short_hint(hint: str) -> str:
    """The first clause of a hint: the rest is in the detail."""
    first = hint.split("; ")[0]
    return first if len(first) <= 90 else first[:87] + "…"


def _bars(report: Report) -> list[str]:
    """A bar per reason, its length the share of the checked cells (a full bar: every cell), not of the largest."""
    by_reason: dict[str, int] = {}
    for reason, count in zip(report.summary["reason"], report.summary["count"], strict=True):
        by_reason[reason] = by_reason.get(reason, 0) + int(count)
    cells = max(report.n_cells, 1)
    out = ['<div class="lf-bars">']
    for reason in sorted(by_reason, key=REASONS.index):
        width = max(0.5, 100 * by_reason[reason] / cells)
        warn = report.level(reason) == "warning"
        label = html.escape(reason) + (" (warning)" if warn else "")
        out.append(
            f'<span class="lf-reason">{label}</span>'
            f'<div class="lf-track" title="{by_reason[reason]:,} of {cells:,} cells">'
            f'<div class="lf-bar{" lf-warn" if warn else ""}" style="width:{width:.1f}%"></div></div>'
            f'<span class="lf-count">{by_reason[reason]:,} of {cells:,}</span>'
        )
    out.append("</div>")
    return out


def _shown(failures: pd.DataFrame) -> pd.DataFrame:
    """Every failure when there are few; else the first few of each reason, in row order."""
    if len(failures) <= _ALL_ROWS:
        return failures
    return failures.groupby("reason", sort=False, group_keys=False).head(_PER_REASON)


def _table(report: Report) -> list[str]:
    failures = report.failures
    shown = _shown(failures)
    extra = [c for c in failures.columns if c not in ("row", "line", "column", "value", "reason", "detail", "hint")]
    heads = ["row", *(["line"] if "line" in failures.columns else []), "column", "value", "reason", "hint", *extra]
    out = ["<table><thead><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in heads) + "</tr></thead><tbody>"]
    for record in shown.to_dict("records"):
        cells = [f'<td class="lf-num">{html.escape(_text(record["row"]))}</td>']
        if "line" in failures.columns:
            cells.append(f'<td class="lf-num">{html.escape(_text(record["line"]))}</td>')
        cells.append(f"<td>{html.escape(str(record['column']))}</td>")
        cells.append(f"<td>{marked(record['value'], str(record['reason']))}</td>")
        cells.append(f'<td><span class="lf-reason">{html.escape(str(record["reason"]))}</span></td>')
        hint, detail = str(record["hint"] or ""), str(record["detail"] or "")
        cells.append(
            f"<td><details><summary>{html.escape(_short_hint(hint) or 'details')}</summary>"
            f"<div>{html.escape(detail)}{'<br>' + html.escape(hint) if hint != _short_hint(hint) else ''}</div>"
            "</details></td>"
        )
        cells += [f"<td>{html.escape(_text(record[c]))}</td>" for c in extra]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    hidden = report.n_failed_cells - len(shown)
    if hidden > 0:
        where = "report.failures" if not report.capped else "report.failures (capped: raise max_failures=)"
        out.append(
            f'<p class="lf-more">Showing {len(shown):,} of {report.n_failed_cells:,} failing cells (the first of '
            f"each reason); the others are in <code>{html.escape(where)}</code>.</p>"
        )
    return out


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value.item() if hasattr(value, "item") else value)


def fragment(report: Report) -> str:
    """The report as an HTML fragment (a notebook cell's output).

    Args:
        report: the ValidationReport.

    Returns:
        HTML text with its own scoped stylesheet.
    """
    label = "LucidID" if report.kind == "lucid_id" else "uuid"
    columns = ", ".join(map(str, report.columns))
    badge = '<span class="lf-badge lf-pass">PASS</span>' if report.ok else '<span class="lf-badge lf-fail">FAIL</span>'
    if report.n_failed_cells == 0:
        sub = f"all cells pass ({report.n_rows:,} rows)"
    else:
        rows = "" if report.n_failed_rows is None else f" in {report.n_failed_rows:,} rows"
        sub = f"{report.n_failed_cells:,} failing cell(s){rows} of {report.n_rows:,}"
    if report.mostly is not None or report.n_warnings:
        sub += " · " + report.verdict().removeprefix("PASS").removeprefix("FAIL").lstrip(":; ")
    source = f" · {html.escape(report.source)}" if report.source else ""
    parts = [
        f"<div class='lf-report'><style>{_STYLE}</style>",
        f'<div class="lf-head">{badge}<span class="lf-title">{label} check of {html.escape(columns)}</span>'
        f'<span class="lf-sub">length {report.length} · {sub} · {html.escape(report.engine)}{source}</span></div>',
    ]
    if report.n_failed_cells:
        parts += _bars(report)
    parts += [f'<div class="lf-note">{html.escape(note)}</div>' for note in report.notes]
    if report.n_failed_cells:
        parts += _table(report)
    parts.append("</div>")
    return "".join(parts)


def page(report: Report) -> str:
    """The report as a standalone HTML page (what ``report.to_html(path)`` and ``--report out.html`` write).

    Args:
        report: the ValidationReport.

    Returns:
        A complete HTML document.
    """
    title = f"{'PASS' if report.ok else 'FAIL'}: {'LucidID' if report.kind == 'lucid_id' else 'uuid'} check"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title></head><body style="margin:1.5rem">{fragment(report)}</body></html>\n'
    )
