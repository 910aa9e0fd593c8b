"""The notebook Explorer: pick an endpoint and a page, fetch (one page or all, with a progress bar and a Stop
button), preview, validate a LucidID column and export, without leaving Jupyter.

::

    import lucidframes as lf

    explorer = lf.explore(sandbox=True)   # or lf.explore() from the LUCID_* environment, or Explorer(client)
    explorer                              # as a cell's last value: shows the widget
    explorer.df                           # the current DataFrame, for the next cell

The widget is thin over the library: it calls ``Client.load`` (with ``stop=`` and ``on_progress=``),
``validate_lucid_ids`` and ``export``, and shows what they return or raise. A full drain runs in a background
thread that only sets widget values (never displays anything), so the notebook stays responsive; every error
is caught in the callback and shown in the status line in plain words.
"""

from __future__ import annotations

import html
import logging
import math
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from lucidframes.client import Client
from lucidframes.errors import APIError, ConfigError, DrainStopped, LucidError
from lucidframes.export import export
from lucidframes.loaders.endpoints import ENDPOINTS, Endpoint, get_endpoint
from lucidframes.loaders.pages import DrainState
from lucidframes.lucidid import KINDS, validate_lucid_ids

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.sandbox import Sandbox

__all__ = ["Explorer", "explore"]

log = logging.getLogger("lucidframes.widgets")

UNKNOWN_PAGES = 1_000_000  # the page picker's bound until the page count is known
PREVIEW_ROWS = 5
EXPORT_FORMATS = (("CSV", "csv"), ("Parquet", "parquet"))
_COLORS = {"info": "#444", "busy": "#0b5cad", "ok": "#1a7f37", "warn": "#9a6700", "error": "#b42318"}
_WIDE = {"description_width": "initial"}


def listable_endpoints() -> list[Endpoint]:
    """The registered endpoints that have a list to load (what the Explorer can fetch)."""
    return [ep for ep in ENDPOINTS.values() if ep.list_path is not None]


