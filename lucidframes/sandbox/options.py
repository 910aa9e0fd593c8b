"""How a sandbox is configured: one options type shared by ``Sandbox(...)``, ``serve(...)`` and ``lucidframes sandbox``.

The options are named once, here, with their defaults and their checks; the other three take them as a
``SandboxOptions`` or as keyword arguments (``serve(seed=1, rate_limits=None)``), which replace the defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lucidframes.sandbox.throttle import Limits, LimitsSpec, parse_limits

__all__ = ["SandboxOptions", "options_from"]


@dataclass(frozen=True)
class SandboxOptions:
    """A sandbox's configuration (every field has the default ``serve()`` uses).

    Args:
        seed: the seed of the generated data (and of request ids, errors and the default secret).
        page_size: rows per page of list endpoints.
        sizes: how many records of each resource (``lucidframes.sandbox.data.DEFAULT_SIZES`` for the rest).
        token_lifetime: seconds an access token is valid.
        rate_limits: "default" (the documented limits), None (off), a dict scope -> (n, seconds) or text such as
            "source=60/60,retail=1000/60,retail_public=60/60".
        latency: seconds to wait before each API answer.
        error_rate: fraction of API requests answered with a random 500/502/503/504.
        host: the address to listen on.
        port: the port, 0 for a free one.
        client_id: the client id to accept (default ``sandbox-client``).
        client_secret: the client secret to accept (default: derived from the seed).
    """

    seed: int = 0
    page_size: int = 100
    sizes: Mapping[str, int] | None = None
    token_lifetime: float = 36000
    rate_limits: LimitsSpec = "default"
    latency: float = 0.0
    error_rate: float = 0.0
    host: str = "127.0.0.1"
    port: int = 0
    client_id: str | None = None
    client_secret: str | None = None

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        if self.token_lifetime <= 0:
            raise ValueError("token_lifetime must be positive")
        if self.latency < 0:
            raise ValueError("latency must not be negative")
        self.limits()  # a bad spec fails here, not when the server starts

    def limits(self) -> Limits:
        """The rate limits per scope, parsed."""
        return parse_limits(self.rate_limits)


def options_from(options: SandboxOptions | None, changes: Mapping[str, Any]) -> SandboxOptions:
    """``options`` (or the defaults) with ``changes`` applied; a name that is not an option is a TypeError.

    Args:
        options: a SandboxOptions, or None for the defaults.
        changes: keyword arguments naming options.

    Returns:
        The SandboxOptions.
    """
    names = {f.name for f in dataclasses.fields(SandboxOptions)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"unknown sandbox option(s) {', '.join(unknown)}: expected some of {', '.join(sorted(names))}")
    return dataclasses.replace(options or SandboxOptions(), **changes)
