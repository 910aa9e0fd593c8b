"""The one place snapshots and the dlt source get pages from: ``pages(client, name, **params)``.

It yields ``Page`` objects (``endpoint``, ``number``, ``count``, ``rows``, ``drain_pass``) and, once exhausted,
holds the drain's account in ``.info`` (rows, count, pages, duplicates_dropped, retries, total_wait, drift,
fetched_at). A consumer that sees ``drain_pass`` go up discards what it wrote for the earlier pass.

Until the transport issue lands ``client.iter_pages`` (the iterator underneath ``load``), this is a stand-in over
the client's public ``get_json``: page 1, then pages 2..N concurrently (in order, at most ``2 x workers`` ahead),
then ``next`` links beyond the announced count; a count that moves during the drain starts a new pass (twice at
most). Swap the body of ``pages`` for ``client.iter_pages(name, **params)`` when it exists.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import ConfigError, DecodeError, NotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.client import Client

__all__ = ["MAX_REFETCHES", "Page", "PageIterator", "pages"]

MAX_REFETCHES = 2


@dataclass(frozen=True)
class Page:
    """One page of a drain, as the server sent it."""

    endpoint: str
    number: int  # 1-based
    count: int | None  # what the server announced
    rows: list[dict[str, Any]]  # the raw JSON records
    drain_pass: int = 1  # goes up after a drift re-fetch: discard the earlier pass


class _Waits:
    """The client's wait observer: retries and seconds waited, across worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retries = 0
        self.seconds = 0.0

    def __call__(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.retries += kind == "retry"
            self.seconds += seconds


class PageIterator:
    """Iterate the pages of one endpoint; ``info`` is the drain's account once the iteration has ended."""

    def __init__(self, client: Client, ep: Endpoint, params: dict[str, str]) -> None:
        self.client = client
        self.ep = ep
        self.params = params
        self.url = client.url_for(ep.format_path(ep.list_path or "", params), ep.product)
        self.waits = _Waits()
        self.info: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[Page]:
        if self.ep.list_shape == "array":
            array = self._array()
            yield Page(self.ep.name, 1, len(array), array, 1)
            self._account(len(array), len(array), 1, None, 0)
            return
        drain_pass, refetches = 1, 0
        while True:
            counts: set[int] = set()
            fetched = rows = 0
            vanished = False
            for page in self._one_pass(drain_pass):
                if page is None:
                    vanished = True
                    break
                if page.count is not None:
                    counts.add(page.count)
                fetched += 1
                rows += len(page.rows)
                yield page
            count = max(counts) if counts else None
            drift = self._drift(counts, vanished, rows, count)
            if drift is None or refetches >= MAX_REFETCHES:
                self._account(rows, count, fetched, drift, refetches)
                return
            refetches += 1
            drain_pass += 1

    def _drift(self, counts: set[int], vanished: bool, rows: int, count: int | None) -> str | None:
        if vanished:
            return "pages disappeared (the count shrank)"
        if len(counts) > 1:
            return f"the count changed during the drain ({', '.join(map(str, sorted(counts)))})"
        if count is not None and rows != count:
            return f"{rows} rows for a count of {count}"
        return None

    def _account(self, rows: int, count: int | None, pages: int, drift: str | None, refetches: int) -> None:
        self.info = {
            "endpoint": self.ep.name,
            "params": dict(self.params),
            "rows": rows,
            "count": count,
            "pages": pages,
            "duplicates_dropped": 0,
            "retries": self.waits.retries,
            "total_wait": round(self.waits.seconds, 3),
            "drift": {"detected": refetches > 0 or drift is not None, "refetches": refetches, "unresolved": drift},
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _array(self) -> list[dict[str, Any]]:
        payload = self.client.get_json(self.url, product=self.ep.product, observer=self.waits)
        if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
            raise DecodeError(f"{self.url} should answer a JSON array of objects.", url=self.url)
        return payload

    def _get(self, url: str, number: int) -> tuple[list[dict[str, Any]], int | None, str | None]:
        params = {"page": number} if number > 1 and "page=" not in url else None
        payload = self.client.get_json(url, product=self.ep.product, params=params, observer=self.waits)
        if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise DecodeError(f"{url} should answer a page {{count, next, previous, results}}.", url=url)
        count = payload.get("count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        next_url = payload.get("next")
        return list(payload["results"]), count, next_url if isinstance(next_url, str) else None

    def _one_pass(self, drain_pass: int) -> Iterator[Page | None]:
        """The pages of one pass, in order; None when a page vanished (the data shrank)."""
        rows, count, next_url = self._get(self.url, 1)
        yield Page(self.ep.name, 1, count, rows, drain_pass)
        if next_url is None:
            return
        total = math.ceil(count / len(rows)) if count and rows else 1
        workers = max(1, self.client.workers)
        last = 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lucidframes-pages") as pool:
            ahead: dict[int, Future[tuple[list[dict[str, Any]], int | None, str | None]]] = {}
            numbers = iter(range(2, total + 1))
            try:
                for n in range(2, total + 1):
                    while len(ahead) < 2 * workers and (m := next(numbers, None)) is not None:
                        ahead[m] = pool.submit(self._get, self.url, m)
                    try:
                        rows, count, next_url = ahead.pop(n).result()
                    except NotFoundError as exc:
                        if exc.detail == "Invalid page.":
                            yield None
                            return
                        raise
                    last = n
                    yield Page(self.ep.name, n, count, rows, drain_pass)
            finally:
                for fut in ahead.values():
                    fut.cancel()
        while next_url is not None:  # beyond the announced count (or when it was unknown)
            last += 1
            rows, count, next_url = self._get(next_url, last)
            yield Page(self.ep.name, last, count, rows, drain_pass)


def pages(client: Client, name: str, **params: Any) -> PageIterator:
    """The pages of a list endpoint, in order, with the drain's account in ``.info`` afterwards.

    Args:
        client: the Client.
        name: a registered endpoint with a list (paginated or a bare array).
        **params: its path parameters (``asset_type="images"``).

    Returns:
        An iterable of Page objects.
    """
    ep = get_endpoint(name)
    if ep.list_path is None or ep.list_shape not in ("paginated", "array"):
        raise ConfigError(f"Endpoint {name!r} has no list of rows to drain.")
    return PageIterator(client, ep, {k: str(v) for k, v in params.items()})
