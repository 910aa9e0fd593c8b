"""The Explorer's Fetch mode: the endpoint, parameter and page pickers, the fetch buttons, and what is known of the
selected list's pages (their count and size, learnt from what was fetched or while it is fetched, and a stopped
drain to continue); and ``FetchJob``, one fetch (``Client.load``) run in the Explorer's background thread, which
shows its result, partial result or error on the view. The endpoint picker refuses a name it does not offer with
the registry's "Did you mean" (``ex.endpoint.value = "prodcuts"`` from code), not a traitlets traceback.
"""

from __future__ import annotations

import difflib
import html
import math
import threading
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd
from traitlets import validate

from lucidframes.client import Client
from lucidframes.endpoints import ENDPOINTS, Endpoint, get_endpoint
from lucidframes.errors import APIError, ConfigError, DrainStopped, UnknownEndpointError
from lucidframes.loaders.state import DrainState
from lucidframes.widgets.captions import describe, load_key
from lucidframes.widgets.view import ExplorerView, Show

__all__ = ["UNKNOWN_PAGES", "EndpointPicker", "FetchJob", "FetchPanel", "listable_endpoints"]

UNKNOWN_PAGES = 1_000_000  # the page picker's bound until the page count is known
_WIDE = {"description_width": "initial"}
# What a stopped drain was of: the endpoint and its sorted parameters.
ResumeKey = tuple[str, tuple[tuple[str, str], ...]]


def listable_endpoints() -> list[Endpoint]:
    """The registered endpoints that have a list to load (what the Explorer can fetch)."""
    return [ep for ep in ENDPOINTS.values() if ep.list_path is not None]


class EndpointPicker(widgets.Dropdown):  # type: ignore[misc]
    """A Dropdown of endpoint names that refuses one it does not offer in the library's words ("Did you mean")."""

    @validate("value")
    def _validate_value(self, proposal: Any) -> Any:
        value = proposal.value
        offered = [str(v) for v in self._options_values]
        if value is None or value in offered:
            return value
        if value in ENDPOINTS:  # a real endpoint, of the other mode
            raise ConfigError(f"{value!r} is not offered here: the choices are {', '.join(offered)}.")
        raise UnknownEndpointError(str(value), difflib.get_close_matches(str(value), offered, n=3, cutoff=0.5))


def _param_widget(name: str, allowed: tuple[str, ...]) -> widgets.Widget:
    """A dropdown for a parameter with fixed values, a text box for any other."""
    if allowed:
        return widgets.Dropdown(options=list(allowed), value=allowed[0], description=name, style=_WIDE)
    return widgets.Text(description=name, placeholder=name, style=_WIDE)


class FetchPanel:
    """The widgets of the Fetch mode, and the page count and size of the selected list once a fetch told them."""

    def __init__(self) -> None:
        options = [(f"{ep.name} ({ep.product})", ep.name) for ep in listable_endpoints()]
        self.endpoint = EndpointPicker(options=options, value=options[0][1], description="Endpoint", style=_WIDE)
        self.endpoint_info = widgets.HTML()
        self.params: dict[str, widgets.Widget] = {}
        for ep in listable_endpoints():
            for name, allowed in ep.inputs.items():
                if name not in self.params:
                    self.params[name] = _param_widget(name, allowed)
        self.asset_type = self.params.get("asset_type")
        self.page = widgets.BoundedIntText(
            value=1, min=1, max=UNKNOWN_PAGES, description="Page", style=_WIDE, layout=widgets.Layout(width="140px")
        )
        self.page_info = widgets.HTML()
        self.page_info.add_class("lucidframes-page-info")
        self.fetch_page_button = widgets.Button(description="Fetch page", icon="download", button_style="primary")
        self.fetch_all_button = widgets.Button(description="Fetch all", icon="cloud-download", button_style="info")
        row = widgets.HBox
        self.box = widgets.VBox(
            [
                row([self.endpoint, *self.params.values(), self.endpoint_info]),
                row([self.page, self.fetch_page_button, self.fetch_all_button, self.page_info]),
            ]
        )
        self.page_count: int | None = None
        self.page_size: int | None = None
        self._resume: DrainState | None = None
        self._resume_key: ResumeKey | None = None

    def pickers(self) -> list[widgets.Widget]:
        """The controls whose change changes the selection (the endpoint and its parameters)."""
        return [self.endpoint, *self.params.values()]

    def selected(self) -> tuple[Endpoint, dict[str, str]]:
        """The chosen endpoint and the values of its parameters."""
        ep = get_endpoint(self.endpoint.value)
        return ep, {name: str(self.params[name].value) for name in ep.inputs}

    def reset(self) -> None:
        """Show the chosen endpoint's parameters; forget the page count and any stopped drain."""
        ep = get_endpoint(self.endpoint.value)
        for name, param in self.params.items():
            param.layout.display = None if name in ep.inputs else "none"
        self.endpoint_info.value = f"<small>{html.escape(ep.description)}</small>"
        self.page_count = self.page_size = None
        self.forget_resume()
        self.page.max = UNKNOWN_PAGES
        self.page.value = 1
        paginated = ep.list_shape == "paginated"
        self.page.disabled = not paginated
        self.page_info.value = (
            "<small>page count and size: after the first fetch</small>" if paginated else "<small>one list</small>"
        )

    def lock(self, locked: bool) -> None:
        """Disable the pickers and fetch buttons while ``locked`` (work running, or the Explorer closed)."""
        for control in (self.fetch_page_button, self.fetch_all_button, *self.pickers()):
            control.disabled = locked
        self.page.disabled = locked or get_endpoint(self.endpoint.value).list_shape != "paginated"

    def page_to_fetch(self, mode: str, ep: Endpoint) -> int | None:
        """The page a "page" fetch asks for (None for "all", and for a list that is not paginated)."""
        return int(self.page.value) if mode == "page" and ep.list_shape == "paginated" else None

    def resume_for(self, ep: Endpoint, params: dict[str, str]) -> DrainState | None:
        """The stopped drain of this very selection, which Fetch all continues (None when there is none)."""
        return self._resume if self._resume_key == (ep.name, tuple(sorted(params.items()))) else None

    def remember(self, resume: Any, ep: Endpoint, params: dict[str, str]) -> None:
        """Keep a stopped or failed drain's state, for Fetch all of the same selection to continue from."""
        self._resume = resume
        self._resume_key = (ep.name, tuple(sorted(params.items())))

    def forget_resume(self) -> None:
        """Forget the stopped drain (the selection changed, or a fetch completed)."""
        self._resume = self._resume_key = None

    def note_pages(self, total: int | None, count: int | None = None) -> None:
        """Show the page count as soon as it is known (while a drain runs, or from a stopped one)."""
        if total is None or total < 1:
            return
        self.page_count = total
        self.page.max = total
        self.page_info.value = f"<small>{html.escape(self._pages_said(count))}</small>"

    def learn_pages(self, df: pd.DataFrame, ep: Endpoint, mode: str) -> None:
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
        self.page_info.value = f"<small>{html.escape(self._pages_said(count))}</small>"

    def _pages_said(self, count: int | None) -> str:
        """``1,203 rows · 13 pages · 100 per page``, as much of it as is known."""
        parts = [] if count is None else [f"{count:,} rows"]
        if self.page_count is not None:
            parts.append(f"{self.page_count:,} page{'s' if self.page_count != 1 else ''}")
        if self.page_size is not None:
            parts.append(f"{self.page_size:,} per page")
        return " · ".join(parts)


