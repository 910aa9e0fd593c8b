"""The result of a drain: one typed frame, duplicates dropped by key, and the drain's account in ``attrs``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from lucidframes._http.events import WaitStats
from lucidframes.loaders.endpoints import Endpoint
from lucidframes.loaders.frames import to_frame

__all__ = ["account", "build_frame"]


def account(
    ep: Endpoint,
    params: dict[str, str],
    stats: WaitStats,
    *,
    complete: bool,
    count: int | None,
    pages: list[int],
    page_size: int | None,
    drift: dict[str, Any] | None,
    rows: int,
    duplicates: int,
    timeline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The drain's account (``df.attrs["lucidframes"]``): what was fetched, what was dropped, how long it waited.

    Args:
        ep: the endpoint.
        params: its path and query parameters.
        stats: the waits counted during the drain.
        complete: every page was fetched (not a chosen page or a partial result).
        count: the count the server announced last.
        pages: the page numbers fetched.
        page_size: the server's page size, when known.
        drift: what the drift checks found (None where they did not run).
        rows: rows kept after dropping duplicates.
        duplicates: rows dropped as duplicates by key.
        timeline: the page spans and waits (``Timeline.to_attrs``), for ``lf.run_summary``.

    Returns:
        The account.
    """
    return {
        "endpoint": ep.name,
        "params": dict(params),
        "pages": pages,
        "page_size": page_size,
        "rows": rows,
        "count": count,
        "complete": complete,
        "duplicates_dropped": duplicates,
        "retries": stats.retries,
        "retry_wait": stats.retry_wait,
        "throttle_wait": stats.throttle_wait,
        "total_wait": stats.total_wait,
        "drift": drift,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "timeline": timeline,
    }


def build_frame(ep: Endpoint, records: list[dict[str, Any]], info: dict[str, Any], *, flatten: bool) -> pd.DataFrame:
    """The typed frame of ``records`` with duplicates dropped by key, ``info`` (corrected) in ``attrs``.

    Args:
        ep: the endpoint (its columns and key).
        records: the raw records, in page order.
        info: the account from ``account``; its ``rows`` and ``duplicates_dropped`` are set from the frame.
        flatten: expand nested objects into dotted columns.

    Returns:
        The DataFrame.
    """
    df = to_frame(records, ep.columns, flatten=flatten)
    dropped = 0
    if ep.key is not None and ep.key in df.columns and len(df):
        dup = df.duplicated(subset=[ep.key], keep="first") & df[ep.key].notna()
        dropped = int(dup.sum())
        if dropped:
            df = df.loc[~dup].reset_index(drop=True)
    df.attrs["lucidframes"] = {**info, "rows": len(df), "duplicates_dropped": dropped}
    return df
