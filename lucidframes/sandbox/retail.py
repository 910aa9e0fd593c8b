"""LucidRetail views (``/api/v1.2/``): batch details, inventory collections, CaseID import, transactions, exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

from lucidframes.sandbox.ids import is_lucid_id
from lucidframes.sandbox.messages import Reply, Request, Response, detail, json_response, not_found
from lucidframes.sandbox.records import EPOCH, LATER, Record
from lucidframes.sandbox.state import State
from lucidframes.sandbox.views import payload, require, string_list

Params = dict[str, str]
UNKNOWN = {"status": "invalid payload", "reason": {"items": ["Unknown LucidID(s)."]}}
DATETIME_FORMAT_ERROR = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


def batch(app: State, request: Request, params: Params) -> Response:
    """``GET batches/<uuid>/``: the Source batch plus the laboratories that tested it."""
    found = app.lookup("batches", params["uuid"], "Batch")
    labs: list[Record] = []
    for coa_uuid in found["digital_coa_uuids"]:
        coa = app.index["digital_coas"].get(coa_uuid)
        if coa and coa["testing_laboratory"] not in labs:
            labs.append(coa["testing_laboratory"])
    return json_response(200, {**found, "testing_laboratories": labs})


def _case_items(app: State, data: dict[str, Any]) -> tuple[Record | None, list[Any]]:
    """Validate {case_uuid, lucid_ids}: field errors (400); returns (the case or None if unknown, LucidIDs)."""
    require(data, "case_uuid", "lucid_ids")
    lucid_ids = string_list(data, "lucid_ids")
    found = app.index["collections"].get(str(data["case_uuid"]))
    return (found if found and found["collection_type"] == "case" else None), lucid_ids


def _outside(case: Record | None, lucid_ids: list[Any]) -> bool:
    """Whether any LucidID is unknown or not (or no longer) in the case; an unknown case holds nothing."""
    members = {r["lucid_id"] for r in case["items"] if r["removed_on"] is None} if case else set()
    return any(not isinstance(v, str) or v not in members for v in lucid_ids)


def add_items(app: State, request: Request, params: Params) -> Response:
    """``POST collections/inventory-pos/<dispensary_uuid>/add-items/`` {case_uuid, lucid_ids[]}."""
    data = payload(request)
    case, lucid_ids = _case_items(app, data)
    if case is None or _outside(case, lucid_ids):
        raise Reply(json_response(400, UNKNOWN))
    default = f"INV-{params['dispensary_uuid'][:8]}-{case['uuid'][:8]}"
    identifier = data.get("inventory_collection_identifier") or default
    with app.lock:
        inventory = app.inventory.setdefault(
            str(identifier), {"dispensary_uuid": params["dispensary_uuid"], "lucid_ids": []}
        )
        for value in lucid_ids:
            if value not in inventory["lucid_ids"]:
                inventory["lucid_ids"].append(value)
            app.inventory_of[value] = str(identifier)
    return json_response(200, {"inventory_collection_identifier": identifier})


def inventory_of(app: State, request: Request, params: Params) -> Response:
    """``GET collections/inventory-pos/lucid-id/<lucid_id>/``: the inventory collection holding a LucidID."""
    with app.lock:
        identifier = app.inventory_of.get(params["lucid_id"])
        if identifier is None:
            raise not_found("InventoryCollection")
        inventory = app.inventory[identifier]
        return json_response(200, {
            "lucid_id": params["lucid_id"],
            "inventory_collection_identifier": identifier,
            "dispensary_uuid": inventory["dispensary_uuid"],
            "lucid_ids_count": len(inventory["lucid_ids"]),
        })  # fmt: skip


def caseids_import(app: State, request: Request, params: Params) -> Response:
    """``POST caseids/import/`` {case_uuid, lucid_ids[]}: a legacy endpoint, so its validation error is a 403."""
    case, lucid_ids = _case_items(app, payload(request))
    if _outside(case, lucid_ids):
        raise Reply(json_response(403, UNKNOWN))
    return json_response(200, {"status": "success", "request_id": app.request_id()})


def caseids_remove(app: State, request: Request, params: Params) -> Response:
    """``POST caseids/import/remove/``: as import, legacy too."""
    return caseids_import(app, request, params)


def _performed_at(value: Any) -> None:
    """DRF's DateTimeField check of ``performed_at``."""
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Reply(json_response(400, {"performed_at": [DATETIME_FORMAT_ERROR]})) from None


