"""The one place snapshots and the dlt source get pages from: ``pages(client, name, **params)``.

It is ``client.iter_pages`` (the drain underneath ``load``: the retry table, the origin guard, the drift checks
and re-fetches, the progress bar with its waits) with ``keep_rows=False``: the consumer keeps the rows, so the
drain's state holds only the keys and memory holds a page, not the table. Pages come in order as ``Page``
objects (``endpoint``, ``number``, ``count``, ``rows``, ``drain_pass``); once exhausted, ``.info`` is the
drain's account. A consumer that sees ``drain_pass`` go up discards what it wrote for the earlier pass.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucidframes.endpoints import get_endpoint
from lucidframes.errors import ConfigError
from lucidframes.loaders.fetch import Page
from lucidframes.loaders.stream import PageStream

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.client import Client

__all__ = ["Page", "PageStream", "pages"]


def pages(
    client: Client,
    name: str,
    params: Mapping[str, str] | None = None,
    *,
    progress: bool = False,
    checkpoint: Path | None = None,
    stop: threading.Event | None = None,
) -> PageStream:
    """The pages of a list endpoint, in order, with the drain's account in ``.info`` afterwards.

    Args:
        client: the Client.
        name: a registered endpoint with a list of rows (paginated, or a bare array as brands).
        params: its path parameters (``{"asset_type": "images"}``).
        progress: show the drain's progress bar (pages, rows, waits).
        checkpoint: keep the pages in this file as they come; the pages it already holds are yielded from it.
        stop: an Event that stops the drain (it raises DrainStopped).

    Returns:
        An iterable of Page objects.
    """
    ep = get_endpoint(name)
    if ep.list_path is None or ep.list_shape not in ("paginated", "array"):
        raise ConfigError(f"Endpoint {name!r} has no list of rows to drain.")
    path_params: dict[str, Any] = dict(params or {})
    stream: PageStream = client.iter_pages(
        name, progress=progress, keep_rows=False, checkpoint=checkpoint, stop=stop, **path_params
    )
    return stream
