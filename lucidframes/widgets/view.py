"""What the Explorer shows, and what acts on it: the status line, the preview (captioned, stale or cleared),
fetch results and progress, Validate and Export (atomic, asking before overwriting).

``ExplorerView`` is the base of ``widgets.Explorer``: it holds no widgets of its own (``Explorer._build`` makes
them) and keeps the rules about the preview in one place.
"""

from __future__ import annotations

import html
import logging
import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from lucidframes.client import Client
from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import APIError, ConfigError, DrainStopped, LucidError
from lucidframes.io import formats
from lucidframes.io.export import export
from lucidframes.loaders.state import DrainState
from lucidframes.lucidid import validate_lucid_ids
from lucidframes.widgets.lookup import LookupPanel

__all__ = ["PREVIEW_ROWS", "ExplorerView", "Key", "LookupMixin", "describe", "load_key"]

log = logging.getLogger("lucidframes.widgets")

PREVIEW_ROWS = 5
_COLORS = {"info": "#444", "busy": "#0b5cad", "ok": "#1a7f37", "warn": "#9a6700", "error": "#b42318"}
_STALE_STYLE = "opacity:0.35;filter:grayscale(1)"
Key = tuple[Any, ...]  # what a preview came from: ("load", name, params) or ("lookup", name)


