"""Defaults as named constants, and how a Client's settings are resolved: arguments, then environment, then defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lucidframes.errors import ConfigError

__all__ = [
    "DEFAULT_API_PREFIXES",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WORKERS",
    "ENV_BASE_URL",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_TOKEN",
    "Settings",
    "resolve_settings",
]

ENV_BASE_URL = "LUCID_BASE_URL"
ENV_CLIENT_ID = "LUCID_CLIENT_ID"
ENV_CLIENT_SECRET = "LUCID_CLIENT_SECRET"
ENV_TOKEN = "LUCID_TOKEN"

# The production LucidSource host: the product most analysts start with.
DEFAULT_BASE_URL = "https://source.lucidgreen.io"
# Version prefixes by product; older prefixes still exist, hence a setting (REFERENCE.md).
DEFAULT_API_PREFIXES: Mapping[str, str] = {"source": "/api/v1.5/", "retail": "/api/v1.2/"}
# (requests, window seconds) per product, the documented limits.
DEFAULT_RATE_LIMITS: Mapping[str, tuple[int, float]] = {"source": (60, 60.0), "retail": (1000, 60.0)}
# (connect, read) seconds: every request has a timeout.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
# Concurrent page fetches once the total is known.
DEFAULT_WORKERS = 8
TOKEN_PATH = "/o/token/"


@dataclass(frozen=True)
class Settings:
    """Where to connect and how to authenticate, after resolution."""

    base_url: str
    client_id: str | None
    client_secret: str | None
    token: str | None

    def __repr__(self) -> str:
        # Secrets never appear in a repr.
        return (
            f"Settings(base_url={self.base_url!r}, client_id={self.client_id!r}, "
            f"client_secret={'***' if self.client_secret else None}, token={'***' if self.token else None})"
        )


def resolve_settings(
    base_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Fill unset arguments from the environment, check that some way to authenticate is configured.

    Args:
        base_url: the API host (scheme, host, optional port); the production LucidSource host when unset.
        client_id: OAuth2 client id.
        client_secret: OAuth2 client secret.
        token: a fixed access token (no renewal).
        environ: the environment to read (defaults to ``os.environ``).

    Returns:
        The resolved Settings.
    """
    env = os.environ if environ is None else environ
    base = (base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"The base URL must start with http:// or https:// (got {base!r}); set {ENV_BASE_URL}.")
    cid = client_id or env.get(ENV_CLIENT_ID) or None
    secret = client_secret or env.get(ENV_CLIENT_SECRET) or None
    tok = token or env.get(ENV_TOKEN) or None
    if tok is None and not (cid and secret):
        missing = ENV_CLIENT_SECRET if cid else ENV_CLIENT_ID if secret else f"{ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"
        raise ConfigError(
            f"No credentials configured: set {missing} (OAuth2 client credentials issued by Lucid Green), "
            f"or {ENV_TOKEN} for a fixed access token, or pass them to lf.Client(...). "
            "To try lucidframes without credentials, use the local sandbox: `lucidframes sandbox`."
        )
    return Settings(base_url=base, client_id=cid, client_secret=secret, token=tok)
