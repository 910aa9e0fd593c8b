"""The one way out to the network: THE send loop on the configured base URL.

Every request goes through ``Transport.send``: rate limit (per bucket: the endpoint's, by default its product's),
one attempt on the wire (``wire.Wire``: auth, no redirects, a total deadline while the body streams, decode and
the caller's shape check), then the judgement here: whether a submission's body says "success", classify, retry per
``RetryPolicy``, one token renewal on a 401, and the 202 "still preparing" wait.
Every wait is announced as a ``WaitEvent`` to the hooks first, then made through ``pause``: the ``sleep`` hook
when one is given (tests record waits), otherwise a wait on the caller's cancel event, which a Stop or a Ctrl-C
ends at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from lucidframes import config
from lucidframes._http.auth import ClientCredentials, Secret, SecretForm, StaticToken, TokenProvider
from lucidframes._http.classify import (
    BadBody,
    Failure,
    classify_exception,
    redirect_error,
    status_error,
    still_preparing_error,
    transport_error,
    unauthorized_error,
    unsuccessful_reply,
    wait_cause,
)
from lucidframes._http.events import WaitBoard, WaitEvent, WaitHook, WaitKind, emit, log_wait
from lucidframes._http.ratelimit import SlidingWindowLimiter, give_back
from lucidframes._http.retry import Decision, RetryPolicy, parse_retry_after, retry_method
from lucidframes._http.urls import BaseURL, with_query
from lucidframes._http.wire import Check, Wire
from lucidframes.errors import Attempt, ConfigError, visible

__all__ = ["Cancelled", "Reply", "Transport"]

log = logging.getLogger("lucidframes")

_REAL_SLEEP = time.sleep


class Cancelled(Exception):
    """The caller's cancel event was set during a wait (a Stop, or a Ctrl-C seen by another thread)."""


@dataclass(frozen=True)
class Reply:
    """A successful answer: status, decoded JSON (None when empty or not asked for), headers, request_id."""

    status: int
    payload: Any
    headers: Mapping[str, str]
    request_id: str | None
    history: tuple[Attempt, ...]
    content: bytes = b""


@dataclass
class _Try:
    """Where one request's loop stands: attempts so far, retries used, the wait owed before the next one."""

    method: str
    url: str
    retry_method: str
    history: list[Attempt] = field(default_factory=list)
    retries: int = 0
    renewed: bool = False
    delay: float = 0.0
    delay_kind: WaitKind = "backoff"
    delay_status: int | None = None
    delay_cause: str = ""
    delay_most: int = 0  # the retries this kind of wait allows ("retry 1/5")


