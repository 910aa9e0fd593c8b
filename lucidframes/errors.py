"""The exception tree of lucidframes: every error we raise derives from ``LucidError``.

::

    LucidError
    ├── ConfigError                     nothing (or something wrong) configured: says what to set
    ├── UnknownEndpointError            a name that is not in the registry: lists close matches
    ├── LucidIDValidationError          local LucidID check failed: carries the ValidationReport
    ├── ReadError                       a file could not be read as a table (missing, undecodable, not CSV/Parquet)
    └── APIError                        a call to the API failed: carries history, partial, resume
        ├── TransportError              no HTTP answer at all
        │   ├── ConnectError            could not connect, or the connection dropped
        │   │   └── WriteConnectError   ...after a write was sent (also a WriteOutcomeUnknownError)
        │   └── RequestTimeoutError     connect or read timeout
        │       └── WriteTimeoutError   ...after a write was sent (also a WriteOutcomeUnknownError)
        ├── HTTPStatusError             an HTTP answer with an error status
        │   ├── BadRequestError         400, or a legacy 403 whose body says "invalid payload"
        │   │   └── UnknownLucidIDError the server did not know some LucidIDs
        │   ├── AuthenticationError     401 (after renewing the token once, where possible)
        │   ├── ForbiddenError          403
        │   ├── NotFoundError           404
        │   ├── MethodNotAllowedError   405
        │   ├── RateLimitError          429 (Retry-After above the ceiling, or retries used up)
        │   ├── RedirectError           3xx: never followed (the API documents none); names the Location host
        │   ├── ServerError             500-599
        │   │   └── WriteServerError    ...to a write (also a WriteOutcomeUnknownError)
        │   └── UnsuccessfulReplyError  a 2xx to a submission whose body says a status other than "success"
        ├── WriteOutcomeUnknownError    a write (POST, PUT, PATCH, DELETE) may have acted, but no answer says so:
        │                               not repeated; check on the server before sending it again
        ├── DecodeError                 the body is not JSON, or not of the expected shape
        └── PaginationError             pages that do not add up (foreign next link, count mismatch, drift)
            └── DrainStopped            a Stop was asked for: carries partial and resume

    KeyboardInterrupt
    └── DrainInterrupted                Ctrl-C (or a kernel interrupt) during a drain: carries partial and resume;
        │                               not a LucidError, so ``except Exception`` never swallows an interrupt
        └── LookupInterrupted           Ctrl-C during a look-up: partial (every id, ``_status`` per id) and resume

    UserWarning
    ├── CacheWarning                    the result cache failed (full disk, locked, damaged): carried on without it
    ├── ConfigWarning                   a setting is ignored (a fixed token beside client credentials)
    ├── DriftWarning                    the data changed during a drain and re-fetching did not settle it
    └── EncodingFallbackWarning         a CSV that is not UTF-8 was read with a fallback encoding (cp1252)

Messages say what happened and what to do, after the "Action" column of the API's retry guide; text from a server
or a cell goes into them through ``visible`` (a newline, a carriage return or an ANSI escape shows as ``⟨U+001B⟩``,
so it can neither forge a log line nor move a terminal's cursor). No message ever contains a token or a client
secret. Every error pickles with its fields (a worker process's error reaches the parent whole); none of them holds a
credential.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    import pandas as pd

__all__ = [
    "APIError",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "CacheWarning",
    "ConfigError",
    "ConfigWarning",
    "ConnectError",
    "DecodeError",
    "DrainInterrupted",
    "DrainStopped",
    "DriftWarning",
    "EncodingFallbackWarning",
    "ForbiddenError",
    "HTTPStatusError",
    "LookupInterrupted",
    "LucidError",
    "LucidIDValidationError",
    "MethodNotAllowedError",
    "MissingColumnError",
    "NotFoundError",
    "PaginationError",
    "RateLimitError",
    "ReadError",
    "RedirectError",
    "RequestTimeoutError",
    "ServerError",
    "TransportError",
    "UnknownEndpointError",
    "UnknownLucidIDError",
    "UnsuccessfulReplyError",
    "WriteConnectError",
    "WriteOutcomeUnknownError",
    "WriteServerError",
    "WriteTimeoutError",
]


@dataclass(frozen=True)
class Attempt:
    """One try of a request: what came back and how long we waited before the next try."""

    status: int | None  # None when there was no HTTP answer
    error: str | None  # a short description (exception class or reason), never secrets
    wait: float  # seconds slept before the next attempt (0.0 for the last one)
    request_id: str | None = None  # the request_id a 2xx body carried, where it did


def visible(text: str, limit: int | None = None, *, prose: bool = False) -> str:
    """The text with invisible characters made visible (``⟨U+200B⟩``), cut at ``limit`` characters.

    For ids (the default) spaces show as ``·``, and controls, format characters, separators and marks as
    ``⟨U+...⟩``. For ``prose`` (a server's words in a message or a log line) spaces and marks stay, and only what a
    terminal or a log reader would act on is shown: controls (``\n``, ``\r``, ESC), format characters, separators.
    """
    cut = text if limit is None or len(text) <= limit else text[:limit]
    plain = cut.isprintable() if prose else cut.isascii() and cut.isprintable() and " " not in cut
    if plain:  # the common case: nothing to show differently
        return cut if cut is text else f"{cut}…(+{len(text) - len(cut)} characters)"
    out = []
    for ch in cut:
        if prose:
            out.append(ch if ch.isprintable() else f"⟨U+{ord(ch):04X}⟩")
        elif ch == " ":
            out.append("·")
        elif unicodedata.category(ch)[0] in "CZM":  # control, format, separators, marks: not reliably visible
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    if cut is not text:
        out.append(f"…(+{len(text) - len(cut)} characters)")
    return "".join(out)


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    """Unpickle an error without calling its ``__init__`` (whose keyword-only arguments pickle cannot pass)."""
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class _Picklable(BaseException):
    """Pickle an exception as (class, args, fields), so keyword-only constructors round-trip."""

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class LucidError(_Picklable, Exception):
    """Base of every lucidframes error."""


class CacheWarning(UserWarning):
    """The result cache could not be used (a full disk, a lock held too long, a damaged file); the call went on."""


class ConfigWarning(UserWarning):
    """A setting was given but is ignored (a fixed token beside client credentials, say)."""


class DriftWarning(UserWarning):
    """The data changed while it was being drained; the result may not be a consistent snapshot."""


class EncodingFallbackWarning(UserWarning):
    """A CSV file was not UTF-8 and was decoded with a fallback encoding."""


class ConfigError(LucidError):
    """The client is missing configuration, or has configuration that cannot work."""


class UnknownEndpointError(LucidError, KeyError):
    """A name that is not in the endpoint registry."""

    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.name = name
        self.suggestions = list(suggestions or [])
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"Unknown endpoint {name!r}.{hint} Run `lucidframes endpoints` to list them.")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class MissingColumnError(ConfigError, KeyError):
    """A ``columns=``/``keep=`` label the frame does not have (a KeyError too, as pandas' own lookups raise)."""

    __str__ = Exception.__str__  # KeyError would quote the message


class LucidIDValidationError(LucidError, ValueError):
    """LucidIDs failed the local format check; ``.report`` is the ValidationReport."""

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class ReadError(LucidError, ValueError):
    """A file could not be read as a table: missing, unreadable, undecodable, or not CSV/Parquet."""


class APIError(LucidError):
    """A call to the API failed.

    ``history`` lists every attempt; ``partial`` (a DataFrame) and ``resume`` (a state to pass
    to ``Client.load(resume=...)``) are set when a drain gave up part way.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        history: list[Attempt] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.history: list[Attempt] = list(history or [])
        self.partial: pd.DataFrame | None = None
        self.resume: Any = None

    @property
    def total_wait(self) -> float:
        """Seconds spent waiting between the attempts of this request."""
        return sum(a.wait for a in self.history)

    def __str__(self) -> str:
        text = self.message
        if len(self.history) > 1:
            tries = ", ".join(
                f"{a.status if a.status is not None else a.error}" + (f" (waited {a.wait:g}s)" if a.wait else "")
                for a in self.history
            )
            text += f" [{len(self.history)} attempts: {tries}]"
        return text


class TransportError(APIError):
    """No HTTP answer: the connection failed, dropped or timed out."""


class ConnectError(TransportError):
    """Could not connect to the server, or it dropped the connection."""


class RequestTimeoutError(TransportError):
    """The server did not answer in time."""


class DecodeError(APIError):
    """The body was not JSON, or not of the shape the endpoint documents."""


class PaginationError(APIError):
    """Pages that do not add up: a foreign ``next`` link, a count mismatch, data that changed."""


class HTTPStatusError(APIError):
    """The API answered with an error status; ``status_code``, ``body`` and ``detail`` hold what it said."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        method: str | None = None,
        url: str | None = None,
        history: list[Attempt] | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, history=history)
        self.status_code = status_code
        self.body = body
        detail = (body.get("detail") or body.get("error")) if isinstance(body, dict) else None
        self.detail: str | None = detail if isinstance(detail, str) else None


class BadRequestError(HTTPStatusError):
    """The server rejected the payload (400, or a legacy 403 ``invalid payload``); ``reasons``: field -> messages."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reasons: dict[str, list[str]] = _field_reasons(self.body)


class UnknownLucidIDError(BadRequestError):
    """The server did not know some of the submitted LucidIDs; ``unknown_ids`` names them where known."""

    def __init__(self, message: str, *, unknown_ids: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.unknown_ids: list[str] | None = unknown_ids


class AuthenticationError(HTTPStatusError):
    """401: the credentials or token were not accepted."""


class ForbiddenError(HTTPStatusError):
    """403: the credentials may not do this (another Brand's or Company's resource)."""


class NotFoundError(HTTPStatusError):
    """404: no such resource, page or path."""


class MethodNotAllowedError(HTTPStatusError):
    """405: the endpoint does not take this HTTP method."""


class RateLimitError(HTTPStatusError):
    """429: throttled; ``retry_after`` is the server's wait in seconds (None when not given)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(HTTPStatusError):
    """500-599: the server failed; retried with backoff before this is raised."""


class UnsuccessfulReplyError(HTTPStatusError):
    """A 2xx answer to a submission whose body says a ``status`` other than ``success``; ``body`` holds it whole."""


class RedirectError(HTTPStatusError):
    """3xx: the API documents no redirects, so none is followed; ``location`` is where it pointed."""

    def __init__(self, message: str, *, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.location = location


class WriteOutcomeUnknownError(APIError):
    """A write (POST, PUT, PATCH, DELETE) reached the server, but no answer says whether it acted: not repeated.

    Raised as one of its subclasses, which are also the error the failure would otherwise be (``WriteServerError``
    is a ``ServerError``, ``WriteTimeoutError`` a ``RequestTimeoutError``, ``WriteConnectError`` a ``ConnectError``),
    so ``except ServerError`` still catches a 5xx to a write.
    """


class WriteServerError(WriteOutcomeUnknownError, ServerError):
    """A 5xx answer to a write: the server may have acted before failing (the API sends no body to say)."""


class WriteTimeoutError(WriteOutcomeUnknownError, RequestTimeoutError):
    """A write sent but not answered in time: it may have acted."""


class WriteConnectError(WriteOutcomeUnknownError, ConnectError):
    """The connection dropped after a write was sent: it may have acted."""


class DrainStopped(PaginationError):
    """The drain was stopped on request (a Stop button); ``.partial`` and ``.resume`` hold what was fetched."""


class DrainInterrupted(_Picklable, KeyboardInterrupt):
    """Ctrl-C during a drain: ``.partial`` (the rows so far) and ``.resume`` (pass it as ``resume=``) keep them."""

    def __init__(self, message: str, *, partial: pd.DataFrame | None = None, resume: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial
        self.resume = resume

    def __str__(self) -> str:
        return self.message


class LookupInterrupted(DrainInterrupted):
    """Ctrl-C during a look-up: ``.partial`` has every id (``_status`` "pending" for those not done), ``.resume``."""


def _field_reasons(body: Any) -> dict[str, list[str]]:
    """Field-level reasons from a DRF or Lucid error body, as ``{field: [messages]}``."""
    if not isinstance(body, dict):
        return {}
    reason = body.get("reason")
    source: dict[Any, Any] = reason if isinstance(reason, dict) else body
    reasons: dict[str, list[str]] = {}
    for field, value in source.items():
        if field == "status" and source is body:
            continue
        if isinstance(value, list):
            reasons[str(field)] = [str(v) for v in value]
        elif isinstance(value, dict):  # transactions: {"items": {"invalid": [...], "unknown": [...]}}
            reasons[str(field)] = [f"{k}: {v}" for k, v in value.items()]
        else:
            reasons[str(field)] = [str(value)]
    return reasons
