"""A local imitation of the Lucid Green API (Django REST Framework + Django OAuth Toolkit) with seeded data.

::

    from lucidframes.sandbox import serve

    with serve(seed=0, rate_limits=None) as sb:    # a real HTTP server on 127.0.0.1 and a free port
    # (or serve(SandboxOptions(...)): the one options type of serve(), Sandbox() and `lucidframes sandbox`)
        sb.url, sb.client_id, sb.client_secret     # for lucidframes.Client(...) or LUCID_* variables
        sb.fault("/api/v1.5/products/?page=3", status=503, times=2, retry_after=1)
        sb.mutate("products", insert=5)            # count changes now (mutate_after: mid-drain)
        sb.log                                     # LogEntry(method, path, query, status, time, token_valid)

``sb.data`` is the live dataset, full (detail-form) records in list order::

    products, batches, brands, digital_coas, items, collections   lists of dicts
    assets                                                        {"texts"|"images"|"videos"|"files": list}

``sb.list_rows(resource, asset_type=None)`` gives what a list endpoint serves (product and brand rows are a
subset of the record's fields). Faults: ``lucidframes.sandbox.faults`` (how paths match); data:
``lucidframes.sandbox.data``; routes: ``lucidframes.sandbox.routes``. The core package never imports this one.

Controls of a ``Sandbox``: ``fault``, ``clear_faults``, ``faults``, ``expire_tokens``, ``issue_token``,
``mutate``, ``mutate_after``, ``reindex``, ``log``, ``clear_log``, ``set_latency``, ``set_error_rate``,
``set_rate_limits``, ``list_rows``, ``errors`` (server-side tracebacks: a test can assert there are none).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lucidframes.sandbox.faults import Fault
    from lucidframes.sandbox.options import SandboxOptions
    from lucidframes.sandbox.server import LogEntry, Sandbox, serve

__all__ = ["Fault", "LogEntry", "Sandbox", "SandboxOptions", "serve"]
_HOMES = {
    "Fault": "faults",
    "LogEntry": "server",
    "Sandbox": "server",
    "SandboxOptions": "options",
    "serve": "server",
}


def __getattr__(name: str) -> Any:
    """Import the server on first use, so ``python -m lucidframes.sandbox.data`` runs without importing it."""
    if name in _HOMES:
        return getattr(importlib.import_module(f"lucidframes.sandbox.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
