"""Access tokens as Django OAuth Toolkit issues them for the client-credentials grant: opaque, expiring, revocable."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

TOKEN_LENGTH = 30  # oauthlib's default token length


class TokenStore:
    """Issued tokens and their expiry times (``time.monotonic`` by default); thread-safe."""

    def __init__(self, lifetime: float, timer: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self._timer = timer
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, expiry)
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> str:
        """A new token for a client, valid for ``lifetime`` seconds from now."""
        token = secrets.token_urlsafe(TOKEN_LENGTH)[:TOKEN_LENGTH]
        now = self._timer()
        with self._lock:
            # drop expired tokens now and then, so a long-running sandbox does not grow without bound
            if len(self._tokens) > 1000:
                self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (client_id, now + self.lifetime)
        return token

    def client_for(self, token: str | None) -> str | None:
        """The client id a token was issued to, or None if it is unknown or expired."""
        if not token:
            return None
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[1] <= self._timer():
            return None
        return found[0]

    def expire_all(self) -> None:
        """Every token issued so far becomes invalid now."""
        with self._lock:
            self._tokens.clear()


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None for any other form."""
    if not authorization:
        return None
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]
