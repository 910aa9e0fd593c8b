"""The run's progress: tqdm.auto (a widget in Jupyter, text on stderr in a terminal), total from ``count``.

The bar shows pages (or ids; its total once known), rows in the postfix, and the wait going on right now ("rate
limited · next request in 28 s", "503 · retry 2/5 in 2 s"), counting down: the bar is a wait hook, so the postfix
changes the moment a wait starts, and a ticker thread redraws it every ``TICK`` seconds while the run lasts (the
run's ``WaitBoard`` knows the seconds left). The rate and the time left come from the limiter's schedule when the
client limits the bucket (never from the burst before a wait), and are never faster than the run's average.
``progress=False`` or ``TQDM_DISABLE=1`` turn the bar off; the counts, the postfix and ``status`` are kept anyway,
for a background ``Job`` (which watches the run through ``watching``) and the Explorer. It names the endpoint only:
no URL, token or parameter value reaches it.

In Jupyter the bar is tqdm.notebook's widget, full width from the start (``dynamic_ncols``: tqdm would otherwise
squash a bar whose total is unknown to 20 px); until page 1 has told the count it is an indeterminate ("info")
bar, then it counts pages against the real total. Work that ends within ``BAR_DELAY`` seconds shows no bar at all
(tqdm's ``delay=``); a wait that starts earlier and makes the work long shows it at once.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from lucidframes._http.events import WaitBoard, WaitEvent, WaitStats, describe

__all__ = ["DrainProgress", "ProgressCallback", "Schedule", "Watch", "watching"]

# callback(done, total, rows, waited): pages (or ids) done, the total once known, rows so far, seconds waited.
# Called from the thread that runs the drain (and every TICK seconds from the ticker); a widget moves its bar.
ProgressCallback = Callable[[int, int | None, int, float], None]
# schedule(n): the seconds the limiter's schedule needs for n more requests (a plan of the rest of the run).
Schedule = Callable[[int], float]

BAR_DELAY = 1.0  # seconds of work before a bar appears (a one-id look-up draws none)
TICK = 0.5  # seconds between redraws while the run lasts: a countdown moves at least once a second


class Watch:
    """What a background job sees of the run it started: ``progress``, the run's latest DrainProgress."""

    def __init__(self) -> None:
        self.progress: DrainProgress | None = None


_WATCH: ContextVar[Watch | None] = ContextVar("lucidframes_watch", default=None)


@contextlib.contextmanager
def watching(watch: Watch) -> Iterator[Watch]:
    """Let the runs started in this thread (this context) report to ``watch``.

    Args:
        watch: what a Job reads.

    Returns:
        A context manager yielding ``watch``.
    """
    token = _WATCH.set(watch)
    try:
        yield watch
    finally:
        _WATCH.reset(token)


class _Bar(tqdm):  # type: ignore[type-arg]
    """tqdm (auto) whose rate is the limiter's schedule when one is known, never faster than the average."""

    planned: float | None = None

    @property
    def format_dict(self) -> dict[str, Any]:
        """tqdm's fields, with the rate (and so the time left) from the schedule."""
        fields = dict(super().format_dict)
        planned = self.planned
        if planned:
            elapsed, done = fields.get("elapsed") or 0.0, fields["n"] - (fields.get("initial") or 0)
            average = done / elapsed if elapsed > 0 and done > 0 else None
            fields["rate"] = planned if average is None else min(average, planned)
        return fields


