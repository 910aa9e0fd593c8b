"""What the Explorer shows, and what acts on it: the progress bar (with the one Stop of both modes), the status
line, the preview (captioned, stale or cleared), Validate and Export (atomic, asking before overwriting).

``ExplorerView`` owns these widgets and keeps the rules about what is on screen in one place: a report or a message
belongs to the data it was made from (a new frame, a cleared preview or a mode change removes it), and Validate's
and Export's messages are shown next to their buttons. The Explorer owns the view: it tells it what is selected now
(a callable giving the selection's ``Key``), whether its actions are locked (work running, or the Explorer closed),
and whom to offer a new frame's columns (the Look up panel); the view never reaches back into the Explorer.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import ipywidgets as widgets
import pandas as pd

from lucidframes._http.events import WaitBoard
from lucidframes._http.events import describe as describe_wait
from lucidframes.errors import ConfigError, DrainStopped, LucidError
from lucidframes.io import formats
from lucidframes.io.export import export
from lucidframes.loaders.state import DrainState
from lucidframes.lucidid import KINDS, validate_lucid_ids
from lucidframes.lucidid.wording import for_widget
from lucidframes.widgets.captions import Key, caption, key_text, preview_table

__all__ = ["EXPORT_FORMATS", "ExplorerView", "Show"]

log = logging.getLogger("lucidframes.widgets")

EXPORT_FORMATS = formats.explorer_options()  # (label, name), from the one table of formats
_COLORS = {"info": "#444", "busy": "#0b5cad", "ok": "#1a7f37", "warn": "#9a6700", "error": "#b42318"}
_STALE_STYLE = "opacity:0.35;filter:grayscale(1)"
_WIDE = {"description_width": "initial"}


class Show(Protocol):
    """What makes a frame the current data and previews it (``ExplorerView.show``, or the Explorer's ``_show``)."""

    def __call__(self, df: pd.DataFrame, *, partial: bool = False, key: Key | None = None) -> None: ...


class ExplorerView:
    """The status line, progress bar, preview, Validate and Export of the Explorer, and the data they show.

    Args:
        selection: what the controls select now (the key a preview must have to be current).
        offer_columns: told of every new frame (None when the preview is cleared), to offer its columns.
    """

    def __init__(self, selection: Callable[[], Key], offer_columns: Callable[[pd.DataFrame | None], None]) -> None:
        self._selection = selection
        self._offer_columns = offer_columns
        self.df: pd.DataFrame | None = None
        self.last_error: BaseException | None = None
        self.last_report: Any = None
        self.last_export: Path | None = None
        self.locked = False  # a fetch is running, or the Explorer is closed: Validate and Export wait
        self._preview_key: Key | None = None
        self._preview_html = ""
        self._confirm: Path | None = None  # a file that exists, to be overwritten on the next Export click
        self._auto_export_name = ""
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress", style=_WIDE)
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="warning", disabled=True)
        self.progress_label = widgets.HTML()
        self.board: WaitBoard | None = None  # the running work's waits, for the countdown in the label
        self.unit = "page"
        self.status = widgets.HTML()
        self.preview = widgets.HTML("<i>No data yet.</i>")
        self.validate_column = widgets.Dropdown(options=[], description="Column", style=_WIDE)
        self.validate_kind = widgets.Dropdown(options=list(KINDS), value="lucid_id", description="Kind", style=_WIDE)
        self.validate_button = widgets.Button(description="Validate", icon="check")
        self.validate_note = widgets.HTML()
        self.report = widgets.HTML()
        self.export_name = widgets.Text(description="File", placeholder="file name", style=_WIDE)
        self.export_format = widgets.Dropdown(options=EXPORT_FORMATS, description="Format", style=_WIDE)  # first: CSV
        self.export_button = widgets.Button(description="Export", icon="save")
        self.export_note = widgets.HTML()
        self.validate_column.observe(self._on_column_change, names="value")
        self.validate_button.on_click(self._on_validate)
        self.export_button.on_click(self._on_export)
        self.export_name.observe(self._on_export_name, names="value")
        # CSS classes, for styling and for finding the parts in a browser test.
        for part in ("status", "preview", "report", "progress", "progress_label", "validate_note", "export_note"):
            getattr(self, part).add_class(f"lucidframes-{part.replace('_', '-')}")

    def rows(self) -> list[widgets.Widget]:
        """The view's part of the Explorer's box, top to bottom."""
        row = widgets.HBox
        return [
            row([self.progress, self.stop_button, self.progress_label]),
            self.status,
            self.preview,
            row([self.validate_column, self.validate_kind, self.validate_button, self.validate_note]),
            self.report,
            row([self.export_name, self.export_format, self.export_button, self.export_note]),
        ]

    # -- the status line and the progress bar -------------------------------------------------------------------

    def say(self, text: str, kind: str = "info", where: widgets.HTML | None = None) -> None:
        """Set the status line, or the note ``where`` (plain words, HTML-escaped)."""
        target = self.status if where is None else where
        target.value = f"<span style='color:{_COLORS[kind]}'>{html.escape(text, quote=False)}</span>"

    def say_more(self, text: str) -> None:
        """Add plain words to the end of the status line."""
        self.status.value += html.escape(text, quote=False)

    def fail(
        self,
        err: BaseException,
        doing: str,
        expected: tuple[type[BaseException], ...] = (),
        where: widgets.HTML | None = None,
    ) -> None:
        """Show an error in the status line (or ``where``): the library's message, or the type and text of another."""
        self.last_error = err
        if isinstance(err, (LucidError, OSError, *expected)):
            text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        else:
            log.error("Unexpected error while %s", doing, exc_info=err)
            text = f"Unexpected {type(err).__name__} while {doing}: {err}"
        self.say(f"Error while {doing}: {text}", "error", where)

    def forget_notes(self) -> None:
        """Remove the report and the messages made from the data shown (it changed, or the mode did)."""
        self.report.value = self.validate_note.value = self.export_note.value = ""

    def start_bar(self, total: int, unit: str = "page") -> WaitBoard:
        """An empty bar out of ``total`` (1 while unknown), for work about to start; the board of its waits."""
        self.progress.bar_style = ""
        self.progress.max, self.progress.value = total, 0
        self.progress_label.value = ""
        self.unit = unit
        self.board = WaitBoard(say=None)  # the work's wait hook: the label counts its waits down
        return self.board

    def end_bar(self, done: int, label: str, style: str = "success") -> None:
        """A full bar of ``done`` steps, labelled."""
        self.progress.max = self.progress.value = done
        self.progress.bar_style = style
        self.progress_label.value = label

    def mark_bar(self, style: str) -> None:
        """Colour the bar as it stands ("danger" after a failure)."""
        self.progress.bar_style = style

    def on_progress(self, done: int, total: int | None, rows: int, waited: float) -> None:
        """The work's progress callback (its thread, and its ticker): move the bar, the label and the countdown."""
        unit = self.unit
        if total:
            self.progress.bar_style = "" if self.progress.bar_style == "info" else self.progress.bar_style
            self.progress.max = max(total, 1)
            self.progress.value = min(done, self.progress.max)
            label = f"{done:,} / {total:,} {unit}s · {rows:,} rows"
        else:  # indeterminate until page 1 has told the count
            self.progress.max, self.progress.value, self.progress.bar_style = 1, 1, "info"
            label = f"{done} {unit}{'s' if done != 1 else ''} · {rows:,} rows (total after page 1)"
        current = self.board.current() if self.board is not None else None
        if current is not None:
            label += " · " + describe_wait(*current).replace(", ", " · ")
        elif waited:
            label += f" · waited {waited:.1f} s"
        self.progress_label.value = html.escape(label, quote=False)

    def loaded(self, df: pd.DataFrame, what: str) -> None:
        """Say a load succeeded: a full bar of the pages fetched and a status line with the frame's size."""
        info = df.attrs.get("lucidframes", {})
        fetched = max(len(info.get("pages", [])), 1)
        # From the frame itself, so the label and the status agree after a resume (they count the same rows).
        self.end_bar(fetched, f"{fetched} / {fetched} pages · {len(df):,} rows")
        waited = info.get("total_wait", 0.0)
        extra = f", {info.get('retries', 0)} retries, waited {waited:.1f} s" if waited else ""
        self.say(f"Fetched {what}: {len(df):,} rows × {df.shape[1]} columns{extra}.", "ok")

    def stopped(self, err: DrainStopped, page_count: int | None) -> bool:
        """Say a drain was stopped: the bar at the pages fetched, of the page count once known ("?" before).

        Returns:
            Whether the result is partial (pages are missing: a stop after the last page lost nothing).
        """
        self.last_error = err
        indeterminate = self.progress.bar_style == "info"  # read before the bar turns "warning"
        self.progress.bar_style = "warning"
        resume = err.resume if isinstance(err.resume, DrainState) else None
        rows = 0 if err.partial is None else len(err.partial)
        done = len(resume.numbers()) if resume is not None else 0
        known = page_count or (resume.total_pages() if resume is not None else None)
        total = known or (None if indeterminate else self.progress.max)
        self.progress.max = max(total or 1, 1)
        self.progress.value = min(done, self.progress.max) if total else 0
        self.progress_label.value = f"stopped at {done} / {total if total else '?'} pages · {rows:,} rows"
        if total and done >= total:
            self.say(
                f"Stopped after every page was fetched: explorer.df holds all {rows:,} rows (the final check that "
                "page 1 had not changed was skipped: Fetch all makes it).",
                "warn",
            )
            return False
        self.say(
            f"Stopped: explorer.df holds a partial result ({rows:,} rows so far). Fetch all continues from there.",
            "warn",
        )
        return True

    # -- the preview -------------------------------------------------------------------------------------------

    def show(self, df: pd.DataFrame, *, partial: bool = False, key: Key | None = None) -> None:
        """Make ``df`` the current data: preview its first rows under a caption saying where they came from."""
        self.df = df
        self.forget_notes()  # they were about the data shown before
        self._preview_key = key if key is not None else self._selection()
        note = " (partial)" if partial else ""
        table = preview_table(df)
        said = html.escape(caption(df, self._preview_key), quote=False)
        self._preview_html = (
            f"<div class='lucidframes-caption'><small>{said}</small></div>"
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
        self._offer_columns(df)
        self.refresh()

    def clear(self, text: str) -> None:
        """No preview (a fetch started, or one failed): nothing stale can be mistaken for the new data."""
        self.df = None
        self.forget_notes()
        self._preview_key = None
        self._preview_html = ""
        self.preview.value = f"<i>{html.escape(text, quote=False)}</i>"
        self.preview.remove_class("lucidframes-stale")
        self._offer_columns(None)
        self._enable_actions()

    @property
    def stale(self) -> bool:
        """Whether the preview shows data of something other than the current selection."""
        return self.df is not None and self._preview_key != self._selection()

    def refresh(self) -> None:
        """Render the preview, greyed with a "stale" caption when it is not the selection's."""
        if self.df is None or not self._preview_html:
            self._enable_actions()
            return
        if self.stale:
            where = key_text(self._preview_key)
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

    def lock(self, locked: bool) -> None:
        """Lock Validate and Export (a fetch is running, or the Explorer is closed), or unlock them."""
        self.locked = locked
        self._enable_actions()

    def _enable_actions(self) -> None:
        """Validate and Export act only on a preview of the selected endpoint, and not during a fetch."""
        off = self.df is None or self.stale or self.locked
        self.validate_button.disabled = self.export_button.disabled = off

    # -- validating and exporting ------------------------------------------------------------------------------

    def _on_column_change(self, change: Mapping[str, Any]) -> None:
        """Guess the id kind from the column name (uuid columns hold 22-character shortuuids)."""
        column = change.get("new")
        if isinstance(column, str) and column:
            self.validate_kind.value = "uuid" if column.endswith("uuid") else "lucid_id"

    def _on_validate(self, _button: Any = None) -> None:
        """Check the chosen column with the LucidID validator and show its report."""
        note = self.validate_note
        try:
            if self.df is None:
                raise ConfigError("Nothing to validate yet: fetch a page first.")
            self._refuse_stale("validate")
            column = self.validate_column.value
            if column is None:
                raise ConfigError("Choose a column to validate.")
            report = validate_lucid_ids(self.df, columns=[column], kind=self.validate_kind.value).reword(for_widget)
            self.last_report = report
            self.report.value = report._repr_html_()
            if report.ok:
                self.say(f"{column}: all {report.n_rows:,} rows pass the {self.validate_kind.value} check.", "ok", note)
            else:
                self.say(
                    f"{column}: {report.n_failed_cells:,} failing cell(s) in {report.n_failed_rows:,} of "
                    f"{report.n_rows:,} rows (see the report below; explorer.last_report.failures has them all).",
                    "warn",
                    note,
                )
        except Exception as err:  # the validator's usage errors are expected
            self.fail(err, "validating", expected=(KeyError, TypeError, ValueError), where=note)

    def _refuse_stale(self, doing: str) -> None:
        """Raise when the preview is not the selection's (the buttons are disabled then; a click from code too)."""
        if self.stale:
            raise ConfigError(
                f"Not {doing}ing {key_text(self._preview_key)} while {key_text(self._selection())} is selected: "
                "fetch it first (or select what the preview shows)."
            )

    def _on_export_name(self, change: Mapping[str, Any] | None = None) -> None:
        """A new file name: no overwrite is pending any more."""
        self._confirm = None
        self.export_button.description = "Export"

    def _on_export(self, _button: Any = None) -> None:
        """Write the current data with ``lf.export`` (atomically); a file that exists needs a second click."""
        note = self.export_note
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
                self.say(f"{path} exists: press Overwrite to replace it, or change the file name.", "warn", note)
                return
            written = _export_atomically(self.df, path, fmt)
            self._confirm = None
            self.export_button.description = "Export"
            self.last_export = written.resolve()
            self.say(f"Wrote {len(self.df):,} rows to {self.last_export}", "ok", note)
        except Exception as err:
            self.fail(err, "exporting", where=note)

    def name_export(self) -> None:
        """Name the export after the selection, unless the user typed a name."""
        if self.export_name.value in ("", self._auto_export_name):
            key = self._selection()
            name = f"{key[1]}-lookup" if key[0] == "lookup" else "-".join([key[1], *(v for _, v in key[2])])
            self.export_name.value = self._auto_export_name = name


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
