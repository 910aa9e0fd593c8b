"""Scripted faults (the next N requests matching a path fail in a chosen way) and seeded random server errors.

Path matching (``Fault.matches``):

* a ``str`` is split at the first ``?``. The part before it must occur in the request path (a substring, so
  ``"/products/"`` matches the list and every detail), and every ``key=value`` after it must be among the request's
  query parameters, in any order (so ``"/api/v1.5/products/?page=3"`` matches ``?page=3`` and ``?x=1&page=3``, but
  not ``?page=30``, nor the first page requested without ``page``);
* a compiled ``re.Pattern`` is searched in ``path?query`` (just ``path`` when there is no query).
"""

from __future__ import annotations

import email.utils
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs, parse_qsl

from lucidframes.sandbox.messages import Response, empty, json_response
from lucidframes.sandbox.throttle import throttled_detail

FaultKind = Literal["status", "drop", "truncate", "not_json", "slow"]
KINDS: tuple[str, ...] = ("status", "drop", "truncate", "not_json", "slow")
RetryAfter = int | float | str | datetime | None
SERVER_ERRORS = (500, 502, 503, 504)
NOT_JSON_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
    b"<body><h1>We'll be back soon</h1><p>Scheduled maintenance.</p></body></html>\n"
)
_DETAILS = {
    400: "Malformed request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
}


def http_date(moment: datetime | float) -> str:
    """An HTTP-date (RFC 9110 IMF-fixdate) for an aware datetime, a naive UTC one, or a Unix time."""
    if isinstance(moment, datetime):
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return email.utils.formatdate(moment, usegmt=True)


def render_retry_after(value: RetryAfter, form: Literal["seconds", "http-date"] = "seconds") -> str | None:
    """The Retry-After header text: seconds as given, a datetime as an HTTP-date, a str verbatim.

    With ``form="http-date"``, a number of seconds becomes the HTTP-date that far from now (wall clock).
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return http_date(value)
    if form == "http-date":
        return http_date(time.time() + value)
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass
class Fault:
    """A scripted fault; ``remaining`` counts down as matching requests take it (None: never runs out)."""

    path: str | re.Pattern[str]
    status: int | None = None  # None: 503 for "status", 200 for "not_json", the real status otherwise
    times: int | None = 1
    retry_after: RetryAfter = None
    kind: FaultKind = "status"
    delay: float = 0.0  # before answering; for "slow", the body comes in 4 pieces, each after a pause of delay/4
    method: str | None = None
    body: Any = None  # for "status": a JSON-able payload or bytes instead of the usual body for that status
    retry_after_form: Literal["seconds", "http-date"] = "seconds"
    remaining: int | None = field(init=False)
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}: expected one of {', '.join(KINDS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every matching request)")
        self.remaining = self.times
        if self.method:
            self.method = self.method.upper()

    def matches(self, method: str, path: str, query: str) -> bool:
        """Whether a request is targeted by this fault (see the module docstring)."""
        if self.method and self.method != method:
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(f"{path}?{query}" if query else path) is not None
        want_path, _, want_query = self.path.partition("?")
        if want_path not in path:
            return False
        have = parse_qs(query, keep_blank_values=True)
        return all(value in have.get(key, ()) for key, value in parse_qsl(want_query, keep_blank_values=True))

    def status_response(self, method: str) -> Response:
        """The answer of a "status" fault: no body for 401 and 5xx (as the real stack), DRF bodies for the rest."""
        status = self.status or 503
        headers = []
        retry_after = render_retry_after(self.retry_after, self.retry_after_form)
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="api"'))
        if isinstance(self.body, bytes):
            return Response(status, self.body, headers)
        if self.body is not None:
            return json_response(status, self.body, headers)
        if status == 401 or status >= 500 or status in (204, 304):
            return empty(status, headers)
        if status == 429:
            seconds = self.retry_after if isinstance(self.retry_after, (int, float)) else None
            message = throttled_detail(seconds)[1] if seconds is not None else "Request was throttled."
            return json_response(status, {"detail": message}, headers)
        if status == 405:
            return json_response(status, {"detail": f'Method "{method}" not allowed.'}, headers)
        message = _DETAILS.get(status) or HTTPStatus(status).phrase
        return json_response(status, {"detail": message}, headers)

    def not_json_response(self) -> Response:
        """The answer of a "not_json" fault: an HTML page where JSON was expected (a proxy's maintenance page)."""
        return Response(self.status or 200, NOT_JSON_BODY, [("Content-Type", "text/html; charset=utf-8")])


class FaultBook:
    """The pending scripted faults, consumed first-added first; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Schedule a fault."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, query: str) -> Fault | None:
        """The first pending fault matching a request, counted as used; None if there is none."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, query):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """The faults not used up yet."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._faults.clear()


class RandomErrors:
    """A seeded random fraction of requests answered with a 5xx and no body; thread-safe."""

    def __init__(self, rate: float = 0.0, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rate = 0.0
        self._rng = random.Random(seed)
        self.set(rate, seed)

    def set(self, rate: float, seed: int = 0) -> None:
        """Change the rate (0 to 1) and restart the random sequence from a seed."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"error rate must be between 0 and 1, got {rate!r}")
        with self._lock:
            self._rate = rate
            self._rng = random.Random(seed)

    def pick(self) -> Response | None:
        """A 500/502/503/504 for this request, or None; the draw is made even at rate 0 to keep sequences aligned."""
        with self._lock:
            draw, status = self._rng.random(), self._rng.choice(SERVER_ERRORS)
        return empty(status) if draw < self._rate else None
