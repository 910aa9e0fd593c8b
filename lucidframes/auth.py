"""Token providers: a fixed token, or OAuth2 client credentials (fetched, cached, renewed once on a 401).

Secrets are held in ``Secret`` so that no repr, log line or error message can show them by accident.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests

from lucidframes.errors import AuthenticationError, DecodeError, HTTPStatusError

__all__ = ["ClientCredentials", "Secret", "StaticToken", "TokenProvider"]

# Renew this long before the server's expiry, so a token never lapses mid-drain.
EXPIRY_MARGIN_SECONDS = 60.0


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
    """Gives the bearer token to send; may renew it after a 401."""

    renewable: bool

    def token(self) -> str:
        """The current access token (fetching one if needed)."""
        ...

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the server refused it, so the next ``token()`` fetches a fresh one."""
        ...


class StaticToken:
    """A fixed access token (``LUCID_TOKEN``): sent as is, never renewed."""

    renewable = False

    def __init__(self, token: str) -> None:
        self._token = Secret(token)

    def token(self) -> str:
        """The fixed token."""
        return self._token.reveal()

    def invalidate(self, token: str) -> None:
        """Nothing to renew: a fixed token stays what it is."""

    def __repr__(self) -> str:
        return "StaticToken(token=***)"


# post(url, data) -> Response, supplied by the client so the token request shares its session, timeouts, retries.
PostForm = Callable[[str, dict[str, str]], requests.Response]


class ClientCredentials:
    """OAuth2 client credentials against ``{base}/o/token/``: one token at a time, cached until near expiry."""

    renewable = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        post: PostForm,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = Secret(client_secret)
        self._post = post
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at = 0.0
        self.fetch_count = 0  # tokens fetched so far (tests and diagnostics)

    def token(self) -> str:
        """The cached token, or a new one when there is none or it is about to expire."""
        with self._lock:  # one fetch at a time, however many workers ask
            if self._token is None or self._clock() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return self._token.reveal()

    def invalidate(self, token: str) -> None:
        """Drop ``token`` if it is still the current one (several workers may report the same 401)."""
        with self._lock:
            if self._token is not None and self._token.reveal() == token:
                self._token = None

    def _fetch(self) -> None:
        """POST the client credentials and cache the reply's token."""
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.reveal(),
        }
        try:
            response = self._post(self.token_url, form)
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
        try:
            payload = response.json()
            access = payload["access_token"]
            expires_in = float(payload.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise DecodeError(
                f"The token endpoint answered for client id {self.client_id!r} without a usable access_token.",
                method="POST",
                url=self.token_url,
            ) from None
        self.fetch_count += 1
        self._token = Secret(str(access))
        margin = min(EXPIRY_MARGIN_SECONDS, expires_in * 0.1)
        self._expires_at = self._clock() + expires_in - margin

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, client_secret=***)"


def _oauth_error(body: Any) -> str:
    """`` invalid_client`` style suffix from an OAuth2 error body."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f": {body['error']}"
    return ""