def complete(app: State, request: Request, params: Params) -> Response:
    """``POST transactions/complete/`` {performed_at, items[LucidIDs], order_id}."""
    data = payload(request)
    require(data, "performed_at", "items", "order_id")
    _performed_at(data["performed_at"])
    values = string_list(data, "items")
    verdict: dict[str, list[Any]] = {"invalid": [], "unknown": [], "valid": []}
    for value in values:
        if not is_lucid_id(value):
            verdict["invalid"].append(value)
        elif value not in app.index["items"]:
            verdict["unknown"].append(value)
        else:
            verdict["valid"].append(value)
    if verdict["invalid"] or verdict["unknown"]:
        raise Reply(json_response(400, {"status": "invalid payload", "reason": {"items": verdict}}))
    request_id = app.request_id()
    with app.lock:
        app.transactions[str(data["order_id"])] = {"items": values, "performed_at": data["performed_at"]}
    return json_response(200, {"status": "success", "request_id": request_id})


def void(app: State, request: Request, params: Params) -> Response:
    """``POST transactions/void/`` {order_id}."""
    data = payload(request)
    require(data, "order_id")
    with app.lock:
        if app.transactions.pop(str(data["order_id"]), None) is None:
            reason = {"order_id": ["Unknown order."]}
            raise Reply(json_response(400, {"status": "invalid payload", "reason": reason}))
    return json_response(200, {"status": "success", "request_id": app.request_id()})


def package_export(app: State, request: Request, params: Params) -> Response:
    """``GET package-uids-export/?export_date=YYYY-MM-DD``: 202 while "processing" (the first ask), then 200."""
    match = re.search(r"(?:^|&)export_date=([^&]*)", request.query)
    if not match or not match.group(1):
        return json_response(400, {"error": "export_date is required."})
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        return json_response(400, {"error": "export_date must be a date in YYYY-MM-DD format."})
    if not EPOCH.date() <= day <= LATER.date():
        return json_response(404, {"error": f"No export exists for {day.isoformat()}."})
    with app.lock:
        first = day.isoformat() not in app.exports
        app.exports.add(day.isoformat())
    if first:
        return json_response(202, {"status": "processing"})
    # The real service links a pre-signed file on a storage host; the sandbox serves it on its own origin.
    return json_response(200, {"export_url": f"{request.origin}{EXPORT_FILES}package-uids-{day.isoformat()}.csv"})


EXPORT_FILES = "/media/exports/"  # where the sandbox serves export files (no token: the link is the permission)
EXPORT_COLUMNS = ("package_uid", "lucid_id", "product_uuid", "batch_uuid", "added_on")
_EXPORT_NAME = re.compile(r"package-uids-(\d{4}-\d{2}-\d{2})\.csv")


def export_file(app: State, request: Request) -> Response:
    """``GET /media/exports/package-uids-YYYY-MM-DD.csv``: the packages (Metrc tags) and their LucidIDs that day.

    Only a date whose export was prepared (asked for until it answered 200) exists, as a link the API handed out.
    """
    match = _EXPORT_NAME.fullmatch(request.path[len(EXPORT_FILES) :])
    with app.lock:
        ready = match is not None and match.group(1) in app.exports
    if match is None or not ready or request.method not in ("GET", "HEAD"):
        return detail(404, "Not found.")
    day = date.fromisoformat(match.group(1))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for found in app.data["collections"]:
        if found["collection_type"] != "regulator" or found["added_on"][:10] > day.isoformat():
            continue
        for member in found["items"]:
            item = app.index["items"].get(member["lucid_id"], {})
            writer.writerow([found["identifier"], member["lucid_id"], item.get("product_uuid") or "",
                             item.get("batch_uuid") or "", member["added_on"]])  # fmt: skip
    return Response(200, out.getvalue().encode("utf-8"), [("Content-Type", "text/csv; charset=utf-8")])
