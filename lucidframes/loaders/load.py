"""``load``: a whole drain (or chosen pages) as one typed DataFrame, built once from every record.

Reconciliation is the promise "nothing lost, nothing doubled" (``stream.py`` does it page by page): rows are
checked against ``count``, duplicates are dropped by key and counted, page 1 is re-read after a consistent-looking
pass, and data that changed during the drain is handled per ``on_drift``: ``"refetch"`` (the default: drain again,
up to twice, until a pass is consistent, then warn), ``"warn"`` (keep what was fetched, deduplicated, and warn) or
``"raise"``. When a drain gives up, the error carries ``.partial`` and ``.resume``.

With a result cache, a complete drain is stored whole once reconciled, and ``max_age`` serves it back with no
request at all; a drain is never assembled from cached pages (they could be of different ages).
"""

from __future__ import annotations

import pandas as pd

from lucidframes._http.transport import Transport
from lucidframes.endpoints import Endpoint
from lucidframes.errors import DrainInterrupted
from lucidframes.loaders.cache import ResultCache
from lucidframes.loaders.frames import build_frame
from lucidframes.loaders.stream import DrainOptions, PageStream

__all__ = ["load"]


def load(
    transport: Transport,
    ep: Endpoint,
    params: dict[str, str],
    options: DrainOptions,
    *,
    cache: ResultCache | None = None,
    max_age: float | None = None,
) -> pd.DataFrame:
    """Drain ``ep`` (or the chosen pages) into one typed DataFrame with the drain's account in ``attrs``.

    Args:
        transport: the transport to fetch with.
        ep: the endpoint (a list).
        params: its path and query parameters, checked.
        options: the drain options, checked.
        cache: the client's result cache (whole drains only: chosen pages are neither stored nor served).
        max_age: serve a cached drain no older than this many seconds; None: do not read the cache.

    Returns:
        The DataFrame; ``attrs["lucidframes"]["cache"]`` says whether it came from the cache, and how old it is.
    """
    whole = options.pages is None and cache is not None
    if whole and cache is not None and max_age is not None and options.resume is None:
        entry = cache.get_drain(ep.product, ep.name, params, max_age)
        if entry is not None:
            age = max(0.0, cache.clock() - entry.fetched_at)
            info = {**entry.info, "cache": {"hit": True, "age": round(age, 3)}}
            return build_frame(ep, entry.records, info, flatten=options.flatten)
    stream = PageStream(transport, ep, params, options)
    try:
        for _page in stream:
            pass  # the stream keeps every page of the current pass in its state
    except KeyboardInterrupt as exc:
        if isinstance(exc, DrainInterrupted):
            raise
        raise stream.attach(DrainInterrupted(f"The drain of {ep.name!r} was interrupted.")) from None
    assert stream.info is not None  # set when the iteration ends
    records = stream.state.records()
    if whole and cache is not None and stream.info.get("complete"):
        cache.put_drain(ep.product, ep.name, params, records, stream.info)
    info = {**stream.info, "cache": {"hit": False, "age": 0.0}} if cache is not None else stream.info
    return build_frame(ep, records, info, flatten=options.flatten)
