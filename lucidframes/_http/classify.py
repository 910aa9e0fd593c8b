"""From what went wrong to our errors: exceptions by class (tables, most specific class first), statuses by number.

``classify_exception`` says, for an exception raised while sending or reading, which error it becomes, whether
the request may have reached the server (a POST that may have acted is never repeated) and whether trying again
can help (a host that does not resolve will not start resolving in 16 s; a TLS failure is not a glitch).
``status_error`` builds the typed error of an HTTP error answer with the API guide's action (``unauthorized_error`` and
``still_preparing_error`` the two the send loop gives up with itself). Whatever a server said goes into a message
through ``errors.visible`` (``prose``): a ``detail`` holding a newline or an ANSI escape cannot forge a log line.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions as u3

from lucidframes.errors import (
    APIError,
    Attempt,
    AuthenticationError,
    BadRequestError,
    ConnectError,
    DecodeError,
    ForbiddenError,
    HTTPStatusError,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitError,
    RedirectError,
    RequestTimeoutError,
    ServerError,
    UnknownLucidIDError,
    UnsuccessfulReplyError,
    WriteConnectError,
    WriteServerError,
    WriteTimeoutError,
    visible,
)

__all__ = [
    "EXCEPTION_TABLE",
    "BadBody",
    "DeadlineExceeded",
    "Failure",
    "classify_exception",
    "host_port",
    "redirect_error",
    "status_error",
    "still_preparing_error",
    "transport_error",
    "unauthorized_error",
    "unsuccessful_reply",
    "wait_cause",
]


class BadBody(ValueError):
    """A 2xx body that is not JSON, or not of the shape the caller expects: retried like a 5xx for GETs."""


class DeadlineExceeded(OSError):
    """The whole attempt (send to last byte) took longer than the client's deadline."""


@dataclass(frozen=True)
class Failure:
    """How an exception is treated: the error it becomes, whether it may have been sent, whether to retry."""

    error: type[APIError]
    sent: bool
    retry: bool
    text: str  # what happened, for the message (no secrets, no URLs with credentials)


# Keyed by class; the first class in an exception's MRO found here wins. ``requests`` wraps urllib3's errors in
# ConnectionError, so its reason is looked at first (``_unwrap``); urllib3's own classes come from reading the body.
EXCEPTION_TABLE: Mapping[type[BaseException], Failure] = {
    DeadlineExceeded: Failure(RequestTimeoutError, True, True, "the answer took longer than the deadline"),
    BadBody: Failure(DecodeError, True, True, "a body that is not the API's JSON"),
    u3.NameResolutionError: Failure(ConnectError, False, False, "the host name does not resolve"),
    u3.NewConnectionError: Failure(ConnectError, False, True, "the connection was refused or could not open"),
    u3.ConnectTimeoutError: Failure(RequestTimeoutError, False, True, "connecting timed out"),
    u3.ReadTimeoutError: Failure(RequestTimeoutError, True, True, "the server stopped answering (read timeout)"),
    u3.SSLError: Failure(ConnectError, False, False, "TLS failed (certificate or protocol)"),
    u3.ProxyError: Failure(ConnectError, False, True, "the proxy failed"),
    u3.DecodeError: Failure(DecodeError, True, True, "a body that could not be decompressed"),
    u3.ProtocolError: Failure(ConnectError, True, True, "the connection dropped"),
    u3.HTTPError: Failure(ConnectError, True, True, "the connection failed"),
    http.client.HTTPException: Failure(ConnectError, True, True, "the connection dropped"),
    socket.timeout: Failure(RequestTimeoutError, True, True, "the server stopped answering (read timeout)"),
    requests.exceptions.ConnectTimeout: Failure(RequestTimeoutError, False, True, "connecting timed out"),
    requests.exceptions.ReadTimeout: Failure(RequestTimeoutError, True, True, "the server stopped answering"),
    requests.exceptions.Timeout: Failure(RequestTimeoutError, True, True, "the request timed out"),
    requests.exceptions.SSLError: Failure(ConnectError, False, False, "TLS failed (certificate or protocol)"),
    requests.exceptions.ProxyError: Failure(ConnectError, False, True, "the proxy failed"),
    requests.exceptions.ChunkedEncodingError: Failure(ConnectError, True, True, "the body was cut short"),
    requests.exceptions.ContentDecodingError: Failure(DecodeError, True, True, "a body that could not be decoded"),
    requests.exceptions.ConnectionError: Failure(ConnectError, True, True, "the connection failed"),
    requests.exceptions.JSONDecodeError: Failure(DecodeError, True, True, "a body that is not JSON"),
    requests.exceptions.InvalidJSONError: Failure(DecodeError, True, True, "a body that is not JSON"),
    requests.exceptions.InvalidURL: Failure(ConnectError, False, False, "the URL is not valid"),
    requests.exceptions.InvalidSchema: Failure(ConnectError, False, False, "the URL's scheme is not http(s)"),
    requests.exceptions.MissingSchema: Failure(ConnectError, False, False, "the URL has no scheme"),
    requests.exceptions.URLRequired: Failure(ConnectError, False, False, "no URL"),
    requests.exceptions.InvalidHeader: Failure(ConnectError, False, False, "a header value is not valid"),
    requests.exceptions.InvalidProxyURL: Failure(ConnectError, False, False, "the proxy URL is not valid"),
    requests.exceptions.TooManyRedirects: Failure(RedirectError, True, False, "redirects (never followed)"),
    requests.exceptions.RetryError: Failure(ConnectError, True, False, "urllib3 gave up"),
    requests.exceptions.StreamConsumedError: Failure(ConnectError, True, False, "the body was already read"),
    requests.exceptions.UnrewindableBodyError: Failure(ConnectError, True, False, "the body cannot be re-sent"),
    requests.exceptions.HTTPError: Failure(ConnectError, True, False, "an HTTP error"),
    requests.exceptions.RequestException: Failure(ConnectError, True, True, "the request failed"),
    ConnectionError: Failure(ConnectError, True, True, "the connection dropped"),
    OSError: Failure(ConnectError, True, True, "the connection failed"),
}


