"""``iter_pages``: a drain as an iterator of pages (plan, fetch, reconcile), with its account once exhausted.

When a drain gives up, the error carries ``.partial`` (the rows fetched so far, as a typed frame) and ``.resume``
(pass it back as ``resume=`` to continue without re-fetching); a Stop raises ``DrainStopped`` and Ctrl-C
``DrainInterrupted``, with the same two fields. With ``keep_rows=False`` the pages already yielded are the
consumer's: the state keeps their keys only (one flat list a page, for the checks), ``.partial`` holds the rows
fetched but not yet yielded, and a resumed drain yields only the pages not yielded before.

Rows from a file a response links to: the package export answers ``{"export_url": ...}``, and its rows are in
the CSV that link names (``answers.linked_rows``; fetched by ``_http.download``, never with our credentials).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from lucidframes._http.events import WaitBoard, WaitHook, WaitStats
from lucidframes._http.transport import Cancelled, Transport
from lucidframes.endpoints import Endpoint
from lucidframes.errors import (
    APIError,
    ConfigError,
    DrainInterrupted,
    DrainStopped,
    DriftWarning,
    NotFoundError,
    PaginationError,
)
from lucidframes.loaders.answers import LINK_FIELD, check_array, check_export, linked_rows
from lucidframes.loaders.fetch import Page, PageFetcher, first_failure, pages_for, past_the_end
from lucidframes.loaders.frames import account, build_frame
from lucidframes.loaders.plan import schedule
from lucidframes.loaders.progress import DrainProgress, ProgressCallback
from lucidframes.loaders.state import Checkpoint, DrainState, Fetched
from lucidframes.loaders.timeline import TimedFetcher, Timeline

__all__ = ["LINK_FIELD", "DrainOptions", "PageStream", "linked_rows"]

MAX_REFETCHES = 2
# What a drain hands its partial result to: an API error, or an interrupt.
E = TypeVar("E", APIError, DrainInterrupted)


@dataclass(frozen=True)
class DrainOptions:
    """How to drain, resolved and checked once by the façade."""

    workers: int
    progress: bool
    on_drift: str = "refetch"
    flatten: bool = True
    stop: threading.Event | None = None
    on_progress: ProgressCallback | None = None
    resume: DrainState | None = None
    checkpoint: Path | None = None
    hooks: tuple[WaitHook, ...] = ()
    pages: tuple[int, ...] | None = None  # only these pages (no reconciliation: a chosen page is not a drain)
    keep_rows: bool = True  # False: a streaming consumer keeps the rows; the state keeps only keys
    scope: str = ""  # the cache's scope (server, API prefix, account): a checkpoint of another is refused


class PageStream:
    """Iterate to get the pages; ``info`` is the drain's account once the iteration has finished."""

    def __init__(self, transport: Transport, ep: Endpoint, params: dict[str, str], options: DrainOptions) -> None:
        self.transport = transport
        self.ep = ep
        self.params = params
        self.options = options
        self.stats = WaitStats()
        self.board = WaitBoard()  # says each wait once for the drain, however many workers wait on it
        self.info: dict[str, Any] | None = None
        path = ep.format_path(ep.list_path or "", params)
        self.query = {k: params[k] for k in ep.query}
        self.path = path
        self.store = Checkpoint(options.checkpoint, ep.name, params, options.scope) if options.checkpoint else None
        self.state = options.resume or (self.store.read() if self.store else None) or DrainState(ep.name, params)
        if self.state.endpoint != ep.name or self.state.params != params:
            from_ = f"{self.state.endpoint!r} {self.state.params}"
            raise ConfigError(
                f"resume= holds a drain of {from_}, not of {ep.name!r} {params}: pass the .resume of the same load."
            )
        self._bar: DrainProgress | None = None
        self._pass = 1
        self.timeline = Timeline()  # page spans and waits, for lf.run_summary (restarted when iteration starts)

    def __iter__(self) -> Iterator[Page]:
        return self._run()

    def _run(self) -> Iterator[Page]:
        total = len(self.options.pages) if self.options.pages else None
        with DrainProgress(
            self.ep.name,
            self.options.progress,
            total=total,
            stats=self.stats,
            board=self.board,
            unit="page",
            callback=self.options.on_progress,
            schedule=schedule(self.transport, self.ep, self.options.workers),
            partial=self.partial if self.options.keep_rows else None,
        ) as bar:
            self._bar = bar
            self.timeline = Timeline()
            fetcher = TimedFetcher(
                self.transport,
                self.ep,
                self.path,
                self.query,
                workers=self.options.workers,
                stop=self.options.stop,
                hooks=(self.board, bar, *self.options.hooks),
                stats=self.stats,
                timeline=self.timeline,
            )
            try:
                if self.ep.list_shape != "paginated":
                    yield self._single(fetcher)
                elif self.options.pages is not None:
                    yield from self._chosen(fetcher, list(self.options.pages))
                else:
                    yield from self._drain(fetcher)
            except Cancelled:
                raise self.attach(DrainStopped(f"The drain of {self.ep.name!r} was stopped.")) from None
            except KeyboardInterrupt as exc:
                if isinstance(exc, DrainInterrupted):
                    raise
                raise self.attach(DrainInterrupted(f"The drain of {self.ep.name!r} was interrupted.")) from None

    # -- the three shapes ----------------------------------------------------------------------------------

    def _single(self, fetcher: PageFetcher) -> Page:
        """A list that is one JSON array (brands) or one object prepared on request (the package export)."""
        check = check_array if self.ep.list_shape == "array" else check_export
        start = self.timeline.now()
        reply = self.transport.send(
            "GET",
            self.path,
            product=self.ep.product,
            bucket=self.ep.bucket,
            params=self.query,
            check=check,
            hooks=fetcher.hooks,
            accept_202=self.ep.list_shape == "object",
            cancel=fetcher.stop,
            endpoint=self.ep.name,
        )
        payload = reply.payload
        if isinstance(payload, dict) and isinstance(payload.get(LINK_FIELD), str):
            rows = linked_rows(self.transport, payload, self.ep.key_fields)  # the rows are in the linked file
        else:
            rows = payload if isinstance(payload, list) else [payload]
        self.timeline.page(1, start)
        self.state.add(1, (rows, len(rows), None))
        self._finish(complete=True, drift=None)
        return Page(self.ep.name, 1, len(rows), rows)

    def _chosen(self, fetcher: PageFetcher, numbers: list[int]) -> Iterator[Page]:
        """Only the pages asked for, in order (no drift checks: a chosen page is not a snapshot)."""
        try:
            yield from self._fetch(fetcher, numbers, missing_ok=False)
        except NotFoundError as err:
            said = self._past_the_end(fetcher, err, numbers)
            if said is err:
                raise
            raise said from err  # %tb still shows the request that failed
        self._finish(complete=False, drift=None)

    def _past_the_end(self, fetcher: PageFetcher, err: NotFoundError, numbers: list[int]) -> NotFoundError:
        """A chosen page past the last: the error names the range (page 1 is read for it when not at hand)."""
        if err.detail != "Invalid page.":
            return err
        if self.state.has(1):
            rows, count, more = self.state.pages.get(1, []), self.state.counts[1], self.state.nexts[1]
        else:
            first = next((result for _, result in fetcher.many([1])), None)  # one request, kept out of the result
            if not isinstance(first, tuple):
                return err
            rows, count, more = first
        if count is None:
            return err
        size = self.state.page_size or (len(rows) if more is not None else max(len(rows), count, 1))
        return past_the_end(err, self.ep.name, count, size, numbers)

    def _drain(self, fetcher: PageFetcher) -> Iterator[Page]:
        """Every page, then the checks; a re-fetch (``on_drift="refetch"``) starts a new pass."""
        refetches = 0
        while True:
            yield from self._one_pass(fetcher)
            drift, fresh = self._verify(fetcher)
            if drift is None:
                break
            if self.options.on_drift == "raise":
                raise self.attach(PaginationError(f"The data of {self.ep.name!r} changed during the drain ({drift})."))
            if self.options.on_drift == "warn" or refetches >= MAX_REFETCHES:
                warnings.warn(
                    f"The data of {self.ep.name!r} changed during the drain ({drift}); the result may mix "
                    "two versions.",
                    DriftWarning,
                    stacklevel=4,
                )
                break
            refetches += 1
            self._pass += 1
            self.timeline.drain_pass = self._pass
            self.state = DrainState(self.ep.name, self.params)
            if self.store is not None:
                self.store.reset()
            if fresh is not None:  # the re-read page 1 starts the new pass: no request wasted
                self._keep(1, fresh)
            if self._bar is not None:
                self._bar.restart()
        if self.store is not None:
            self.store.remove()
        info = {"detected": drift is not None or refetches > 0, "refetches": refetches, "unresolved": drift}
        self._finish(complete=True, drift=info)

    def _one_pass(self, fetcher: PageFetcher) -> Iterator[Page]:
        """Page 1, then 2..N concurrently once the count is known, then any ``next`` beyond what it announced."""
        state = self.state
        yield from self._fetch(fetcher, [1], missing_ok=False)
        bar = self._bar
        total = pages_for(state.counts[1], state.size_of(1)) if state.nexts[1] is not None else 1
        if bar is not None and total is not None:
            bar.set_total(total, done=len(state.numbers()), rows=state.rows)
        if state.nexts[1] is None:
            return
        if total is not None:
            yield from self._fetch(fetcher, list(range(2, total + 1)), missing_ok=True)
        last = max(state.numbers())
        while (number := state.nexts.get(last)) is not None and not state.vanished:
            if number <= last or state.has(number):
                break  # a loop in the links: stop rather than spin
            yield from self._fetch(fetcher, [number], missing_ok=False)
            if bar is not None:
                bar.set_total(max(bar.total or 0, number), done=len(state.numbers()))
            last = number

    # -- fetching and yielding -----------------------------------------------------------------------------

    def _fetch(self, fetcher: PageFetcher, numbers: list[int], *, missing_ok: bool) -> Iterator[Page]:
        """Fetch what is missing of ``numbers``; yield them in order; attach partial results on failure.

        A page a resumed state holds only the keys of (its rows went to the consumer before) is not yielded again.
        """
        order = iter(numbers)
        waiting = next(order, None)
        errors: list[BaseException] = []
        todo = [n for n in numbers if not self.state.has(n)]
        tick = self._bar.refresh_waits if self._bar is not None else None
        for number, result in fetcher.many(todo, tick):
            if isinstance(result, BaseException):
                self._failed(number, result, errors, missing_ok=missing_ok)
                continue
            self._keep(number, result)
            while waiting is not None and self._settled(waiting):
                if waiting in self.state.pages and not errors:
                    yield self._page(waiting)
                waiting = next(order, None)
        failure = first_failure(errors)
        if failure is not None:
            self._raise(failure)
        if fetcher.stopped():
            raise self.attach(DrainStopped(f"The drain of {self.ep.name!r} was stopped."))
        while waiting is not None:  # pages already in a resumed state
            if waiting in self.state.pages:
                yield self._page(waiting)
            waiting = next(order, None)

    def _failed(self, number: int, error: BaseException, errors: list[BaseException], *, missing_ok: bool) -> None:
        """Note a page that failed: one past a shrunk count is for the checks to see, anything else is an error."""
        if missing_ok and number > 1 and getattr(error, "detail", None) == "Invalid page.":
            self.state.vanished.add(number)  # the data shrank under us: the checks will see it
        else:
            errors.append(error)

    def _settled(self, number: int) -> bool:
        """Whether a page is fetched or known to have vanished (so the pages after it may be yielded)."""
        return self.state.has(number) or number in self.state.vanished

    def _raise(self, error: BaseException) -> NoReturn:
        """Raise a failure: an API error carrying the rows fetched so far, anything else as it is."""
        if isinstance(error, APIError):
            raise self.attach(error)
        raise error

    def _keep(self, number: int, fetched: Fetched) -> None:
        """Record a fetched page (and checkpoint it)."""
        self.state.add(number, fetched)
        if self.store is not None:
            self.store.write(number, fetched)
        if self._bar is not None:
            self._bar.page_done(len(fetched[0]))

    def _page(self, number: int) -> Page:
        """The Page for a fetched page number; the state keeps only the keys when the consumer keeps the rows."""
        rows = self.state.pages[number]
        page = Page(self.ep.name, number, self.state.counts[number], rows, self._pass, self.state.nexts[number])
        if not self.options.keep_rows and self.ep.key is not None:
            self.state.release(number, self.ep.key)
        return page

    # -- reconciliation -------------------------------------------------------------------------------------

    def _verify(self, fetcher: PageFetcher) -> tuple[str | None, Fetched | None]:
        """(why the pass is not one consistent snapshot or None, the re-read page 1 when one was made)."""
        drift = self._drift()
        if drift is not None or len(self.state.numbers()) < 2:
            return drift, None
        fresh: Fetched | None = None
        for _number, result in fetcher.many([1]):
            if isinstance(result, BaseException):
                self._raise(result)
            fresh = result
        if fresh is None:
            raise self.attach(DrainStopped(f"The drain of {self.ep.name!r} was stopped."))
        key = self.ep.key
        now = [r.get(key) for r in fresh[0]] if key is not None else list(fresh[0])
        if fresh[1] != self.state.counts[1] or now != self.state.page_keys(1, key):
            return "page 1 changed while the other pages were read: rows were added or removed", fresh
        return None, None

    def _drift(self) -> str | None:
        """Why the fetched pages are not one consistent snapshot, or None when they are."""
        state = self.state
        if state.vanished:
            return f"pages {sorted(state.vanished)} disappeared (the count shrank)"
        counts = {c for c in state.counts.values() if c is not None}
        if len(counts) > 1:
            return f"count changed from {state.counts[1]} to {state.counts[max(state.numbers())]}"
        rows = state.rows
        if self.ep.key is not None:
            missing, repeated = state.repeats(self.ep.key)
            twice = repeated + max(missing - 1, 0)  # rows without a key count as one value, as a set counts None
            if twice:
                return f"{twice} rows came twice (they moved between pages)"
        count = next(iter(counts), None)
        if count is not None and rows != count:
            return f"{rows} rows for a count of {count}"
        return None

    # -- results --------------------------------------------------------------------------------------------

    def _account(self, count: int | None, drift: dict[str, Any] | None, rows: int, duplicates: int) -> dict[str, Any]:
        """The drain's account so far (complete when ``drift`` says the checks ran)."""
        state = self.state
        pages, size, timeline = state.numbers(), state.page_size, self.timeline.to_attrs()
        return account(self.ep, self.params, self.stats, complete=drift is not None, count=count, pages=pages,
                       page_size=size, drift=drift, rows=rows, duplicates=duplicates, timeline=timeline)  # fmt: skip

    def _finish(self, *, complete: bool, drift: dict[str, Any] | None) -> None:
        """Set ``info``, the drain's account (rows and duplicates from the keys; ``load`` counts them again)."""
        duplicates = self.state.repeats(self.ep.key)[1] if self.ep.key else 0
        self.info = self._account(self.state.count, drift, self.state.rows - duplicates, duplicates)
        self.info["complete"] = complete

    def partial(self) -> Any:
        """The rows fetched so far, as the drain's typed frame (not complete)."""
        info = self._account(self.state.counts.get(1), None, 0, 0)
        return build_frame(self.ep, self.state.records(), info, flatten=self.options.flatten)

    def attach(self, err: E) -> E:
        """Give an error the rows fetched so far and the state to resume from."""
        err.partial = self.partial()
        err.resume = self.state
        return err
