"""Single-resource endpoints for many ids (``Client.lookup``) and submissions that send LucidIDs (``Client.submit``).

Both guard LucidIDs: they are checked locally before anything is sent (the specification says to validate the
format before any call), and a bad id raises ``LucidIDValidationError`` listing every bad one, with nothing sent.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from lucidframes._http.events import WaitHook, WaitStats
from lucidframes._http.transport import Cancelled, Transport
from lucidframes.errors import (
    APIError,
    AuthenticationError,
    ForbiddenError,
    NotFoundError,
    UnknownLucidIDError,
)
from lucidframes.loaders.endpoints import Endpoint, get_endpoint
from lucidframes.loaders.frames import to_frame
from lucidframes.loaders.progress import DrainProgress
from lucidframes.lucidid import check_ids_before_send

__all__ = ["lookup", "submit"]

STATUS_COLUMNS = ("_status", "_error")


def lookup(
    transport: Transport,
    ep: Endpoint,
    ids: Sequence[str],
    *,
    workers: int,
    progress: bool,
    validate: bool = True,
    flatten: bool = True,
    params: dict[str, str] | None = None,
    hooks: Sequence[WaitHook] = (),
) -> pd.DataFrame:
    """Fetch ``ep``'s detail endpoint for every id, concurrently, into one DataFrame (see ``Client.lookup``).

    Args:
        transport: the transport.
        ep: a registered endpoint with a detail path.
        ids: the ids (duplicates are fetched once and keep their rows).
        workers: concurrent requests.
        progress: show a progress bar.
        validate: check LucidIDs locally first (for endpoints looked up by LucidID).
        flatten: expand nested objects into dotted columns.
        params: the endpoint's path parameters (``asset_type=``).
        hooks: called with every wait event.

    Returns:
        One row per id in the order given: ``_id``, the resource's columns, ``_status`` (ok, not_found,
        forbidden, error) and ``_error`` (the reason, for rows that failed).
    """
    wanted = [str(i) if not isinstance(i, str) else i for i in ids]
    if validate and ep.id_kind == "lucid_id":
        check_ids_before_send(wanted, kind="lucid_id")
    unique = list(dict.fromkeys(wanted))
    params = params or {}
    assert ep.detail_path is not None
    paths = {i: ep.format_path(ep.detail_path, params, id_=i) for i in unique}
    stats = WaitStats()
    cancel = threading.Event()
    found: dict[str, dict[str, Any]] = {}
    with DrainProgress(ep.name, progress, total=len(unique), stats=stats, unit="id") as bar:
        every: tuple[WaitHook, ...] = (stats, bar, *hooks)

        def fetch(id_: str) -> dict[str, Any]:
            return _fetch_one(transport, ep, paths[id_], every, cancel)

        pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique) or 1)))
        try:
            for id_, row in zip(unique, pool.map(fetch, unique), strict=True):
                found[id_] = row
                bar.page_done(1 if row["_status"] == "ok" else 0)
        except BaseException:
            cancel.set()  # every worker's wait ends at once
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return _frame(ep, wanted, found, params, stats, flatten=flatten)


def _fetch_one(
    transport: Transport, ep: Endpoint, path: str, hooks: Sequence[WaitHook], cancel: threading.Event
) -> dict[str, Any]:
    """One look-up, as a row: the body with ``_status`` ok, or the reason it failed."""
    try:
        body = transport.send("GET", path, product=ep.product, hooks=hooks, cancel=cancel, endpoint=ep.name).payload
    except NotFoundError as exc:
        return {"_status": "not_found", "_error": exc.detail or "Not found."}
    except ForbiddenError as exc:
        return {"_status": "forbidden", "_error": exc.detail or "Forbidden."}
    except (AuthenticationError, Cancelled):
        raise  # the credentials are wrong for every id, or the caller stopped: no point in going on
    except APIError as exc:
        return {"_status": "error", "_error": str(exc)}
    if not isinstance(body, dict):
        return {"_status": "error", "_error": f"expected a JSON object, got {type(body).__name__}"}
    return {**body, "_status": "ok", "_error": None}


def _frame(
    ep: Endpoint,
    wanted: list[str],
    found: dict[str, dict[str, Any]],
    params: dict[str, str],
    stats: WaitStats,
    *,
    flatten: bool,
) -> pd.DataFrame:
    """One row per id asked for, typed, the status columns last, the look-up's account in ``attrs``."""
    records = [{"_id": i, **found[i]} for i in wanted]
    columns = {"_id": "string", **ep.lookup_columns}
    df = to_frame(records, columns, flatten=flatten)
    df = df[[c for c in df.columns if c not in STATUS_COLUMNS] + list(STATUS_COLUMNS)]
    df["_status"] = df["_status"].astype("str")
    statuses = df["_status"].value_counts().to_dict()
    df.attrs["lucidframes"] = {
        "endpoint": ep.name,
        "params": params,
        "ids": len(wanted),
        "requests": len(found),
        "statuses": {str(k): int(v) for k, v in statuses.items()},
        "retries": stats.retries,
        "total_wait": stats.total_wait,
    }
    return df


