"""The Explorer's Look up mode: ids pasted or taken from a column of the current frame, checked by the LucidID
guard and planned against the rate limit before anything is sent; the look-up itself is ``Client.lookup``, run by
``LookupJob`` in the Explorer's background thread: the bar counts ids, the label counts each wait down, and Stop
(the view's) ends it within a second, keeping the ids answered; Look up again with the same ids continues it.

The plan is the simple one: how many requests, and what the client-side rate limit of the endpoint's product
(``client.transport.limiters``) makes of them (within the limit, or about how long the waits will take).
"""

from __future__ import annotations

import html
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd

from lucidframes.client import Client
from lucidframes.endpoints import ENDPOINTS, Endpoint, get_endpoint
from lucidframes.errors import DrainStopped
from lucidframes.loaders.lookup_state import LookupState
from lucidframes.lucidid import validate_lucid_ids
from lucidframes.widgets.fetch import EndpointPicker
from lucidframes.widgets.view import ExplorerView, Show

__all__ = ["PASTED", "LookupJob", "LookupPanel", "lookup_endpoints", "parse_ids", "plan_text"]

PASTED = "(pasted ids)"
_SPLIT = re.compile(r"[\s,;]+")
_WIDE = {"description_width": "initial"}


def lookup_endpoints() -> list[Endpoint]:
    """The registered endpoints with a single-resource look-up (items by LucidID first)."""
    found = [ep for ep in ENDPOINTS.values() if ep.detail_path is not None]
    return sorted(found, key=lambda ep: (ep.name != "items", ep.name))


def parse_ids(text: str) -> list[str]:
    """Ids from pasted text: one per line, or separated by commas, semicolons or spaces.

    Args:
        text: the pasted text.

    Returns:
        The ids, in order, without empty entries.
    """
    return [part for part in _SPLIT.split(text.strip()) if part]


def plan_text(client: Client, ep: Endpoint, n: int) -> str:
    """What a look-up of ``n`` ids costs under the client's rate limit for the endpoint's product.

    Args:
        client: the client (its ``transport.limiters``).
        ep: the endpoint.
        n: how many distinct ids.

    Returns:
        One line, e.g. ``120 requests at 60 per 60 s: about 60 s of rate-limit waits``.
    """
    limiter = client.transport.limiters.get(ep.product)
    requests = f"{n:,} request{'s' if n != 1 else ''}"
    if limiter is None:
        return f"{requests}; no client-side rate limit for {ep.product}."
    limit, window = int(limiter.limit), float(limiter.window)
    if n <= limit:
        return f"{requests}: within the rate limit ({limit} per {window:g} s)."
    waits = (math.ceil(n / limit) - 1) * window
    return f"{requests} at {limit} per {window:g} s: about {waits:,.0f} s of rate-limit waits."


