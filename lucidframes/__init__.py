"""lucidframes: the Lucid Green API as typed pandas DataFrames, with a LucidID validator and a local sandbox.

The public API is ``__all__``. This module imports neither ipywidgets nor the sandbox: they load when asked for
(``lucidframes.widgets``, ``lucidframes.sandbox``, ``sandbox=True``). Imported in an IPython kernel it registers
the short error display of ``lucidframes.notebook.display`` (``%tb`` still prints the whole traceback).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lucidframes._http.events import WaitEvent
from lucidframes._http.retry import RetryPolicy
from lucidframes._version import __version__
from lucidframes.client import Client
from lucidframes.client.shared import close_shared_sandbox, shared_client, shared_sandbox
from lucidframes.endpoints import ENDPOINTS, Endpoint, get_endpoint
from lucidframes.errors import (
    APIError,
    Attempt,
    AuthenticationError,
    BadRequestError,
    CacheWarning,
    ConfigError,
    ConfigWarning,
    ConnectError,
    DecodeError,
    DrainInterrupted,
    DrainStopped,
    DriftWarning,
    EncodingFallbackWarning,
    ForbiddenError,
    HTTPStatusError,
    LookupInterrupted,
    LucidError,
    LucidIDValidationError,
    MethodNotAllowedError,
    MissingColumnError,
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
from lucidframes.io.export import export
from lucidframes.io.read import read_table
from lucidframes.loaders.cache import CacheInfo, ResultCache
from lucidframes.loaders.fetch import Page
from lucidframes.loaders.lookup_state import LookupState
from lucidframes.loaders.plan import Plan
from lucidframes.loaders.state import DrainState
from lucidframes.loaders.stream import PageStream
from lucidframes.lucidid import (  # importing it registers the df.lucid / series.lucid accessor
    Normalized,
    Reason,
    ValidationReport,
    normalize_lucid_ids,
    suggest_fixes,
    validate_file,
    validate_lucid_ids,
)
from lucidframes.notebook import display as _display
from lucidframes.notebook.display import last_error
from lucidframes.notebook.summary import RunSummary, run_summary
from lucidframes.pipelines.snapshot import snapshot

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "ENDPOINTS",
    "APIError",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "CacheInfo",
    "CacheWarning",
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
    "MissingColumnError",
    "Normalized",
    "NotFoundError",
    "Page",
    "PageStream",
    "PaginationError",
    "Plan",
    "RateLimitError",
    "ReadError",
    "Reason",
    "RedirectError",
    "RequestTimeoutError",
    "ResultCache",
    "RetryPolicy",
    "RunSummary",
    "ServerError",
    "TransportError",
    "UnknownEndpointError",
    "UnknownLucidIDError",
    "UnsuccessfulReplyError",
    "ValidationReport",
    "WaitEvent",
    "__version__",
    "close_shared_sandbox",
    "explore",
    "export",
    "get_endpoint",
    "last_error",
    "load",
    "lookup",
    "normalize_lucid_ids",
    "read_table",
    "run_summary",
    "shared_sandbox",
    "snapshot",
    "suggest_fixes",
    "validate_file",
    "validate_lucid_ids",
]

_display.register()  # only does something inside IPython (never imports it)


def load(
    name: str,
    page: int | None = None,
    pages: Iterable[int] | str | None = None,
    *,
    sandbox: bool = False,
    **kwargs: Any,
) -> pd.DataFrame:
    """Load an endpoint in one call: from the local sandbox (``sandbox=True``) or the ``LUCID_*`` environment.

    Args:
        name: the endpoint name (``lucidframes endpoints`` lists them).
        page: only this page.
        pages: only these pages: a range, a list, or text such as ``"2-5"`` or ``"2,4,6"``.
        sandbox: use the process-wide sandbox (started on first use, stopped at exit; ``lf.shared_sandbox()``).
        **kwargs: as for ``Client.load`` (parameters such as ``export_date=``, and options such as ``workers=``);
            ``max_age=`` reads and fills the default cache folder (``LUCID_CACHE_DIR``, else the user cache dir).

    Returns:
        The DataFrame.
    """
    if sandbox:
        return shared_client().load(name, page=page, pages=pages, **kwargs)
    with _environment_client(kwargs) as client:
        return client.load(name, page=page, pages=pages, **kwargs)


def lookup(name: str, ids: Iterable[str], *, sandbox: bool = False, **kwargs: Any) -> pd.DataFrame:
    """Look ids up in one call (items by LucidID, products by uuid, ...), on the sandbox or the environment's API.

    Args:
        name: a single-resource endpoint (``items``, ``products``, ``collections``, ...).
        ids: the ids (LucidIDs are checked before anything is sent).
        sandbox: use the process-wide sandbox (see ``load``).
        **kwargs: as for ``Client.lookup``; ``max_age=`` uses the default cache folder, as ``load`` does.

    Returns:
        One row per id, with ``_status``.
    """
    if sandbox:
        return shared_client().lookup(name, ids, **kwargs)
    with _environment_client(kwargs) as client:
        return client.lookup(name, ids, **kwargs)


def _environment_client(kwargs: dict[str, Any]) -> Client:
    """A Client from the ``LUCID_*`` environment, with the default cache folder when ``max_age=`` asks for one."""
    # Without max_age nothing is written to disk: a brand's data lands in the cache only when asked for.
    return Client(cache=True if kwargs.get("max_age") is not None else None)


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