class DrainProgress:
    """A context manager around one bar (tqdm) for one run: counts, the postfix, a countdown ticker."""

    def __init__(
        self,
        name: str,
        enabled: bool,
        *,
        total: int | None,
        stats: WaitStats,
        board: WaitBoard | None = None,
        unit: str = "page",
        callback: ProgressCallback | None = None,
        schedule: Schedule | None = None,
        partial: Callable[[], pd.DataFrame | None] | None = None,
    ) -> None:
        self.name, self.unit = name, unit
        self.stats = stats
        self.board = board if board is not None else WaitBoard(say=None)
        self.callback = callback
        self.schedule = schedule
        self.partial = partial  # the rows so far, as a frame (for a background job's .partial)
        self.rows = 0
        self.pages = 0
        self.postfix = "rows=0"
        self._lock = threading.RLock()
        kwargs: dict[str, Any] = {
            "desc": name,
            "unit": unit,
            "total": total,
            "leave": True,
            "delay": BAR_DELAY,
            "smoothing": 0,  # the average over the run, never the burst before a wait
            "dynamic_ncols": True,  # tqdm.notebook: width 100% (not 20 px while the total is unknown)
        }
        # tqdm reads TQDM_* variables once, at import; read ours per bar so a notebook can change its mind.
        if not enabled or os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes"):
            kwargs["disable"] = True
        self._started = time.monotonic()
        self.bar = _Bar(**kwargs)
        self._closed = threading.Event()
        self._ticker: threading.Thread | None = None
        watch = _WATCH.get()
        if watch is not None:
            watch.progress = self
        if not self.bar.disable or callback is not None or watch is not None:
            self._ticker = threading.Thread(target=self._tick_until_closed, name="lucidframes-ticker", daemon=True)
            self._ticker.start()

    @property
    def total(self) -> int | None:
        """The bar's total (pages or ids), once known."""
        total = self.bar.total
        return int(total) if total is not None else None

    @property
    def status(self) -> str:
        """One line: what, how far, then the postfix (``items: 60/150 ids, rows=60, wait=rate limited · ...``)."""
        with self._lock:
            if not self._closed.is_set():
                self._postfix()  # the countdown as of now, not as of the last tick
            total = self.total
            return f"{self.name}: {self.pages:,}/{'?' if total is None else f'{total:,}'} {self.unit}s, {self.postfix}"

    def rate(self) -> float | None:
        """The rate the bar shows (per second): the schedule's, or the run's average, None before any."""
        fields = self.bar.format_dict
        rate = fields.get("rate")
        if rate is None and fields.get("elapsed"):
            rate = (fields["n"] - (fields.get("initial") or 0)) / fields["elapsed"]
        return float(rate) if rate else None

    def __enter__(self) -> DrainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self.board.close()  # the run is over: nothing more is said, no wait is shown
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=2 * TICK)
        with self._lock:
            self._postfix()
        self.bar.close()

    def set_total(self, total: int, done: int | None = None, rows: int | None = None) -> None:
        """Set the number of pages (known after page 1) and, optionally, how many pages and rows are done already.

        A resumed drain starts with the pages of the earlier one: passing ``rows`` makes the postfix (and the
        callback) count them too, so the rows shown agree with the frame the drain returns.
        """
        with self._lock:
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
            self._plan()
            self._postfix()
            self._refresh()
            self._notify()

    def page_done(self, rows: int) -> None:
        """One more page (or id) fetched, with ``rows`` rows."""
        with self._lock:
            self.rows += rows
            self.pages += 1
            self.bar.update(1)
            self._postfix()
            self._notify()

    def refresh_waits(self) -> None:
        """Show the waits so far, counting down (the ticker calls it; so do the loops waiting for workers)."""
        with self._lock:
            self._postfix()
            self._refresh()
            self._notify()

    def restart(self) -> None:
        """Start over (a re-fetch after the data changed)."""
        with self._lock:
            self.rows = 0
            self.pages = 0
            self.bar.reset(total=None)
            widget = _widget(self.bar)
            if widget is not None:
                widget.max, widget.value, widget.bar_style = 1, 1, "info"  # indeterminate again until the count
            self._postfix()
            self._notify()

    def __call__(self, event: WaitEvent) -> None:
        """A wait starts (the hook interface): show it now, not after it ends."""
        with self._lock:
            self._postfix(event)
            self._refresh(event.seconds)
            self._notify()

    def _tick_until_closed(self) -> None:
        """The ticker: redraw every TICK seconds until the run ends (a Stop or Ctrl-C ends it too)."""
        while not self._closed.wait(TICK):
            with self._lock:
                if self._closed.is_set():
                    return
                self._plan()
            self.refresh_waits()

    def _plan(self) -> None:
        """The rate the limiter's schedule allows for what is left (drawn as the bar's rate and time left)."""
        total = self.total
        if self.schedule is None or total is None:
            return
        left = total - self.pages
        seconds = self.schedule(left) if left > 0 else 0.0
        self.bar.planned = left / seconds if left > 0 and seconds > 0 else None

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
        parts: dict[str, Any] = {"rows": self.rows}
        if self.stats.retries:
            parts["retries"] = self.stats.retries
        current = (event, event.seconds) if event is not None else self.board.current()
        if current is not None:
            parts["wait"] = describe(*current).replace(", ", " · ")
        elif self.stats.total_wait:
            parts["waited"] = f"{self.stats.total_wait:.1f}s"
        self.postfix = ", ".join(f"{key}={value}" for key, value in parts.items())
        self.bar.set_postfix_str(self.postfix, refresh=False)


def _widget(bar: Any) -> Any:
    """The IntProgress of a tqdm.notebook bar (its ``container`` holds label, bar, text), or None elsewhere."""
    container = getattr(bar, "container", None)
    children: tuple[Any, ...] = tuple(getattr(container, "children", ()))
    return children[1] if len(children) == 3 else None
