"""The URL table: which view answers which path and method, and under which throttle scope."""

from __future__ import annotations

from collections.abc import Callable

from lucidframes.sandbox import retail, source
from lucidframes.sandbox.messages import Request, Response
from lucidframes.sandbox.state import State
from lucidframes.sandbox.views import RETAIL, SOURCE, Route, route

TYPE = "(?P<type>texts|images|videos|files)"  # an asset type outside these is an unknown path (404)

ROUTES: tuple[Route, ...] = (
    route(SOURCE, "products/", "source", "Product List", get=source.products),
    route(SOURCE, "products/<uuid>/", "source", "Product Detail", get=source.product),
    route(SOURCE, "batches/", "source", "Batch List", get=source.batches),
    route(SOURCE, "batches/<uuid>/", "source", "Batch Detail", get=source.batch),
    route(SOURCE, f"assets/{TYPE}/", "source", "Asset List", get=source.assets),
    route(SOURCE, f"assets/{TYPE}/create/", "source", "Asset Create", post=source.asset_create),
    route(SOURCE, "assets/text/<uuid>/delete/", "source", "Asset Delete", delete=source.text_delete),
    route(SOURCE, f"assets/{TYPE}/<uuid>/", "source", "Asset Detail", get=source.asset),
    route(SOURCE, "brands/", "source", "Brand List", get=source.brands),
    route(SOURCE, "brands/<uuid>/", "source", "Brand Detail", get=source.brand),
    route(SOURCE, "digital_coas/<uuid>/", "source", "Digital Coa Detail", get=source.digital_coa),
    route(SOURCE, "items/<lucid_id>/", "source", "Item Detail", get=source.item),
    route(SOURCE, "collections/case/<key>/", "source", "Case Detail", get=source.case),
    route(SOURCE, "collections/<key>/", "source", "Collection Detail", get=source.collection),
    route(RETAIL, "batches/<uuid>/", "retail", "Batch Detail", get=retail.batch),
    route(
        RETAIL,
        "collections/inventory-pos/lucid-id/<lucid_id>/",
        "retail_public",
        "Inventory Collection",
        get=retail.inventory_of,
    ),
    route(
        RETAIL, "collections/inventory-pos/<dispensary_uuid>/add-items/", "retail", "Add Items", post=retail.add_items
    ),
    route(RETAIL, "caseids/import/", "retail", "CaseID Import", post=retail.caseids_import),
    route(RETAIL, "caseids/import/remove/", "retail", "CaseID Remove", post=retail.caseids_remove),
    route(RETAIL, "transactions/complete/", "retail", "Transaction Complete", post=retail.complete),
    route(RETAIL, "transactions/void/", "retail", "Transaction Void", post=retail.void),
    route(RETAIL, "package-uids-export/", "retail", "Package UIDs Export", get=retail.package_export),
)

# Files served outside the API (what an answer links to): path prefix -> view(state, request).
FILES: tuple[tuple[str, Callable[[State, Request], Response]], ...] = ((retail.EXPORT_FILES, retail.export_file),)
