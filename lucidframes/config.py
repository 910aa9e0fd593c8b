"""Defaults as named constants and the names of the ``LUCID_*`` variables: it imports nothing of ours (layer 1).

How a Client's settings are resolved from these is ``client/settings.py``."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = [
    "BUCKETS",
    "DEFAULT_API_PREFIXES",
    "DEFAULT_BASE_URL",
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
    "TOKEN_PATH",
    "default_cache_dir",
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
