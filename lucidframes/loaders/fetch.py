"""Pages, one at a time: ``Page`` and ``PageFetcher``, what ``iter_pages`` (``stream``) fetches with.

A drain fetches page 1, learns ``count`` and the page size, fetches pages 2..N concurrently (within the rate
limit, at most ``workers`` at a time), then follows ``next`` for whatever the count did not announce. Pages are
yielded in page order. A pass that looks consistent (no count change, no duplicate key, rows = count) is checked
once more by re-reading page 1: rows deleted before the page being read and as many inserted after it leave the
count alone and double nothing, but they move page 1. A pass that is not consistent is handled per ``on_drift``;
a re-fetch starts a new pass (``Page.drain_pass`` goes up: a consumer drops what it had of the earlier pass).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from lucidframes._http.classify import BadBody
from lucidframes._http.events import WaitHook, WaitStats
from lucidframes._http.transport import Cancelled, Transport
from lucidframes._http.urls import page_from_link
from lucidframes.endpoints import Endpoint
from lucidframes.errors import APIError, NotFoundError
from lucidframes.loaders.state import Fetched

__all__ = ["STOP_GRACE", "Page", "PageFetcher", "check_page", "first_failure", "pages_for", "past_the_end", "shape"]

STOP_GRACE = 0.5  # seconds a Stop waits for pages already on their way before abandoning them


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
        still arrive are yielded (nothing fetched is lost), for at most STOP_GRACE seconds after a Stop: requests
        still in flight then are abandoned. Ctrl-C cancels the rest without waiting for them.
        """
        if not numbers:
            return
        self.cancel.clear()
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(numbers)), thread_name_prefix="lucidframes")
        todo = iter(numbers)
        futures: dict[Future[Fetched], int] = {}
        interrupted = False
        stopped_at: float | None = None
        try:
            self._submit(pool, todo, futures)
            while futures:
                if stopped_at is not None and time.monotonic() - stopped_at >= STOP_GRACE:
                    interrupted = True  # abandoned: their answers are not waited for
                    break
                done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
                if self.stopped() and stopped_at is None:
                    self.cancel.set()
                    stopped_at = time.monotonic()
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


def past_the_end(err: NotFoundError, name: str, count: int, size: int, asked: list[int]) -> NotFoundError:
    """The error for chosen pages past the last, saying how many there are, which were past, and what to choose.

    Args:
        err: the server's 404 "Invalid page." (its URL names the page).
        name: the endpoint.
        count: the rows the server announced.
        size: the page size.
        asked: the pages asked for.

    Returns:
        A NotFoundError with the same fields (and partial result), in the words both Python and the CLI show.
    """
    pages = pages_for(count, size) or 1
    beyond = [n for n in asked if n > pages] or asked
    runs = beyond == list(range(beyond[0], beyond[-1] + 1))
    listed = f"{beyond[0]}-{beyond[-1]}" if runs else ", ".join(map(str, beyond[:5])) + (" ..." * (len(beyond) > 5))
    which = f"page {beyond[0]} is" if len(beyond) == 1 else f"pages {listed} are"
    text = (
        f"{err.method} {err.url} answered 404 Not Found: Invalid page. {name} has {pages:,} page"
        f"{'s' * (pages != 1)} ({count:,} rows, {size} per page): {which} past the end; choose pages from 1 to {pages}."
    )
    new = NotFoundError(text, status_code=404, body=err.body, method=err.method, url=err.url, history=err.history)
    new.partial, new.resume = err.partial, err.resume
    return new


def first_failure(errors: list[BaseException]) -> BaseException | None:
    """The first real failure of a batch (an APIError before anything else)."""
    return next((e for e in errors if isinstance(e, APIError)), errors[0] if errors else None)
