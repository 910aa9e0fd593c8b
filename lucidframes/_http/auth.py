"""Token providers: a fixed token, or OAuth2 client credentials (fetched, cached, renewed once on a 401).

Secrets are held in ``Secret`` so that no repr, log line, error message or traceback local can show them: the
bearer header is set inside ``BearerAuth.__call__`` (no frame of ours holds the token in a variable), and the
token form travels as a ``SecretForm`` that is revealed only in the expression that hands it to requests.

A token reply is not trusted: a missing, empty or non-string ``access_token`` (or one that could not be a header
value) is a ``DecodeError`` and nothing is sent with it. ``expires_in`` is clamped to [30 s, 1 day]; when it is
missing or not a positive number the token is kept for 5 minutes (DOT's default is 10 hours: a short guess costs
a token request every 5 minutes, a long one a 401 and a renewal).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import requests

from lucidframes.errors import AuthenticationError, DecodeError, HTTPStatusError

__all__ = ["BearerAuth", "ClientCredentials", "Secret", "SecretForm", "StaticToken", "TokenProvider"]

log = logging.getLogger("lucidframes")

# Renew this long before the server's expiry, so a token never lapses mid-drain.
EXPIRY_MARGIN_SECONDS = 60.0
# Bounds on a token's lifetime as the server states it, and the lifetime assumed when it states none.
MIN_LIFETIME_SECONDS = 30.0
MAX_LIFETIME_SECONDS = 86_400.0
UNKNOWN_LIFETIME_SECONDS = 300.0
# A bearer token is a header value: visible ASCII only (RFC 6750 b64token is narrower still).
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]{1,4096}")


class Secret:
    """A string that never shows itself: repr and str print ``***``; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:  # pickling would write the value to disk: refuse
        raise TypeError("a Secret cannot be pickled")


class TokenProvider(Protocol):
    """Gives the bearer header to send; may renew the token after a 401."""

    renewable: bool

    @property
    def generation(self) -> int:
        """A number that changes whenever the token does (the send loop keeps it instead of the token)."""
        ...

    def header(self) -> str:
        """``Bearer <token>`` for the current token (fetching one if needed)."""
        ...

    def invalidate(self, generation: int) -> None:
        """Forget the token of ``generation`` after the server refused it, so the next header fetches anew."""
        ...


class BearerAuth(requests.auth.AuthBase):
    """requests' auth hook: the header is asked for as the request is prepared, so no caller holds the token."""

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self.provider.header()
        return r

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class StaticToken:
    """A fixed access token (``LUCID_TOKEN``): sent as is, never renewed."""

    renewable = False
    generation = 0

    def __init__(self, token: str | Secret) -> None:
        self._token = token if isinstance(token, Secret) else Secret(token)

    def header(self) -> str:
        """The fixed token's header."""
        return "Bearer " + self._token.reveal()

    def invalidate(self, generation: int) -> None:
        """Nothing to renew: a fixed token stays what it is."""

    def __repr__(self) -> str:
        return "StaticToken(token=***)"


class SecretForm:
    """A form whose values stay hidden until ``reveal()``, the one call that hands them to requests."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, str | Secret]) -> None:
        self._fields = dict(fields)

    def reveal(self) -> dict[str, str]:
        """The form as requests sends it."""
        return {k: v.reveal() if isinstance(v, Secret) else v for k, v in self._fields.items()}

    def __repr__(self) -> str:
        return f"SecretForm({sorted(self._fields)})"

    def __reduce__(self) -> Any:
        raise TypeError("a SecretForm cannot be pickled")


# post(url, form) -> the decoded reply, supplied by the transport so the token request shares its session and retries.
PostForm = Callable[[str, SecretForm], Any]


class ClientCredentials:
    """OAuth2 client credentials against ``{base}/o/token/``: one token at a time, cached until near expiry."""

    renewable = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | Secret,
        post: PostForm,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret if isinstance(client_secret, Secret) else Secret(client_secret)
        self._post = post
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at = 0.0
        self.generation = 0
        self.fetch_count = 0  # tokens fetched so far (tests and diagnostics)

    def header(self) -> str:
        """The cached token's header, or a new token's when there is none or it is about to expire."""
        with self._lock:  # one fetch at a time, however many workers ask
            if self._token is None or self._clock() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return "Bearer " + self._token.reveal()

    def invalidate(self, generation: int) -> None:
        """Drop the token if it is still the one of ``generation`` (several workers may report the same 401)."""
        with self._lock:
            if generation == self.generation:
                self._token = None

    def _fetch(self) -> None:
        """POST the client credentials and cache the reply's token (checked before it is ever sent)."""
        form = SecretForm(
            {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret}
        )
        try:
            # One expression: the reply (which holds the token) never sits in a local of this frame.
            token, lifetime = self._read_reply(self._post(self.token_url, form))
        except HTTPStatusError as exc:
            if exc.status_code not in (400, 401, 403):
                raise  # a server fault, already retried: not a credentials problem
            raise AuthenticationError(
                f"The token request for client id {self.client_id!r} was refused "
                f"(HTTP {exc.status_code}{_oauth_error(exc.body)}): check LUCID_CLIENT_ID and LUCID_CLIENT_SECRET.",
                status_code=exc.status_code,
                body=exc.body,
                method="POST",
                url=self.token_url,
                history=exc.history,
            ) from None
        self.fetch_count += 1
        self.generation += 1
        self._token = token
        margin = min(EXPIRY_MARGIN_SECONDS, lifetime * 0.1)
        self._expires_at = self._clock() + lifetime - margin

    def _read_reply(self, payload: Any) -> tuple[Secret, float]:
        """(the token, its lifetime in seconds) from a decoded token reply, or DecodeError."""
        access = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(access, str) or not _TOKEN_SHAPE.fullmatch(access):
            what = "no access_token" if access is None else f"an access_token that is {_kind(access)}"
            raise DecodeError(
                f"The token endpoint answered for client id {self.client_id!r} with {what}; nothing was sent with "
                "it. Check LUCID_BASE_URL (is it the API's host?) and try again.",
                method="POST",
                url=self.token_url,
            )
        return Secret(access), _lifetime(payload.get("expires_in"), self.client_id)

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, client_secret=***)"


def _kind(value: object) -> str:
    """What an unusable token value is, without showing it."""
    if isinstance(value, str):
        return "empty" if not value else f"not a header value ({len(value)} characters)"
    return f"a {type(value).__name__}, not a string"


def _lifetime(value: object, client_id: str) -> float:
    """``expires_in`` clamped to [MIN, MAX]; UNKNOWN when it is missing or not a positive number."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number <= 0:
        log.warning(
            "The token for client id %r came without a usable expires_in (%r); keeping it %g s.",
            client_id,
            value if not isinstance(value, str) else value[:20],
            UNKNOWN_LIFETIME_SECONDS,
        )
        return UNKNOWN_LIFETIME_SECONDS
    return min(MAX_LIFETIME_SECONDS, max(MIN_LIFETIME_SECONDS, float(number)))


def _oauth_error(body: Any) -> str:
    """`` invalid_client`` style suffix from an OAuth2 error body."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f": {body['error']}"
    return ""
