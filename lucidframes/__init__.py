"""lucidframes: the Lucid Green API as typed pandas DataFrames, with a LucidID validator and a local sandbox.

The public API is ``__all__``. This module imports neither ipywidgets nor the sandbox: they load when asked for
(``lucidframes.widgets``, ``lucidframes.sandbox``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lucidframes._http.events import WaitEvent
from lucidframes._http.retry import RetryPolicy
from lucidframes._version import __version__
from lucidframes.client import Client
from lucidframes.errors import (
    APIError,
    Attempt,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConfigWarning,
    ConnectError,
    DecodeError,
    DrainInterrupted,
    DrainStopped,
    DriftWarning,
    ForbiddenError,
    HTTPStatusError,
    LookupInterrupted,
    LucidError,
    LucidIDValidationError,
    MethodNotAllowedError,
    NotFoundError,
    PaginationError,
    RateLimitError,
    ReadError,
    RedirectError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnknownEndpointError,
    UnknownLucidIDError,
    UnsuccessfulReplyError,
)
from lucidframes.export import export
from lucidframes.loaders.cache import CacheInfo, ResultCache
from lucidframes.loaders.endpoints import ENDPOINTS, Endpoint, get_endpoint
from lucidframes.loaders.lookup_state import LookupState
from lucidframes.loaders.pages import DrainState, Page
from lucidframes.loaders.plan import Plan
from lucidframes.loaders.stream import PageStream
from lucidframes.lucidid import (  # importing it registers the df.lucid / series.lucid accessor
    Normalized,
    ValidationReport,
    normalize_lucid_ids,
    validate_lucid_ids,
)
from lucidframes.readers import EncodingFallbackWarning, read_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "ENDPOINTS",
    "APIError",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "CacheInfo",
    "Client",
    "ConfigError",
    "ConfigWarning",
    "ConnectError",
    "DecodeError",
    "DrainInterrupted",
    "DrainState",
    "DrainStopped",
    "DriftWarning",
    "EncodingFallbackWarning",
    "Endpoint",
    "ForbiddenError",
    "HTTPStatusError",
    "LookupInterrupted",
    "LookupState",
    "LucidError",
    "LucidIDValidationError",
    "MethodNotAllowedError",
    "Normalized",
    "NotFoundError",
    "Page",
    "PageStream",
    "PaginationError",
    "Plan",
    "RateLimitError",
    "ReadError",
    "RedirectError",
    "RequestTimeoutError",
    "ResultCache",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnknownEndpointError",
    "UnknownLucidIDError",
    "UnsuccessfulReplyError",
    "ValidationReport",
    "WaitEvent",
    "__version__",
    "explore",
    "export",
    "get_endpoint",
    "load",
    "normalize_lucid_ids",
    "read_table",
    "validate_lucid_ids",
]


def load(name: str, page: int | None = None, pages: Iterable[int] | None = None, **kwargs: Any) -> pd.DataFrame:
    """Load an endpoint with a Client configured from the environment (``LUCID_BASE_URL``, ``LUCID_CLIENT_ID``, ...).

    Args:
        name: the endpoint name.
        page: only this page.
        pages: only these pages.
        **kwargs: as for ``Client.load``.

    Returns:
        The DataFrame.
    """
    with Client() as client:
        return client.load(name, page=page, pages=pages, **kwargs)


def explore(client: Client | None = None, *, sandbox: bool = False) -> Any:
    """Open the notebook Explorer widget on ``client``, or one configured from the environment.

    Args:
        client: the Client to explore with; from the ``LUCID_*`` environment when omitted.
        sandbox: start the local sandbox and explore it instead (no credentials needed).

    Returns:
        The ``lucidframes.widgets.Explorer`` (display it as a cell's last value).
    """
    from lucidframes.widgets import explore as _explore  # ipywidgets only loads when asked for

    return _explore(client, sandbox=sandbox)
