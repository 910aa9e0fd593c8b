"""Client: the façade. It resolves settings once (arguments, then ``LUCID_*`` variables, then defaults), checks
each call's options once, and hands both to the loaders, which talk to the network only through the transport.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, overload

import pandas as pd
import requests

from lucidframes import config
from lucidframes._http.auth import Secret
from lucidframes._http.events import WaitHook
from lucidframes._http.retry import RetryPolicy
from lucidframes._http.transport import Transport
from lucidframes.client import arguments
from lucidframes.client.arguments import UNSET, RateLimits, endpoint_params
from lucidframes.client.arguments import Unset as _Unset
from lucidframes.client.connection import Connection
from lucidframes.client.settings import resolve_settings
from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import ConfigError
from lucidframes.loaders import load as drain
from lucidframes.loaders import lookup as lookups
from lucidframes.loaders.cache import ResultCache, identity_of, open_cache, parse_max_age, scope_key
from lucidframes.loaders.job import Job
from lucidframes.loaders.lookup_state import LookupState
from lucidframes.loaders.plan import Plan, plan_drain, plan_lookup
from lucidframes.loaders.progress import ProgressCallback
from lucidframes.loaders.state import DrainState
from lucidframes.loaders.stream import DrainOptions, PageStream

__all__ = ["Client"]

MaxAge = float | int | str | None


class Client(Connection):
    """A connection to the Lucid Green API (or the sandbox).

    Args:
        base_url: the API host only, e.g. ``https://source.lucidgreen.io`` (env ``LUCID_BASE_URL``).
        client_id: OAuth2 client id (env ``LUCID_CLIENT_ID``).
        client_secret: OAuth2 client secret (env ``LUCID_CLIENT_SECRET``).
        token: a fixed access token instead of client credentials (env ``LUCID_TOKEN``); never renewed.
        api_prefixes: version prefix per product, default ``{"source": "/api/v1.5/", "retail": "/api/v1.2/"}``.
        timeout: (connect, read) seconds for each socket operation, or one number for both.
        deadline: seconds one attempt may take from sending to the last byte of the body.
        retry: the RetryPolicy; the API guide's by default.
        sleep: the single hook through which every wait passes (tests record waits); by default a wait that a
            Stop or Ctrl-C ends at once.
        rate_limits: (requests, window seconds) per bucket ("source", "retail", "retail_public": the public
            look-up, limited per caller IP); the documented limits by default; None or False: off. A bucket left
            out of a mapping (or mapped to None) is not limited on this side.
        workers: concurrent page fetches for a drain (1 to 64).
        progress: show tqdm progress bars by default.
        session: a requests.Session to use (one is made otherwise; a ``requests_cache.CachedSession`` works).
        cache: a folder for the result cache, or True for the user cache dir (``LUCID_CACHE_DIR``, else
            ``~/.cache/lucidframes``); off by default. ``load``/``lookup`` read it when given ``max_age``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token: str | None = None,
        *,
        api_prefixes: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] = config.DEFAULT_TIMEOUT,
        deadline: float = config.DEFAULT_DEADLINE,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        rate_limits: RateLimits | bool | None = True,
        workers: int = config.DEFAULT_WORKERS,
        progress: bool = True,
        session: requests.Session | None = None,
        cache: str | os.PathLike[str] | bool | None = None,
    ) -> None:
        settings = resolve_settings(base_url, client_id, client_secret, token)
        self.base_url = settings.base_url
        self.client_id = settings.client_id
        self.workers = arguments.check_workers(workers)
        self.progress = bool(progress)
        if sleep is not None and not callable(sleep):
            raise ConfigError(f"sleep must be a callable taking seconds (got {type(sleep).__name__}).")
        # Wrapped at once, so no frame local of ours shows them (traceback reporters capture locals).
        credentials: tuple[str, Secret] | Secret
        if settings.auth == "token":
            assert settings.token is not None
            credentials = Secret(settings.token)
        else:
            assert settings.client_id is not None and settings.client_secret is not None
            credentials = (settings.client_id, Secret(settings.client_secret))
        self.transport = Transport(
            settings.base,
            api_prefixes=arguments.prefixes(api_prefixes),
            credentials=credentials,
            timeout=arguments.timeout(timeout),
            deadline=arguments.positive(deadline, "deadline"),
            retry=retry if retry is not None else RetryPolicy(),
            sleep=sleep,
            rate_limits=arguments.rate_limits(rate_limits),
            pool_size=max(self.workers, 10),
            session=session,
        )
        who = identity_of(settings.client_id if settings.auth != "token" else None, settings.token)  # never a secret
        self.scopes = {p: scope_key(self.base_url, prefix, who) for p, prefix in self.transport.prefixes.items()}
        self.cache: ResultCache | None = open_cache(cache, self.scopes)

    def __repr__(self) -> str:
        kind = "client credentials" if self.auth.renewable else "fixed token"
        return f"Client(base_url={self.base_url!r}, client_id={self.client_id!r}, auth={kind!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- loaders ------------------------------------------------------------------------------------------

    def iter_pages(
        self,
        name: str,
        page: int | None = None,
        pages: Iterable[int] | str | None = None,
        *,
        workers: int | _Unset = UNSET,
        progress: bool | _Unset = UNSET,
        on_drift: str = "refetch",
        resume: DrainState | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
        on_wait: WaitHook | None = None,
        keep_rows: bool = True,
        **params: Any,
    ) -> PageStream:
        """The pages of an endpoint as an iterator (the drain underneath ``load``); ``.info`` once it is done.

        Args:
            name: a registered list endpoint.
            page: only this page (1-based).
            pages: only these pages: a range, a list, or text such as ``"2-5"`` or ``"2,4,6"``.
            workers: concurrent page fetches (the client's default otherwise).
            progress: show a progress bar (the client's default otherwise).
            on_drift: "refetch", "warn" or "raise" when the data changes during the drain.
            resume: the ``.resume`` of an earlier failed, stopped or interrupted drain, to continue it.
            checkpoint: a file where fetched pages are kept, so a re-run continues where a failed one stopped.
            stop: an Event that stops the drain (it then raises DrainStopped with the partial result).
            on_progress: called as ``(pages_done, pages_total, rows, seconds_waited)`` after each page.
            on_wait: called with every WaitEvent as the wait starts.
            keep_rows: False when the consumer keeps the rows itself (the drain then keeps only their keys).
            **params: the endpoint's path and query parameters (``asset_type="images"``).

        Returns:
            The PageStream: iterate it for ``Page`` objects (number, count, rows, drain_pass).
        """
        ep, checked, options = self._drain(
            name, page, pages, workers=workers, progress=progress, on_drift=on_drift, resume=resume,
            checkpoint=checkpoint, stop=stop, on_progress=on_progress, on_wait=on_wait, keep_rows=keep_rows, **params,
        )  # fmt: skip
        return PageStream(self.transport, ep, checked, options)

    def _drain(
        self,
        name: str,
        page: int | None,
        pages: Iterable[int] | str | None,
        *,
        workers: int | _Unset = UNSET,
        progress: bool | _Unset = UNSET,
        on_drift: str = "refetch",
        resume: DrainState | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
        on_wait: WaitHook | None = None,
        keep_rows: bool = True,
        flatten: bool = True,
        background: bool = False,
        **params: Any,
    ) -> tuple[Endpoint, dict[str, str], DrainOptions]:
        """The endpoint, its checked parameters and the drain options: every check, before any stream exists.

        In the background the drain draws no tqdm bar unless asked (one drawn from a thread lands in whichever
        cell runs then) and always has a Stop event (the Job's).
        """
        ep, chosen = arguments.list_endpoint(name, page, pages, on_drift)
        background = arguments.flag(background, "background")
        checked = endpoint_params(ep, params)
        options = DrainOptions(
            workers=self._workers(workers),
            progress=(self.progress and not background) if progress is UNSET else bool(progress),
            on_drift=on_drift,
            flatten=bool(flatten),
            stop=arguments.stop_event(stop, background),
            on_progress=on_progress,
            resume=resume,
            checkpoint=arguments.checkpoint_path(checkpoint),
            hooks=(on_wait,) if on_wait is not None else (),
            pages=chosen if ep.list_shape == "paginated" else None,
            keep_rows=keep_rows,
            scope=self.scopes.get(ep.product, ""),
        )
        return ep, checked, options

    @overload
    def load(self, name: str, page: int | None = ..., pages: Iterable[int] | str | None = ..., *,
             background: Literal[False] = ..., **kwargs: Any) -> pd.DataFrame: ...  # fmt: skip
    @overload
    def load(self, name: str, page: int | None = ..., pages: Iterable[int] | str | None = ..., *,
             background: Literal[True], **kwargs: Any) -> Job: ...  # fmt: skip

    def load(
        self,
        name: str,
        page: int | None = None,
        pages: Iterable[int] | str | None = None,
        *,
        flatten: bool = True,
        max_age: MaxAge = None,
        background: bool = False,
        **kwargs: Any,
    ) -> pd.DataFrame | Job:
        """Load an endpoint into a typed DataFrame: every page by default, or one page, or some pages.

        Args:
            name: a registered endpoint name (``lucidframes endpoints`` lists them).
            page: fetch only this page (1-based).
            pages: fetch only these pages: a range, a list, or text such as ``"2-5"`` or ``"2,4,6"``.
            flatten: expand nested objects into dotted columns.
            max_age: with a cache, serve a whole drain fetched at most this long ago (seconds, or ``"1h"``,
                ``"7d"``) without any request; otherwise fetch it and store it.
            background: return an ``lf.Job`` at once and drain in the background (``job.status``, ``job.stop()``,
                ``job.result()``); every argument is checked first.
            **kwargs: path and query parameters (``asset_type="images"``) and the options of ``iter_pages``
                (``workers``, ``progress``, ``on_drift``, ``resume``, ``checkpoint``, ``stop``, ``on_progress``).

        Returns:
            The DataFrame, with ``df.attrs["lucidframes"]`` describing the drain (a Job with ``background=True``).
        """
        age = self._max_age(max_age)
        # Checked and built once, inside drain.load (a PageStream built here only to check read a checkpoint twice).
        ep, params, options = self._drain(name, page, pages, flatten=flatten, background=background, **kwargs)
        run = functools.partial(drain.load, self.transport, ep, params, options, cache=self.cache, max_age=age)
        return Job(name, run, stop=options.stop, kind="load") if background else run()

    @overload
    def lookup(self, name: str, ids: Iterable[str], *, background: Literal[False] = ...,
               **kwargs: Any) -> pd.DataFrame: ...  # fmt: skip
    @overload
    def lookup(self, name: str, ids: Iterable[str], *, background: Literal[True], **kwargs: Any) -> Job: ...

    def lookup(
        self,
        name: str,
        ids: Iterable[str],
        *,
        workers: int | _Unset = UNSET,
        progress: bool | _Unset = UNSET,
        validate: bool = True,
        flatten: bool = True,
        on_wait: WaitHook | None = None,
        max_age: MaxAge = None,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: LookupState | None = None,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
        background: bool = False,
        **params: Any,
    ) -> pd.DataFrame | Job:
        """Fetch a single-resource endpoint for many ids into one DataFrame (ids not found are reported, not fatal).

        Args:
            name: a registered single-resource endpoint (``items``, ``products``, ``batches``, ...).
            ids: the ids to look up (a list, a Series, any iterable of strings; not one string).
            workers: concurrent requests (the client's default otherwise).
            progress: show a progress bar (the client's default otherwise).
            validate: check LucidIDs before sending (default True; nothing is sent if one is bad).
            flatten: expand nested objects into dotted columns.
            on_wait: called with every WaitEvent as the wait starts.
            max_age: with a cache, serve ids looked up at most this long ago (seconds, or ``"1h"``, ``"7d"``) and
                send only the missing or stale ones.
            checkpoint: a file where answers are kept as they arrive, so a re-run sends only the ids not done.
            resume: the ``.resume`` of an earlier look-up that gave up or was interrupted, to continue it.
            stop: an Event that stops the look-up within a second (it raises DrainStopped with what was fetched).
            on_progress: called as ``(ids_done, ids, rows, seconds_waited)`` as answers arrive.
            background: return an ``lf.Job`` at once (the ids checked first) and look up in the background.
            **params: the endpoint's path parameters (``asset_type="images"``).

        Returns:
            One row per id, with a ``_status`` column (``ok``, ``not_found``, ...) (a Job with ``background=True``).

        Raises:
            APIError: the retry policy gave up (server failing, network gone, ...): ``.partial`` holds every id
                (``_status`` "pending" for those not done), ``.resume`` the state to pass back.
            LookupInterrupted: Ctrl-C, with the same ``.partial`` and ``.resume``.
        """
        ep, checked = arguments.lookup_endpoint(name, ids, params)
        ids, background = list(ids), arguments.flag(background, "background")
        if resume is not None and not isinstance(resume, LookupState):
            raise ConfigError(f"resume= takes the .resume of a look-up, not {type(resume).__name__}.")
        options = lookups.LookupOptions(
            workers=self._workers(workers),
            progress=(self.progress and not background) if progress is UNSET else bool(progress),
            validate=validate,
            flatten=flatten,
            hooks=(on_wait,) if on_wait is not None else (),
            max_age=self._max_age(max_age),
            checkpoint=arguments.checkpoint_path(checkpoint),
            resume=resume,
            stop=arguments.stop_event(stop, background),
            on_progress=on_progress,
            scope=self.scopes.get(ep.product, ""),
        )
        run = functools.partial(lookups.lookup, self.transport, ep, ids, options, params=checked, cache=self.cache)
        if background:
            lookups.unique_ids(ep, ids, validate=validate)  # a bad LucidID raises now, with nothing sent
        return Job(name, run, stop=options.stop, kind="lookup") if background else run()

    def plan(
        self,
        name: str,
        ids: Iterable[str] | None = None,
        *,
        workers: int | _Unset = UNSET,
        max_age: MaxAge = None,
        checkpoint: str | os.PathLike[str] | None = None,
        validate: bool = True,
        **params: Any,
    ) -> Plan:
        """What ``load(name, **params)`` (no ids) or ``lookup(name, ids, **params)`` will cost, before it runs.

        A drain's plan fetches page 1 (one request, for the count and page size) unless the cache holds it fresh;
        a look-up's plan sends nothing.

        Args:
            name: a registered endpoint.
            ids: the ids of a look-up; None plans a load.
            workers: as the call would be given them (the client's default otherwise).
            max_age: as the call would be given it (what the cache serves is not requested).
            checkpoint: a look-up's checkpoint file (ids it holds are not requested).
            validate: check LucidIDs as the look-up would.
            **params: the endpoint's path and query parameters.

        Returns:
            The Plan: ``requests``, ``seconds``, ``cached``, ``bucket``, ``limit``; its repr is one line.
        """
        age = self._max_age(max_age)
        n = self._workers(workers)
        if ids is None:
            ep = get_endpoint(name)
            if ep.list_path is None:
                raise ConfigError(f"Endpoint {name!r} has no list to load: plan a look-up with ids=.")
            return plan_drain(self.transport, ep, endpoint_params(ep, params), workers=n, cache=self.cache, max_age=age)
        ep, checked = arguments.lookup_endpoint(name, ids, params)
        _, unique = lookups.unique_ids(ep, list(ids), validate=validate)
        where = arguments.checkpoint_path(checkpoint)
        return plan_lookup(
            self.transport, ep, unique, checked, workers=n, cache=self.cache, max_age=age, checkpoint=where,
            scope=self.scopes.get(ep.product, ""),
        )  # fmt: skip

    def submit(self, name: str, body: dict[str, Any], *, validate: bool = True, **path_params: Any) -> Any:
        """POST a submission that carries LucidIDs, after checking them locally (nothing is sent if one is bad).

        Args:
            name: a registered submission (``add_items``, ``transactions_complete``, ...).
            body: the JSON payload.
            validate: check the payload's LucidIDs first; ``False`` is the explicit opt-out.
            **path_params: the endpoint's path parameters (``dispensary_uuid=``).

        Returns:
            The server's JSON answer.
        """
        ep = get_endpoint(name)
        if ep.submit_path is None:
            raise ConfigError(f"Endpoint {name!r} takes no submissions; use client.load or client.lookup.")
        if not isinstance(body, dict):
            raise ConfigError(f"body must be a dict (the JSON payload), not {type(body).__name__}.")
        return lookups.submit(self.transport, ep, body, validate=validate, params=endpoint_params(ep, path_params))

    def _workers(self, workers: int | _Unset) -> int:
        """The worker count for a call, checked, with the pool grown to match."""
        self.transport.ensure_pool(n := self.workers if workers is UNSET else arguments.check_workers(workers))
        return n

    def _max_age(self, max_age: MaxAge) -> float | None:
        """``max_age`` in seconds, checked; it needs a cache to read."""
        age = parse_max_age(max_age)
        if age is not None and self.cache is None:
            raise ConfigError("max_age= reads the result cache, and this client has none: lf.Client(..., cache=True).")
        return age
