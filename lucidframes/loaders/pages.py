"""Pages, one at a time: the iterator underneath ``load`` (``client.iter_pages``), and what a drain has fetched.

A drain fetches page 1, learns ``count`` and the page size, fetches pages 2..N concurrently (within the rate
limit, at most ``workers`` at a time), then follows ``next`` for whatever the count did not announce. Pages are
yielded in page order. A pass that looks consistent (no count change, no duplicate key, rows = count) is checked
once more by re-reading page 1: rows deleted before the page being read and as many inserted after it leave the
count alone and double nothing, but they move page 1. A pass that is not consistent is handled per ``on_drift``;
a re-fetch starts a new pass (``Page.drain_pass`` goes up: a consumer drops what it had of the earlier pass).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from lucidframes._http.classify import BadBody
from lucidframes._http.events import WaitHook, WaitStats
from lucidframes._http.transport import Cancelled, Transport
from lucidframes._http.urls import page_from_link
from lucidframes.errors import APIError, NotFoundError
from lucidframes.loaders.endpoints import Endpoint

__all__ = ["DRIFT_POLICIES", "DrainState", "Fetched", "Page", "PageFetcher", "check_page", "shape"]

DRIFT_POLICIES = ("refetch", "warn", "raise")


@dataclass(frozen=True)
class Page:
    """One page of a drain: its number, the count the server announced, the raw records, the drain pass."""

    endpoint: str
    number: int
    count: int | None
    rows: list[dict[str, Any]]
    drain_pass: int = 1
    next_page: int | None = None

    def __repr__(self) -> str:
        return f"Page({self.endpoint!r}, number={self.number}, rows={len(self.rows)}, count={self.count})"


# (rows, count, next page number) of one fetched page.
Fetched = tuple[list[dict[str, Any]], int | None, int | None]


@dataclass
class DrainState:
    """Where a drain stands: the pages fetched so far. Pass it back as ``resume=`` to continue.

    ``pages`` holds the rows of the pages the drain keeps; ``keys`` holds only the keys, in row order, of the pages
    whose rows a streaming consumer took (``keep_rows=False``): all the duplicate and drift checks need. A fetched
    page is in one of the two, never both.
    """

    endpoint: str
    params: dict[str, str]
    pages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[int, int | None] = field(default_factory=dict)
    nexts: dict[int, int | None] = field(default_factory=dict)  # the page each page's `next` names
    vanished: set[int] = field(default_factory=set)  # pages that answered "Invalid page." mid-drain (data shrank)
    keys: dict[int, list[Any]] = field(default_factory=dict)  # pages handed over: their keys alone
    # repeats() of the pages as they are (the drift check and the account both ask; add() forgets it)
    _repeats: tuple[str, tuple[int, int]] | None = field(default=None, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"DrainState(endpoint={self.endpoint!r}, params={self.params!r}, pages_fetched={self.numbers()})"

    def add(self, number: int, fetched: Fetched) -> None:
        """Record one fetched page."""
        rows, count, next_page = fetched
        self._repeats = None
        self.keys.pop(number, None)
        self.pages[number] = rows
        self.counts[number] = count
        self.nexts[number] = next_page

    def release(self, number: int, key: str) -> None:
        """Forget a page's rows (the consumer has them) and keep their keys, for the checks."""
        self.keys[number] = [r.get(key) for r in self.pages.pop(number)]

    def numbers(self) -> list[int]:
        """The fetched page numbers, in order (rows held or keys only)."""
        return sorted({*self.pages, *self.keys})

    def has(self, number: int) -> bool:
        """Whether a page was fetched."""
        return number in self.pages or number in self.keys

    def size_of(self, number: int) -> int:
        """The rows a fetched page had."""
        return len(self.keys[number]) if number in self.keys else len(self.pages[number])

    @property
    def rows(self) -> int:
        """The rows of every fetched page."""
        return sum(len(p) for p in self.pages.values()) + sum(len(k) for k in self.keys.values())

    def page_keys(self, number: int, key: str | None) -> list[Any]:
        """A fetched page's keys in row order (its rows themselves when the endpoint has no key)."""
        if number in self.keys:
            return self.keys[number]
        rows = self.pages[number]
        return [r.get(key) for r in rows] if key is not None else list(rows)

    def all_keys(self, key: str) -> Iterator[Any]:
        """Every fetched row's key, in page order."""
        for number in self.numbers():
            yield from self.page_keys(number, key)

    def repeats(self, key: str) -> tuple[int, int]:
        """(rows without a key, rows whose key an earlier row had), counted on a sorted list of the keys.

        Sorted rather than put in a set: the list's pointers are a quarter of a set's table, and this runs at the
        end of a drain, when the peak is.
        """
        if self._repeats is None or self._repeats[0] != key:
            present = [k for k in self.all_keys(key) if k is not None]
            missing = self.rows - len(present)
            try:
                present.sort()
                repeated = sum(1 for a, b in itertools.pairwise(present) if a == b)
            except TypeError:  # keys of several types (never seen from the API): a set does without an order
                repeated = len(present) - len(set(present))
            self._repeats = (key, (missing, repeated))
        return self._repeats[1]

    @property
    def page_size(self) -> int | None:
        """The server's page size: the rows of any fetched page that has a ``next`` (None if unknown)."""
        return next((self.size_of(n) for n in self.numbers() if self.nexts.get(n)), None)

    @property
    def count(self) -> int | None:
        """The count the last fetched page announced."""
        counts = [c for n in self.numbers() if (c := self.counts.get(n)) is not None]
        return counts[-1] if counts else None

    def records(self) -> list[dict[str, Any]]:
        """Every record the state holds, in page order (not those of pages handed over: only their keys are kept)."""
        return [r for n in sorted(self.pages) for r in self.pages[n]]


