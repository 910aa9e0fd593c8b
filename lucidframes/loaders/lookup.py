"""Single-resource endpoints for many ids (``Client.lookup``) and submissions that send LucidIDs (``Client.submit``).

Both check LucidIDs locally before anything is sent (as the specification says): ``LucidIDValidationError``. A look-
up answers one row per id: ``ok``, or the server's word about it (``not_found``, ``forbidden``, ``error``). It
*gives up* when the retry policy does (the server failing, the network gone, 429s beyond the ceiling, a body that is
not JSON, credentials refused): then no id after it would fare better, so the error is raised with ``.partial``
(every id: the rows so far, ``_status`` "pending" for the rest) and ``.resume``; Ctrl-C raises ``LookupInterrupted``
with the same two, after keeping the answers already on their way (at most ``INTERRUPT_GRACE`` seconds), and a Stop
(``stop=``) ``DrainStopped`` within ``STOP_GRACE`` seconds (requests still in flight then are abandoned). Waits are
said once for the run (its ``WaitBoard``), the bar counts ids, and ``attrs`` carry a timeline of the requests and
waits (``lf.run_summary``). With a cache and ``max_age``, fresh ids are served from it and only the rest are sent;
every answer worth keeping is stored as it arrives.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from lucidframes import config
from lucidframes._http.events import WaitBoard, WaitHook, WaitStats
from lucidframes._http.transport import Cancelled, Transport
from lucidframes.endpoints import Endpoint, get_endpoint, path_segment
from lucidframes.errors import (
    APIError,
    AuthenticationError,
    DecodeError,
    DrainStopped,
    ForbiddenError,
    LookupInterrupted,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    UnknownLucidIDError,
)
from lucidframes.loaders.answers import detail_check
from lucidframes.loaders.cache import ResultCache
from lucidframes.loaders.frames import lookup_frame as _frame
from lucidframes.loaders.lookup_state import LookupCheckpoint, LookupState, said_resumed
from lucidframes.loaders.plan import schedule
from lucidframes.loaders.progress import DrainProgress, ProgressCallback
from lucidframes.loaders.timeline import Timeline
from lucidframes.lucidid import check_ids_before_send

__all__ = ["GIVE_UP", "STOP_GRACE", "LookupOptions", "lookup", "submit"]

# Failures after which the retry policy has given up for every id, not only this one.
GIVE_UP: tuple[type[APIError], ...] = (TransportError, ServerError, RateLimitError, DecodeError, AuthenticationError)
E = TypeVar("E", APIError, LookupInterrupted)
STOP_GRACE = 0.5  # seconds a Stop waits for answers already on their way before abandoning them


@dataclass(frozen=True)
class LookupOptions:
    """How to look up, resolved and checked once by the façade."""

    workers: int
    progress: bool
    validate: bool = True
    flatten: bool = True
    hooks: tuple[WaitHook, ...] = ()
    max_age: float | None = None  # serve cached rows no older than this (seconds); None: the cache is not read
    checkpoint: Path | None = None
    resume: LookupState | None = None
    stop: threading.Event | None = None  # set: stop within STOP_GRACE, raising DrainStopped with what was fetched
    on_progress: ProgressCallback | None = None
    scope: str = ""  # the cache's scope (server, API prefix, account): a checkpoint of another is refused


def unique_ids(ep: Endpoint, ids: Sequence[str], *, validate: bool) -> tuple[list[str], list[str]]:
    """(the ids in order; the same without duplicates), after the LucidID check where it applies and the path check."""
    wanted = list(ids)
    if validate and ep.id_kind == "lucid_id":
        check_ids_before_send(wanted, kind="lucid_id")  # as given: None is "missing", not the text "None"
    for i, id_ in enumerate(wanted):
        path_segment(id_, f"ids[{i}]")
    return wanted, list(dict.fromkeys(wanted))


def lookup(
    transport: Transport,
    ep: Endpoint,
    ids: Sequence[str],
    options: LookupOptions,
    *,
    params: dict[str, str] | None = None,
    cache: ResultCache | None = None,
) -> pd.DataFrame:
    """Fetch ``ep``'s detail endpoint for every id, concurrently, into one DataFrame (see ``Client.lookup``).

    Args:
        transport: the transport.
        ep: a registered endpoint with a detail path.
        ids: the ids (duplicates are fetched once and keep their rows).
        options: workers, progress, validation, the cache's max_age, checkpoint and resume.
        params: the endpoint's path parameters (``asset_type=``).
        cache: the client's result cache, if it has one.

    Returns:
        One row per id in the order given: ``_id``, the resource's columns, ``_status`` (ok, not_found,
        forbidden, error) and ``_error`` (the reason, for rows that failed).
    """
    params = params or {}
    wanted, unique = unique_ids(ep, ids, validate=options.validate)
    run = _Run(transport, ep, params, options, cache)
    cached: dict[str, dict[str, Any]] = {}
    if cache is not None and options.max_age is not None:
        cached = cache.get_ids(ep.product, ep.name, params, unique, options.max_age)
    run.rows.update({i: row for i, row in cached.items() if i not in run.state.rows})
    resumed = sum(1 for i in unique if i in run.state.rows)
    todo = [i for i in unique if i not in run.state.rows and i not in cached]
    if resumed and run.store is not None and options.resume is None:
        said_resumed(ep.name, run.store.path, resumed, "ids", len(todo))
    run.go(unique, todo)
    if run.store is not None:
        run.store.remove()
    extra = {"cached": len(unique) - len(todo) - resumed, "resumed": resumed, "requests": len(todo)}
    return _frame(ep, wanted, run.found(), params, run.stats, flatten=options.flatten, extra=run.account(extra))


class _Run:
    """One look-up's fetching: the pool, the state, the checkpoint and cache writes, the partial result."""

    def __init__(
        self,
        transport: Transport,
        ep: Endpoint,
        params: dict[str, str],
        options: LookupOptions,
        cache: ResultCache | None,
    ) -> None:
        self.transport = transport
        self.ep = ep
        self.params = params
        self.options = options
        self.cache = cache
        self.store = (
            LookupCheckpoint(options.checkpoint, ep.name, params, options.scope) if options.checkpoint else None
        )
        resumed = options.resume or (self.store.read() if self.store is not None else None)
        if resumed is not None:
            resumed.check(ep.name, params, "resume=" if options.resume is not None else "The checkpoint")
        self.state = resumed or LookupState(ep.name, dict(params))
        self.rows: dict[str, dict[str, Any]] = {}  # served from the cache (not part of the state to resume)
        self.unsaved: dict[str, dict[str, Any]] = {}  # answers a Ctrl-C may have kept from the file or the cache
        self.stats = WaitStats()
        self.board = WaitBoard()  # says each wait once for the run, however many workers wait on it
        self.timeline = Timeline(unit="id")
        self.cancel = threading.Event()
        self.wanted: list[str] = []
        self._order: dict[str, int] = {}
        assert ep.detail_path is not None
        self._template = ep.detail_path

    def found(self) -> dict[str, dict[str, Any]]:
        """Every row known: from the cache, then answered (this run or the one resumed)."""
        return {**self.rows, **self.state.rows}

    def go(self, unique: list[str], todo: list[str]) -> None:
        """Fetch ``todo``; attach the partial result to a give-up, or raise LookupInterrupted on Ctrl-C."""
        self.wanted = unique
        self._order = {id_: n for n, id_ in enumerate(unique, 1)}  # the timeline numbers ids as they were given
        workers = max(1, min(self.options.workers, len(todo) or 1))
        with DrainProgress(
            self.ep.name,
            self.options.progress,
            total=len(unique),
            stats=self.stats,
            board=self.board,
            unit="id",
            callback=self.options.on_progress,
            schedule=schedule(self.transport, self.ep, workers),
            partial=self.partial,
        ) as bar:
            known = self.found()  # served from the cache or resumed: counted as done
            ok = sum(1 for i in unique if i in known and known[i].get("_status") == "ok")
            bar.set_total(len(unique), done=len(unique) - len(todo), rows=ok)
            hooks: tuple[WaitHook, ...] = (self.stats, self.board, bar, self.timeline, *self.options.hooks)
            try:
                self._fetch_all(todo, hooks, bar)
            except KeyboardInterrupt as exc:
                if isinstance(exc, LookupInterrupted):
                    raise
                raise self.attach(LookupInterrupted(f"The look-up of {self.ep.name!r} was interrupted.")) from None
            except APIError as exc:
                raise self.attach(exc) from None

    def _fetch_all(self, todo: list[str], hooks: tuple[WaitHook, ...], bar: DrainProgress) -> None:
        """At most ``workers`` in flight; answers kept as they arrive; the first give-up stops the rest."""
        workers = max(1, min(self.options.workers, len(todo) or 1))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lucidframes-lookup")
        pending = iter(todo)
        futures: dict[Future[dict[str, Any]], str] = {}
        stop = self.options.stop
        try:
            self._submit(pool, pending, futures, hooks, workers)
            while futures:
                done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
                failure = self._collect(done, futures, bar)
                if failure is None and stop is not None and stop.is_set():
                    failure = DrainStopped(f"The look-up of {self.ep.name!r} was stopped.")
                if failure is not None:
                    self.cancel.set()  # every wait ends at once; no new request starts
                    self.board.close()
                    grace = STOP_GRACE if isinstance(failure, DrainStopped) else config.INTERRUPT_GRACE
                    self._drain_in_flight(futures, bar, grace)
                    raise failure
                bar.refresh_waits()
                self._submit(pool, pending, futures, hooks, workers)
        except KeyboardInterrupt:
            self.cancel.set()
            self.board.close()
            self._drain_in_flight(futures, bar, config.INTERRUPT_GRACE)
            self._save(self.unsaved)  # the answers the interrupt landed among: the state has them, now the rest
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        pending: Iterator[str],
        futures: dict[Future[dict[str, Any]], str],
        hooks: tuple[WaitHook, ...],
        most: int,
    ) -> None:
        """Start ids until ``most`` are queued or running (a give-up or a Ctrl-C then wastes little)."""
        while len(futures) < most and not self.cancel.is_set():
            id_ = next(pending, None)
            if id_ is None:
                return
            path = self.ep.format_path(self._template, self.params, id_=id_)
            futures[pool.submit(self._timed, self._order[id_], path, hooks)] = id_

    def _timed(self, number: int, path: str, hooks: tuple[WaitHook, ...]) -> dict[str, Any]:
        """One look-up (the ``number``-th id), recorded on the timeline with its waits."""
        start = self.timeline.now()
        self.timeline.begin(number)
        row = _fetch_one(self.transport, self.ep, path, hooks, self.cancel)
        self.timeline.page(number, start)
        return row

    def _collect(
        self, done: set[Future[dict[str, Any]]], futures: dict[Future[dict[str, Any]], str], bar: DrainProgress
    ) -> BaseException | None:
        """Keep the answers among ``done``; return the first give-up among them (None if there is none)."""
        batch: dict[str, dict[str, Any]] = {}
        failure: BaseException | None = None
        for fut in done:
            id_ = futures.pop(fut)
            if fut.cancelled():
                continue
            error = fut.exception()
            if error is None:
                batch[id_] = fut.result()
            elif not isinstance(error, Cancelled) and failure is None:
                failure = error
        self._keep(batch, bar)
        return failure

    def _drain_in_flight(self, futures: dict[Future[dict[str, Any]], str], bar: DrainProgress, grace: float) -> None:
        """Keep the answers of requests already sent, waiting at most ``grace`` seconds (a second Ctrl-C: none);
        the requests still in flight then are abandoned (their answers are not waited for)."""
        with contextlib.suppress(KeyboardInterrupt):
            self._collect(wait(futures, timeout=grace)[0], futures, bar)

    def _keep(self, batch: dict[str, dict[str, Any]], bar: DrainProgress) -> None:
        """Record answers: the state, the checkpoint file and the cache, then the bar."""
        if not batch:
            return
        try:
            self.state.rows.update(batch)
            self._save(batch)
        except KeyboardInterrupt:
            self.unsaved.update(batch)
            raise
        for row in batch.values():
            bar.page_done(1 if row["_status"] == "ok" else 0)

    def _save(self, batch: dict[str, dict[str, Any]]) -> None:
        """Answers into the checkpoint file and the cache (again after a Ctrl-C: a repeated line or row is harmless)."""
        if batch and self.store is not None:
            self.store.write(batch)
        if batch and self.cache is not None:
            self.cache.put_ids(self.ep.product, self.ep.name, self.params, batch)

    def partial(self) -> pd.DataFrame:
        """Every id's row so far (``pending`` where not answered), as the look-up's frame."""
        found = self.found()
        for id_ in self.wanted:
            found.setdefault(id_, {"_status": "pending", "_error": None})
        extra = self.account({"cached": len(self.rows)})
        return _frame(self.ep, self.wanted, found, self.params, self.stats, flatten=self.options.flatten, extra=extra)

    def account(self, extra: dict[str, Any]) -> dict[str, Any]:
        """``extra`` with the run's rate-limit waits and its timeline (requests and waits, for run_summary)."""
        return {**extra, "throttle_wait": self.stats.throttle_wait, "timeline": self.timeline.to_attrs()}

    def attach(self, err: E) -> E:
        """Give an error every id's row so far (``pending`` where not answered) and the state to resume from."""
        err.partial = self.partial()
        err.resume = self.state
        return err


