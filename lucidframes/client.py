"""Client: one pooled requests.Session with timeouts, auth, retries, rate limiting and a same-origin guard.

Every request goes through ``Client._send``: the one loop that applies the retry table (``retry.py``), renews the
token once on a 401, shares the rate limiter between workers, and passes every wait through the ``sleep`` hook.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from lucidframes import config
from lucidframes._version import __version__
from lucidframes.auth import ClientCredentials, StaticToken, TokenProvider
from lucidframes.errors import (
    APIError,
    Attempt,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConnectError,
    DecodeError,
    ForbiddenError,
    HTTPStatusError,
    MethodNotAllowedError,
    NotFoundError,
    PaginationError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    UnknownLucidIDError,
)
from lucidframes.ratelimit import SlidingWindowLimiter
from lucidframes.retry import RetryPolicy, parse_retry_after

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Client", "WaitObserver", "check_same_origin"]

log = logging.getLogger("lucidframes")

# observer(kind, seconds): kind is "retry" (backoff or Retry-After) or "throttle" (client-side rate limit).
WaitObserver = Callable[[str, float], None]

USER_AGENT = (
    f"lucidframes/{__version__} (+https://pypi.org/project/lucidframes/) python-requests/{requests.__version__}"
)
RateLimits = Mapping[str, tuple[int, float]]


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:  # a port that is not a number
        port = None
    return scheme, (parts.hostname or "").lower(), port


def check_same_origin(url: str, base_url: str) -> str:
    """Accept a URL taken from a response only if its scheme, host and port are the base URL's.

    Args:
        url: the URL to follow (a ``next`` link, say).
        base_url: the client's base URL.

    Returns:
        ``url`` unchanged.

    Raises:
        PaginationError: the URL points to another origin; credentials are never sent there.
    """
    if _origin(url) != _origin(base_url) or not urlsplit(url).hostname:
        scheme, host, port = _origin(url)
        raise PaginationError(
            f"Refusing to follow a link to another origin ({scheme}://{host}:{port}); the API is at "
            f"{base_url}. Credentials are only sent to the configured base URL.",
            url=None,
        )
    return url


class Client:
    """A connection to the Lucid Green API (or the sandbox).

    Args:
        base_url: the API host, e.g. ``https://source.lucidgreen.io`` (env ``LUCID_BASE_URL``).
        client_id: OAuth2 client id (env ``LUCID_CLIENT_ID``).
        client_secret: OAuth2 client secret (env ``LUCID_CLIENT_SECRET``).
        token: a fixed access token instead of client credentials (env ``LUCID_TOKEN``); never renewed.
        api_prefixes: version prefix per product, default ``{"source": "/api/v1.5/", "retail": "/api/v1.2/"}``.
        timeout: (connect, read) seconds for every request.
        retry: the RetryPolicy; the API guide's by default.
        sleep: the single hook through which every wait passes (``time.sleep`` by default; tests record waits).
        rate_limits: (requests, window seconds) per product; the documented limits by default; None or False: off.
        workers: concurrent page fetches for a drain.
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
        self.api_prefixes = {**config.DEFAULT_API_PREFIXES, **(api_prefixes or {})}
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        # Looked up at construction (not bound as a default), so patching time.sleep reaches every client.
        self.sleep: Callable[[float], None] = sleep or time.sleep
        if workers < 1:
            raise ConfigError("workers must be at least 1")
        self.workers = workers
        self.progress = progress
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(workers, 10), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if rate_limits is True:
            rate_limits = config.DEFAULT_RATE_LIMITS
        self.limiters: dict[str, SlidingWindowLimiter] = {
            product: SlidingWindowLimiter(n, window, sleep=self.sleep)
            for product, (n, window) in (rate_limits or {}).items()
        }
        self.auth: TokenProvider
        # An explicit token= wins; otherwise client credentials (renewable) win over LUCID_TOKEN.
        if token is None and settings.client_id and settings.client_secret:
            self.auth = ClientCredentials(
                self.base_url + config.TOKEN_PATH, settings.client_id, settings.client_secret, self._post_token
            )
        else:
            assert settings.token is not None  # resolve_settings refuses a configuration with neither
            self.auth = StaticToken(settings.token)

    def __repr__(self) -> str:
        kind = "client credentials" if self.auth.renewable else "fixed token"
        return f"Client(base_url={self.base_url!r}, client_id={self.client_id!r}, auth={kind!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    # -- URLs -------------------------------------------------------------------------------------------------

    def url_for(self, path: str, product: str = "source") -> str:
        """The absolute URL of an API path such as ``products/`` for a product ("source" or "retail").

        Args:
            path: the path below the product's version prefix; an absolute URL is checked and returned as is.
            product: "source" or "retail".

        Returns:
            The absolute URL.
        """
        if path.startswith(("http://", "https://")):
            return check_same_origin(path, self.base_url)
        try:
            prefix = self.api_prefixes[product]
        except KeyError:
            raise ConfigError(f"Unknown product {product!r}: expected one of {sorted(self.api_prefixes)}") from None
        return self.base_url + "/" + prefix.strip("/") + "/" + path.lstrip("/")

    # -- requests ---------------------------------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        *,
        product: str = "source",
        params: Mapping[str, Any] | None = None,
        observer: WaitObserver | None = None,
    ) -> Any:
        """GET an API path and return its parsed JSON body (retried per the policy).

        Args:
            path: path below the product's prefix, or an absolute same-origin URL.
            product: "source" or "retail".
            params: query parameters.
            observer: called with ("retry" | "throttle", seconds) for each wait.

        Returns:
            The decoded JSON.
        """
        return self._send("GET", self.url_for(path, product), product=product, params=params, observer=observer)[1]

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        product: str = "source",
        observer: WaitObserver | None = None,
    ) -> Any:
        """POST a JSON body to an API path and return the parsed JSON answer (None for an empty one).

        Args:
            path: path below the product's prefix.
            body: the JSON-serialisable payload.
            product: "source" or "retail".
            observer: called with ("retry" | "throttle", seconds) for each wait.

        Returns:
            The decoded JSON, or None for an empty body.
        """
        url = self.url_for(path, product)
        return self._send("POST", url, product=product, json=body, observer=observer)[1]

    def request(self, method: str, path: str, *, product: str = "source", **kwargs: Any) -> requests.Response:
        """Send any request with the client's auth, retries and rate limit; return the raw response.

        Args:
            method: the HTTP method.
            path: path below the product's prefix, or an absolute same-origin URL.
            product: "source" or "retail".
            **kwargs: ``params``, ``json``, ``data`` or ``observer``.

        Returns:
            The successful response.
        """
        return self._send(method, self.url_for(path, product), product=product, parse=False, **kwargs)[0]

    def _post_token(self, url: str, form: dict[str, str]) -> requests.Response:
        """POST the token form (no bearer header; safe to repeat, so retried like a GET)."""
        return self._send("POST", url, product=None, data=form, authenticate=False, idempotent=True, parse=False)[0]

    def _send(
        self,
        method: str,
        url: str,
        *,
        product: str | None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        observer: WaitObserver | None = None,
        authenticate: bool = True,
        idempotent: bool = False,
        parse: bool = True,
    ) -> tuple[requests.Response, Any]:
        """The one request loop: rate limit, auth, send, classify, retry or raise."""
        method = method.upper()
        retry_method = "GET" if idempotent else method
        limiter = self.limiters.get(product) if product else None
        history: list[Attempt] = []
        renewed = False
        delay = 0.0  # the retry wait owed before the next attempt
        retries = 0
        while True:
            slot = self._wait(delay, limiter, observer)
            headers = {}
            token = None
            if authenticate:
                token = self.auth.token()
                headers["Authorization"] = f"Bearer {token}"
            try:
                response = self.session.request(
                    method, url, params=params, json=json, data=data, headers=headers, timeout=self.timeout
                )
                payload = _decode(response) if parse and response.status_code < 300 else None
            except (requests.exceptions.RequestException, _BadJSON) as exc:
                if limiter is not None and slot is not None:
                    limiter.settle(slot)
                sent = _was_sent(exc)
                decision = self.retry.decide(retries + 1, status=None, method=retry_method, sent=sent)
                history.append(Attempt(None, _describe(exc), decision.wait if decision.retry else 0.0))
                if not decision.retry:
                    raise _transport_error(exc, method, url, history, decision.reason) from None
                log.info("%s %s failed (%s); retrying in %.3gs", method, url, _describe(exc), decision.wait)
                retries += 1
                delay = decision.wait
                continue
            status = response.status_code
            if limiter is not None and slot is not None:
                # The server counts what it handled (by now), and nothing it throttled.
                if status == 429:
                    limiter.release(slot)
                else:
                    limiter.settle(slot)
            if status == 401 and authenticate:
                if self.auth.renewable and not renewed and token is not None:
                    # The token expired or was revoked: fetch a new one once and rebuild the request.
                    renewed = True
                    history.append(Attempt(401, "token refused; renewing once", 0.0))
                    self.auth.invalidate(token)
                    delay = 0.0
                    continue
                history.append(Attempt(401, None, 0.0))
                raise _auth_error(self.auth.renewable, method, url, history)
            if status < 400:
                return response, payload
            retry_after = response.headers.get("Retry-After")
            decision = self.retry.decide(retries + 1, status=status, retry_after=retry_after, method=retry_method)
            history.append(Attempt(status, None, decision.wait if decision.retry else 0.0))
            if not decision.retry:
                raise _status_error(response, method, url, history, decision.reason)
            log.info("%s %s answered %s; retrying in %.3gs", method, url, status, decision.wait)
            if status == 429 and limiter is not None:
                limiter.pause_until_after(decision.wait)  # everyone waits, not only this worker
            retries += 1
            delay = decision.wait

    def _wait(self, delay: float, limiter: SlidingWindowLimiter | None, observer: WaitObserver | None) -> float | None:
        """Wait ``delay`` (a retry's) and for the rate limiter, through the sleep hook; report both.

        Returns:
            The rate-limit slot taken (None without a limiter).
        """
        slot = None
        if limiter is not None:
            waited, slot = limiter.acquire(delay)
        else:
            waited = delay
            if delay > 0:
                self.sleep(delay)
        if observer is not None:
            if delay > 0:
                observer("retry", delay)
            if waited > delay:
                observer("throttle", waited - delay)
        return slot

    # -- loaders (implemented in pagination.py / lookups.py) --------------------------------------------------

    def load(
        self, name: str, page: int | None = None, pages: Iterable[int] | None = None, **kwargs: Any
    ) -> pd.DataFrame:
        """Load an endpoint into a typed DataFrame: every page by default, or one page, or some pages.

        Args:
            name: a registered endpoint name (``lucidframes endpoints`` lists them).
            page: fetch only this page (1-based).
            pages: fetch only these pages.
            **kwargs: path parameters (``asset_type="images"``) and drain options (``workers``, ``progress``,
                ``on_drift``, ``resume``, ``checkpoint``).

        Returns:
            The DataFrame, with ``df.attrs["lucidframes"]`` describing the drain.
        """
        from lucidframes.pagination import load

        return load(self, name, page=page, pages=pages, **kwargs)

    def lookup(self, name: str, ids: Iterable[str], **kwargs: Any) -> pd.DataFrame:
        """Fetch a single-resource endpoint for many ids into one DataFrame (ids not found are reported, not fatal).

        Args:
            name: a registered single-resource endpoint (``items``, ``products``, ``batches``, ...).
            ids: the ids to look up.
            **kwargs: ``workers``, ``progress``, ``validate`` (check LucidIDs before sending, default True).

        Returns:
            One row per id, with a ``_status`` column (``ok``, ``not_found``, ...).
        """
        from lucidframes.lookups import lookup

        return lookup(self, name, ids, **kwargs)

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
        from lucidframes.lookups import submit

        return submit(self, name, body, validate=validate, **path_params)