# A write that may have acted: the error it would have been, as its "outcome unknown" subclass.
_OUTCOME_UNKNOWN: Mapping[type[APIError], type[APIError]] = {
    ServerError: WriteServerError,
    RequestTimeoutError: WriteTimeoutError,
    ConnectError: WriteConnectError,
}
CHECK_BEFORE_RESENDING = (
    "The server may have acted on it before the failure (recorded the sale, added the items, deleted the asset), "
    "so lucidframes does not send it again: a repeat could do it twice. Check on the server whether it took effect "
    "(look the resource or its LucidIDs up) before sending it again."
)


def _unwrap(exc: BaseException) -> BaseException:
    """The urllib3 reason inside a requests ConnectionError (MaxRetryError(reason=...)), else the exception."""
    inner = exc.args[0] if exc.args else None
    if isinstance(inner, u3.MaxRetryError) and inner.reason is not None:
        return inner.reason
    if isinstance(inner, u3.HTTPError):
        return inner
    return exc


def classify_exception(exc: BaseException) -> Failure | None:
    """How to treat an exception from sending or reading (None: not a transport failure; let it through).

    Args:
        exc: the exception.

    Returns:
        Its Failure, from ``EXCEPTION_TABLE``.
    """
    for candidate in (_unwrap(exc), exc):
        for cls in type(candidate).__mro__:
            failure = EXCEPTION_TABLE.get(cls)
            if failure is not None:
                return failure
    return None


def transport_error(
    failure: Failure,
    exc: BaseException,
    method: str,
    url: str,
    history: list[Attempt],
    reason: str,
    verdict: str = "",
) -> APIError:
    """The typed error for a request that got no usable answer (``verdict``: the retry policy's, see retry.py)."""
    tail = f" ({reason})" if reason else ""
    host = url.split("/")[2] if url.count("/") >= 2 else url
    written = _OUTCOME_UNKNOWN.get(failure.error) if verdict == "outcome_unknown" else None
    if written is not None:
        text = f"{method} {url}: {failure.text}, after the request was sent{tail}. {CHECK_BEFORE_RESENDING}"
        return written(text, method=method, url=url, history=history)
    if verdict == "unreachable":
        text = (
            f"Nothing answers at {host_port(url)}: {failure.text} ({method} {url}). Check LUCID_BASE_URL, and that "
            "the API (or the sandbox) is running there."
        )
    elif failure.error is DecodeError:
        detail = f": {visible(str(exc), 300, prose=True)}" if isinstance(exc, BadBody) else ""
        then = CHECK_BEFORE_RESENDING if verdict == "outcome_unknown" else "Try again later."
        text = (
            f"{method} {url} answered with {failure.text}{detail}{tail}. The server or a proxy in between sent "
            f"something other than the API's JSON. {then}"
        )
    elif failure.error is RequestTimeoutError:
        text = f"{method} {url}: {failure.text}{tail}. Try again later, or raise the client's timeout or deadline."
    elif not failure.retry and not failure.sent:
        text = f"{method} {url}: {failure.text} ({host}). Check LUCID_BASE_URL and your network."
    else:
        text = f"{method} {url}: {failure.text} ({host}){tail}. Check the base URL and your network, then try again."
    return failure.error(text, method=method, url=url, history=history)