def _fetch_one(
    transport: Transport, ep: Endpoint, path: str, hooks: Sequence[WaitHook], cancel: threading.Event
) -> dict[str, Any]:
    """One look-up, as a row: the body with ``_status`` ok, or the server's word about this id; give-ups raise."""
    try:
        check = detail_check(ep)  # a proxy's 200 {"detail": ...} is retried, then a DecodeError: never an "ok" row
        body = transport.send(
            "GET", path, product=ep.product, bucket=ep.bucket, check=check, hooks=hooks, cancel=cancel, endpoint=ep.name
        ).payload
    except NotFoundError as exc:
        return {"_status": "not_found", "_error": exc.detail or "Not found."}
    except ForbiddenError as exc:
        return {"_status": "forbidden", "_error": exc.detail or "Forbidden."}
    except GIVE_UP:
        raise  # the retry policy gave up: no id after this one would fare better
    except APIError as exc:
        return {"_status": "error", "_error": str(exc)}
    if not isinstance(body, dict):
        return {"_status": "error", "_error": f"expected a JSON object, got {type(body).__name__}"}
    return {**body, "_status": "ok", "_error": None}


def submit(transport: Transport, ep: Endpoint, body: dict[str, Any], *, validate: bool, params: dict[str, str]) -> Any:
    """POST a submission (add items to inventory, a transaction, ...) after checking the LucidIDs it carries.

    Args:
        transport: the transport.
        ep: a registered endpoint with a submission path.
        body: the JSON payload.
        validate: check the LucidIDs in the payload locally first (``False`` opts out).
        params: the endpoint's path parameters (``dispensary_uuid=``).

    Returns:
        The server's JSON answer (None for an empty one).

    Raises:
        LucidIDValidationError: a LucidID in the payload is malformed; nothing was sent.
        UnknownLucidIDError: the server did not know some ids; ``unknown_ids`` names them where it could be found
            out with read-only look-ups (the payload itself is never re-sent).
    """
    ids = _ids_in(ep, body)
    if validate and ids:
        check_ids_before_send(ids, kind="lucid_id")
    assert ep.submit_path is not None
    path = ep.format_path(ep.submit_path, params)
    try:
        reply = transport.send("POST", path, product=ep.product, bucket=ep.bucket, json_body=body, endpoint=ep.name)
        return reply.payload
    except UnknownLucidIDError as err:
        if err.unknown_ids is None and ids:
            _diagnose_unknown(transport, err, ids)
        raise


