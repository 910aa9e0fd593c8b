"""``lf.run_summary(df)``: a drain as a picture (HTML with an inline SVG timeline) and as readable text.

::

    df = lf.load("products", sandbox=True)
    lf.run_summary(df)          # in Jupyter: a header (rows, count, pages, duplicates, drift, retries, waits)
                                # and a timeline: one lane per worker, one bar per page over wall-clock time,
                                # retries and rate-limit waits shaded
    print(lf.run_summary(df))   # the same as text

It reads ``df.attrs["lucidframes"]`` only (the account and its ``timeline``), so it works on a frame read back
from a pickle, on a partial result (``err.partial``) and on a look-up (its rows, ids per status, and a timeline of
its requests and waits: one bar per id, numbered as they were given).
A function rather than a ``df.lucid.run`` accessor: the accessor belongs to the validator, and a summary of the
run is about how the frame was made, not about its values.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lucidframes.errors import ConfigError

__all__ = ["RunSummary", "run_summary"]

_LANE, _GAP, _LEFT, _WIDTH, _TOP = 18, 4, 70, 640, 22
_COLORS = {"page": "#4c8bf5", "retry": "#f5a623", "throttle": "#d64545", "refetch": "#8e6fd1"}
_WAIT_COLOR = {"backoff": "retry", "retry_after": "retry", "preparing": "retry", "throttle": "throttle"}


@dataclass(frozen=True)
class RunSummary:
    """A drain's account, shown as HTML with an SVG timeline (``_repr_html_``) or as text (``repr``)."""

    info: Mapping[str, Any]

    @property
    def timeline(self) -> Mapping[str, Any] | None:
        """The page (or request) spans and waits, or None when the frame has none (one made by an older version)."""
        timeline = self.info.get("timeline")
        return timeline if isinstance(timeline, Mapping) else None

    @property
    def unit(self) -> str:
        """What one bar of the timeline is: ``page`` for a drain, ``id`` for a look-up."""
        return str((self.timeline or {}).get("unit", "page"))

    def pages(self) -> list[dict[str, Any]]:
        """One dict per fetched page: page, pass, worker, start, end, retries, waited (seconds from the start)."""
        timeline = self.timeline or {}
        fields = list(timeline.get("fields", []))
        return [dict(zip(fields, row, strict=False)) for row in timeline.get("pages", [])]

    def waits(self) -> list[dict[str, Any]]:
        """One dict per wait: page, worker, kind, start, seconds."""
        timeline = self.timeline or {}
        fields = list(timeline.get("wait_fields", []))
        return [dict(zip(fields, row, strict=False)) for row in timeline.get("waits", [])]

    def facts(self) -> list[tuple[str, str]]:
        """The header: (label, value) pairs."""
        info = self.info
        out = [("endpoint", _endpoint(info)), ("rows", f"{info.get('rows', 0):,}")]
        if info.get("count") is not None:
            out.append(("count", f"{info['count']:,}"))
        if "ids" in info:
            out += _lookup_facts(info)
        else:
            pages = info.get("pages")
            if isinstance(pages, list):
                out.append(("pages", f"{len(pages)}" + ("" if info.get("complete") else " (not a complete drain)")))
            out.append(("duplicates dropped", str(info.get("duplicates_dropped", 0))))
            out.append(("drift", _drift(info.get("drift"))))
        out.append(("retries", str(info.get("retries", 0))))
        waits = f"{info.get('total_wait', 0.0):.1f} s"
        if info.get("throttle_wait"):
            waits += f" ({info['throttle_wait']:.1f} s rate limit)"
        out.append(("waited", waits))
        timeline = self.timeline
        if timeline is not None:
            out.append(("elapsed", f"{timeline.get('elapsed', 0.0):.2f} s on {timeline.get('workers', 0)} worker(s)"))
        return out

    def __repr__(self) -> str:
        lines = [f"Run of {_endpoint(self.info)}"]
        lines += [f"  {label + ':':<20}{value}" for label, value in self.facts()[1:]]
        pages = self.pages()
        if pages:
            slow = max(pages, key=lambda p: p["end"] - p["start"])
            lines.append(
                f"  {f'slowest {self.unit}:':<20}{slow['page']} ({slow['end'] - slow['start']:.2f} s, "
                f"{slow['retries']} retries, waited {slow['waited']:.1f} s)"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:12px'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self.facts()
        )
        svg = self.svg()
        body = svg if svg else "<p><i>No timings in this frame (made by an older version).</i></p>"
        return (
            "<div class='lucidframes-run-summary' style='font-family:sans-serif;font-size:13px'>"
            f"<b>Run of {html.escape(_endpoint(self.info))}</b><table style='margin:4px 0'>{rows}</table>{body}</div>"
        )

    def svg(self) -> str:
        """The timeline as an inline SVG: a lane per worker, a bar per page, waits shaded (empty when no timings).

        Returns:
            The ``<svg>`` element as text, or ``""``.
        """
        pages, timeline = self.pages(), self.timeline
        if not pages or timeline is None:
            return ""
        lanes = max(int(timeline.get("workers", 0)), max(p["worker"] for p in pages) + 1)
        span = max(float(timeline.get("elapsed", 0.0)), max(p["end"] for p in pages), 1e-3)
        height = _TOP + lanes * (_LANE + _GAP) + 28

        def x(t: float) -> float:
            return float(_LEFT + _WIDTH * max(0.0, min(float(t), span)) / span)

        parts = [
            f"<svg xmlns='http://www.w3.org/2000/svg' class='lucidframes-timeline' width='{_LEFT + _WIDTH + 10}' "
            f"height='{height}' font-family='sans-serif' font-size='11'>",
            f"<title>{self.unit}s over wall-clock time, one lane per worker</title>",
        ]
        for lane in range(lanes):
            y = _TOP + lane * (_LANE + _GAP)
            parts.append(f"<text x='4' y='{y + 13}'>worker {lane + 1}</text>")
            parts.append(f"<rect x='{_LEFT}' y='{y}' width='{_WIDTH}' height='{_LANE}' fill='#f3f3f3'/>")
        for p in pages:
            parts.append(_page_rect(p, x, self.unit))
        for w in self.waits():
            parts.append(_wait_rect(w, pages, x, self.unit))
        axis_y = _TOP + lanes * (_LANE + _GAP) + 12
        parts.append(f"<text x='{_LEFT}' y='{axis_y}'>0 s</text>")
        parts.append(f"<text x='{_LEFT + _WIDTH}' y='{axis_y}' text-anchor='end'>{span:.2f} s</text>")
        parts.append(_legend(axis_y + 12, self.unit))
        parts.append("</svg>")
        return "".join(parts)


