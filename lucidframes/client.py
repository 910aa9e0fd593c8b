"""Client: the façade. It resolves settings once (arguments, then ``LUCID_*`` variables, then defaults), checks
each call's options once, and hands both to the loaders, which talk to the network only through the transport.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from lucidframes import config
from lucidframes._http.auth import Secret, TokenProvider
from lucidframes._http.events import WaitHook
from lucidframes._http.retry import RetryPolicy
from lucidframes._http.transport import Reply, Transport
from lucidframes.errors import ConfigError
from lucidframes.loaders import drain, lookups
from lucidframes.loaders.endpoints import Endpoint, get_endpoint
from lucidframes.loaders.pages import DRIFT_POLICIES, DrainState
from lucidframes.loaders.progress import ProgressCallback
from lucidframes.loaders.stream import DrainOptions, PageStream

__all__ = ["Client"]

RateLimits = Mapping[str, tuple[int, float]]


class _Unset(Enum):
    """The "not given" sentinel: ``None``, ``0`` and ``False`` are values a caller may mean."""

    UNSET = "unset"


UNSET = _Unset.UNSET


class Client:
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
        rate_limits: (requests, window seconds) per product; the documented limits by default; None or False: off.
        workers: concurrent page fetches for a drain (1 to 64).
        progress: show tqdm progress bars by default.
        session: a requests.Session to use (one is made otherwise).
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
    ) -> None:
        settings = config.resolve_settings(base_url, client_id, client_secret, token)
        self.base_url = settings.base_url
        self.client_id = settings.client_id
        self.workers = config.check_workers(workers)
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
            api_prefixes=_prefixes(api_prefixes),
            credentials=credentials,
            timeout=_timeout(timeout),
            deadline=_positive(deadline, "deadline"),
            retry=retry if retry is not None else RetryPolicy(),
            sleep=sleep,
            rate_limits=_rate_limits(rate_limits),
            pool_size=max(self.workers, 10),
            session=session,
        )

    def __repr__(self) -> str:
        kind = "client credentials" if self.auth.renewable else "fixed token"
        return f"Client(base_url={self.base_url!r}, client_id={self.client_id!r}, auth={kind!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()

    @property
    def auth(self) -> TokenProvider:
        """The token provider (client credentials or a fixed token)."""
        return self.transport.auth

    @property
    def session(self) -> requests.Session:
        """The pooled requests.Session."""
        return self.transport.session

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds."""
        return self.transport.timeout

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy."""
        return self.transport.retry

    # -- raw requests -------------------------------------------------------------------------------------

    def url_for(self, path: str, product: str = "source") -> str:
        """The absolute URL of an API path such as ``products/`` for a product ("source" or "retail").

        Args:
            path: the path below the product's version prefix.
            product: "source" or "retail".

        Returns:
            The absolute URL on the configured base.
        """
        return self.transport.url(path, product)

    def get_json(self, path: str, *, product: str = "source", params: Mapping[str, Any] | None = None) -> Any:
        """GET an API path and return its parsed JSON body (retried per the policy).

        Args:
            path: path below the product's prefix.
            product: "source" or "retail".
            params: query parameters.

        Returns:
            The decoded JSON.
        """
        return self.transport.send("GET", path, product=product, params=params).payload

    def post_json(self, path: str, body: Any, *, product: str = "source") -> Any:
        """POST a JSON body to an API path and return the parsed JSON answer (None for an empty one).

        Args:
            path: path below the product's prefix.
            body: the JSON-serialisable payload.
            product: "source" or "retail".

        Returns:
            The decoded JSON, or None for an empty body.
        """
        return self.transport.send("POST", path, product=product, json_body=body).payload

    def request(
        self,
        method: str,
        path: str,
        *,
        product: str = "source",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Reply:
        """Send any request with the client's auth, retries and rate limit; return the Reply.

        Args:
            method: the HTTP method.
            path: path below the product's prefix.
            product: "source" or "retail".
            params: query parameters.
            json: a JSON payload.

        Returns:
            The successful Reply (status, payload, headers, request_id, history).
        """
        return self.transport.send(method, path, product=product, params=params, json_body=json)

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
        ep = get_endpoint(name)
        if ep.list_path is None:
            hint = f"use client.lookup({name!r}, ids)" if ep.detail_path else f"use client.submit({name!r}, ...)"
            raise ConfigError(f"Endpoint {name!r} has no list to load: {hint}.")
        if on_drift not in DRIFT_POLICIES:
            raise ConfigError(f"on_drift must be one of {', '.join(DRIFT_POLICIES)} (got {on_drift!r})")
        chosen = _chosen_pages(page, pages)
        if chosen is not None and ep.list_shape != "paginated" and chosen != (1,):
            raise ConfigError(f"Endpoint {name!r} is not paginated: it has no pages to choose.")
        checked = _params(ep, params)
        n = self._workers(workers)
        options = DrainOptions(
            workers=n,
            progress=self.progress if progress is UNSET else bool(progress),
            on_drift=on_drift,
            flatten=True,
            stop=stop,
            on_progress=on_progress,
            resume=resume,
            checkpoint=Path(checkpoint) if checkpoint is not None else None,
            hooks=(on_wait,) if on_wait is not None else (),
            pages=chosen if ep.list_shape == "paginated" else None,
            keep_rows=keep_rows,
        )
        return PageStream(self.transport, ep, checked, options)

    def load(
        self,
        name: str,
        page: int | None = None,
        pages: Iterable[int] | str | None = None,
        *,
        flatten: bool = True,
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Load an endpoint into a typed DataFrame: every page by default, or one page, or some pages.

        Args:
            name: a registered endpoint name (``lucidframes endpoints`` lists them).
            page: fetch only this page (1-based).
            pages: fetch only these pages: a range, a list, or text such as ``"2-5"`` or ``"2,4,6"``.
            flatten: expand nested objects into dotted columns.
            **kwargs: path and query parameters (``asset_type="images"``) and the options of ``iter_pages``
                (``workers``, ``progress``, ``on_drift``, ``resume``, ``checkpoint``, ``stop``, ``on_progress``).

        Returns:
            The DataFrame, with ``df.attrs["lucidframes"]`` describing the drain.
        """
        stream = self.iter_pages(name, page, pages, **kwargs)
        options = dataclasses.replace(stream.options, flatten=bool(flatten))
        return drain.load(self.transport, stream.ep, stream.params, options)

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
        **params: Any,
    ) -> pd.DataFrame:
        """Fetch a single-resource endpoint for many ids into one DataFrame (ids not found are reported, not fatal).

        Args:
            name: a registered single-resource endpoint (``items``, ``products``, ``batches``, ...).
            ids: the ids to look up (a list, a Series, any iterable of strings; not one string).
            workers: concurrent requests (the client's default otherwise).
            progress: show a progress bar (the client's default otherwise).
            validate: check LucidIDs before sending (default True; nothing is sent if one is bad).
            flatten: expand nested objects into dotted columns.
            on_wait: called with every WaitEvent as the wait starts.
            **params: the endpoint's path parameters (``asset_type="images"``).

        Returns:
            One row per id, with a ``_status`` column (``ok``, ``not_found``, ...).
        """
        ep = get_endpoint(name)
        if ep.detail_path is None:
            raise ConfigError(f"Endpoint {name!r} has no single-resource look-up; use client.load({name!r}).")
        if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
            raise ConfigError(f"ids must be a list (or another iterable) of ids, not {type(ids).__name__}.")
        return lookups.lookup(
            self.transport,
            ep,
            list(ids),
            workers=self._workers(workers),
            progress=self.progress if progress is UNSET else bool(progress),
            validate=validate,
            flatten=flatten,
            params=_params(ep, params),
            hooks=(on_wait,) if on_wait is not None else (),
        )

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
        return lookups.submit(self.transport, ep, body, validate=validate, params=_params(ep, path_params))

    def _workers(self, workers: int | _Unset) -> int:
        """The worker count for a call, checked, with the pool grown to match."""
        n = self.workers if workers is UNSET else config.check_workers(workers)
        self.transport.ensure_pool(n)
        return n


