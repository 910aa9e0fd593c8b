"""Draining: fetch page 1, fan out pages 2..N once ``count`` is known, follow ``next`` otherwise; then reconcile.

Reconciliation is the promise "nothing lost, nothing doubled": rows are checked against ``count``, duplicates
are dropped by key and counted, and a ``count`` that changes during the drain (drift) is handled per
``on_drift``: ``"refetch"`` (the default: drain again, up to twice, until a pass is consistent, then warn),
``"warn"`` (keep what was fetched, deduplicated, and warn) or ``"raise"``. When a drain gives up, the error carries
``.partial`` (the rows so far) and ``.resume`` (pass it back as ``resume=`` to continue without re-fetching).
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from lucidframes.client import check_same_origin
from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import APIError, ConfigError, DecodeError, NotFoundError, PaginationError
from lucidframes.frames import to_frame
from lucidframes.progress import DrainProgress, ProgressCallback, WaitStats

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.client import Client

__all__ = ["DrainState", "DrainStopped", "DriftWarning", "load"]

DRIFT_POLICIES = ("refetch", "warn", "raise")
MAX_REFETCHES = 2


class DriftWarning(UserWarning):
    """The data changed while it was being drained; the result may not be a consistent snapshot."""


class DrainStopped(PaginationError):
    """The drain was stopped on request (a Stop button); ``.partial`` and ``.resume`` hold what was fetched."""


@dataclass
class DrainState:
    """Where a drain stands: the pages fetched so far. Pass it back as ``resume=`` to continue."""

    endpoint: str
    params: dict[str, str]
    pages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[int, int | None] = field(default_factory=dict)
    nexts: dict[int, str | None] = field(default_factory=dict)
    vanished: set[int] = field(default_factory=set)  # pages that answered "Invalid page." mid-drain (data shrank)

    def __repr__(self) -> str:
        return f"DrainState(endpoint={self.endpoint!r}, params={self.params!r}, pages_fetched={sorted(self.pages)})"

    def add(self, number: int, results: list[dict[str, Any]], count: int | None, next_url: str | None) -> None:
        """Record one fetched page."""
        self.pages[number] = results
        self.counts[number] = count
        self.nexts[number] = next_url

    @property
    def page_size(self) -> int | None:
        """The server's page size: the rows of any fetched page that has a ``next`` link (None if unknown)."""
        return next((len(self.pages[n]) for n in sorted(self.pages) if self.nexts.get(n)), None)

    def records(self) -> list[dict[str, Any]]:
        """Every fetched record, in page order."""
        return [r for n in sorted(self.pages) for r in self.pages[n]]