class Explorer:
    """A widget to fetch, preview, validate and export one endpoint at a time; ``explorer.df`` holds the data."""

    def __init__(self, client: Client, *, sandbox: Sandbox | None = None, owns_client: bool = False) -> None:
        self.client = client
        self.df: pd.DataFrame | None = None
        self.last_error: BaseException | None = None
        self.last_report: Any = None
        self.last_export: Path | None = None
        self.page_count: int | None = None
        self.page_size: int | None = None
        self._sandbox = sandbox
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._resume: DrainState | None = None
        self._resume_key: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self._closed = False
        self._finalizer = weakref.finalize(self, _release, client if owns_client else None, sandbox)
        self._build()
        self._on_endpoint_change()
        where = f"the sandbox at {client.base_url}" if sandbox is not None else client.base_url
        self._say(f"Connected to {where}. Pick an endpoint, then Fetch page or Fetch all.")

    # -- construction -----------------------------------------------------------------------------------------

    def _build(self) -> None:
        """Create the widgets (exposed as attributes) and wire their callbacks."""
        options = [(f"{ep.name} ({ep.product})", ep.name) for ep in listable_endpoints()]
        self.endpoint = widgets.Dropdown(options=options, value=options[0][1], description="Endpoint", style=_WIDE)
        self.endpoint_info = widgets.HTML()
        self.params: dict[str, widgets.Widget] = {}
        for ep in listable_endpoints():
            for name, allowed in ep.inputs.items():
                if name not in self.params:
                    self.params[name] = (
                        widgets.Dropdown(options=list(allowed), value=allowed[0], description=name, style=_WIDE)
                        if allowed
                        else widgets.Text(description=name, placeholder=name, style=_WIDE)
                    )
        self.asset_type = self.params.get("asset_type")
        self.page = widgets.BoundedIntText(
            value=1, min=1, max=UNKNOWN_PAGES, description="Page", style=_WIDE, layout=widgets.Layout(width="140px")
        )
        self.page_info = widgets.HTML()
        self.fetch_page_button = widgets.Button(description="Fetch page", icon="download", button_style="primary")
        self.fetch_all_button = widgets.Button(description="Fetch all", icon="cloud-download", button_style="info")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="warning", disabled=True)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress", style=_WIDE)
        self.progress_label = widgets.HTML()
        self.status = widgets.HTML()
        self.preview = widgets.HTML("<i>No data yet.</i>")
        self.validate_column = widgets.Dropdown(options=[], description="Column", style=_WIDE)
        self.validate_kind = widgets.Dropdown(options=list(KINDS), value="lucid_id", description="Kind", style=_WIDE)
        self.validate_button = widgets.Button(description="Validate", icon="check")
        self.report = widgets.HTML()
        self.export_name = widgets.Text(description="File", placeholder="file name", style=_WIDE)
        self.export_format = widgets.Dropdown(options=EXPORT_FORMATS, value="csv", description="Format", style=_WIDE)
        self.export_button = widgets.Button(description="Export", icon="save")
        self._auto_export_name = ""

        self.endpoint.observe(self._on_endpoint_change, names="value")
        for param in self.params.values():
            param.observe(self._on_endpoint_change, names="value")
        self.validate_column.observe(self._on_column_change, names="value")
        self.fetch_page_button.on_click(self._on_fetch_page)
        self.fetch_all_button.on_click(self._on_fetch_all)
        self.stop_button.on_click(self._on_stop)
        self.validate_button.on_click(self._on_validate)
        self.export_button.on_click(self._on_export)

        row = widgets.HBox
        self.box = widgets.VBox(
            [
                widgets.HTML("<b>lucidframes Explorer</b>"),
                row([self.endpoint, *self.params.values(), self.endpoint_info]),
                row([self.page, self.fetch_page_button, self.fetch_all_button, self.stop_button, self.page_info]),
                row([self.progress, self.progress_label]),
                self.status,
                self.preview,
                row([self.validate_column, self.validate_kind, self.validate_button]),
                self.report,
                row([self.export_name, self.export_format, self.export_button]),
            ],
            layout=widgets.Layout(border="1px solid #ddd", padding="6px"),
        )
        # CSS classes, for styling and for finding the parts in a browser test.
        self.box.add_class("lucidframes-explorer")
        for part in ("status", "preview", "report", "progress", "progress_label", "page_info"):
            getattr(self, part).add_class(f"lucidframes-{part.replace('_', '-')}")

    # -- display ----------------------------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """Display the widget box when the Explorer is a cell's last value."""
        bundle = self.box._repr_mimebundle_  # None once the widgets are closed
        return {**(bundle(**kwargs) if bundle is not None else {}), "text/plain": repr(self)}

    def __repr__(self) -> str:
        shape = "no data" if self.df is None else f"{len(self.df)} rows x {self.df.shape[1]} columns"
        return f"<Explorer {self.endpoint.value!r} on {self.client.base_url}: {shape}>"

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

    # -- endpoint and parameters ------------------------------------------------------------------------------

    def _selected(self) -> tuple[Endpoint, dict[str, str]]:
        """The chosen endpoint and the values of its parameters."""
        ep = get_endpoint(self.endpoint.value)
        return ep, {name: str(self.params[name].value) for name in ep.inputs}

    def _on_endpoint_change(self, change: Mapping[str, Any] | None = None) -> None:
        """Show the chosen endpoint's parameters; forget the page count and any stopped drain."""
        ep = get_endpoint(self.endpoint.value)
        for name, param in self.params.items():
            param.layout.display = None if name in ep.inputs else "none"
        self.endpoint_info.value = f"<small>{html.escape(ep.description)}</small>"
        self.page_count = self.page_size = None
        self._resume = self._resume_key = None
        self.page.max = UNKNOWN_PAGES
        self.page.value = 1
        paginated = ep.list_shape == "paginated"
        self.page.disabled = not paginated
        self.page_info.value = (
            "<small>page count and size: after the first fetch</small>" if paginated else "<small>one list</small>"
        )
        if self.export_name.value in ("", self._auto_export_name):
            name = "-".join([ep.name, *(str(self.params[p].value) for p in ep.inputs)])
            self.export_name.value = self._auto_export_name = name

    # -- fetching ---------------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a fetch is running in the background."""
        return self._thread is not None and self._thread.is_alive()

    def _on_fetch_page(self, _button: Any = None) -> None:
        """Fetch the chosen page in the background."""
        self._start("page")

    def _on_fetch_all(self, _button: Any = None) -> None:
        """Drain every page in the background (continuing a stopped drain of the same endpoint)."""
        self._start("all")

    def _on_stop(self, _button: Any = None) -> None:
        """Ask the running drain to stop; it hands back the pages it has."""
        if self.busy:
            self._stop.set()
            self._say("Stopping after the pages in flight...", "busy")

    def _start(self, mode: str) -> None:
        """Start a fetch ("page" or "all") in a background thread."""
        try:
            if self._closed:
                raise ConfigError("This Explorer is closed; open a new one with lf.explore().")
            if self.busy:
                self._say("Still fetching: wait for it, or press Stop.", "warn")
                return
            ep, params = self._selected()
            paginated = ep.list_shape == "paginated"
            page = int(self.page.value) if mode == "page" and paginated else None
            key = (ep.name, tuple(sorted(params.items())))
            resume = self._resume if mode == "all" and self._resume_key == key else None
            self._stop = threading.Event()
            self.progress.bar_style = ""
            self.progress.max, self.progress.value = 1, 0
            self.progress_label.value = ""
            self._set_busy(True)
            name = _describe(ep.name, params)
            what = f"page {page} of {name}" if page is not None else f"every page of {name}"
            self._say(f"Fetching {what}{' (continuing)' if resume is not None else ''}...", "busy")
            self._thread = threading.Thread(
                target=self._work,
                args=(mode, ep, params, page, resume, self._stop),
                name="lucidframes-explorer",
                daemon=True,
            )
            self._thread.start()
        except Exception as err:
            self._set_busy(False)
            self._fail(err, "starting the fetch")

    def _set_busy(self, busy: bool) -> None:
        """Enable or disable the controls for a running fetch."""
        for control in (self.fetch_page_button, self.fetch_all_button, self.endpoint, *self.params.values()):
            control.disabled = busy or self._closed
        self.page.disabled = busy or self._closed or get_endpoint(self.endpoint.value).list_shape != "paginated"
        self.stop_button.disabled = not busy

    def _on_progress(self, done: int, total: int | None, rows: int, waited: float) -> None:
        """The drain's progress callback (runs in the drain's thread): move the bar and its label."""
        self.progress.max = max(total or done + 1, 1)
        self.progress.value = min(done, self.progress.max)
        label = f"{done} / {total if total else '?'} pages · {rows:,} rows"
        self.progress_label.value = label + (f" · waited {waited:.1f} s" if waited else "")

    def _work(
        self,
        mode: str,
        ep: Endpoint,
        params: dict[str, str],
        page: int | None,
        resume: DrainState | None,
        stop: threading.Event,
    ) -> None:
        """The background thread: load, then show the result or the error (only widget values are set)."""
        doing = f"fetching {_describe(ep.name, params)}"
        try:
            kwargs: dict[str, Any] = {"progress": False, "stop": stop, "on_progress": self._on_progress, **params}
            if resume is not None:
                kwargs["resume"] = resume
            try:
                df = self.client.load(ep.name, page=page, **kwargs)
            except DrainStopped as err:
                self._stopped(err, ep, params)
                return
            except APIError as err:
                self.progress.bar_style = "danger"
                self._fail(err, doing)
                if err.partial is not None and mode == "all":
                    self._keep_partial(err, ep, params)
                    self.status.value += html.escape(
                        f" Kept the {len(err.partial):,} rows fetched so far in explorer.df (partial); "
                        "Fetch all continues from there.",
                        quote=False,
                    )
                return
            self._loaded(df, ep, params, mode, page)
        except Exception as err:  # a bad parameter, or a failure while showing the result: shown, never lost
            self.progress.bar_style = "danger"
            self._fail(err, doing)
        finally:
            self._set_busy(False)

    def _loaded(self, df: pd.DataFrame, ep: Endpoint, params: dict[str, str], mode: str, page: int | None) -> None:
        """Show a successful load: data, page count and size, a full bar and a status line."""
        self._resume = self._resume_key = None
        self.last_error = None
        self._learn_pages(df, ep, mode)
        self._show(df)
        info = df.attrs.get("lucidframes", {})
        self.progress.max = max(len(info.get("pages", [])), 1)
        self.progress.value = self.progress.max
        self.progress.bar_style = "success"
        what = _describe(ep.name, params) if page is None else f"page {page} of {_describe(ep.name, params)}"
        waited = info.get("total_wait", 0.0)
        extra = f", {info.get('retries', 0)} retries, waited {waited:.1f} s" if waited else ""
        self._say(f"Fetched {what}: {len(df):,} rows × {df.shape[1]} columns{extra}.", "ok")

    def _stopped(self, err: DrainStopped, ep: Endpoint, params: dict[str, str]) -> None:
        """Show a drain stopped by the Stop button: its partial result, and that Fetch all continues it."""
        self._keep_partial(err, ep, params)
        self.progress.bar_style = "warning"
        self.last_error = err
        rows = 0 if err.partial is None else len(err.partial)
        self._say(
            f"Stopped: explorer.df holds a partial result ({rows:,} rows so far). Fetch all continues from there.",
            "warn",
        )

    def _keep_partial(self, err: APIError, ep: Endpoint, params: dict[str, str]) -> None:
        """Show a stopped or failed drain's partial result and remember where to resume."""
        if err.partial is not None:
            self._show(err.partial, partial=True)
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

    def _show(self, df: pd.DataFrame, *, partial: bool = False) -> None:
        """Make ``df`` the current data: preview its first rows, offer its columns to the validator."""
        self.df = df
        note = " (partial)" if partial else ""
        table = df.head(PREVIEW_ROWS).to_html(border=0, max_cols=20, show_dimensions=False)
        self.preview.value = (
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

    def wait(self, timeout: float | None = None) -> bool:
        """Join the background fetch (for tests and notebooks); True when nothing is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    # -- validating and exporting -----------------------------------------------------------------------------

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

    def _on_export(self, _button: Any = None) -> None:
        """Write the current data with ``lf.export`` and show the path written."""
        try:
            if self.df is None:
                raise ConfigError("Nothing to export yet: fetch a page first.")
            fmt = self.export_format.value
            name = self.export_name.value.strip()
            if not name:
                raise ConfigError("Type a file name to export to.")
            path = Path(name).expanduser()
            if not path.suffix:
                path = path.with_name(f"{path.name}.{fmt}")
            written = export(self.df, path, format=fmt)
            self.last_export = written.resolve() if written is not None else None
            self._say(f"Wrote {len(self.df):,} rows to {self.last_export}", "ok")
        except Exception as err:
            self._fail(err, "exporting")

    # -- life cycle -------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop any fetch, then stop the sandbox and close the client this Explorer opened."""
        self._stop.set()
        self.wait(timeout=30)
        self._closed = True
        self._set_busy(False)
        self._finalizer()
        self._say("Closed.")

    def __enter__(self) -> Explorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _describe(name: str, params: Mapping[str, str]) -> str:
    """An endpoint with its path parameters, for status lines: ``assets (asset_type=images)``."""
    return name + (" (" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")" if params else "")


def _release(client: Client | None, sandbox: Sandbox | None) -> None:
    """Close what an Explorer owns (also run when it is garbage-collected or at exit)."""
    if client is not None:
        client.close()
    if sandbox is not None:
        sandbox.close()


def explore(client: Client | None = None, *, sandbox: bool = False) -> Explorer:
    """Open an Explorer on ``client``, on a client from the ``LUCID_*`` environment, or on a new local sandbox.

    Args:
        client: the Client to explore with.
        sandbox: start ``lucidframes.sandbox.serve()`` and explore it; it runs until ``explorer.close()``.

    Returns:
        The Explorer (display it as a cell's last value).
    """
    if sandbox:
        if client is not None:
            raise ConfigError("Pass a client or sandbox=True, not both.")
        from lucidframes.sandbox import serve

        sb = serve()
        try:
            return Explorer(
                Client(sb.url, sb.client_id, sb.client_secret, progress=False), sandbox=sb, owns_client=True
            )
        except BaseException:
            sb.close()
            raise
    if client is None:
        try:
            client = Client(progress=False)
        except ConfigError as err:
            raise ConfigError(f"{err} Or explore the local sandbox: lf.explore(sandbox=True).") from None
        return Explorer(client, owns_client=True)
    return Explorer(client)