class ExplorerView:
    """The preview, status and actions of the Explorer (the widgets are made by ``Explorer._build``)."""

    client: Client
    df: pd.DataFrame | None
    last_error: BaseException | None
    last_report: Any
    last_export: Path | None
    page_count: int | None
    page_size: int | None
    endpoint: widgets.Dropdown
    params: dict[str, widgets.Widget]
    page: widgets.BoundedIntText
    page_info: widgets.HTML
    mode: widgets.ToggleButtons
    lookup: LookupPanel
    progress: widgets.IntProgress
    progress_label: widgets.HTML
    status: widgets.HTML
    preview: widgets.HTML
    validate_column: widgets.Dropdown
    validate_kind: widgets.Dropdown
    validate_button: widgets.Button
    report: widgets.HTML
    export_name: widgets.Text
    export_format: widgets.Dropdown
    export_button: widgets.Button
    _thread: threading.Thread | None
    _resume: DrainState | None
    _resume_key: tuple[str, tuple[tuple[str, str], ...]] | None
    _closed: bool
    _running: bool
    _preview_key: Key | None
    _preview_html: str
    _confirm: Path | None

    def _set_busy(self, busy: bool) -> None:
        """Enable or disable the controls for a running fetch (``Explorer`` has the controls)."""
        raise NotImplementedError

    def _say(self, text: str, kind: str = "info") -> None:
        """Set the status line (plain words, HTML-escaped)."""
        self.status.value = f"<span style='color:{_COLORS[kind]}'>{html.escape(text, quote=False)}</span>"

    def _fail(self, err: BaseException, doing: str, expected: tuple[type[BaseException], ...] = ()) -> None:
        """Show an error in the status line: the library's own message, or the type and text of anything else."""
        self.last_error = err
        if isinstance(err, (LucidError, OSError, *expected)):
            text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        else:
            log.error("Unexpected error while %s", doing, exc_info=err)
            text = f"Unexpected {type(err).__name__} while {doing}: {err}"
        self._say(f"Error while {doing}: {text}", "error")

    def _selected(self) -> tuple[Endpoint, dict[str, str]]:
        """The chosen endpoint and the values of its parameters."""
        ep = get_endpoint(self.endpoint.value)
        return ep, {name: str(self.params[name].value) for name in ep.inputs}

    def _selection(self) -> Key:
        """What the controls select now: the key a preview must have to be current."""
        if self.mode.value == "Look up":
            return ("lookup", self.lookup.endpoint.value)
        ep, params = self._selected()
        return ("load", ep.name, tuple(sorted(params.items())))

    @property
    def busy(self) -> bool:
        """Whether a fetch is running in the background."""
        return self._thread is not None and self._thread.is_alive()

    def _on_progress(self, done: int, total: int | None, rows: int, waited: float) -> None:
        """The drain's progress callback (runs in the drain's thread): move the bar and its label."""
        if total:
            self.progress.bar_style = "" if self.progress.bar_style == "info" else self.progress.bar_style
            self.progress.max = max(total, 1)
            self.progress.value = min(done, self.progress.max)
            label = f"{done} / {total} pages · {rows:,} rows"
        else:  # indeterminate until page 1 has told the count
            self.progress.max, self.progress.value, self.progress.bar_style = 1, 1, "info"
            label = f"{done} page{'s' if done != 1 else ''} · {rows:,} rows (total after page 1)"
        self.progress_label.value = label + (f" · waited {waited:.1f} s" if waited else "")

    def _loaded(self, df: pd.DataFrame, ep: Endpoint, params: dict[str, str], mode: str, page: int | None) -> None:
        """Show a successful load: data, page count and size, a full bar and a status line."""
        self._resume = self._resume_key = None
        self.last_error = None
        self._learn_pages(df, ep, mode)
        self._show(df, key=load_key(ep, params))
        info = df.attrs.get("lucidframes", {})
        fetched = max(len(info.get("pages", [])), 1)
        self.progress.max = self.progress.value = fetched
        self.progress.bar_style = "success"
        # From the frame itself, so the label and the status agree after a resume (they count the same rows).
        self.progress_label.value = f"{fetched} / {fetched} pages · {len(df):,} rows"
        what = describe(ep.name, params) if page is None else f"page {page} of {describe(ep.name, params)}"
        waited = info.get("total_wait", 0.0)
        extra = f", {info.get('retries', 0)} retries, waited {waited:.1f} s" if waited else ""
        self._say(f"Fetched {what}: {len(df):,} rows × {df.shape[1]} columns{extra}.", "ok")

    def _stopped(self, err: DrainStopped, ep: Endpoint, params: dict[str, str]) -> None:
        """Show a drain stopped by the Stop button: its partial result, and that Fetch all continues it."""
        self._keep_partial(err, ep, params)
        self.progress.bar_style = "warning"
        self.last_error = err
        rows = 0 if err.partial is None else len(err.partial)
        done = len(err.resume.numbers()) if isinstance(err.resume, DrainState) else 0
        total = self.page_count or (self.progress.max if self.progress.bar_style != "info" else None)
        if err.resume is not None and err.resume.counts.get(1) is not None and self.page_count is None:
            size = err.resume.page_size or (err.resume.size_of(1) if err.resume.has(1) else 0) or 1
            total = max(math.ceil((err.resume.counts[1] or 0) / size), 1)
        self.progress.max = max(total or 1, 1)
        self.progress.value = min(done, self.progress.max) if total else 0
        self.progress_label.value = f"stopped at {done} / {total or '?'} pages · {rows:,} rows"
        self._say(
            f"Stopped: explorer.df holds a partial result ({rows:,} rows so far). Fetch all continues from there.",
            "warn",
        )

    def _keep_partial(self, err: APIError, ep: Endpoint, params: dict[str, str]) -> None:
        """Show a stopped or failed drain's partial result and remember where to resume."""
        if err.partial is not None:
            self._show(err.partial, partial=True, key=load_key(ep, params))
        if err.resume is not None:
            self._resume = err.resume
            self._resume_key = (ep.name, tuple(sorted(params.items())))

    def _learn_pages(self, df: pd.DataFrame, ep: Endpoint, mode: str) -> None:
        """Learn the page count and size from what was fetched, and bound the page picker by them."""
        info = df.attrs.get("lucidframes", {})
        count = info.get("count")
        paginated = ep.list_shape == "paginated"
        # The library reports the page size whenever a fetched page had a next one (the last page alone cannot).
        size = info.get("page_size") or self.page_size
        pages: int | None = None
        if not paginated or (mode == "all" and info.get("complete")):
            pages = max(len(info.get("pages", [])), 1)
        elif isinstance(count, int) and size:
            pages = max(math.ceil(count / size), 1)
        self.page_size = int(size) if size else self.page_size
        self.page_count = pages or self.page_count
        if self.page_count is not None:
            self.page.max = self.page_count
        parts = [] if count is None else [f"{count:,} rows"]
        if self.page_count is not None:
            parts.append(f"{self.page_count:,} page{'s' if self.page_count != 1 else ''}")
        if self.page_size is not None:
            parts.append(f"{self.page_size:,} per page")
        self.page_info.value = f"<small>{html.escape(' · '.join(parts))}</small>"

    def _show(self, df: pd.DataFrame, *, partial: bool = False, key: Key | None = None) -> None:
        """Make ``df`` the current data: preview its first rows under a caption saying where they came from."""
        self.df = df
        self._preview_key = key if key is not None else self._selection()
        note = " (partial)" if partial else ""
        table = df.head(PREVIEW_ROWS).to_html(border=0, max_cols=20, show_dimensions=False)
        caption = html.escape(_caption(df, self._preview_key), quote=False)
        self._preview_html = (
            f"<div class='lucidframes-caption'><small>{caption}</small></div>"
            f"<div><b>{len(df):,} rows × {df.shape[1]} columns</b>{note}</div>"
            f"<div style='overflow-x:auto;max-width:100%;white-space:nowrap'>{table}</div>"
        )
        columns = [str(c) for c in df.columns]
        current = self.validate_column.value
        self.validate_column.options = columns
        if current in columns:
            self.validate_column.value = current
        elif columns:
            preferred = [c for c in columns if "lucid_id" in c] + [c for c in columns if c.endswith("uuid")]
            self.validate_column.value = (preferred or columns)[0]
        self.lookup.offer_columns(df)
        self._mark_preview()

    def _clear_preview(self, text: str) -> None:
        """No preview (a fetch started, or one failed): nothing stale can be mistaken for the new data."""
        self.df = None
        self._preview_key = None
        self._preview_html = ""
        self.preview.value = f"<i>{html.escape(text, quote=False)}</i>"
        self.preview.remove_class("lucidframes-stale")
        self.lookup.offer_columns(None)
        self._enable_actions()

    @property
    def stale(self) -> bool:
        """Whether the preview shows data of something other than the current selection."""
        return self.df is not None and self._preview_key != self._selection()

    def _mark_preview(self) -> None:
        """Render the preview, greyed with a "stale" caption when it is not the selected endpoint's."""
        if self.df is None or not self._preview_html:
            self._enable_actions()
            return
        if self.stale:
            where = _key_text(self._preview_key)
            self.preview.value = (
                f"<div style='color:#9a6700'><b>Stale:</b> this is {html.escape(where)}, not the selection. "
                "Fetch (or look up) to replace it.</div>"
                f"<div style='{_STALE_STYLE}'>{self._preview_html}</div>"
            )
            self.preview.add_class("lucidframes-stale")
        else:
            self.preview.value = self._preview_html
            self.preview.remove_class("lucidframes-stale")
        self._enable_actions()

    def _enable_actions(self) -> None:
        """Validate and Export act only on a preview of the selected endpoint, and not during a fetch."""
        off = self.df is None or self.stale or self._running or self._closed
        self.validate_button.disabled = self.export_button.disabled = off

    def _on_column_change(self, change: Mapping[str, Any]) -> None:
        """Guess the id kind from the column name (uuid columns hold 22-character shortuuids)."""
        column = change.get("new")
        if isinstance(column, str) and column:
            self.validate_kind.value = "uuid" if column.endswith("uuid") else "lucid_id"

    def _on_validate(self, _button: Any = None) -> None:
        """Check the chosen column with the LucidID validator and show its report."""
        try:
            if self.df is None:
                raise ConfigError("Nothing to validate yet: fetch a page first.")
            self._refuse_stale("validate")
            column = self.validate_column.value
            if column is None:
                raise ConfigError("Choose a column to validate.")
            report = validate_lucid_ids(self.df, columns=[column], kind=self.validate_kind.value)
            self.last_report = report
            self.report.value = report._repr_html_()
            if report.ok:
                self._say(f"{column}: all {report.n_rows:,} rows pass the {self.validate_kind.value} check.", "ok")
            else:
                self._say(
                    f"{column}: {len(report.failures):,} failing cell(s) in {report.n_failed_rows:,} of "
                    f"{report.n_rows:,} rows (see the report below; explorer.last_report.failures has them all).",
                    "warn",
                )
        except Exception as err:
            self._fail(err, "validating", expected=(KeyError, TypeError, ValueError))  # the validator's usage errors

    def _refuse_stale(self, doing: str) -> None:
        """Raise when the preview is not the selection's (the buttons are disabled then; a click from code too)."""
        if self.stale:
            raise ConfigError(
                f"Not {doing}ing {_key_text(self._preview_key)} while {_key_text(self._selection())} is selected: "
                "fetch it first (or select what the preview shows)."
            )

    def _on_export_name(self, change: Mapping[str, Any] | None = None) -> None:
        """A new file name: no overwrite is pending any more."""
        self._confirm = None
        self.export_button.description = "Export"

    def _on_export(self, _button: Any = None) -> None:
        """Write the current data with ``lf.export`` (atomically); a file that exists needs a second click."""
        try:
            if self.df is None:
                raise ConfigError("Nothing to export yet: fetch a page first.")
            self._refuse_stale("export")
            fmt = self.export_format.value
            name = self.export_name.value.strip()
            if not name:
                raise ConfigError("Type a file name to export to.")
            path = Path(name).expanduser()
            if not path.suffix:
                path = path.with_name(path.name + formats.get(fmt).suffix)
            if path.exists() and self._confirm != path:
                self._confirm = path
                self.export_button.description = "Overwrite"
                self._say(f"{path} exists: press Overwrite to replace it, or change the file name.", "warn")
                return
            written = _export_atomically(self.df, path, fmt)
            self._confirm = None
            self.export_button.description = "Export"
            self.last_export = written.resolve()
            self._say(f"Wrote {len(self.df):,} rows to {self.last_export}", "ok")
        except Exception as err:
            self._fail(err, "exporting")