def load(
    client: Client,
    name: str,
    page: int | None = None,
    pages: Iterable[int] | None = None,
    *,
    workers: int | None = None,
    progress: bool | None = None,
    on_drift: str = "refetch",
    resume: DrainState | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    flatten: bool = True,
    stop: threading.Event | None = None,
    on_progress: ProgressCallback | None = None,
    **path_params: Any,
) -> pd.DataFrame:
    """Load a registered endpoint into one typed DataFrame (see ``Client.load``).

    Args:
        client: the Client to fetch with.
        name: the endpoint name.
        page: only this page.
        pages: only these pages.
        workers: concurrent page fetches (the client's default otherwise).
        progress: show a progress bar (the client's default otherwise).
        on_drift: "refetch", "warn" or "raise" when the data changes during the drain.
        resume: the ``.resume`` of an earlier failed drain, to continue it.
        checkpoint: a file where fetched pages are kept, so a re-run continues where a failed one stopped.
        flatten: expand nested objects into dotted columns.
        stop: an Event that stops the drain (it then raises DrainStopped with the partial result).
        on_progress: called as ``(pages_done, pages_total, rows, seconds_waited)`` after each page.
        **path_params: the endpoint's path parameters (``asset_type="images"``).

    Returns:
        The DataFrame, with ``df.attrs["lucidframes"]`` describing what was fetched.
    """
    ep = get_endpoint(name)
    if on_drift not in DRIFT_POLICIES:
        raise ConfigError(f"on_drift must be one of {', '.join(DRIFT_POLICIES)} (got {on_drift!r})")
    if ep.list_path is None:
        hint = f"use client.lookup({name!r}, ids)" if ep.detail_path else f"use client.submit({name!r}, ...)"
        raise ConfigError(f"Endpoint {name!r} has no list to load: {hint}.")
    if page is not None and pages is not None:
        raise ConfigError("Pass page= or pages=, not both.")
    params = {k: str(v) for k, v in path_params.items()}
    list_url = client.url_for(ep.format_path(ep.list_path, params), ep.product)
    query = {k: params[k] for k in ep.query}
    drain = _Drain(client, ep, params, list_url, workers or client.workers, stop, flatten)
    show = client.progress if progress is None else progress

    if ep.list_shape != "paginated":
        if page not in (None, 1) or pages is not None:
            raise ConfigError(f"Endpoint {name!r} is not paginated: it has no pages to choose.")
        if ep.list_shape == "object":
            return drain.finish(
                [_prepared(client, ep, list_url, query, drain.stats)], complete=True, count=1, drift=None
            )
        payload = client.get_json(list_url, product=ep.product, observer=drain.stats)
        if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
            raise DecodeError(f"{list_url} should answer a JSON array of objects; got {_shape(payload)}.", url=list_url)
        return drain.finish(payload, complete=True, count=len(payload), drift=None)

    if page is not None or pages is not None:
        wanted = [page] if page is not None else sorted(set(pages or ()))
        if any(not isinstance(p, int) or p < 1 for p in wanted):
            raise ConfigError(f"Pages are whole numbers from 1 (got {wanted!r}).")
        state = DrainState(name, params)
        with DrainProgress(name, show, total=len(wanted), stats=drain.stats, callback=on_progress) as bar:
            drain.fetch_pages(state, wanted, bar, lambda n: drain.page_url(n, None))
        count = next(iter(state.counts.values()), None)
        return drain.finish(
            state.records(),
            complete=False,
            count=count,
            drift=None,
            pages=sorted(state.pages),
            page_size=state.page_size,
        )

    store = _Checkpoint(Path(checkpoint), name, params) if checkpoint is not None else None
    state = resume if resume is not None else (store.read() if store else None) or DrainState(name, params)
    if state.endpoint != name or state.params != params:
        raise ConfigError(
            f"resume= holds a drain of {state.endpoint!r} {state.params}, not of {name!r} {params}: "
            "pass the .resume of the same load."
        )
    refetches = 0
    with DrainProgress(name, show, total=None, stats=drain.stats, callback=on_progress) as bar:
        while True:
            drain.run(state, bar, store)
            drift = drain.drift(state)
            if drift is None:
                break
            if on_drift == "raise":
                err = PaginationError(f"The data of {name!r} changed during the drain ({drift}).", url=list_url)
                raise drain.attach(err, state)
            if on_drift == "warn" or refetches >= MAX_REFETCHES:
                warnings.warn(
                    f"The data of {name!r} changed during the drain ({drift}); the result may mix two versions.",
                    DriftWarning,
                    stacklevel=3,
                )
                break
            refetches += 1
            state = DrainState(name, params)
            if store is not None:
                store.reset()
            bar.restart()
    if store is not None:
        store.remove()
    # The count the last fetched page reported.
    counts = [c for n in sorted(state.pages) if (c := state.counts.get(n)) is not None]
    count = counts[-1] if counts else None
    info = {"detected": drift is not None or refetches > 0, "refetches": refetches, "unresolved": drift}
    return drain.finish(
        state.records(), complete=True, count=count, drift=info, pages=sorted(state.pages), page_size=state.page_size
    )