def shape(value: Any) -> str:
    """A short description of a JSON value, for error messages (never the whole body)."""
    if isinstance(value, dict):
        return f"an object with keys {sorted(map(str, value))[:6]}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return f"{type(value).__name__} {str(value)[:40]!r}"


def check_page(payload: Any) -> None:
    """Raise BadBody unless ``payload`` is a page ``{count, next, previous, results}`` of objects."""
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise BadBody(f"not a page {{count, next, previous, results}} but {shape(payload)}")
    bad = next((i for i, r in enumerate(payload["results"]) if not isinstance(r, dict)), None)
    if bad is not None:
        raise BadBody(f"result {bad} is {shape(payload['results'][bad])}, not an object")
    count = payload.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise BadBody(f"count should be a whole number, got {shape(count)}")
    if payload.get("next") is not None and not isinstance(payload["next"], str):
        raise BadBody(f"next should be a URL or null, got {shape(payload['next'])}")


class PageFetcher:
    """Fetches pages of one list through the transport, concurrently, and never sends a URL from a response."""

    def __init__(
        self,
        transport: Transport,
        ep: Endpoint,
        path: str,
        query: dict[str, str],
        *,
        workers: int,
        stop: threading.Event | None,
        hooks: tuple[WaitHook, ...],
        stats: WaitStats,
    ) -> None:
        self.transport = transport
        self.ep = ep
        self.path = path  # below the product's prefix
        self.list_path = transport.path(path, ep.product)  # absolute, what a `next` link must name
        self.query = query
        self.workers = workers
        self.stop = stop
        # Set on a failure, a Stop or Ctrl-C: every worker's wait ends at once and no new page starts.
        self.cancel = threading.Event()
        self.hooks: tuple[WaitHook, ...] = (stats, *hooks)
        self.stats = stats

    def stopped(self) -> bool:
        """Whether a Stop was asked for (the caller's event)."""
        return self.stop is not None and self.stop.is_set()

    def fetch(self, number: int) -> Fetched:
        """GET one page, check its envelope (retried like a 5xx when wrong) and its ``next`` link."""
        params = dict(self.query)
        if number != 1:
            params["page"] = str(number)
        reply = self.transport.send(
            "GET",
            self.path,
            product=self.ep.product,
            bucket=self.ep.bucket,
            params=params,
            check=check_page,
            hooks=self.hooks,
            cancel=self.cancel,
            endpoint=self.ep.name,
            page=number,
        )
        payload = reply.payload
        link = payload.get("next")
        next_page = page_from_link(link, self.transport.base, self.list_path) if link is not None else None
        return payload["results"], payload.get("count"), next_page

    def many(self, numbers: list[int], tick: Any = None) -> Iterator[tuple[int, Fetched | BaseException]]:
        """Fetch pages at most ``workers`` at a time; yield (number, page or error) as they complete.

        After an error or a Stop no new page starts and the waits of those in flight end at once; pages that
        still arrive are yielded (nothing fetched is lost). Ctrl-C cancels the rest without waiting for them.
        """
        if not numbers:
            return
        self.cancel.clear()
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(numbers)), thread_name_prefix="lucidframes")
        todo = iter(numbers)
        futures: dict[Future[Fetched], int] = {}
        interrupted = False
        try:
            self._submit(pool, todo, futures)
            while futures:
                done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
                if self.stopped():
                    self.cancel.set()
                if tick is not None:
                    tick()
                for fut in done:
                    number = futures.pop(fut)
                    error = fut.exception()
                    if isinstance(error, Cancelled):
                        continue
                    if error is not None and not _vanished(error, number):
                        self.cancel.set()
                    yield number, error if error is not None else fut.result()
                if not self.cancel.is_set():
                    self._submit(pool, todo, futures)
        except BaseException:  # Ctrl-C, or the consumer closed the generator
            interrupted = True
            self.cancel.set()
            raise
        finally:
            pool.shutdown(wait=not interrupted, cancel_futures=True)

    def _submit(self, pool: ThreadPoolExecutor, todo: Iterator[int], futures: dict[Future[Fetched], int]) -> None:
        """Start pages until ``workers`` are in flight (so a Stop or a failure wastes little)."""
        for number in todo:
            futures[pool.submit(self.fetch, number)] = number
            if len(futures) >= self.workers:
                break


def _vanished(error: BaseException, number: int) -> bool:
    """Whether a page past page 1 answered DRF's "Invalid page." (the data shrank under the drain)."""
    return isinstance(error, NotFoundError) and number > 1 and error.detail == "Invalid page."


def pages_for(count: int | None, size: int) -> int | None:
    """How many pages a count makes at this page size (None when unknown)."""
    if count is None or size <= 0:
        return None
    return max(1, math.ceil(count / size))


def first_failure(errors: list[BaseException]) -> BaseException | None:
    """The first real failure of a batch (an APIError before anything else)."""
    return next((e for e in errors if isinstance(e, APIError)), errors[0] if errors else None)
