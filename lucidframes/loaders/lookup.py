"""Single-resource endpoints for many ids (``Client.lookup``) and submissions that send LucidIDs (``Client.submit``).

Both guard LucidIDs: they are checked locally before anything is sent (the specification says to validate the
format before any call), and a bad id raises ``LucidIDValidationError`` listing every bad one, with nothing sent.

A look-up answers one row per id: ``ok``, or the server's definite word about that id (``not_found``,
``forbidden``, ``error`` for another refusal). It *gives up* when the retry policy does (the server failing, the
network gone, 429s beyond the ceiling, a body that is not JSON, credentials refused): then no id after it would fare
better, so the error is raised with ``.partial`` (every id: the rows so far, ``_status`` "pending" for the rest)
and ``.resume``; Ctrl-C raises ``LookupInterrupted`` with the same two, after keeping the answers already on their
way (at most ``INTERRUPT_GRACE`` seconds). With a cache and ``max_age``, fresh ids are served from it and only the
rest are sent; every answer worth keeping is stored as it arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from lucidframes import config
from lucidframes._http.events import WaitHook, WaitStats
from lucidframes._http.transport import Cancelled, Transport
from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import (
    APIError,
    AuthenticationError,
    DecodeError,
    ForbiddenError,
    LookupInterrupted,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    UnknownLucidIDError,
)
from lucidframes.loaders.cache import ResultCache
from lucidframes.loaders.frames import to_frame
from lucidframes.loaders.lookup_state import LookupCheckpoint, LookupState, said_resumed
from lucidframes.loaders.progress import DrainProgress
from lucidframes.lucidid import check_ids_before_send

__all__ = ["GIVE_UP", "LookupOptions", "lookup", "submit"]

STATUS_COLUMNS = ("_status", "_error")
# Failures after which the retry policy has given up for every id, not only this one.
GIVE_UP: tuple[type[APIError], ...] = (TransportError, ServerError, RateLimitError, DecodeError, AuthenticationError)
E = TypeVar("E", APIError, LookupInterrupted)


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
    scope: str = ""  # the cache's scope (server, API prefix, account): a checkpoint of another is refused


def unique_ids(ep: Endpoint, ids: Sequence[str], *, validate: bool) -> tuple[list[str], list[str]]:
    """(the ids as text, in order; the same without duplicates), after the local LucidID check where it applies."""
    wanted = [str(i) if not isinstance(i, str) else i for i in ids]
    if validate and ep.id_kind == "lucid_id":
        check_ids_before_send(wanted, kind="lucid_id")
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
    return _frame(ep, wanted, run.found(), params, run.stats, flatten=options.flatten, extra=extra)


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
        self.cancel = threading.Event()
        self.wanted: list[str] = []
        assert ep.detail_path is not None
        self._template = ep.detail_path

    def found(self) -> dict[str, dict[str, Any]]:
        """Every row known: from the cache, then answered (this run or the one resumed)."""
        return {**self.rows, **self.state.rows}

    def go(self, unique: list[str], todo: list[str]) -> None:
        """Fetch ``todo``; attach the partial result to a give-up, or raise LookupInterrupted on Ctrl-C."""
        self.wanted = unique
        with DrainProgress(self.ep.name, self.options.progress, total=len(unique), stats=self.stats, unit="id") as bar:
            if len(unique) > len(todo):
                bar.set_total(len(unique), done=len(unique) - len(todo))
            hooks: tuple[WaitHook, ...] = (self.stats, bar, *self.options.hooks)
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
        try:
            self._submit(pool, pending, futures, hooks, workers)
            while futures:
                done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
                failure = self._collect(done, futures, bar)
                if failure is not None:
                    self.cancel.set()  # every wait ends at once; no new request starts
                    self._drain_in_flight(futures, bar)
                    raise failure
                bar.refresh_waits()
                self._submit(pool, pending, futures, hooks, workers)
        except KeyboardInterrupt:
            self.cancel.set()
            self._drain_in_flight(futures, bar)
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
            futures[pool.submit(_fetch_one, self.transport, self.ep, path, hooks, self.cancel)] = id_

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

    def _drain_in_flight(self, futures: dict[Future[dict[str, Any]], str], bar: DrainProgress) -> None:
        """Keep the answers of requests already sent, waiting at most INTERRUPT_GRACE seconds (a second Ctrl-C:
        none)."""
        try:
            done, _ = wait(futures, timeout=config.INTERRUPT_GRACE)
            self._collect(done, futures, bar)
        except KeyboardInterrupt:
            pass

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

    def attach(self, err: E) -> E:
        """Give an error every id's row so far (``pending`` where not answered) and the state to resume from."""
        found = self.found()
        for id_ in self.wanted:
            found.setdefault(id_, {"_status": "pending", "_error": None})
        extra = {"cached": len(self.rows)}
        err.partial = _frame(
            self.ep, self.wanted, found, self.params, self.stats, flatten=self.options.flatten, extra=extra
        )
        err.resume = self.state
        return err


def _fetch_one(
    transport: Transport, ep: Endpoint, path: str, hooks: Sequence[WaitHook], cancel: threading.Event
) -> dict[str, Any]:
    """One look-up, as a row: the body with ``_status`` ok, or the server's word about this id; give-ups raise."""
    try:
        body = transport.send(
            "GET", path, product=ep.product, bucket=ep.bucket, hooks=hooks, cancel=cancel, endpoint=ep.name
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


def _frame(
    ep: Endpoint,
    wanted: list[str],
    found: dict[str, dict[str, Any]],
    params: dict[str, str],
    stats: WaitStats,
    *,
    flatten: bool,
    extra: dict[str, Any],
) -> pd.DataFrame:
    """One row per id asked for, typed, the status columns last, the look-up's account in ``attrs``."""
    records = [{"_id": i, **found[i]} for i in wanted]
    columns = {"_id": "string", **ep.lookup_columns}
    df = to_frame(records, columns, flatten=flatten)
    df = df[[c for c in df.columns if c not in STATUS_COLUMNS] + list(STATUS_COLUMNS)]
    df["_status"] = df["_status"].astype("str")
    statuses = df["_status"].value_counts().to_dict()
    df.attrs["lucidframes"] = {
        "endpoint": ep.name,
        "params": params,
        "ids": len(wanted),
        "requests": len(found),
        "statuses": {str(k): int(v) for k, v in statuses.items()},
        "retries": stats.retries,
        "total_wait": stats.total_wait,
        **extra,
    }
    return df


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