class _Drain:
    """The work of one load: fetching pages concurrently, building the frame, attaching partial results."""

    def __init__(
        self,
        client: Client,
        ep: Endpoint,
        params: dict[str, str],
        list_url: str,
        workers: int,
        stop: threading.Event | None,
        flatten: bool = True,
    ) -> None:
        self.client = client
        self.flatten = flatten
        self.ep = ep
        self.params = params
        self.list_url = list_url
        self.workers = workers
        self.stop = stop
        self.stats = WaitStats()
        self.template: str | None = None  # a page URL the server itself produced, to number other pages from
        # Called in the main thread for each page fetched (the checkpoint writer); None when not checkpointing.
        self.on_page: Callable[[int, list[dict[str, Any]], int | None, str | None], None] | None = None

    def page_url(self, number: int, template: str | None) -> str:
        """The URL of page ``number``: the server's own ``next`` link with its page changed, else ours."""
        base = template or self.template or self.list_url
        parts = urlsplit(base)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
        if number != 1:
            query.append(("page", str(number)))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))

    def fetch(self, url: str) -> tuple[list[dict[str, Any]], int | None, str | None]:
        """GET one page and check its envelope; returns (results, count, next)."""
        payload = self.client.get_json(url, product=self.ep.product, observer=self.stats)
        if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise DecodeError(
                f"{url} should answer a page {{count, next, previous, results}}; got {_shape(payload)}.", url=url
            )
        results = payload["results"]
        bad = next((i for i, r in enumerate(results) if not isinstance(r, dict)), None)
        if bad is not None:
            raise DecodeError(f"{url}: result {bad} is {_shape(results[bad])}, not an object.", url=url)
        count = payload.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
            raise DecodeError(f"{url}: count should be a whole number, got {count!r}.", url=url)
        next_url = payload.get("next")
        if next_url is not None:
            if not isinstance(next_url, str):
                raise DecodeError(f"{url}: next should be a URL or null, got {next_url!r}.", url=url)
            check_same_origin(next_url, self.client.base_url)
        return results, count, next_url

    def fetch_pages(
        self,
        state: DrainState,
        numbers: list[int],
        bar: DrainProgress,
        url_of: Callable[[int], str],
        *,
        missing_ok: bool = False,
    ) -> None:
        """Fetch pages concurrently (bounded pool) into ``state``; on failure attach partial and resume.

        With ``missing_ok`` (a full drain), a page that no longer exists is recorded as drift, not raised.
        """
        todo = [n for n in numbers if n not in state.pages]
        if not todo:
            return
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(todo)), thread_name_prefix="lucidframes")
        futures: dict[Future[tuple[list[dict[str, Any]], int | None, str | None]], int] = {}
        pending_numbers = iter(todo)
        failure: BaseException | None = None
        try:
            # Keep at most `workers` requests in flight, so a stop or a failure wastes little.
            for n in pending_numbers:
                futures[pool.submit(self.fetch, url_of(n))] = n
                if len(futures) >= self.workers:
                    break
            while futures:
                done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
                bar.refresh_waits()
                for fut in done:
                    n = futures.pop(fut)
                    try:
                        results, count, next_url = fut.result()
                    except NotFoundError as exc:
                        if missing_ok and n > 1 and exc.detail == "Invalid page.":
                            state.vanished.add(n)  # the data shrank under us: drift() will see it
                            continue
                        failure = failure or exc
                        continue
                    except BaseException as exc:
                        failure = failure or exc
                        continue
                    state.add(n, results, count, next_url)
                    bar.page_done(len(results))
                    if self.on_page is not None:
                        self.on_page(n, results, count, next_url)
                if failure is None and not (self.stop is not None and self.stop.is_set()):
                    for n in pending_numbers:
                        futures[pool.submit(self.fetch, url_of(n))] = n
                        if len(futures) >= self.workers:
                            break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        # Pages that were in flight when another failed or a stop came in: keep what arrived (nothing lost).
        for fut, n in futures.items():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                results, count, next_url = fut.result()
                state.add(n, results, count, next_url)
                if self.on_page is not None:
                    self.on_page(n, results, count, next_url)
        if failure is not None:
            if isinstance(failure, APIError):
                raise self.attach(failure, state)
            raise failure
        if self.stop is not None and self.stop.is_set():
            raise self.attach(DrainStopped(f"The drain of {self.ep.name!r} was stopped.", url=self.list_url), state)

    def run(self, state: DrainState, bar: DrainProgress, store: _Checkpoint | None) -> None:
        """Drain every page into ``state``: page 1, then the rest concurrently, then any ``next`` beyond."""
        self.on_page = store.write if store is not None else None
        if 1 not in state.pages:
            self.fetch_pages(state, [1], bar, lambda n: self.list_url)
        self.template = state.nexts.get(1)
        count, size = state.counts[1], len(state.pages[1])
        if state.nexts[1] is None:
            bar.set_total(1)
            return
        if count is not None and size > 0:
            total = math.ceil(count / size)
            bar.set_total(total, done=len(state.pages))
            self.fetch_pages(state, list(range(2, total + 1)), bar, lambda n: self.page_url(n, None), missing_ok=True)
        # Follow `next` from the last page for whatever the count did not announce (or when it is unknown).
        last = max(state.pages)
        while state.nexts.get(last) is not None and not state.vanished:
            next_url = state.nexts[last]
            assert next_url is not None
            number = _page_number(next_url) or last + 1
            if number in state.pages:
                break  # a loop in the links: stop rather than spin
            self.fetch_pages(state, [number], bar, lambda n, u=next_url: u)  # type: ignore[misc]
            bar.set_total(max(bar.total or 0, number), done=len(state.pages))
            last = number

    def drift(self, state: DrainState) -> str | None:
        """Why the fetched pages are not one consistent snapshot, or None when they are."""
        if state.vanished:
            return f"pages {sorted(state.vanished)} disappeared (the count shrank)"
        counts = {c for c in state.counts.values() if c is not None}
        if len(counts) > 1:
            return f"count changed from {state.counts[1]} to {state.counts[max(state.pages)]}"
        rows = state.records()
        count = next(iter(counts), None)
        if self.ep.key is not None:
            unique = len({r.get(self.ep.key) for r in rows})
            if unique != len(rows):
                return f"{len(rows) - unique} rows came twice (they moved between pages)"
        if count is not None and len(rows) != count:
            return f"{len(rows)} rows for a count of {count}"
        return None

    def finish(
        self,
        records: list[dict[str, Any]],
        *,
        complete: bool,
        count: int | None,
        drift: dict[str, Any] | None,
        pages: list[int] | None = None,
        page_size: int | None = None,
    ) -> pd.DataFrame:
        """The typed frame with duplicates dropped by key and the drain's account in ``attrs``."""
        df = to_frame(records, self.ep.columns, flatten=self.flatten)
        dropped = 0
        if self.ep.key is not None and self.ep.key in df.columns and len(df):
            dup = df.duplicated(subset=[self.ep.key], keep="first") & df[self.ep.key].notna()
            dropped = int(dup.sum())
            if dropped:
                df = df.loc[~dup].reset_index(drop=True)
        df.attrs["lucidframes"] = {
            "endpoint": self.ep.name,
            "params": dict(self.params),
            "pages": pages if pages is not None else [1],
            "page_size": page_size,
            "rows": len(df),
            "count": count,
            "complete": complete,
            "duplicates_dropped": dropped,
            "retries": self.stats.retries,
            "retry_wait": self.stats.retry_wait,
            "throttle_wait": self.stats.throttle_wait,
            "total_wait": self.stats.retry_wait + self.stats.throttle_wait,
            "drift": drift,
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return df

    def attach(self, err: APIError, state: DrainState) -> APIError:
        """Give an error the rows fetched so far and the state to resume from."""
        pages = sorted(state.pages)
        err.partial = self.finish(
            state.records(),
            complete=False,
            count=state.counts.get(1),
            drift=None,
            pages=pages,
            page_size=state.page_size,
        )
        err.resume = state
        return err


class _Checkpoint:
    """Fetched pages kept in a JSON Lines file: a header line, then one line per page, appended as they come."""

    def __init__(self, path: Path, endpoint: str, params: dict[str, str]) -> None:
        self.path = path
        self.endpoint = endpoint
        self.params = params
        self.header: dict[str, Any] = {"lucidframes_checkpoint": 1, "endpoint": endpoint, "params": params}

    def read(self) -> DrainState | None:
        """The state saved by an earlier run, or None when there is none."""
        if not self.path.exists():
            return None
        state = DrainState(self.endpoint, dict(self.params))
        try:
            with self.path.open(encoding="utf-8") as fh:
                header = json.loads(fh.readline())
                if {k: header.get(k) for k in self.header} != self.header:
                    raise ConfigError(
                        f"Checkpoint {self.path} belongs to another drain ({header.get('endpoint')!r} "
                        f"{header.get('params')}); delete it or choose another file."
                    )
                for line in fh:
                    if not line.endswith("\n"):
                        break  # a line cut short by a crash: that page is fetched again
                    page = json.loads(line)
                    state.add(page["page"], page["results"], page["count"], page["next"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"Checkpoint {self.path} is not readable ({exc}); delete it to start over.") from None
        return state

    def write(self, number: int, results: list[dict[str, Any]], count: int | None, next_url: str | None) -> None:
        """Append one page (the header first, for a new file)."""
        new = not self.path.exists()
        with self.path.open("a", encoding="utf-8") as fh:
            if new:
                fh.write(json.dumps(self.header) + "\n")
            fh.write(json.dumps({"page": number, "count": count, "next": next_url, "results": results}) + "\n")

    def reset(self) -> None:
        """Forget the saved pages (a re-fetch after drift starts over)."""
        self.remove()

    def remove(self) -> None:
        """Delete the file once the drain is complete."""
        self.path.unlink(missing_ok=True)


def _prepared(client: Client, ep: Endpoint, url: str, query: dict[str, str], stats: WaitStats) -> dict[str, Any]:
    """GET a resource the server prepares on request: 202 means "still processing", so wait and ask again.

    The waits follow the retry policy's backoff (through the sleep hook), and give up after its retries.
    """
    for attempt in range(client.retry.max_retries + 1):
        response = client.request("GET", url, product=ep.product, params=query, observer=stats)
        try:
            body = response.json()
        except ValueError:
            raise DecodeError(f"{url} answered {response.status_code} with a body that is not JSON.", url=url) from None
        if response.status_code != 202:
            if not isinstance(body, dict):
                raise DecodeError(f"{url} should answer a JSON object; got {_shape(body)}.", url=url)
            return body
        if attempt < client.retry.max_retries:
            wait = client.retry.backoff(attempt + 1)
            stats("retry", wait)
            client.sleep(wait)
    raise APIError(
        f"{url} is still preparing the {ep.name} export after {client.retry.max_retries} retries; try again later.",
        method="GET",
        url=url,
    )


def _page_number(url: str) -> int | None:
    """The ``page`` query parameter of a URL (1 when absent, as DRF's first page), or None if unreadable."""
    values = [v for k, v in parse_qsl(urlsplit(url).query) if k == "page"]
    if not values:
        return 1
    try:
        return int(values[-1])
    except ValueError:
        return None


def _shape(value: Any) -> str:
    """A short description of a JSON value, for error messages (never the whole body)."""
    if isinstance(value, dict):
        return f"an object with keys {sorted(map(str, value))[:6]}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return f"{type(value).__name__} {str(value)[:40]!r}"
