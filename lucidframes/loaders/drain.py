"""``load``: a whole drain (or chosen pages) as one typed DataFrame, built once from every record.

Reconciliation is the promise "nothing lost, nothing doubled" (``stream.py`` does it page by page): rows are
checked against ``count``, duplicates are dropped by key and counted, page 1 is re-read after a consistent-looking
pass, and data that changed during the drain is handled per ``on_drift``: ``"refetch"`` (the default: drain again,
up to twice, until a pass is consistent, then warn), ``"warn"`` (keep what was fetched, deduplicated, and warn) or
``"raise"``. When a drain gives up, the error carries ``.partial`` and ``.resume``.
"""

from __future__ import annotations

import pandas as pd

from lucidframes._http.transport import Transport
from lucidframes.errors import DrainInterrupted
from lucidframes.loaders.endpoints import Endpoint
from lucidframes.loaders.result import build_frame
from lucidframes.loaders.stream import DrainOptions, PageStream

__all__ = ["load"]


def load(transport: Transport, ep: Endpoint, params: dict[str, str], options: DrainOptions) -> pd.DataFrame:
    """Drain ``ep`` (or the chosen pages) into one typed DataFrame with the drain's account in ``attrs``.

    Args:
        transport: the transport to fetch with.
        ep: the endpoint (a list).
        params: its path and query parameters, checked.
        options: the drain options, checked.

    Returns:
        The DataFrame.
    """
    stream = PageStream(transport, ep, params, options)
    try:
        for _page in stream:
            pass  # the stream keeps every page of the current pass in its state
    except KeyboardInterrupt as exc:
        if isinstance(exc, DrainInterrupted):
            raise
        raise stream.attach(DrainInterrupted(f"The drain of {ep.name!r} was interrupted.")) from None
    assert stream.info is not None  # set when the iteration ends
    return build_frame(ep, stream.state.records(), stream.info, flatten=options.flatten)
