"""lucidframes: the Lucid Green API as typed pandas DataFrames, with a LucidID validator and a local sandbox.

The public API is ``__all__``. This module imports neither ipywidgets nor the sandbox: they load when asked for
(``lucidframes.widgets``, ``lucidframes.sandbox``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lucidframes._version import __version__
from lucidframes.client import Client, check_same_origin
from lucidframes.endpoints import ENDPOINTS, Endpoint, get_endpoint
from lucidframes.errors import *  # noqa: F403
from lucidframes.errors import __all__ as _error_names
from lucidframes.export import export
from lucidframes.lucidid import (  # importing it registers the df.lucid / series.lucid accessor
    Normalized,
    Reason,
    ValidationReport,
    check_ids_before_send,
    normalize_lucid_ids,
    suggest_fixes,
    validate_file,
    validate_lucid_ids,
)
from lucidframes.pagination import DrainState, DrainStopped, DriftWarning
from lucidframes.readers import EncodingFallbackWarning, read_table
from lucidframes.retry import RetryPolicy

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "ENDPOINTS",
    "Client",
    "DrainState",
    "DrainStopped",
    "DriftWarning",
    "EncodingFallbackWarning",
    "Endpoint",
    "Normalized",
    "Reason",
    "RetryPolicy",
    "ValidationReport",
    "__version__",
    "check_ids_before_send",
    "check_same_origin",
    "explore",
    "export",
    "get_endpoint",
    "load",
    "normalize_lucid_ids",
    "read_table",
    "suggest_fixes",
    "validate_file",
    "validate_lucid_ids",
    *_error_names,
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