@dataclass(frozen=True)
class FetchJob:
    """One fetch ("page" or "all") in the background thread; it only sets widget values, and never raises."""

    client: Client
    panel: FetchPanel
    view: ExplorerView
    show: Show  # the Explorer's, through which every result passes
    mode: str
    ep: Endpoint
    params: dict[str, str]
    page: int | None
    resume: DrainState | None
    stop: threading.Event

    def run(self) -> None:
        """Load, then show the result, the partial result or the error."""
        doing = f"fetching {describe(self.ep.name, self.params)}"
        try:
            kwargs: dict[str, Any] = {"progress": False, "stop": self.stop, "on_progress": self._progress}
            kwargs.update(self.params, on_wait=self.view.board)
            if self.resume is not None:
                kwargs["resume"] = self.resume
            try:
                df = self.client.load(self.ep.name, page=self.page, **kwargs)
            except DrainStopped as err:
                state = err.resume if isinstance(err.resume, DrainState) else None
                self.panel.note_pages(state.total_pages() if state else None, state.counts.get(1) if state else None)
                self._keep_partial(err, self.view.stopped(err, self.panel.page_count))
                return
            except APIError as err:
                self._failed(err, doing)
                if err.partial is not None and self.mode == "all":
                    self._keep_partial(err)
                    self.view.say_more(
                        f" Kept the {len(err.partial):,} rows fetched so far in explorer.df (partial); "
                        "Fetch all continues from there."
                    )
                return
            self._loaded(df)
        except Exception as err:  # a bad parameter, or a failure while showing the result: shown, never lost
            self._failed(err, doing)

    def _progress(self, done: int, total: int | None, rows: int, waited: float) -> None:
        """Move the bar; a drain of every page shows its page count as soon as page 1 has told it."""
        self.view.on_progress(done, total, rows, waited)
        if self.mode == "all" and total and total != self.panel.page_count:
            self.panel.note_pages(total)

    def _failed(self, err: BaseException, doing: str) -> None:
        """Show a failed fetch: a red bar, the error, and no preview."""
        self.view.mark_bar("danger")
        self.view.fail(err, doing)
        self.view.clear(f"No data: the fetch of {describe(self.ep.name, self.params)} failed (see above).")

    def _loaded(self, df: pd.DataFrame) -> None:
        """Show a successful load: data, page count and size, a full bar and a status line."""
        self.panel.forget_resume()
        self.view.last_error = None
        self.panel.learn_pages(df, self.ep, self.mode)
        self.show(df, key=load_key(self.ep, self.params))
        name = describe(self.ep.name, self.params)
        self.view.loaded(df, name if self.page is None else f"page {self.page} of {name}")

    def _keep_partial(self, err: APIError, partial: bool = True) -> None:
        """Show a stopped or failed drain's result (partial unless every page came) and remember where to resume."""
        if err.partial is not None:
            self.show(err.partial, partial=partial, key=load_key(self.ep, self.params))
        if err.resume is not None:
            self.panel.remember(err.resume, self.ep, self.params)