def _endpoint(info: Mapping[str, Any]) -> str:
    params = info.get("params") or {}
    shown = ", ".join(f"{k}={v}" for k, v in params.items())
    return str(info.get("endpoint", "?")) + (f" ({shown})" if shown else "")


def _lookup_facts(info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A look-up's own lines: its ids per status, and the requests it sent (besides those cached or resumed)."""
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(info.get("statuses", {}).items()))
    sent = f"{info.get('requests', 0):,}"
    spared = [f"{info[k]:,} {k}" for k in ("cached", "resumed") if info.get(k)]
    sent += f" ({', '.join(spared)})" if spared else ""
    return [("ids", f"{info['ids']:,} ({statuses})"), ("requests", sent)]


def _drift(drift: Any) -> str:
    if not isinstance(drift, Mapping):
        return "not checked"
    if not drift.get("detected"):
        return "none"
    unresolved = drift.get("unresolved")
    return f"{drift.get('refetches', 0)} re-fetch(es)" + (f"; unresolved: {unresolved}" if unresolved else "")


def _page_rect(p: Mapping[str, Any], x: Any, unit: str) -> str:
    y = _TOP + int(p["worker"]) * (_LANE + _GAP)
    x0, x1 = x(p["start"]), x(p["end"])
    color = _COLORS["page"] if p.get("pass", 1) == 1 else _COLORS["refetch"]
    tip = f"{unit} {p['page']}: {p['end'] - p['start']:.3f} s, {p['retries']} retries, waited {p['waited']:.1f} s"
    return (
        f"<rect class='page' x='{x0:.1f}' y='{y + 2}' width='{max(x1 - x0, 1.0):.1f}' height='{_LANE - 4}' "
        f"fill='{color}' stroke='white' stroke-width='0.5'><title>{html.escape(tip)}</title></rect>"
    )


def _wait_rect(w: Mapping[str, Any], pages: list[dict[str, Any]], x: Any, unit: str) -> str:
    """A wait's shading, clipped to the page it belongs to (a recorded, not slept, wait takes no time)."""
    owner = [p for p in pages if p["page"] == w["page"] and p["worker"] == w["worker"] and p["end"] >= w["start"]]
    end = w["start"] + w["seconds"]
    if owner:
        end = min(end, min(owner, key=lambda p: p["end"])["end"])
    y = _TOP + int(w["worker"]) * (_LANE + _GAP)
    x0, x1 = x(w["start"]), x(end)
    color = _COLORS[_WAIT_COLOR.get(str(w["kind"]), "retry")]
    tip = f"{w['kind']} before {unit} {w['page']}: {w['seconds']:.3g} s"
    return (
        f"<rect class='wait {html.escape(str(w['kind']))}' x='{x0:.1f}' y='{y}' width='{max(x1 - x0, 2.0):.1f}' "
        f"height='{_LANE}' fill='{color}' fill-opacity='0.55'><title>{html.escape(tip)}</title></rect>"
    )


def _legend(y: int, unit: str) -> str:
    items = (("page", unit), ("retry", "retry / backoff"), ("throttle", "rate-limit wait"), ("refetch", "re-fetch"))
    out, left = [], _LEFT
    for key, label in items:
        out.append(f"<rect x='{left}' y='{y - 9}' width='10' height='10' fill='{_COLORS[key]}'/>")
        out.append(f"<text x='{left + 14}' y='{y}'>{label}</text>")
        left += 24 + 7 * len(label)
    return "".join(out)


def run_summary(df: pd.DataFrame) -> RunSummary:
    """The run that made ``df`` (a load, a partial result or a look-up), as a picture and a text summary.

    Args:
        df: a frame returned by ``load``/``lookup`` (or an error's ``.partial``).

    Returns:
        The RunSummary: display it in Jupyter (HTML + SVG timeline) or print it.
    """
    info = getattr(df, "attrs", {}).get("lucidframes") if isinstance(df, pd.DataFrame) else None
    if not isinstance(info, Mapping):
        raise ConfigError("run_summary takes a DataFrame made by lucidframes (its attrs['lucidframes'] is missing).")
    return RunSummary(dict(info))
