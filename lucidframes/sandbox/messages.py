"""The request and response values passed between the HTTP layer and the application, and JSON helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

JSON_TYPE = "application/json"


class Headers(Protocol):
    """Case-insensitive header access, as http.server's parsed headers give it."""

    def get(self, name: str, /) -> str | None:
        """The value of a header, or None."""


@dataclass(frozen=True)
class Request:
    """One HTTP request, already read off the socket."""

    method: str
    path: str  # as sent, still percent-encoded, without the query
    query: str  # the raw query string, without "?"
    headers: Headers
    body: bytes
    client_ip: str
    origin: str  # "http://host:port" for absolute links, from the Host header as Django builds it


@dataclass
class Response:
    """One HTTP response; ``body`` is sent as is with a matching Content-Length."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def encode(payload: Any) -> bytes:
    """JSON as DRF's JSONRenderer writes it: compact, UTF-8, not ASCII-escaped."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """A JSON response."""
    return Response(status, encode(payload), [("Content-Type", JSON_TYPE), *(headers or [])])


def detail(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """DRF's ``{"detail": ...}`` error."""
    return json_response(status, {"detail": message}, headers)


def empty(status: int, headers: list[tuple[str, str]] | None = None) -> Response:
    """A response without a body (401 and 5xx in the real stack, 204)."""
    return Response(status, b"", list(headers or []))


class Reply(Exception):
    """Raised by a view (or the state it reads) to answer at once: a validation error, a missing object."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def not_found(model: str) -> Reply:
    """DRF's 404 for a lookup that found nothing (Http404 from get_object_or_404, as DRF >= 3.15 reports it)."""
    return Reply(detail(404, f"No {model} matches the given query."))
