"""Defaults as named constants, and how a Client's settings are resolved: arguments, then environment, then defaults."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from lucidframes._http.urls import BaseURL, parse_base_url
from lucidframes.errors import ConfigError, ConfigWarning

__all__ = [
    "BUCKETS",
    "DEFAULT_API_PREFIXES",
    "DEFAULT_CACHE_FILE",
    "DEFAULT_DEADLINE",
    "DEFAULT_LUCID_ID_LENGTH",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_RETAIL_LIMIT",
    "DEFAULT_RETAIL_PUBLIC_LIMIT",
    "DEFAULT_ROUND_TRIP",
    "DEFAULT_SOURCE_LIMIT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WORKERS",
    "ENV_BASE_URL",
    "ENV_CACHE_DIR",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_LUCID_ID_LENGTH",
    "ENV_TOKEN",
    "INTERRUPT_GRACE",
    "MAX_BODY_BYTES",
    "MAX_WORKERS",
    "Settings",
    "check_workers",
    "default_cache_dir",
    "lucid_id_length",
    "resolve_settings",
]

ENV_BASE_URL = "LUCID_BASE_URL"
ENV_CLIENT_ID = "LUCID_CLIENT_ID"
ENV_CLIENT_SECRET = "LUCID_CLIENT_SECRET"
ENV_TOKEN = "LUCID_TOKEN"
ENV_LUCID_ID_LENGTH = "LUCID_ID_LENGTH"
ENV_CACHE_DIR = "LUCID_CACHE_DIR"

# The production LucidSource host: the product most analysts start with.
DEFAULT_BASE_URL = "https://source.lucidgreen.io"
# Version prefixes by product; older prefixes still exist, hence a setting (REFERENCE.md).
DEFAULT_API_PREFIXES: Mapping[str, str] = {"source": "/api/v1.5/", "retail": "/api/v1.2/"}
# The documented limits as (requests, window seconds), one per bucket (REFERENCE.md, "Rate limits"): LucidSource
# per API user, all endpoints sharing it; LucidRetail per API key; LucidRetail's public look-ups per caller IP.
DEFAULT_SOURCE_LIMIT: tuple[int, float] = (60, 60.0)
DEFAULT_RETAIL_LIMIT: tuple[int, float] = (1000, 60.0)
DEFAULT_RETAIL_PUBLIC_LIMIT: tuple[int, float] = (60, 60.0)
DEFAULT_RATE_LIMITS: Mapping[str, tuple[int, float]] = {
    "source": DEFAULT_SOURCE_LIMIT,
    "retail": DEFAULT_RETAIL_LIMIT,
    "retail_public": DEFAULT_RETAIL_PUBLIC_LIMIT,
}
# The buckets an endpoint may draw from (the registry names one per endpoint; by default its product's).
BUCKETS = tuple(DEFAULT_RATE_LIMITS)
# Seconds one request is assumed to take when a plan has seen none yet (a measured round trip replaces it).
DEFAULT_ROUND_TRIP = 0.3
# Seconds a look-up interrupted by Ctrl-C waits for the answers already on their way (so they are kept).
INTERRUPT_GRACE = 1.0
# The cache's file inside its folder (one SQLite database; see loaders/cache.py).
DEFAULT_CACHE_FILE = "lucidframes-cache.sqlite3"
# (connect, read) seconds: every request has a timeout.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
# Seconds one attempt may take from sending to the last byte of the body (a dripping server cannot hold a drain).
DEFAULT_DEADLINE = 120.0
# Concurrent page fetches once the total is known, and the most a caller may ask for (the pool grows to match).
DEFAULT_WORKERS = 8
MAX_WORKERS = 64
# A body larger than this is refused (a page is kilobytes; this only stops a hostile or broken server).
MAX_BODY_BYTES = 256 * 2**20
# The LucidID length of the specification (20); some public examples show 22-character ids.
DEFAULT_LUCID_ID_LENGTH = 20
TOKEN_PATH = "/o/token/"
# Values people paste from documentation instead of their own: refused before any request is made.
_PLACEHOLDER = re.compile(
    r"[\s.*_<>-]*|x+|<.*>|\{.*\}|(your|my)[-_ ].*|changeme|placeholder|secret|token|none|null", re.IGNORECASE
)


@dataclass(frozen=True)
class Settings:
    """Where to connect and how to authenticate, after resolution (``auth``: "client_credentials" or "token")."""

    base: BaseURL
    client_id: str | None
    client_secret: str | None
    token: str | None
    auth: str

    @property
    def base_url(self) -> str:
        """The base URL as text (``https://host[:port]``)."""
        return self.base.origin

    def __repr__(self) -> str:
        # Secrets never appear in a repr.
        return (
            f"Settings(base_url={self.base_url!r}, client_id={self.client_id!r}, "
            f"client_secret={'***' if self.client_secret else None}, token={'***' if self.token else None}, "
            f"auth={self.auth!r})"
        )


def _pick(value: str | None, env: Mapping[str, str], variable: str, argument: str) -> tuple[str | None, str]:
    """(the value, where it came from) for one setting: the argument, else the variable."""
    if value is not None and value != "":
        return value, argument
    found = env.get(variable) or None
    return found, variable


def _checked(value: str | None, where: str) -> str | None:
    """A credential as given, or ConfigError when it is a placeholder or holds whitespace (never shown)."""
    if value is None:
        return None
    if _PLACEHOLDER.fullmatch(value.strip()) or any(c.isspace() for c in value):
        raise ConfigError(
            f"{where} looks like a placeholder or holds whitespace ({len(value)} characters): set it to the value "
            "Lucid Green issued (nothing was sent)."
        )
    return value


def resolve_settings(
    base_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Fill unset arguments from the environment and check that one complete way to authenticate is configured.

    An explicit ``token=`` wins; otherwise client credentials (renewable) win over ``LUCID_TOKEN``; whichever is
    ignored is said once, as a ConfigWarning.

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
    base_text, base_from = _pick(base_url, env, ENV_BASE_URL, "base_url=")
    base = parse_base_url(base_text or DEFAULT_BASE_URL, setting=base_from)
    cid, cid_from = _pick(client_id, env, ENV_CLIENT_ID, "client_id=")
    secret, secret_from = _pick(client_secret, env, ENV_CLIENT_SECRET, "client_secret=")
    tok, tok_from = _pick(token, env, ENV_TOKEN, "token=")
    cid, secret, tok = _checked(cid, cid_from), _checked(secret, secret_from), _checked(tok, tok_from)
    if bool(cid) != bool(secret) and tok is None:
        have, need = (cid_from, secret_from) if cid else (secret_from, cid_from)
        raise ConfigError(
            f"{have} is set but {need} is not: client credentials need both (or set {ENV_TOKEN} for a fixed token)."
        )
    if tok is None and not cid:
        raise ConfigError(
            f"No credentials configured: set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (OAuth2 client credentials "
            f"issued by Lucid Green), or {ENV_TOKEN} for a fixed access token, or pass them to lf.Client(...). "
            "To try lucidframes without credentials, use the local sandbox: `lucidframes sandbox`."
        )
    use_token = tok is not None and (tok_from == "token=" or not (cid and secret))
    if tok is not None and cid and secret:
        ignored = f"client credentials ({cid_from}, {secret_from})" if use_token else tok_from
        used = tok_from if use_token else "the client credentials (they can be renewed)"
        warnings.warn(f"{ignored} ignored: {used} win.", ConfigWarning, stacklevel=3)
    elif tok is not None and (cid or secret):
        warnings.warn(f"{cid_from if cid else secret_from} ignored: it needs its pair.", ConfigWarning, stacklevel=3)
    return Settings(base, cid, secret, tok, "token" if use_token else "client_credentials")


def check_workers(workers: object, where: str = "workers") -> int:
    """A worker count from 1 to MAX_WORKERS, or ConfigError saying what is allowed.

    Args:
        workers: the value given.
        where: how the caller named it, for the message.

    Returns:
        The count.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"{where} must be a whole number from 1 to {MAX_WORKERS} (got {workers!r}).")
    return workers


def lucid_id_length(environ: Mapping[str, str] | None = None) -> int:
    """The LucidID length: ``LUCID_ID_LENGTH`` when set (a whole number from 1 to 64), else 20.

    Args:
        environ: the environment to read (defaults to ``os.environ``).

    Returns:
        The length.
    """
    text = (os.environ if environ is None else environ).get(ENV_LUCID_ID_LENGTH, "").strip()
    if not text:
        return DEFAULT_LUCID_ID_LENGTH
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ConfigError(
            f"{ENV_LUCID_ID_LENGTH} must be a positive whole number (like 20 or 22) up to 64, not {text!r}"
        )
    return int(text)


def default_cache_dir(environ: Mapping[str, str] | None = None) -> str:
    """The folder ``Client(cache=True)`` uses: ``LUCID_CACHE_DIR``, else the user cache dir plus ``lucidframes``.

    The user cache dir is ``XDG_CACHE_HOME`` where set, ``%LOCALAPPDATA%`` on Windows, else ``~/.cache``.

    Args:
        environ: the environment to read (defaults to ``os.environ``).

    Returns:
        The folder's path (not created here).
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_CACHE_DIR):
        return env[ENV_CACHE_DIR]
    base = env.get("XDG_CACHE_HOME") or (env.get("LOCALAPPDATA") if os.name == "nt" else None)
    return os.path.join(base or os.path.join(os.path.expanduser("~"), ".cache"), "lucidframes")