def host_port(url: str) -> str:
    """``host:port`` of a URL (the scheme's default port filled in), for messages about where nothing answers."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def wait_cause(failure: Failure, verdict: str, url: str) -> str:
    """What a backoff after a transport failure says: the failure, or where nothing answers."""
    return f"nothing answers at {host_port(url)}" if verdict == "unreachable" else failure.text


def redirect_error(status: int, location: str | None, method: str, url: str, history: list[Attempt]) -> RedirectError:
    """The error for a 3xx: the API documents no redirect, so none is followed (credentials stay here)."""
    target = _host_of(location) if location else "nowhere (no Location header)"
    return RedirectError(
        f"{method} {url} answered {status}, a redirect to {target}. The API documents no redirects, so lucidframes "
        "does not follow them (credentials and payloads are only sent to the configured base URL). Check the base "
        "URL: a proxy or a wrong host may be answering.",
        status_code=status,
        method=method,
        url=url,
        history=history,
        location=location,
    )


def unauthorized_error(renewable: bool, method: str, url: str, history: list[Attempt]) -> AuthenticationError:
    """The error for a 401 that renewing cannot cure: a fresh token refused too, or a fixed token."""
    if renewable:
        text = (
            f"{method} {url} answered 401 Unauthorized even with a freshly fetched token. Check that the "
            "client credentials are valid for this API (LucidSource or LucidRetail) and host."
        )
    else:
        text = (
            f"{method} {url} answered 401 Unauthorized: the fixed token (LUCID_TOKEN) has expired or is "
            "invalid. Set LUCID_CLIENT_ID and LUCID_CLIENT_SECRET instead, so lucidframes can renew tokens."
        )
    return AuthenticationError(text, status_code=401, method=method, url=url, history=history)


def still_preparing_error(retries: int, method: str, url: str, history: list[Attempt]) -> APIError:
    """The error when a resource still answers 202 ("preparing") after every retry the policy allows."""
    text = f"{method} {url} is still being prepared after {retries} retries; try again later."
    return APIError(text, method=method, url=url, history=history)


def _host_of(location: str) -> str:
    """The host part of a Location header, for messages (never more: a path may hold anything)."""
    after = location.split("://", 1)[1] if "://" in location else location
    host = after.split("/", 1)[0].split("?", 1)[0]
    return repr(host[:80]) if host else f"the path {location[:60]!r} on the same host"


def _body_of(response: requests.Response) -> Any:
    """The parsed error body (JSON, else the first 500 characters of text, else None)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def status_error(
    response: requests.Response,
    method: str,
    url: str,
    history: list[Attempt],
    reason: str,
    retry_after: float | None = None,
    verdict: str = "",
) -> HTTPStatusError:
    """The typed error for an HTTP error answer, with the parsed body and the guide's action.

    Args:
        response: the error answer.
        method: the request's method.
        url: the request's URL.
        history: every attempt so far.
        reason: why it is not retried (the retry policy's words).
        retry_after: the parsed Retry-After, for 429.
        verdict: the retry policy's ("outcome_unknown": a 5xx to a write, which is never repeated).

    Returns:
        The error to raise.
    """
    status = response.status_code
    body = _body_of(response)
    said = _said((body.get("detail") or body.get("error")) if isinstance(body, dict) else None)
    kw: dict[str, Any] = {"status_code": status, "body": body, "method": method, "url": url, "history": history}
    invalid_payload = isinstance(body, dict) and body.get("status") == "invalid payload"
    if status == 400 or (status == 403 and invalid_payload):
        return _bad_request(status, said, kw)
    if status == 401:
        return AuthenticationError(f"{method} {url} answered 401 Unauthorized{said}.", **kw)
    simple: dict[int, tuple[type[HTTPStatusError], str]] = {
        403: (
            ForbiddenError,
            "403 Forbidden{said}. Check your API credentials and permissions: the resource may belong to another "
            "Brand or Company.",
        ),
        404: (NotFoundError, "404 Not Found{said}. Verify the resource UUID or endpoint URL."),
        405: (MethodNotAllowedError, "405 Method Not Allowed{said}. Use the correct HTTP method."),
    }
    if status in simple:
        cls, text = simple[status]
        return cls(f"{method} {url} answered " + text.format(said=said), **kw)
    if status == 429:
        return RateLimitError(
            f"{method} {url} answered 429 Too Many Requests{said} ({reason}). Wait and try again later, or lower "
            "the request rate.",
            retry_after=retry_after,
            **kw,
        )
    if status >= 500 and verdict == "outcome_unknown":
        return WriteServerError(f"{method} {url} answered {status} ({reason}). {CHECK_BEFORE_RESENDING}", **kw)
    if status >= 500:
        return ServerError(f"{method} {url} answered {status} ({reason}). The API is failing; try again later.", **kw)
    return HTTPStatusError(f"{method} {url} answered {status}{said}.", **kw)