def _params(ep: Endpoint, params: Mapping[str, Any]) -> dict[str, str]:
    """The endpoint's parameters as text, checked against the registry (unknown or missing ones refused)."""
    checked = {k: str(v) for k, v in params.items()}
    ep.format_path(ep.list_path or ep.detail_path or ep.submit_path or "", checked, id_="x")
    return checked


def _chosen_pages(page: int | None, pages: Iterable[int] | str | None) -> tuple[int, ...] | None:
    """The pages asked for, sorted and unique, or None for a whole drain."""
    if page is not None and pages is not None:
        raise ConfigError("Pass page= or pages=, not both.")
    if page is not None:
        wanted: list[Any] = [page]
    elif pages is None:
        return None
    elif isinstance(pages, str):
        wanted = _pages_text(pages)
    elif isinstance(pages, Iterable):
        wanted = list(pages)
    else:
        raise ConfigError(f"pages= takes a range, a list or text like '2-5' (got {type(pages).__name__}).")
    if not wanted or any(isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in wanted):
        raise ConfigError(f"Pages are whole numbers from 1 (got {wanted!r}).")
    return tuple(sorted(set(wanted)))


def _pages_text(text: str) -> list[int]:
    """``"2-5"``, ``"2,4,6"`` or ``"3"`` (and mixes such as ``"1,3-4"``) as page numbers."""
    out: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None or (match[2] is not None and int(match[2]) < int(match[1])):
            raise ConfigError(f"pages= text looks like '2-5', '2,4,6' or '3' (got {text!r}).")
        first, last = int(match[1]), int(match[2] or match[1])
        out.extend(range(first, last + 1))
    return out