def _ids_in(ep: Endpoint, body: dict[str, Any]) -> list[str]:
    """The LucidIDs a payload carries in the fields the registry names."""
    ids: list[str] = []
    for field_name in ep.lucid_id_fields:
        value = body.get(field_name)
        if isinstance(value, list | tuple):
            ids.extend(value)
        elif value is not None:
            ids.append(value)
    return ids


def _diagnose_unknown(transport: Transport, err: UnknownLucidIDError, ids: list[str]) -> None:
    """Find which submitted LucidIDs the server does not know, by looking each up (GET items/<id>/, no side effects).

    Re-posting halves of the payload would find out too, but a POST may act (record a sale, add to inventory),
    so only read-only look-ups are used. If the look-ups themselves fail, ``unknown_ids`` stays None.
    """
    try:
        found = lookup(transport, get_endpoint("items"), ids, LookupOptions(workers=4, progress=False, validate=False))
    except APIError:
        return
    unknown = found.loc[found["_status"] == "not_found", "_id"].tolist()
    err.unknown_ids = [str(u) for u in unknown]
    if unknown:
        shown = ", ".join(err.unknown_ids[:10]) + (" ..." if len(unknown) > 10 else "")
        err.message += f" The server does not know {len(unknown)} of the {len(ids)} LucidIDs: {shown}."
    else:
        err.message += (
            f" All {len(ids)} LucidIDs exist: some are not in that case or collection, or belong to another dispensary."
        )
    err.args = (err.message,)