class LookupMixin(ExplorerView):
    """The Explorer's Look up button: ``Client.lookup`` in the background thread, the result as the preview."""

    _stop: threading.Event

    def _on_lookup(self, _button: Any = None) -> None:
        """Look the ids up in the background (nothing is sent when one fails the LucidID guard)."""
        try:
            if self._closed:
                raise ConfigError("This Explorer is closed; open a new one with lf.explore().")
            if self.busy:
                self._say("Still fetching: wait for it, or press Stop.", "warn")
                return
            ep, ids = self.lookup.selected, self.lookup.wanted()
            problem = self.lookup.problems(ids)
            if problem is not None:
                raise ConfigError(problem)
            self._stop = threading.Event()
            self.progress.bar_style = ""
            self.progress.max, self.progress.value = max(len(ids), 1), 0
            self.progress_label.value = ""
            self._set_busy(True)
            self._clear_preview(f"Looking up {len(ids):,} ids in {ep.name}...")
            self._say(f"Looking up {len(ids):,} ids in {ep.name}...", "busy")
            self._thread = threading.Thread(
                target=self._work_lookup, args=(ep, ids), name="lucidframes-explorer", daemon=True
            )
            self._thread.start()
        except Exception as err:
            self._set_busy(False)
            self._fail(err, "starting the look-up")

    def _work_lookup(self, ep: Endpoint, ids: list[str]) -> None:
        """The background thread of a look-up: ``Client.lookup``, then the result or the error."""
        try:
            df = self.client.lookup(ep.name, ids, progress=False)
            self._show(df, key=("lookup", ep.name))
            statuses = df.attrs.get("lucidframes", {}).get("statuses", {})
            self.progress.max = self.progress.value = max(len(ids), 1)
            self.progress.bar_style = "success"
            counts = ", ".join(f"{v:,} {k}" for k, v in sorted(statuses.items()))
            self.progress_label.value = f"{len(ids):,} ids · {counts}"
            self.last_error = None
            self._say(f"Looked up {len(ids):,} ids in {ep.name}: {counts}.", "ok")
        except Exception as err:
            self.progress.bar_style = "danger"
            self._fail(err, f"looking up {ep.name}")
        finally:
            self._set_busy(False)