def submit(transport: Transport, ep: Endpoint, body: dict[str, Any], *, validate: bool, params: dict[str, str]) -> Any:
    """POST a submission (add items to inventory, a transaction, ...) after checking the LucidIDs it carries.

    Args:
        transport: the transport.
        ep: a registered endpoint with a submission path.
        body: the JSON payload.
        validate: check the LucidIDs in the payload locally first (``False`` opts out).
        params: the endpoint's path parameters (``dispensary_uuid=``).

    Returns:
        The server's JSON answer (None for an empty one).

    Raises:
        LucidIDValidationError: a LucidID in the payload is malformed; nothing was sent.
        UnknownLucidIDError: the server did not know some ids; ``unknown_ids`` names them where it could be found
            out with read-only look-ups (the payload itself is never re-sent).
    """
    ids = _ids_in(ep, body)
    if validate and ids:
        check_ids_before_send(ids, kind="lucid_id")
    assert ep.submit_path is not None
    path = ep.format_path(ep.submit_path, params)
    try:
        return transport.send("POST", path, product=ep.product, json_body=body, endpoint=ep.name).payload
    except UnknownLucidIDError as err:
        if err.unknown_ids is None and ids:
            _diagnose_unknown(transport, err, ids)
        raise


def _ids_in(ep: Endpoint, body: dict[str, Any]) -> list[str]:
    """The LucidIDs a payload carries in the fields the registry names."""
    ids: list[str] = []
    for field_name in ep.lucid_id_fields:
        value = body.get(field_name)
        if isinstance(value, list | tuple):
            ids.extend(value)
        elif value is not None:
            ids.append(value)
    return ids


def _diagnose_unknown(transport: Transport, err: UnknownLucidIDError, ids: list[str]) -> None:
    """Find which submitted LucidIDs the server does not know, by looking each up (GET items/<id>/, no side effects).

    Re-posting halves of the payload would find out too, but a POST may act (record a sale, add to inventory),
    so only read-only look-ups are used. If the look-ups themselves fail, ``unknown_ids`` stays None.
    """
    try:
        found = lookup(transport, get_endpoint("items"), ids, workers=4, progress=False, validate=False)
    except APIError:
        return
    unknown = found.loc[found["_status"] == "not_found", "_id"].tolist()
    err.unknown_ids = [str(u) for u in unknown]
    if unknown:
        shown = ", ".join(err.unknown_ids[:10]) + (" ..." if len(unknown) > 10 else "")
        err.message += f" The server does not know {len(unknown)} of the {len(ids)} LucidIDs: {shown}."
    else:
        err.message += (
            f" All {len(ids)} LucidIDs exist: some are not in that case or collection, or belong to another dispensary."
        )
    err.args = (err.message,)