def _timeout(value: object) -> tuple[float, float]:
    """(connect, read) from one number or a pair."""
    pair = (value, value) if isinstance(value, int | float) else value
    if not isinstance(pair, tuple) or len(pair) != 2:
        raise ConfigError(f"timeout is seconds or (connect, read) seconds (got {value!r}).")
    return _positive(pair[0], "timeout"), _positive(pair[1], "timeout")


def _positive(value: object, what: str) -> float:
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ConfigError(f"{what} must be a positive number of seconds (got {value!r}).")
    return float(value)


def _prefixes(value: Mapping[str, str] | None) -> dict[str, str]:
    """The version prefix per product: the defaults, overridden by what is given."""
    prefixes = {**config.DEFAULT_API_PREFIXES, **(value or {})}
    for product, prefix in prefixes.items():
        if not isinstance(prefix, str) or not re.fullmatch(r"/?[A-Za-z0-9._/-]*", prefix):
            raise ConfigError(f"api_prefixes[{product!r}] must be a path such as '/api/v1.5/' (got {prefix!r}).")
    return prefixes


def _rate_limits(value: RateLimits | bool | None) -> dict[str, tuple[int, float]]:
    """The client-side limits: the documented ones (True), none (None or False), or the mapping given."""
    if value is True:
        return dict(config.DEFAULT_RATE_LIMITS)
    if value is None or value is False:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"rate_limits takes {{product: (requests, seconds)}}, True or None (got {value!r}).")
    out: dict[str, tuple[int, float]] = {}
    for product, limit in value.items():
        if not (isinstance(limit, tuple) and len(limit) == 2 and isinstance(limit[0], int) and limit[0] >= 1):
            raise ConfigError(f"rate_limits[{product!r}] must be (requests, seconds), got {limit!r}.")
        out[product] = (limit[0], _positive(limit[1], f"rate_limits[{product!r}] window"))
    return out