def load_key(ep: Endpoint, params: Mapping[str, str]) -> Key:
    """The key of a fetch's preview.

    Args:
        ep: the endpoint.
        params: its parameters.

    Returns:
        ``("load", name, sorted params)``.
    """
    return ("load", ep.name, tuple(sorted(params.items())))


def _key_text(key: Key | None) -> str:
    """``products``, ``assets (asset_type=images)`` or ``a look-up in items``."""
    if key is None:
        return "nothing"
    if key[0] == "lookup":
        return f"a look-up in {key[1]}"
    return describe(key[1], dict(key[2]))


def _caption(df: pd.DataFrame, key: Key) -> str:
    """Where a preview came from: endpoint, parameters, pages (or ids), and when."""
    info = df.attrs.get("lucidframes", {})
    if key[0] == "lookup":
        return f"From a look-up in {key[1]} of {info.get('ids', len(df)):,} ids."
    pages = info.get("pages") or []
    shown = _pages_text(pages)
    whole = " (every page)" if info.get("complete") else ""
    when = f", fetched {info['fetched_at']}" if info.get("fetched_at") else ""
    return f"From {_key_text(key)}: page{'s' if len(pages) != 1 else ''} {shown}{whole}{when}."


def _pages_text(pages: list[int]) -> str:
    """``1-13``, ``2, 4, 6`` or ``3``."""
    if not pages:
        return "none"
    if pages == list(range(pages[0], pages[-1] + 1)) and len(pages) > 2:
        return f"{pages[0]}-{pages[-1]}"
    return ", ".join(str(p) for p in pages)


def _export_atomically(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Export through a temporary file in the same folder, renamed into place (no half-written file)."""
    if not path.parent.exists():
        raise ConfigError(f"The folder {str(path.parent)!r} does not exist.")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        export(df, temp, format=fmt)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def describe(name: str, params: Mapping[str, str]) -> str:
    """An endpoint with its path parameters, for status lines: ``assets (asset_type=images)``.

    Args:
        name: the endpoint name.
        params: its parameters.

    Returns:
        The text.
    """
    return name + (" (" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")" if params else "")