class _BadJSON(ValueError):
    """A 2xx body that is not JSON: treated like a server fault (retried for GETs)."""


def _decode(response: requests.Response) -> Any:
    """The JSON body of a success response (None when it is empty, as for 204)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise _BadJSON(f"not JSON ({response.headers.get('Content-Type', 'no content type')})") from None


def _describe(exc: Exception) -> str:
    """A short, secret-free description of a transport failure."""
    if isinstance(exc, _BadJSON):
        return f"body {exc}"
    return type(exc).__name__


def _was_sent(exc: Exception) -> bool:
    """Whether the request may have reached the server before it failed (so a POST must not be repeated)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, requests.exceptions.ChunkedEncodingError
    ):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        # urllib3 wraps "could not open a connection" as MaxRetryError(reason=NewConnectionError).
        return type(reason).__name__ not in {"NewConnectionError", "ConnectTimeoutError", "NameResolutionError"}
    return True


def _transport_error(exc: Exception, method: str, url: str, history: list[Attempt], reason: str) -> APIError:
    """The typed error for a request that got no usable answer."""
    tail = f" ({reason})" if reason else ""
    host = urlsplit(url).netloc
    if isinstance(exc, _BadJSON):
        return DecodeError(
            f"{method} {url} answered with a body that is {exc}{tail}. The server or a proxy in between sent "
            "something other than the API's JSON; try again later.",
            method=method,
            url=url,
            history=history,
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ConnectError(f"Invalid URL {url!r}: check LUCID_BASE_URL.", method=method, url=url, history=history)
    # A timeout while reading the body reaches us as a ConnectionError wrapping urllib3's ReadTimeoutError.
    if isinstance(exc, requests.exceptions.Timeout) or (exc.args and isinstance(exc.args[0], ReadTimeoutError)):
        return RequestTimeoutError(
            f"{method} {url}: {host} did not answer in time{tail}. Try again later, or raise the client's timeout.",
            method=method,
            url=url,
            history=history,
        )
    return ConnectError(
        f"{method} {url}: the connection to {host} failed ({_describe(exc)}){tail}. Check the base URL and your "
        "network, then try again.",
        method=method,
        url=url,
        history=history,
    )


def _auth_error(renewable: bool, method: str, url: str, history: list[Attempt]) -> AuthenticationError:
    """The 401 error: after one renewal, or at once for a fixed token."""
    if renewable:
        text = (
            f"{method} {url} answered 401 Unauthorized even with a freshly fetched token. Check that the client "
            "credentials are valid for this API (LucidSource or LucidRetail) and host."
        )
    else:
        text = (
            f"{method} {url} answered 401 Unauthorized: the fixed token (LUCID_TOKEN) has expired or is invalid. "
            "Set LUCID_CLIENT_ID and LUCID_CLIENT_SECRET instead, so lucidframes can renew tokens itself."
        )
    return AuthenticationError(text, status_code=401, method=method, url=url, history=history)


def _status_error(
    response: requests.Response, method: str, url: str, history: list[Attempt], reason: str
) -> HTTPStatusError:
    """The typed error for an HTTP error answer, with the parsed body and the guide's action."""
    status = response.status_code
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = response.text[:500]
    # DRF says {"detail": ...}; the Retail export endpoint says {"error": ...}.
    detail = (body.get("detail") or body.get("error")) if isinstance(body, dict) else None
    said = f": {detail.rstrip('.')}" if isinstance(detail, str) else ""
    kw: dict[str, Any] = {"status_code": status, "body": body, "method": method, "url": url, "history": history}
    invalid_payload = isinstance(body, dict) and body.get("status") == "invalid payload"
    if status == 400 or (status == 403 and invalid_payload):
        err = BadRequestError(f"{method} {url} answered {status} Bad Request{said}.", **kw)
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in err.reasons.items())
        text = (
            f"{method} {url} answered {status}: the request was rejected ({reasons or 'no reason given'}). "
            "Fix the request payload and resubmit."
        )
        unknown = _unknown_ids(body)
        if unknown or any("Unknown LucidID" in m for msgs in err.reasons.values() for m in msgs):
            return UnknownLucidIDError(text, unknown_ids=unknown, **kw)
        return BadRequestError(text, **kw)
    if status == 403:
        return ForbiddenError(
            f"{method} {url} answered 403 Forbidden{said}. Check your API credentials and permissions: the resource "
            "may belong to another Brand or Company.",
            **kw,
        )
    if status == 404:
        return NotFoundError(
            f"{method} {url} answered 404 Not Found{said}. Verify the resource UUID or endpoint URL.", **kw
        )
    if status == 405:
        return MethodNotAllowedError(
            f"{method} {url} answered 405 Method Not Allowed{said}. Use the correct HTTP method.", **kw
        )
    if status == 429:
        header = response.headers.get("Retry-After")
        seconds = parse_retry_after(header) if header else None
        return RateLimitError(
            f"{method} {url} answered 429 Too Many Requests{said} ({reason}). Wait and try again later, or lower "
            "the request rate.",
            retry_after=seconds,
            **kw,
        )
    if status >= 500:
        return ServerError(f"{method} {url} answered {status} ({reason}). The API is failing; try again later.", **kw)
    return HTTPStatusError(f"{method} {url} answered {status}{said}.", **kw)


def _unknown_ids(body: Any) -> list[str] | None:
    """The unknown LucidIDs a body names (transactions' ``items.unknown``), else None."""
    reason = body.get("reason") if isinstance(body, dict) else None
    items = reason.get("items") if isinstance(reason, dict) else None
    if isinstance(items, dict) and isinstance(items.get("unknown"), list) and items["unknown"]:
        return [str(x) for x in items["unknown"]]
    return None
