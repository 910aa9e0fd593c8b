"""lucidframes: the Lucid Green API as typed pandas DataFrames, with a LucidID validator and a local sandbox.

The public API is ``__all__``. This module imports neither ipywidgets nor the sandbox: they load when asked for
(``lucidframes.widgets``, ``lucidframes.sandbox``, ``sandbox=True``). Imported in an IPython kernel it registers
the short error display of ``lucidframes.notebook.display`` (``%tb`` still prints the whole traceback).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, overload

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
    WriteConnectError,
    WriteOutcomeUnknownError,
    WriteServerError,
    WriteTimeoutError,
)
from lucidframes.io.export import export
from lucidframes.io.read import read_table, sheet_names
from lucidframes.loaders.cache import CacheInfo, ResultCache
from lucidframes.loaders.fetch import Page
from lucidframes.loaders.job import Job
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
    "Job",
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
    "WriteConnectError",
    "WriteOutcomeUnknownError",
    "WriteServerError",
    "WriteTimeoutError",
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
    "sheet_names",
    "snapshot",
    "suggest_fixes",
    "validate_file",
    "validate_lucid_ids",
]

_display.register()  # only does something inside IPython (never imports it)


@overload
def load(name: str, page: int | None = ..., pages: Iterable[int] | str | None = ..., *, sandbox: bool = ...,
         background: Literal[False] = ..., **kwargs: Any) -> pd.DataFrame: ...  # fmt: skip
@overload
def load(name: str, page: int | None = ..., pages: Iterable[int] | str | None = ..., *, sandbox: bool = ...,
         background: Literal[True], **kwargs: Any) -> Job: ...  # fmt: skip


def load(
    name: str,
    page: int | None = None,
    pages: Iterable[int] | str | None = None,
    *,
    sandbox: bool = False,
    background: bool = False,
    **kwargs: Any,
) -> pd.DataFrame | Job:
    """Load an endpoint in one call: from the local sandbox (``sandbox=True``) or the ``LUCID_*`` environment.

    Args:
        name: the endpoint name (``lucidframes endpoints`` lists them).
        page: only this page.
        pages: only these pages: a range, a list, or text such as ``"2-5"`` or ``"2,4,6"``.
        sandbox: use the process-wide sandbox (started on first use, stopped at exit; ``lf.shared_sandbox()``).
        background: return an ``lf.Job`` at once and drain in the background (see ``Client.load``).
        **kwargs: as for ``Client.load`` (parameters such as ``export_date=``, and options such as ``workers=``);
            ``max_age=`` reads and fills the default cache folder (``LUCID_CACHE_DIR``, else the user cache dir).

    Returns:
        The DataFrame (a Job with ``background=True``).
    """
    if background:
        job: Job = _on_client(sandbox, kwargs, lambda c: c.load(name, page, pages, background=True, **kwargs))
        return job
    df: pd.DataFrame = _on_client(sandbox, kwargs, lambda c: c.load(name, page=page, pages=pages, **kwargs))
    return df


@overload
def lookup(name: str, ids: Iterable[str], *, sandbox: bool = ..., background: Literal[False] = ...,
           **kwargs: Any) -> pd.DataFrame: ...  # fmt: skip
@overload
def lookup(name: str, ids: Iterable[str], *, sandbox: bool = ..., background: Literal[True],
           **kwargs: Any) -> Job: ...  # fmt: skip


def lookup(
    name: str, ids: Iterable[str], *, sandbox: bool = False, background: bool = False, **kwargs: Any
) -> pd.DataFrame | Job:
    """Look ids up in one call (items by LucidID, products by uuid, ...), on the sandbox or the environment's API.

    Args:
        name: a single-resource endpoint (``items``, ``products``, ``collections``, ...).
        ids: the ids (LucidIDs are checked before anything is sent).
        sandbox: use the process-wide sandbox (see ``load``).
        background: return an ``lf.Job`` at once and look up in the background (see ``Client.lookup``).
        **kwargs: as for ``Client.lookup``; ``max_age=`` uses the default cache folder, as ``load`` does.

    Returns:
        One row per id, with ``_status`` (a Job with ``background=True``).
    """
    if background:
        job: Job = _on_client(sandbox, kwargs, lambda c: c.lookup(name, ids, background=True, **kwargs))
        return job
    df: pd.DataFrame = _on_client(sandbox, kwargs, lambda c: c.lookup(name, ids, **kwargs))
    return df


def _on_client(sandbox: bool, kwargs: dict[str, Any], call: Callable[[Client], Any]) -> Any:
    """``call`` on the shared sandbox's client, or on a client from the environment, closed when it is done with
    (at once, or when the background job it started ends)."""
    if sandbox:
        return call(shared_client())
    client = _environment_client(kwargs)
    try:
        out = call(client)
    except BaseException:
        client.close()
        raise
    if isinstance(out, Job):
        out.add_done_callback(lambda _job: client.close())
    else:
        client.close()
    return out


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
