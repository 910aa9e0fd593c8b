"""A run's timeline: when each page (or look-up) was fetched, by which worker, and the waits on the way (for
``run_summary``).

It is small on purpose (``df.attrs`` travels with the frame): per page ``[page, pass, worker, start, end, retries,
waited]`` and per wait ``[page, worker, kind, start, seconds]``, times in seconds from the run's start, rounded
to the millisecond; a look-up numbers its ids as they were given (``unit`` "id"), and keeps at most ``MAX_SPANS``
of each, evenly spread. A wait recorded by a test's sleep hook takes no time: its shading is clipped to its page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from lucidframes._http.events import WaitEvent
from lucidframes.loaders.fetch import PageFetcher
from lucidframes.loaders.state import Fetched

__all__ = ["MAX_SPANS", "PAGE_FIELDS", "WAIT_FIELDS", "TimedFetcher", "Timeline"]

PAGE_FIELDS = ("page", "pass", "worker", "start", "end", "retries", "waited")
WAIT_FIELDS = ("page", "worker", "kind", "start", "seconds")
MAX_SPANS = 2000  # a look-up of 5,000 ids keeps every other one: enough to draw, small enough to carry


class Timeline:
    """Records page spans and waits of one drain, from any worker thread (also a wait hook)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, unit: str = "page") -> None:
        self._clock = clock
        self.unit = unit
        self._local = threading.local()  # the item this worker thread is fetching (a look-up's waits name no page)
        self._t0 = clock()
        self._lock = threading.Lock()
        self._workers: dict[int, int] = {}  # thread ident -> worker number, in order of first appearance
        self.pages: list[list[Any]] = []
        self.waits: list[list[Any]] = []
        self.drain_pass = 1

    def now(self) -> float:
        """Seconds since the drain started."""
        return self._clock() - self._t0

    def _worker(self) -> int:
        ident = threading.get_ident()
        with self._lock:
            return self._workers.setdefault(ident, len(self._workers))

    def __call__(self, event: WaitEvent) -> None:
        """Record a wait as it starts (the hook interface)."""
        number = event.page or getattr(self._local, "item", None) or 1
        row = [number, self._worker(), event.kind, round(self.now(), 3), round(event.seconds, 3)]
        with self._lock:
            self.waits.append(row)

    def begin(self, number: int) -> None:
        """Say which item this worker thread fetches now (its waits are that item's)."""
        self._local.item = number

    def page(self, number: int, start: float) -> None:
        """Record a page fetched (successfully) from ``start`` until now, with the waits it had."""
        end, worker = self.now(), self._worker()
        with self._lock:
            mine = [w for w in self.waits if w[0] == number and w[1] == worker and start <= w[3] <= end]
            retries = sum(1 for w in mine if w[2] != "throttle")
            waited = round(sum(w[4] for w in mine), 3)
            self.pages.append([number, self.drain_pass, worker, round(start, 3), round(end, 3), retries, waited])

    def to_attrs(self) -> dict[str, Any]:
        """The timeline as plain lists and numbers (what ``df.attrs["lucidframes"]["timeline"]`` holds).

        Returns:
            ``{"fields": ..., "pages": [...], "wait_fields": ..., "waits": [...], "workers": n, "elapsed": s}``.
        """
        with self._lock:
            return {
                "fields": list(PAGE_FIELDS),
                "pages": _spread(self.pages),
                "wait_fields": list(WAIT_FIELDS),
                "waits": _spread(self.waits),
                "workers": len(self._workers),
                "elapsed": round(self.now(), 3),
                "unit": self.unit,
                "spans": len(self.pages),  # how many there were, before any were left out
            }


def _spread(rows: list[list[Any]]) -> list[list[Any]]:
    """Copies of ``rows``, at most MAX_SPANS of them, evenly spread over the run."""
    step = -(-len(rows) // MAX_SPANS) if rows else 1
    return [list(r) for r in rows[::step]]


class TimedFetcher(PageFetcher):
    """A PageFetcher that records each page it fetches on a Timeline."""

    def __init__(self, *args: Any, timeline: Timeline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeline = timeline
        self.hooks = (*self.hooks, timeline)

    def fetch(self, number: int) -> Fetched:
        """Fetch one page, timed."""
        start = self.timeline.now()
        fetched = super().fetch(number)
        self.timeline.page(number, start)
        return fetched
