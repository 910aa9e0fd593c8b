"""The notebook Explorer: pick an endpoint and a page, fetch (one page or all, with a progress bar and a Stop
button), or look ids up; preview, validate a LucidID column and export, without leaving Jupyter.

::

    import lucidframes as lf

    explorer = lf.explore(sandbox=True)   # or lf.explore() from the LUCID_* environment, or Explorer(client)
    explorer                              # as a cell's last value: shows the widget
    explorer.df                           # the current DataFrame, for the next cell

The widget is thin over the library: it calls ``Client.load`` (with ``stop=`` and ``on_progress=``),
``Client.lookup``, ``validate_lucid_ids`` and ``export``, and shows what they return or raise. A fetch runs in a
background thread that only sets widget values (never displays anything), so the notebook stays responsive; every
error is caught in the callback and shown in the status line in plain words.

What the preview shows can be trusted: it is captioned with the endpoint, parameters and pages it came from;
it is greyed and marked stale as soon as the selection differs from it, cleared when a fetch starts, and replaced
by the partial result (or nothing) when one fails. Validate and Export act only on a preview of the selected
endpoint (disabled otherwise). Export asks before overwriting (a second click confirms) and writes through a
temporary file renamed into place. ``explorer.sandbox`` is the running sandbox of ``lf.explore(sandbox=True)``
(``set_latency``, ``fault``, ...).
"""

from __future__ import annotations

import html
import logging
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from lucidframes.client import Client
from lucidframes.endpoints import ENDPOINTS, Endpoint, get_endpoint
from lucidframes.errors import APIError, ConfigError, DrainStopped
from lucidframes.io import formats
from lucidframes.loaders.state import DrainState
from lucidframes.lucidid import KINDS
from lucidframes.widgets.lookup import LookupPanel
from lucidframes.widgets.view import ExplorerView, Key, LookupMixin, describe

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.sandbox import Sandbox

__all__ = ["Explorer", "explore"]

log = logging.getLogger("lucidframes.widgets")

UNKNOWN_PAGES = 1_000_000  # the page picker's bound until the page count is known
PREVIEW_ROWS = 5
EXPORT_FORMATS = formats.explorer_options()  # (label, name), from the one table of formats
_COLORS = {"info": "#444", "busy": "#0b5cad", "ok": "#1a7f37", "warn": "#9a6700", "error": "#b42318"}
_WIDE = {"description_width": "initial"}
_STALE_STYLE = "opacity:0.35;filter:grayscale(1)"
MODES = ("Fetch", "Look up")


def listable_endpoints() -> list[Endpoint]:
    """The registered endpoints that have a list to load (what the Explorer can fetch)."""
    return [ep for ep in ENDPOINTS.values() if ep.list_path is not None]


class Explorer(LookupMixin, ExplorerView):
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
        self._running = False
        self._preview_key: Key | None = None
        self._preview_html = ""
        self._confirm: Path | None = None  # a file that exists, to be overwritten on the next Export click
        self._finalizer = weakref.finalize(self, _release, client if owns_client else None, sandbox)
        self._build()
        self._on_endpoint_change()
        where = f"the sandbox at {client.base_url}" if sandbox is not None else client.base_url
        self._say(f"Connected to {where}. Pick an endpoint, then Fetch page or Fetch all.")

    @property
    def sandbox(self) -> Sandbox | None:
        """The running sandbox of ``lf.explore(sandbox=True)`` (latency, faults, log), else None."""
        return self._sandbox

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
        self.export_format = widgets.Dropdown(options=EXPORT_FORMATS, description="Format", style=_WIDE)  # first: CSV
        self.export_button = widgets.Button(description="Export", icon="save")
        self._auto_export_name = ""
        self.mode = widgets.ToggleButtons(options=list(MODES), value=MODES[0], style={"button_width": "90px"})
        self.lookup = LookupPanel(self.client)
        self.lookup.button.on_click(self._on_lookup)
        self.lookup.endpoint.observe(self._on_endpoint_change, names="value")
        self.mode.observe(self._on_mode_change, names="value")

        self.endpoint.observe(self._on_endpoint_change, names="value")
        for param in self.params.values():
            param.observe(self._on_endpoint_change, names="value")
        self.validate_column.observe(self._on_column_change, names="value")
        self.fetch_page_button.on_click(self._on_fetch_page)
        self.fetch_all_button.on_click(self._on_fetch_all)
        self.stop_button.on_click(self._on_stop)
        self.validate_button.on_click(self._on_validate)
        self.export_button.on_click(self._on_export)
        self.export_name.observe(self._on_export_name, names="value")

        row = widgets.HBox
        self.fetch_box = widgets.VBox(
            [
                row([self.endpoint, *self.params.values(), self.endpoint_info]),
                row([self.page, self.fetch_page_button, self.fetch_all_button, self.stop_button, self.page_info]),
            ]
        )
        self.lookup.box.layout.display = "none"
        self.box = widgets.VBox(
            [
                row([widgets.HTML("<b>lucidframes Explorer</b>"), self.mode]),
                self.fetch_box,
                self.lookup.box,
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

    # -- endpoint and parameters ------------------------------------------------------------------------------

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
        self._name_export()
        self._mark_preview()

    def _on_mode_change(self, change: Mapping[str, Any] | None = None) -> None:
        """Show the controls of the chosen mode (Fetch or Look up)."""
        looking = self.mode.value == "Look up"
        self.fetch_box.layout.display = "none" if looking else None
        self.lookup.box.layout.display = None if looking else "none"
        self._name_export()
        self._mark_preview()

    def _name_export(self) -> None:
        """Name the export after the selection, unless the user typed a name."""
        if self.export_name.value in ("", self._auto_export_name):
            key = self._selection()
            name = f"{key[1]}-lookup" if key[0] == "lookup" else "-".join([key[1], *(v for _, v in key[2])])
            self.export_name.value = self._auto_export_name = name

    # -- fetching ---------------------------------------------------------------------------------------------

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
            self._clear_preview(f"Fetching {describe(ep.name, params)}...")
            name = describe(ep.name, params)
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
        self._running = busy
        controls = (self.fetch_page_button, self.fetch_all_button, self.endpoint, *self.params.values(), self.mode)
        for control in (*controls, self.lookup.endpoint, self.lookup.source, self.lookup.ids):
            control.disabled = busy or self._closed
        self.page.disabled = busy or self._closed or get_endpoint(self.endpoint.value).list_shape != "paginated"
        self.stop_button.disabled = not busy
        if busy or self._closed:
            self.lookup.button.disabled = True
        else:
            self.lookup.update()
        self._enable_actions()

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
        doing = f"fetching {describe(ep.name, params)}"
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
                self._clear_preview(f"No data: the fetch of {describe(ep.name, params)} failed (see above).")
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
            self._clear_preview(f"No data: the fetch of {describe(ep.name, params)} failed (see above).")
        finally:
            self._set_busy(False)

    def wait(self, timeout: float | None = None) -> bool:
        """Join the background fetch (for tests and notebooks); True when nothing is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    # -- validating and exporting -----------------------------------------------------------------------------

    # -- looking up -------------------------------------------------------------------------------------------

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
