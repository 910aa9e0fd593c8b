"""LucidSource views (``/api/v1.5/``): paginated lists, detail look-ups, asset create and delete."""

from __future__ import annotations

import base64
import binascii

from lucidframes.sandbox.data import row
from lucidframes.sandbox.messages import Reply, Request, Response, detail, empty, json_response, not_found
from lucidframes.sandbox.page_numbers import InvalidPage, envelope
from lucidframes.sandbox.records import ASSET_USAGES, MEDIA, Record
from lucidframes.sandbox.state import State
from lucidframes.sandbox.views import payload, require

Params = dict[str, str]


def page(app: State, request: Request, rows: list[Record], resource: str) -> Response:
    """One page of a list, in DRF's envelope; slicing under the lock keeps count and results consistent."""
    url = request.origin + request.path + (f"?{request.query}" if request.query else "")
    with app.lock:
        count = len(rows)
        try:
            _, start, end, following, previous = envelope(url, request.query, count, app.page_size)
        except InvalidPage:
            raise Reply(detail(404, "Invalid page.")) from None
        results = [row(resource, r) for r in rows[start:end]]
    return json_response(200, {"count": count, "next": following, "previous": previous, "results": results})


def products(app: State, request: Request, params: Params) -> Response:
    """``GET products/``."""
    return page(app, request, app.data["products"], "products")


def product(app: State, request: Request, params: Params) -> Response:
    """``GET products/<uuid>/``."""
    return json_response(200, app.lookup("products", params["uuid"], "Product"))


def batches(app: State, request: Request, params: Params) -> Response:
    """``GET batches/``."""
    return page(app, request, app.data["batches"], "batches")


def batch(app: State, request: Request, params: Params) -> Response:
    """``GET batches/<uuid>/``."""
    return json_response(200, app.lookup("batches", params["uuid"], "Batch"))


def assets(app: State, request: Request, params: Params) -> Response:
    """``GET assets/<type>/``."""
    return page(app, request, app.data["assets"][params["type"]], "assets")


def asset(app: State, request: Request, params: Params) -> Response:
    """``GET assets/<type>/<uuid>/``."""
    return json_response(200, app.lookup(f"assets:{params['type']}", params["uuid"], "Asset"))


def asset_create(app: State, request: Request, params: Params) -> Response:
    """``POST assets/<type>/create/`` {name, content, description, usage}: 201 with the new asset."""
    kind = params["type"]
    data = payload(request)
    require(data, "name", "content", "usage")
    usage = data["usage"]
    if usage not in ASSET_USAGES:
        raise Reply(json_response(400, {"usage": [f'"{usage}" is not a valid choice.']}))
    content = str(data["content"])
    new_uuid = app.new_uuid()
    if kind != "texts":  # binary assets arrive as base64 and are served from a URL
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise Reply(json_response(400, {"content": ["Invalid base64 content."]})) from None
        content = f"{MEDIA}/{kind}/{new_uuid}"
    record = {
        "uuid": new_uuid,
        "name": str(data["name"]),
        "content": content,
        "description": str(data.get("description") or ""),
        "usage": usage,
    }
    with app.lock:
        app.data["assets"][kind].append(record)
        app.index[f"assets:{kind}"][new_uuid] = record
    return json_response(201, record)


def text_delete(app: State, request: Request, params: Params) -> Response:
    """``DELETE assets/text/<uuid>/delete/``: 204."""
    with app.lock:
        found = app.index["assets:texts"].pop(params["uuid"], None)
        if found is None:
            raise not_found("Asset")
        texts = app.data["assets"]["texts"]
        texts[:] = [r for r in texts if r is not found]
    return empty(204)


def brands(app: State, request: Request, params: Params) -> Response:
    """``GET brands/``: a bare JSON array, not paginated."""
    with app.lock:
        rows = [row("brands", r) for r in app.data["brands"]]
    return json_response(200, rows)


def brand(app: State, request: Request, params: Params) -> Response:
    """``GET brands/<uuid>/``."""
    return json_response(200, app.lookup("brands", params["uuid"], "Brand"))


def digital_coa(app: State, request: Request, params: Params) -> Response:
    """``GET digital_coas/<uuid>/``."""
    return json_response(200, app.lookup("digital_coas", params["uuid"], "DigitalCOA"))


def item(app: State, request: Request, params: Params) -> Response:
    """``GET items/<lucid_id>/``."""
    return json_response(200, app.lookup("items", params["lucid_id"], "Item"))


def collection(app: State, request: Request, params: Params) -> Response:
    """``GET collections/<uuid or url-encoded identifier>/``."""
    key = params["key"]
    found = app.index["collections"].get(key) or app.index["collections:identifier"].get(key)
    if found is None:
        raise not_found("Collection")
    return json_response(200, found)


def case(app: State, request: Request, params: Params) -> Response:
    """``GET collections/case/<uuid or identifier>/``: a collection of type case."""
    key = params["key"]
    found = app.index["collections"].get(key) or app.index["collections:identifier"].get(key)
    if found is None or found["collection_type"] != "case":
        raise not_found("Collection")
    return json_response(200, found)
