"""The notebook Explorer: pick an endpoint and a page, fetch (one page or all, with a progress bar and a Stop
button), or look ids up; preview, validate a LucidID column and export, without leaving Jupyter.

::

    import lucidframes as lf

    explorer = lf.explore(sandbox=True)   # or lf.explore() from the LUCID_* environment, or Explorer(client)
    explorer                              # as a cell's last value: shows the widget
    explorer.df                           # the current DataFrame, for the next cell

The widget is thin over the library: it calls ``Client.load`` and ``Client.lookup`` (with ``stop=``,
``on_progress=`` and ``on_wait=``), ``validate_lucid_ids`` and ``export``, and shows what they return or raise. The
work runs in a background thread that only sets widget values (never displays anything), so the notebook stays
responsive: the bar counts pages or ids, its label counts each wait down, one Stop (beside the bar) ends a fetch or
a look-up within a second keeping what arrived, and the mode switch stays usable. Every error is caught in the
callback and shown in plain words next to the control that caused it.

What the preview shows can be trusted: it is captioned with the endpoint, parameters and pages it came from;
it is greyed and marked stale as soon as the selection differs from it, cleared when a fetch starts, and replaced
by the partial result (or nothing) when one fails. Validate and Export act only on a preview of the selected
endpoint (disabled otherwise). Export asks before overwriting (a second click confirms) and writes through a
temporary file renamed into place. A report or message belongs to the data it was made from: a new frame or a mode
change removes it. ``lf.explore(sandbox=True)`` explores ``lf.shared_sandbox()`` (``explorer.sandbox``:
``set_latency``, ``fault``, ...), which runs until the interpreter exits.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from lucidframes.client import Client
from lucidframes.client.shared import shared_client, shared_sandbox
from lucidframes.errors import ConfigError
from lucidframes.widgets.captions import Key, describe, load_key
from lucidframes.widgets.fetch import FetchJob, FetchPanel
from lucidframes.widgets.lookup import LookupJob, LookupPanel
from lucidframes.widgets.view import ExplorerView

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.sandbox import Sandbox

__all__ = ["Explorer", "explore"]

MODES = ("Fetch", "Look up")


class Explorer:
    """A widget to fetch, preview, validate and export one endpoint at a time; ``explorer.df`` holds the data.

    It is made of three parts it owns: ``picker`` (the Fetch mode's controls), ``lookup`` (the Look up mode's) and
    ``view`` (status, progress, preview, Validate, Export); it runs the fetch or look-up in a background thread.
    """

    def __init__(self, client: Client, *, sandbox: Sandbox | None = None, owns_client: bool = False) -> None:
        self.client = client
        self._sandbox = sandbox
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False
        self._finalizer = weakref.finalize(self, _release, client if owns_client else None)
        self.picker = FetchPanel()
        self.lookup = LookupPanel(client)
        self.mode = widgets.ToggleButtons(options=list(MODES), value=MODES[0], style={"button_width": "90px"})
        self.view = ExplorerView(self._selection, self.lookup.offer_columns)
        # The parts' widgets keep their names on the Explorer: notebooks and tests reach them there.
        picker, view = self.picker, self.view
        self.endpoint, self.endpoint_info, self.params = picker.endpoint, picker.endpoint_info, picker.params
        self.asset_type, self.page, self.page_info = picker.asset_type, picker.page, picker.page_info
        self.fetch_page_button, self.fetch_all_button = picker.fetch_page_button, picker.fetch_all_button
        self.stop_button, self.fetch_box = view.stop_button, picker.box
        self.progress, self.progress_label, self.status, self.preview = (
            view.progress, view.progress_label, view.status, view.preview
        )  # fmt: skip
        self.validate_column, self.validate_kind, self.validate_button = (
            view.validate_column, view.validate_kind, view.validate_button
        )  # fmt: skip
        self.report, self.export_name, self.export_format = view.report, view.export_name, view.export_format
        self.export_button, self.validate_note, self.export_note = (
            view.export_button,
            view.validate_note,
            view.export_note,
        )
        self._wire()
        self.lookup.box.layout.display = "none"
        self.box = widgets.VBox(
            [
                widgets.HBox([widgets.HTML("<b>lucidframes Explorer</b>"), self.mode]),
                self.fetch_box,
                self.lookup.box,
                *view.rows(),
            ],
            layout=widgets.Layout(border="1px solid #ddd", padding="6px"),
        )
        self.box.add_class("lucidframes-explorer")  # for styling and for finding it in a browser test
        self._on_endpoint_change()
        where = f"the sandbox at {client.base_url}" if sandbox is not None else client.base_url
        self.view.say(f"Connected to {where}. Pick an endpoint, then Fetch page or Fetch all.")

    def _wire(self) -> None:
        """Connect the controls to what they do."""
        for picker in (*self.picker.pickers(), self.lookup.endpoint):
            picker.observe(self._on_endpoint_change, names="value")
        self.mode.observe(self._on_mode_change, names="value")
        self.fetch_page_button.on_click(self._on_fetch_page)
        self.fetch_all_button.on_click(self._on_fetch_all)
        self.stop_button.on_click(self._on_stop)
        self.lookup.button.on_click(self._on_lookup)

    # -- what the parts hold ----------------------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox | None:
        """The running sandbox of ``lf.explore(sandbox=True)`` (latency, faults, log), else None."""
        return self._sandbox

    @property
    def df(self) -> pd.DataFrame | None:
        """The current data (the preview's), for the next cell."""
        return self.view.df

    @df.setter
    def df(self, df: pd.DataFrame | None) -> None:
        self.view.df = df

    @property
    def last_error(self) -> BaseException | None:
        """The last error shown in the status line (None after a success)."""
        return self.view.last_error

    @property
    def last_report(self) -> Any:
        """The last ValidationReport of Validate."""
        return self.view.last_report

    @property
    def last_export(self) -> Path | None:
        """The file Export wrote last."""
        return self.view.last_export

    @property
    def page_count(self) -> int | None:
        """The selected list's page count, once a fetch told it."""
        return self.picker.page_count

    @property
    def page_size(self) -> int | None:
        """The selected list's page size, once a fetch told it."""
        return self.picker.page_size

    @property
    def stale(self) -> bool:
        """Whether the preview shows data of something other than the current selection."""
        return self.view.stale

    @property
    def busy(self) -> bool:
        """Whether a fetch is running in the background."""
        return self._thread is not None and self._thread.is_alive()

    # -- display ----------------------------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """Display the widget box when the Explorer is a cell's last value."""
        bundle = self.box._repr_mimebundle_  # None once the widgets are closed
        return {**(bundle(**kwargs) if bundle is not None else {}), "text/plain": repr(self)}

    def __repr__(self) -> str:
        shape = "no data" if self.df is None else f"{len(self.df)} rows x {self.df.shape[1]} columns"
        return f"<Explorer {self.endpoint.value!r} on {self.client.base_url}: {shape}>"

    def _show(self, df: pd.DataFrame, *, partial: bool = False, key: Key | None = None) -> None:
        """Make ``df`` the current data and preview it (every result passes here)."""
        self.view.show(df, partial=partial, key=key)

    def _on_progress(self, done: int, total: int | None, rows: int, waited: float) -> None:
        """The drain's progress callback (runs in the drain's thread): move the bar and its label."""
        self.view.on_progress(done, total, rows, waited)

    # -- the selection ----------------------------------------------------------------------------------------

    def _selection(self) -> Key:
        """What the controls select now: the key a preview must have to be current."""
        if self.mode.value == "Look up":
            return ("lookup", self.lookup.endpoint.value)
        return load_key(*self.picker.selected())

    def _on_endpoint_change(self, change: Mapping[str, Any] | None = None) -> None:
        """Show the chosen endpoint's parameters; forget the page count and any stopped drain."""
        self.picker.reset()
        self.view.name_export()
        self.view.refresh()

    def _on_mode_change(self, change: Mapping[str, Any] | None = None) -> None:
        """Show the controls of the chosen mode (Fetch or Look up); what was said about the other mode goes."""
        looking = self.mode.value == "Look up"
        self.fetch_box.layout.display = "none" if looking else None
        self.lookup.box.layout.display = None if looking else "none"
        self.view.forget_notes()
        if not self.busy:  # a running fetch or look-up keeps its line (and its Stop) in both modes
            hint = "Paste ids or choose a column, then Look up." if looking else "Pick an endpoint, then Fetch."
            self.view.say(hint)
        self.view.name_export()
        self.view.refresh()

    def _set_busy(self, busy: bool) -> None:
        """Enable or disable the controls for running work (the mode switch stays usable: Stop is in both)."""
        locked = busy or self._closed
        self.picker.lock(locked)
        self.mode.disabled = self._closed
        self.stop_button.disabled = not busy
        self.lookup.lock(locked)
        self.view.lock(locked)

    # -- fetching ---------------------------------------------------------------------------------------------

    def _on_fetch_page(self, _button: Any = None) -> None:
        """Fetch the chosen page in the background."""
        self._start("page")

    def _on_fetch_all(self, _button: Any = None) -> None:
        """Drain every page in the background (continuing a stopped drain of the same endpoint)."""
        self._start("all")

    def _on_stop(self, _button: Any = None) -> None:
        """Ask the running fetch or look-up to stop (within a second); it hands back what it has."""
        if self.busy:
            self._stop.set()
            self.view.say("Stopping: keeping what has arrived...", "busy")

    def _may_start(self) -> bool:
        """Whether new work may start (a running one is said; a closed Explorer raises ConfigError)."""
        if self._closed:
            raise ConfigError("This Explorer is closed; open a new one with lf.explore().")
        if self.busy:
            self.view.say("Still fetching: wait for it, or press Stop.", "warn")
            return False
        return True

    def _start(self, mode: str) -> None:
        """Start a fetch ("page" or "all") in a background thread."""
        try:
            if not self._may_start():
                return
            ep, params = self.picker.selected()
            page = self.picker.page_to_fetch(mode, ep)
            resume = self.picker.resume_for(ep, params) if mode == "all" else None
            name = describe(ep.name, params)
            what = f"page {page} of {name}" if page is not None else f"every page of {name}"
            self._begin(1, f"Fetching {name}...", f"Fetching {what}{' (continuing)' if resume is not None else ''}...")
            job = FetchJob(self.client, self.picker, self.view, self._show, mode, ep, params, page, resume, self._stop)
            self._run(job.run)
        except Exception as err:
            self._set_busy(False)
            self.view.fail(err, "starting the fetch")

    def _begin(self, total: int, cleared: str, said: str, unit: str = "page") -> None:
        """Set up for new work: a fresh Stop, an empty bar, the controls locked, no preview, a status line."""
        self._stop = threading.Event()
        self.view.start_bar(total, unit)
        self._set_busy(True)
        self.view.clear(cleared)
        self.view.say(said, "busy")

    def _run(self, work: Callable[[], None]) -> None:
        """Run ``work`` in the Explorer's background thread, unlocking the controls when it ends."""

        def body() -> None:
            try:
                work()
            finally:
                self._set_busy(False)

        self._thread = threading.Thread(target=body, name="lucidframes-explorer", daemon=True)
        self._thread.start()

    # -- looking up -------------------------------------------------------------------------------------------

    def _on_lookup(self, _button: Any = None) -> None:
        """Look the ids up in the background (nothing is sent when one fails the LucidID guard)."""
        try:
            if not self._may_start():
                return
            ep, ids = self.lookup.selected, self.lookup.wanted()
            problem = self.lookup.problems(ids)
            if problem is not None:
                raise ConfigError(problem)
            said = f"Looking up {len(ids):,} ids in {ep.name}..."
            self._begin(max(len(dict.fromkeys(ids)), 1), said, said, "id")
            self._run(LookupJob(self.client, self.lookup, self.view, self._show, ep, ids, self._stop).run)
        except Exception as err:
            self._set_busy(False)
            self.view.fail(err, "starting the look-up")

    # -- life cycle -------------------------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        """Join the background fetch (for tests and notebooks); True when nothing is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    def close(self) -> None:
        """Stop any work, then close the client this Explorer opened (the shared sandbox runs on until exit)."""
        self._stop.set()
        self.wait(timeout=30)
        self._closed = True
        self._set_busy(False)
        self._finalizer()
        self.view.say("Closed.")

    def __enter__(self) -> Explorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _release(client: Client | None) -> None:
    """Close the client an Explorer opened (also run when it is garbage-collected or at exit)."""
    if client is not None:
        client.close()


def explore(client: Client | None = None, *, sandbox: bool = False) -> Explorer:
    """Open an Explorer on ``client``, on a client from the ``LUCID_*`` environment, or on the shared local sandbox.

    Args:
        client: the Client to explore with.
        sandbox: explore ``lf.shared_sandbox()`` (started on first use, stopped at exit) with its shared client, so
            ``lf.shared_sandbox().set_latency(...)`` and faults act on the Explorer too.

    Returns:
        The Explorer (display it as a cell's last value).
    """
    if sandbox:
        if client is not None:
            raise ConfigError("Pass a client or sandbox=True, not both.")
        return Explorer(shared_client(), sandbox=shared_sandbox())
    if client is None:
        try:
            client = Client(progress=False)
        except ConfigError as err:
            raise ConfigError(f"{err} Or explore the local sandbox: lf.explore(sandbox=True).") from None
        return Explorer(client, owns_client=True)
    return Explorer(client)
