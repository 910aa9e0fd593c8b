"""The drain's progress bar: tqdm.auto (a widget in Jupyter, text on stderr in a terminal), total from ``count``.

The bar shows pages (its total once page 1 has told us the count), rows in the postfix, and the wait going on
right now ("rate limited · next in 28 s", "503 · retry 2/5 in 2 s"): the bar is a wait hook, so the postfix
changes the moment a wait starts. ``progress=False`` or ``TQDM_DISABLE=1`` turn it off. It names the endpoint
only: no URL, token or parameter value reaches it.

In Jupyter the bar is tqdm.notebook's widget, full width from the start (``dynamic_ncols``: tqdm would otherwise
squash a bar whose total is unknown to 20 px); until page 1 has told the count it is an indeterminate ("info")
bar, then it counts pages against the real total. Work that ends within ``BAR_DELAY`` seconds shows no bar at all
(tqdm's ``delay=``); a wait that starts earlier and makes the work long shows it at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from tqdm.auto import tqdm

from lucidframes._http.events import WaitEvent, WaitStats, describe

__all__ = ["DrainProgress", "ProgressCallback"]

# callback(done, total, rows, waited): pages (or ids) done, the total once known, rows so far, seconds waited.
# Called from the thread that runs the drain; a widget uses it to move its own bar.
ProgressCallback = Callable[[int, int | None, int, float], None]

BAR_DELAY = 1.0  # seconds of work before a bar appears (a one-id look-up draws none)


class DrainProgress:
    """A context manager around one tqdm bar for one drain."""

    def __init__(
        self,
        name: str,
        enabled: bool,
        *,
        total: int | None,
        stats: WaitStats,
        unit: str = "page",
        callback: ProgressCallback | None = None,
    ) -> None:
        self.stats = stats
        self.callback = callback
        self.rows = 0
        self.pages = 0
        kwargs: dict[str, Any] = {
            "desc": name,
            "unit": unit,
            "total": total,
            "leave": True,
            "delay": BAR_DELAY,
            "dynamic_ncols": True,  # tqdm.notebook: width 100% (not 20 px while the total is unknown)
        }
        # tqdm reads TQDM_* variables once, at import; read ours per bar so a notebook can change its mind.
        if not enabled or os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes"):
            kwargs["disable"] = True
        self._started = time.monotonic()
        self.bar = tqdm(**kwargs)

    @property
    def total(self) -> int | None:
        """The bar's total (pages), once known."""
        total = self.bar.total
        return int(total) if total is not None else None

    def __enter__(self) -> DrainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def set_total(self, total: int, done: int | None = None, rows: int | None = None) -> None:
        """Set the number of pages (known after page 1) and, optionally, how many pages and rows are done already.

        A resumed drain starts with the pages of the earlier one: passing ``rows`` makes the postfix (and the
        callback) count them too, so the rows shown agree with the frame the drain returns.
        """
        self.bar.total = total
        widget = _widget(self.bar)
        if widget is not None:  # tqdm.notebook sets the widget's max only when the bar is made or reset
            widget.max = max(total, 1)
            if widget.bar_style == "info":
                widget.bar_style = ""  # no longer indeterminate
        if done is not None:
            self.bar.n = done
            self.pages = done
        if rows is not None:
            self.rows = rows
            self._postfix()
        self._refresh()
        self._notify()

    def page_done(self, rows: int) -> None:
        """One more page fetched, with ``rows`` rows."""
        self.rows += rows
        self.pages += 1
        self.bar.update(1)
        self._postfix()
        self._notify()

    def refresh_waits(self) -> None:
        """Show the waits so far (called while workers are busy, so a long wait is visible as it happens)."""
        self._postfix()
        self._notify()

    def restart(self) -> None:
        """Start over (a re-fetch after the data changed)."""
        self.rows = 0
        self.pages = 0
        self.bar.reset(total=None)
        widget = _widget(self.bar)
        if widget is not None:
            widget.max, widget.value, widget.bar_style = 1, 1, "info"  # indeterminate again until the count
        self._notify()

    def __call__(self, event: WaitEvent) -> None:
        """A wait starts (the hook interface): show it now, not after it ends."""
        self._postfix(event)
        self._refresh(event.seconds)
        self._notify()

    def _refresh(self, ahead: float = 0.0) -> None:
        """Redraw, unless the bar is still within its delay (and ``ahead`` seconds of waiting do not end it)."""
        bar: Any = self.bar
        if bar.disable:
            return
        if time.monotonic() - self._started + ahead >= bar.delay or getattr(bar, "displayed", False):
            bar.refresh()

    def _notify(self) -> None:
        if self.callback is not None:
            self.callback(self.pages, self.total, self.rows, self.stats.total_wait)

    def _postfix(self, event: WaitEvent | None = None) -> None:
        postfix: dict[str, Any] = {"rows": self.rows}
        if self.stats.retries:
            postfix["retries"] = self.stats.retries
        current = event or self.stats.current()
        if current is not None:
            postfix["wait"] = describe(current).replace(", ", " · ")
        elif self.stats.total_wait:
            postfix["waited"] = f"{self.stats.total_wait:.1f}s"
        self.bar.set_postfix(postfix, refresh=False)


def _widget(bar: Any) -> Any:
    """The IntProgress of a tqdm.notebook bar (its ``container`` holds label, bar, text), or None elsewhere."""
    container = getattr(bar, "container", None)
    children: tuple[Any, ...] = tuple(getattr(container, "children", ()))
    return children[1] if len(children) == 3 else None