class LookupPanel:
    """The widgets of the Look up mode; the Explorer runs the look-up and shows the result."""

    def __init__(self, client: Client) -> None:
        self.client = client
        options = [(f"{ep.name} (by {ep.id_kind.replace('_', ' ')})", ep.name) for ep in lookup_endpoints()]
        self.endpoint = EndpointPicker(options=options, value=options[0][1], description="Look up", style=_WIDE)
        self.source = widgets.Dropdown(options=[PASTED], value=PASTED, description="Ids from", style=_WIDE)
        self.ids = widgets.Textarea(
            placeholder="paste ids: one per line, or separated by commas", layout=widgets.Layout(width="60%")
        )
        self.button = widgets.Button(description="Look up", icon="search", button_style="primary")
        self.plan = widgets.HTML()
        self.plan.add_class("lucidframes-plan")
        for control in (self.endpoint, self.source, self.ids):
            control.observe(self.update, names="value")
        self.box = widgets.VBox(
            [widgets.HBox([self.endpoint, self.source, self.button]), self.ids, self.plan],
        )
        self.box.add_class("lucidframes-lookup")
        self.frame: pd.DataFrame | None = None
        self.locked = False  # work running, or the Explorer closed: the button stays off whatever the ids say
        self._resume: tuple[tuple[str, tuple[str, ...]], LookupState] | None = None  # a stopped look-up
        self._preferred = PASTED  # the source the user chose last (kept while a fetch replaces the frame)
        self._offering = False
        self.source.observe(self._on_source, names="value")
        self.update()

    def _on_source(self, change: Any) -> None:
        if not self._offering:
            self._preferred = change["new"]

    @property
    def selected(self) -> Endpoint:
        """The endpoint to look up in."""
        return get_endpoint(self.endpoint.value)

    def offer_columns(self, df: pd.DataFrame | None) -> None:
        """Offer the columns of the current frame as id sources (besides pasted ids)."""
        self.frame = df
        columns = [str(c) for c in df.columns] if df is not None else []
        self._offering = True  # the value changes below are ours, not the user's choice
        try:
            self.source.options = [PASTED, *columns]
            self.source.value = self._preferred if self._preferred in self.source.options else PASTED
        finally:
            self._offering = False
        self.update()

    def lock(self, locked: bool) -> None:
        """Disable the controls while ``locked`` (a fetch running, or the Explorer closed); unlocked, show the plan."""
        self.locked = locked
        for control in (self.endpoint, self.source, self.ids):
            control.disabled = locked
        if locked:
            self.button.disabled = True
        else:
            self.update()

    def remember(self, ep: Endpoint, ids: list[str], resume: Any) -> None:
        """Keep a stopped look-up's state: Look up with the same ids continues it (asks only the ids not answered)."""
        self._resume = ((ep.name, tuple(ids)), resume) if isinstance(resume, LookupState) else None

    def resume_for(self, ep: Endpoint, ids: list[str]) -> LookupState | None:
        """The stopped look-up of exactly these ids in ``ep``, or None."""
        kept = self._resume
        return kept[1] if kept is not None and kept[0] == (ep.name, tuple(ids)) else None

    def wanted(self) -> list[str]:
        """The ids to look up: pasted, or the non-missing values of the chosen column."""
        if self.source.value == PASTED or self.frame is None or self.source.value not in self.frame.columns:
            return parse_ids(self.ids.value)
        column = self.frame[self.source.value].dropna()
        return [str(v) for v in column.tolist() if str(v).strip()]

    def problems(self, ids: list[str]) -> str | None:
        """Why nothing may be sent (no ids, or ids failing the LucidID guard), or None."""
        if not ids:
            return "Paste ids, or choose a column of the current frame."
        ep = self.selected
        if ep.id_kind != "lucid_id":
            return None
        report = validate_lucid_ids(ids, kind="lucid_id", unique=False)
        if report.ok:
            return None
        bad = report.failures["value"].astype(str).head(5).tolist() if "value" in report.failures else []
        shown = ", ".join(repr(b) for b in bad)
        return (
            f"{len(report.failures)} of {len(ids)} ids fail the LucidID check ({shown}): nothing will be sent; "
            "fix them first."
        )

    def update(self, _change: Any = None) -> None:
        """Show the plan (or why nothing would be sent) for the ids as they are now."""
        ids = self.wanted()
        problem = self.problems(ids)
        if problem is not None:
            self.plan.value = f"<span style='color:#9a6700'>{html.escape(problem)}</span>"
            self.button.disabled = True
            return
        unique = len(dict.fromkeys(ids))
        self.plan.value = f"<small>Plan: {html.escape(plan_text(self.client, self.selected, unique))}</small>"
        self.button.disabled = self.locked


@dataclass(frozen=True)
class LookupJob:
    """One look-up in the background thread; it only sets widget values, and never raises."""

    client: Client
    panel: LookupPanel
    view: ExplorerView
    show: Show  # the Explorer's, through which every result passes
    ep: Endpoint
    ids: list[str]
    stop: threading.Event

    def run(self) -> None:
        """``Client.lookup``, then the result, what a Stop kept, or the error."""
        ids, ep = self.ids, self.ep
        resume = self.panel.resume_for(ep, ids)
        try:
            try:
                df = self.client.lookup(
                    ep.name, ids, progress=False, stop=self.stop, on_progress=self.view.on_progress,
                    on_wait=self.view.board, resume=resume,
                )  # fmt: skip
            except DrainStopped as err:
                self._stopped(err)
                return
            self.panel.remember(ep, ids, None)
            self.show(df, key=("lookup", ep.name))
            statuses = df.attrs.get("lucidframes", {}).get("statuses", {})
            counts = ", ".join(f"{v:,} {k}" for k, v in sorted(statuses.items()))
            self.view.end_bar(max(len(ids), 1), f"{len(ids):,} ids · {counts}")
            self.view.last_error = None
            self.view.say(f"Looked up {len(ids):,} ids in {ep.name}: {counts}.", "ok")
        except Exception as err:
            self.view.mark_bar("danger")
            self.view.fail(err, f"looking up {ep.name}")

    def _stopped(self, err: DrainStopped) -> None:
        """Show the ids answered before the Stop (the others ``pending``) and keep the state to continue from."""
        partial = err.partial if err.partial is not None else pd.DataFrame(columns=["_id", "_status"])
        per_id = partial.drop_duplicates("_id")  # an id given twice is asked (and counted) once
        pending = int((per_id["_status"] == "pending").sum())
        self.view.last_error = err
        self.panel.remember(self.ep, self.ids, err.resume)
        self.show(partial, partial=pending > 0, key=("lookup", self.ep.name))
        answered = len(per_id) - pending
        self.view.end_bar(max(len(per_id), 1), f"stopped at {answered:,} / {len(per_id):,} ids", "warning")
        self.view.progress.value = min(answered, self.view.progress.max)
        self.view.say(
            f"Stopped: explorer.df holds the {answered:,} ids answered so far ({pending:,} pending). "
            "Look up again to continue with the rest.",
            "warn",
        )