def unsuccessful_reply(
    status: int, payload: Any, method: str, url: str, history: list[Attempt]
) -> HTTPStatusError | None:
    """The error for a 2xx answer to a submission whose body says a ``status`` other than ``success``, else None.

    The specification's success body is ``{"status": "success", "request_id": ...}``. A body that says
    ``"invalid payload"`` is the validation error it would be on a 400; any other word is an
    ``UnsuccessfulReplyError``. Bodies without a ``status`` string (a created asset, an inventory identifier)
    are not judged.

    Args:
        status: the HTTP status (2xx).
        payload: the decoded body.
        method: the request's method.
        url: the request's URL.
        history: every attempt so far (the last one carries the body's request_id).

    Returns:
        The error to raise, or None when the body does not contradict its status.
    """
    said_status = payload.get("status") if isinstance(payload, dict) else None
    if not isinstance(said_status, str) or said_status.strip().lower() == "success":
        return None
    said = _said(payload.get("detail") or payload.get("error") or payload.get("message"))
    kw: dict[str, Any] = {"status_code": status, "body": payload, "method": method, "url": url, "history": history}
    if said_status == "invalid payload":
        return _bad_request(status, said, kw)
    request_id = payload.get("request_id")
    rid = f" (request_id {visible(request_id, 80, prose=True)})" if isinstance(request_id, str) else ""
    return UnsuccessfulReplyError(
        f"{method} {url} answered {status} but its body says status '{visible(said_status, 80, prose=True)}'"
        f"{said}{rid}: the server did not "
        "report success, so lucidframes does not take it as one. Check the result on the server before resubmitting "
        "(the request may have acted).",
        **kw,
    )


def _said(detail: object) -> str:
    """``": what the server said"`` for a message (escaped and cut), or nothing when it said no text."""
    return f": {visible(detail.rstrip('.'), 300, prose=True)}" if isinstance(detail, str) else ""


def _bad_request(status: int, said: str, kw: dict[str, Any]) -> BadRequestError:
    """400 (or a legacy 403 "invalid payload"): the field reasons, and which LucidIDs were unknown."""
    err = BadRequestError(f"answered {status} Bad Request{said}.", **kw)
    reasons = visible("; ".join(f"{k}: {', '.join(v)}" for k, v in err.reasons.items()), 500, prose=True)
    text = (
        f"{kw['method']} {kw['url']} answered {status}: the request was rejected ({reasons or 'no reason given'}). "
        "Fix the request payload and resubmit."
    )
    unknown = _unknown_ids(kw["body"])
    if unknown or any("Unknown LucidID" in m for msgs in err.reasons.values() for m in msgs):
        return UnknownLucidIDError(text, unknown_ids=unknown, **kw)
    return BadRequestError(text, **kw)


def _unknown_ids(body: Any) -> list[str] | None:
    """The unknown LucidIDs a body names (transactions' ``items.unknown``), else None."""
    reason = body.get("reason") if isinstance(body, dict) else None
    items = reason.get("items") if isinstance(reason, dict) else None
    if isinstance(items, dict) and isinstance(items.get("unknown"), list) and items["unknown"]:
        return [str(x) for x in items["unknown"]]
    return None
