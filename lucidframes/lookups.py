"""Single-resource endpoints for many ids (``Client.lookup``) and submissions that send LucidIDs (``Client.submit``).

Both guard LucidIDs: they are checked locally before anything is sent (the specification says to validate the
format before any call), and a bad id raises ``LucidIDValidationError`` listing every bad one, with nothing sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from lucidframes.endpoints import Endpoint, get_endpoint
from lucidframes.errors import (
    APIError,
    AuthenticationError,
    ConfigError,
    ForbiddenError,
    NotFoundError,
    UnknownLucidIDError,
)
from lucidframes.frames import to_frame
from lucidframes.lucidid import check_ids_before_send
from lucidframes.progress import DrainProgress, WaitStats

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.client import Client

__all__ = ["lookup", "submit"]

STATUS_COLUMNS = ("_status", "_error")


def lookup(
    client: Client,
    name: str,
    ids: Iterable[str],
    *,
    workers: int | None = None,
    progress: bool | None = None,
    validate: bool = True,
    flatten: bool = True,
    **path_params: Any,
) -> pd.DataFrame:
    """Fetch ``name``'s detail endpoint for every id, concurrently, into one DataFrame (see ``Client.lookup``).

    Args:
        client: the Client.
        name: a registered endpoint with a detail path.
        ids: the ids (duplicates are fetched once and keep their rows).
        workers: concurrent requests (the client's default otherwise).
        progress: show a progress bar.
        validate: check LucidIDs locally first (for endpoints looked up by LucidID).
        flatten: expand nested objects into dotted columns.
        **path_params: the endpoint's path parameters (``asset_type=``).

    Returns:
        One row per id in the order given: ``_id``, the resource's columns, ``_status`` (ok, not_found,
        forbidden, error) and ``_error`` (the reason, for rows that failed).
    """
    ep = get_endpoint(name)
    if ep.detail_path is None:
        raise ConfigError(f"Endpoint {name!r} has no single-resource look-up; use client.load({name!r}).")
    wanted = [str(i) if not isinstance(i, str) else i for i in ids]
    if validate and ep.id_kind == "lucid_id":
        check_ids_before_send(wanted, kind="lucid_id")
    unique = list(dict.fromkeys(wanted))
    params = {k: str(v) for k, v in path_params.items()}
    paths = {i: ep.format_path(ep.detail_path, params, id_=i) for i in unique}
    show = client.progress if progress is None else progress
    stats = WaitStats()

    def fetch(id_: str) -> dict[str, Any]:
        try:
            body = client.get_json(paths[id_], product=ep.product, observer=stats)
        except NotFoundError as exc:
            return {"_status": "not_found", "_error": exc.detail or "Not found."}
        except ForbiddenError as exc:
            return {"_status": "forbidden", "_error": exc.detail or "Forbidden."}
        except AuthenticationError:
            raise  # the credentials are wrong for every id: no point in going on
        except APIError as exc:
            return {"_status": "error", "_error": str(exc)}
        if not isinstance(body, dict):
            return {"_status": "error", "_error": f"expected a JSON object, got {type(body).__name__}"}
        return {**body, "_status": "ok", "_error": None}

    found: dict[str, dict[str, Any]] = {}
    with (
        DrainProgress(name, show, total=len(unique), stats=stats, unit="id") as bar,
        ThreadPoolExecutor(max_workers=max(1, min(workers or client.workers, len(unique) or 1))) as pool,
    ):
        for id_, row in zip(unique, pool.map(fetch, unique), strict=True):
            found[id_] = row
            bar.page_done(1 if row["_status"] == "ok" else 0)
    records = [{"_id": i, **found[i]} for i in wanted]
    columns = {"_id": "string", **ep.lookup_columns}
    df = to_frame(records, columns, flatten=flatten)
    df = df[[c for c in df.columns if c not in STATUS_COLUMNS] + list(STATUS_COLUMNS)]
    df["_status"] = df["_status"].astype("str")
    statuses = df["_status"].value_counts().to_dict()
    df.attrs["lucidframes"] = {
        "endpoint": name,
        "params": params,
        "ids": len(wanted),
        "requests": len(unique),
        "statuses": {str(k): int(v) for k, v in statuses.items()},
        "retries": stats.retries,
        "total_wait": stats.retry_wait + stats.throttle_wait,
    }
    return df


def submit(client: Client, name: str, body: dict[str, Any], *, validate: bool = True, **path_params: Any) -> Any:
    """POST a submission (add items to inventory, a transaction, ...) after checking the LucidIDs it carries.

    Args:
        client: the Client.
        name: a registered endpoint with a submission path.
        body: the JSON payload.
        validate: check the LucidIDs in the payload locally first (``False`` opts out).
        **path_params: the endpoint's path parameters (``dispensary_uuid=``).

    Returns:
        The server's JSON answer (None for an empty one).

    Raises:
        LucidIDValidationError: a LucidID in the payload is malformed; nothing was sent.
        UnknownLucidIDError: the server did not know some ids; ``unknown_ids`` names them where it could be found
            out with read-only look-ups (the payload itself is never re-sent).
    """
    ep = get_endpoint(name)
    if ep.submit_path is None:
        raise ConfigError(f"Endpoint {name!r} takes no submissions; use client.load or client.lookup.")
    ids = _ids_in(ep, body)
    if validate and ids:
        check_ids_before_send(ids, kind="lucid_id")
    path = ep.format_path(ep.submit_path, {k: str(v) for k, v in path_params.items()})
    try:
        return client.post_json(path, body, product=ep.product)
    except UnknownLucidIDError as err:
        if err.unknown_ids is None and ids:
            _diagnose_unknown(client, err, ids)
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


def _diagnose_unknown(client: Client, err: UnknownLucidIDError, ids: list[str]) -> None:
    """Find which submitted LucidIDs the server does not know, by looking each up (GET items/<id>/, no side effects).

    Re-posting halves of the payload would find out too, but a POST may act (record a sale, add to inventory),
    so only read-only look-ups are used. If the look-ups themselves fail, ``unknown_ids`` stays None.
    """
    try:
        found = lookup(client, "items", ids, progress=False, validate=False)
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