class Transport:
    """The session, the base URL, the limiters and the send loop (one per Client)."""

    def __init__(
        self,
        base: BaseURL,
        *,
        api_prefixes: Mapping[str, str],
        credentials: tuple[str, Secret] | Secret,
        timeout: tuple[float, float],
        deadline: float,
        retry: RetryPolicy,
        sleep: Callable[[float], None] | None,
        rate_limits: Mapping[str, tuple[int, float]],
        pool_size: int,
        session: requests.Session | None,
    ) -> None:
        self.base = base
        self.prefixes = {k: "/" + v.strip("/") + "/" for k, v in api_prefixes.items()}
        self.retry = retry
        # Looked up at construction (not bound as a default), so patching time.sleep reaches every client.
        hook = sleep if sleep is not None else time.sleep
        self._sleep: Callable[[float], None] | None = None if hook is _REAL_SLEEP else hook
        # One limiter per bucket ("source", "retail", "retail_public"), shared by every worker of this client.
        self.limiters = {b: SlidingWindowLimiter(n, window) for b, (n, window) in rate_limits.items()}
        self._round_trip: float | None = None  # a moving average of answered attempts' seconds (for plans)
        self._answered = False  # whether anything has answered at the base URL yet (a refusal before: fail fast)
        self._asking = threading.local()  # the hooks of the request a token fetch is made for (its waits show there)
        self.auth: TokenProvider
        if isinstance(credentials, Secret):
            self.auth = StaticToken(credentials)
        else:
            self.auth = ClientCredentials(
                self.base.join(config.TOKEN_PATH), credentials[0], credentials[1], self._token
            )
        self.wire = Wire(session, self.auth, timeout=timeout, deadline=deadline, pool_size=pool_size)

    @property
    def session(self) -> requests.Session:
        """The pooled session every request goes through."""
        return self.wire.session

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds of one attempt."""
        return self.wire.timeout

    @property
    def deadline(self) -> float:
        """The total seconds one attempt may take, the body included."""
        return self.wire.deadline

    def close(self) -> None:
        """Close the pooled connections."""
        self.wire.close()

    def ensure_pool(self, size: int) -> None:
        """Keep at least ``size`` pooled connections per host, so that many workers never discard connections."""
        self.wire.ensure_pool(size)

    def url(self, path: str, product: str) -> str:
        """The absolute URL of a path below a product's version prefix.

        Args:
            path: e.g. ``products/``.
            product: ``source`` or ``retail``.

        Returns:
            The URL on the configured base.
        """
        return self.base.join(self.path(path, product))

    def path(self, path: str, product: str) -> str:
        """The absolute path of ``path`` below a product's prefix (``/api/v1.5/products/``)."""
        try:
            prefix = self.prefixes[product]
        except KeyError:
            raise ConfigError(f"Unknown product {product!r}: expected one of {sorted(self.prefixes)}") from None
        return prefix + path.lstrip("/")

    @property
    def round_trip(self) -> float | None:
        """Seconds an answered attempt has taken lately (a moving average), None before the first answer."""
        return self._round_trip

    def _measured(self, seconds: float) -> None:
        """Fold one answered attempt's duration into the moving average (races only blur an estimate)."""
        last = self._round_trip
        self._round_trip = seconds if last is None else 0.8 * last + 0.2 * seconds

    # -- waiting --------------------------------------------------------------------------------------------

    def pause(self, seconds: float, cancel: threading.Event | None) -> None:
        """Wait ``seconds`` through the sleep hook, or on ``cancel`` (a Stop ends it at once; so does Ctrl-C)."""
        if seconds > 0:
            if self._sleep is not None:
                self._sleep(seconds)
            elif (cancel or threading.Event()).wait(seconds):
                raise Cancelled
        if cancel is not None and cancel.is_set():
            raise Cancelled

    def _wait_before(
        self,
        t: _Try,
        limiter: SlidingWindowLimiter | None,
        hooks: Sequence[WaitHook],
        cancel: threading.Event | None,
        where: dict[str, Any],
    ) -> float | None:
        """Make the wait owed (a retry's, then the rate limiter's), announced first; return the limiter slot."""
        if cancel is not None and cancel.is_set():
            raise Cancelled  # after a Stop or Ctrl-C no wait starts, and none is said
        if not any(isinstance(hook, WaitBoard) for hook in hooks):  # else the run's board says it, once
            hooks = (log_wait, *hooks)
        delay, slot = t.delay, None
        wait = delay
        if limiter is not None:
            wait, slot = limiter.reserve(delay)
        if delay > 0:
            emit(
                hooks,
                WaitEvent(t.delay_kind, delay, t.retries, t.delay_status, t.delay_cause, t.delay_most, **where),
            )
        if limiter is not None and wait > delay:
            cause = f"rate limit {limiter.limit}/{limiter.window:g}s"
            emit(hooks, WaitEvent("throttle", wait - delay, 0, None, cause, 0, **where))
        try:
            self.pause(wait, cancel)
        except BaseException:
            if limiter is not None and slot is not None:
                limiter.release(slot)  # the request is not going to be sent
            raise
        return slot

    # -- sending --------------------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        product: str | None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: SecretForm | None = None,
        check: Check | None = None,
        authenticate: bool = True,
        idempotent: bool | None = None,
        accept_202: bool = False,
        hooks: Sequence[WaitHook] = (),
        cancel: threading.Event | None = None,
        endpoint: str | None = None,
        page: int | None = None,
        bucket: str | None = None,
    ) -> Reply:
        """Send one request through the loop; return the successful reply or raise the typed error.

        Args:
            method: the HTTP method.
            path: below the product's prefix (or an absolute path when ``product`` is None).
            product: ``source``/``retail`` (picks the prefix, and the limiter unless ``bucket`` says), None for the
                token endpoint (never limited).
            params: query parameters.
            json_body: a JSON payload.
            form: a form payload (the token request), revealed only as it is handed to requests.
            check: raises BadBody when a 2xx body is not of the expected shape (retried like a 5xx for GETs).
            authenticate: send the bearer header (renewing it once on a 401).
            idempotent: whether a lost answer may be repeated (default: by method).
            accept_202: a 202 means "still preparing": wait with backoff and ask again.
            hooks: called with every WaitEvent before the wait starts.
            cancel: an event that ends every wait at once (raises Cancelled).
            endpoint: the endpoint name, for logs and events.
            page: the page number, for logs and events.
            bucket: the rate-limit bucket the request draws from (the registry's; default: the product's).

        Returns:
            The Reply.
        """
        method = method.upper()
        url = self.url(path, product) if product is not None else self.base.join(path)
        t = _Try(method, with_query(url, params), retry_method(method, idempotent))  # errors show ?page=999
        # The token endpoint (no product) is never limited, and its round trips say nothing about pages.
        limiter = self.limiters.get(bucket or product) if product is not None else None
        where = {"endpoint": endpoint, "page": page}
        self._asking.hooks = hooks
        if limiter is not None and authenticate:
            self.auth.header()  # the token first: a limiter slot stands for the moment the request goes out
        while True:
            slot = self._wait_before(t, limiter, hooks, cancel, where)
            started = time.monotonic()
            try:
                response, payload = self.wire.attempt(
                    method, url, params=params, json_body=json_body, form=form, check=check, authenticate=authenticate
                )
            except BaseException as exc:
                give_back(limiter, slot, None)
                failure = classify_exception(exc)
                if failure is None:
                    raise
                self._after_failure(t, failure, exc)
                continue
            self._answered = True
            if product is not None:
                self._measured(time.monotonic() - started)
            give_back(limiter, slot, response.status_code)
            reply = self._judge(t, response, payload, authenticate, accept_202, limiter)
            if reply is not None:
                return reply

    def _after_failure(self, t: _Try, failure: Failure, exc: BaseException) -> None:
        """Record a transport failure; owe the backoff before the next try, or raise the typed error."""
        first, method = not self._answered, t.retry_method
        decision = self.retry.decide(t.retries + 1, status=None, method=method, sent=failure.sent, first_contact=first)
        if not failure.retry:
            decision = Decision(False, reason=failure.text)
        text = f"{type(exc).__name__}: {exc}" if isinstance(exc, BadBody) else type(exc).__name__
        t.history.append(Attempt(None, text, decision.wait if decision.retry else 0.0))
        if not decision.retry:
            raise transport_error(failure, exc, t.method, t.url, t.history, decision.reason, decision.verdict) from None
        self._owe(t, decision, "backoff", None, wait_cause(failure, decision.verdict, t.url))

    def _owe(self, t: _Try, decision: Decision, kind: WaitKind, status: int | None, cause: str) -> None:
        """Count a retry and owe its wait (announced and made before the next attempt)."""
        t.retries += 1
        t.delay, t.delay_kind, t.delay_status, t.delay_cause = decision.wait, kind, status, cause
        t.delay_most = decision.allowed or self.retry.max_retries

    def _judge(
        self,
        t: _Try,
        response: requests.Response,
        payload: Any,
        authenticate: bool,
        accept_202: bool,
        limiter: SlidingWindowLimiter | None,
    ) -> Reply | None:
        """Turn an answer into a Reply, or owe a retry (None), or raise its typed error."""
        status = response.status_code
        if status == 401 and authenticate:
            self._renew_once(t)
            return None
        if 300 <= status < 400:
            t.history.append(Attempt(status, "redirect (not followed)", 0.0))
            raise redirect_error(status, response.headers.get("Location"), t.method, t.url, t.history)
        if status == 202 and accept_202:
            self._still_preparing(t)
            return None
        if status < 400:
            return _answered(t, response, payload)
        self._retry_status(t, response, limiter)
        return None

    def _renew_once(self, t: _Try) -> None:
        """A 401: renew the token once and try again; a second 401, or a fixed token, raises."""
        if self.auth.renewable and not t.renewed:
            t.renewed = True
            t.history.append(Attempt(401, "token refused; renewing once", 0.0))
            self.auth.invalidate(self.wire.sent_generation())
            t.delay = 0.0
            return
        t.history.append(Attempt(401, None, 0.0))
        raise unauthorized_error(self.auth.renewable, t.method, t.url, t.history)

    def _still_preparing(self, t: _Try) -> None:
        """A 202 where one is expected: ask again after a backoff, as after a 503, or give up with an error."""
        decision = self.retry.decide(t.retries + 1, status=503, method="GET")
        t.history.append(Attempt(202, "still preparing", decision.wait if decision.retry else 0.0))
        if not decision.retry:
            raise still_preparing_error(self.retry.max_retries, t.method, t.url, t.history)
        self._owe(t, decision, "preparing", 202, "still preparing")

    def _retry_status(self, t: _Try, response: requests.Response, limiter: SlidingWindowLimiter | None) -> None:
        """An error status: owe the retry the policy allows (429 pauses every worker), or raise its error."""
        status = response.status_code
        header = response.headers.get("Retry-After")
        decision = self.retry.decide(t.retries + 1, status=status, retry_after=header, method=t.retry_method)
        t.history.append(Attempt(status, None, decision.wait if decision.retry else 0.0))
        if not decision.retry:
            retry_after = parse_retry_after(header) if header else None
            raise status_error(response, t.method, t.url, t.history, decision.reason, retry_after, decision.verdict)
        if status == 429 and limiter is not None:
            limiter.pause_until_after(decision.wait)  # everyone waits, not only this worker
        kind: WaitKind = "retry_after" if status == 429 else "backoff"
        self._owe(t, decision, kind, status, f"HTTP {status}")

    def _token(self, url: str, form: SecretForm) -> Any:
        """POST the token form and return the decoded reply (no bearer header; safe to repeat, so retried)."""
        path = url.removeprefix(self.base.origin)
        hooks = getattr(self._asking, "hooks", ())
        return self.send(
            "POST", path, product=None, form=form, authenticate=False, idempotent=True, hooks=hooks
        ).payload


def _answered(t: _Try, response: requests.Response, payload: Any) -> Reply:
    """The Reply of a 2xx, its request_id logged; a submission whose body says it failed raises instead."""
    status = response.status_code
    request_id = payload.get("request_id") if isinstance(payload, dict) else None
    request_id = request_id if isinstance(request_id, str) else None
    t.history.append(Attempt(status, None, 0.0, request_id))
    if request_id is not None:
        level = logging.DEBUG if t.method == "GET" else logging.INFO
        extra = {"event": "request_id", "status": status, "request_id": request_id}
        log.log(level, "%s %s: request_id %s", t.method, t.url, visible(request_id, 80, prose=True), extra=extra)
    if t.method != "GET":  # a GET body is a resource, where a field called "status" is data
        failed = unsuccessful_reply(status, payload, t.method, t.url, t.history)
        if failed is not None:
            raise failed
    return Reply(status, payload, response.headers, request_id, tuple(t.history), response.content)
