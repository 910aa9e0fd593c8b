"""The registry of named endpoints: product, rate-limit bucket, methods, paths, pagination, key, columns and types.

Names are what analysts type (``client.load("products")``, ``client.lookup("items", ids)``). A name may have a
list path (for ``load``), a detail path (for ``lookup``), a submission (for ``submit``) or a deletion (for
``delete``). Each endpoint draws from one rate-limit bucket (``bucket``): its product's by default ("source",
"retail"), "retail_public" for the public LucidID look-up, which the API limits per caller IP. Column kinds drive
``frames.py``: ``string`` (ids and text), ``bool``, ``int`` (nullable), ``datetime`` (tz-aware, UTC),
``decimal`` (kept as the API's exact decimal strings), ``object`` (lists stay lists).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from lucidframes.config import BUCKETS
from lucidframes.errors import ConfigError, UnknownEndpointError

__all__ = ["ASSET_TYPES", "ENDPOINTS", "Endpoint", "get_endpoint"]

ASSET_TYPES = ("texts", "images", "videos", "files")


@dataclass(frozen=True)
class Endpoint:
    """One named endpoint of the API."""

    name: str
    product: str  # "source" or "retail"
    description: str
    list_path: str | None = None  # GET, for load(); may hold {params}
    detail_path: str | None = None  # GET with {id}, for lookup()
    submit_path: str | None = None  # POST, for submit()
    delete_path: str | None = None  # DELETE with {id}, for delete(); answers 204
    paginated: bool = False  # list answers {count, next, previous, results}
    list_shape: str = "paginated"  # "paginated", "array" (bare JSON list) or "object" (one JSON object)
    key: str | None = "uuid"  # the column that identifies a row (duplicates are dropped by it)
    id_kind: str = "uuid"  # what lookup ids are: "uuid", "lucid_id" or "identifier" (free text)
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # path parameter -> allowed values
    columns: Mapping[str, str] = field(default_factory=dict)  # column -> kind, in display order (list rows)
    detail_columns: Mapping[str, str] = field(default_factory=dict)  # what a detail (lookup) adds to a list row
    lucid_id_fields: tuple[str, ...] = ()  # fields of a submission that hold LucidIDs (checked before sending)
    query: tuple[str, ...] = ()  # parameters sent in the query string (required), not the path
    bucket: str = ""  # the rate-limit bucket it draws from ("" means its product's)

    def __post_init__(self) -> None:
        if not self.bucket:
            object.__setattr__(self, "bucket", self.product)
        if self.bucket not in BUCKETS:
            raise ValueError(f"endpoint {self.name!r}: bucket {self.bucket!r} is not one of {', '.join(BUCKETS)}")

    @property
    def lookup_columns(self) -> dict[str, str]:
        """The columns of a detail answer: the list row's, then what the detail adds."""
        return {**self.columns, **self.detail_columns}

    @property
    def inputs(self) -> dict[str, tuple[str, ...]]:
        """Every parameter a caller gives (path, then query) -> its allowed values (empty: free text)."""
        return {**self.params, **{q: () for q in self.query}}

    @property
    def methods(self) -> tuple[str, ...]:
        """The HTTP methods this name uses."""
        gets = ("GET",) if self.list_path or self.detail_path else ()
        return gets + (("POST",) if self.submit_path else ()) + (("DELETE",) if self.delete_path else ())

    def format_path(self, template: str, params: Mapping[str, object], id_: str | None = None) -> str:
        """Fill a path template with checked path parameters (and an url-encoded id).

        Args:
            template: one of this endpoint's paths.
            params: the path parameters given by the caller.
            id_: the resource id for a detail path.

        Returns:
            The path below the product's version prefix.
        """
        values: dict[str, str] = {}
        for name, allowed in self.params.items():
            if name not in params:
                choices = f" (one of {', '.join(allowed)}), e.g. {name}={allowed[0]!r}" if allowed else " (a uuid)"
                raise ConfigError(f"Endpoint {self.name!r} needs {name}={choices}.")
            value = str(params[name])
            if allowed and value not in allowed:
                close = difflib.get_close_matches(value, allowed, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}.{hint}")
            values[name] = value
        extra = set(params) - set(self.params) - set(self.query)
        if extra:
            raise ConfigError(f"Endpoint {self.name!r} takes no parameter {', '.join(sorted(extra))}.")
        missing = [q for q in self.query if q not in params]
        if missing:
            raise ConfigError(f"Endpoint {self.name!r} needs {', '.join(f'{q}=' for q in missing)}.")
        if id_ is not None:
            # Collection identifiers are free text (Metrc tags, names): encode everything, slashes included.
            values["id"] = quote(str(id_), safe="")
        return template.format(**values)


_PRODUCT_COLUMNS = {
    "uuid": "string",
    "name": "string",
    "sku": "string",
    "product_type": "string",
    "is_published": "bool",
    "brand_uuid": "string",
}
_PRODUCT_DETAIL_COLUMNS = {
    "description": "string",
    "label_type": "string",
    "container_type": "string",
    "published_on": "datetime",
    "available_on": "datetime",
    "discontinued_on": "datetime",
    "upc": "string",
    "servings": "int",
}
_BATCH_COLUMNS = {
    "uuid": "string",
    "brand_uuid": "string",
    "name": "string",
    "regulatory_id": "string",
    "produced_on": "datetime",
    "updated_on": "datetime",
    "digital_coa_uuids": "object",
}
_ASSET_COLUMNS = {"uuid": "string", "name": "string", "content": "string", "description": "string", "usage": "string"}

_REGISTRY: tuple[Endpoint, ...] = (
    Endpoint(
        "products",
        "source",
        "LucidSource products (list rows; lookup gives the full detail)",
        list_path="products/",
        detail_path="products/{id}/",
        paginated=True,
        columns=_PRODUCT_COLUMNS,
        detail_columns=_PRODUCT_DETAIL_COLUMNS,
    ),
    Endpoint(
        "batches",
        "source",
        "LucidSource batches",
        list_path="batches/",
        detail_path="batches/{id}/",
        paginated=True,
        columns=_BATCH_COLUMNS,
    ),
    Endpoint(
        "assets",
        "source",
        "LucidSource assets of one type (asset_type= texts, images, videos or files)",
        list_path="assets/{asset_type}/",
        detail_path="assets/{asset_type}/{id}/",
        submit_path="assets/{asset_type}/create/",
        paginated=True,
        params={"asset_type": ASSET_TYPES},
        columns=_ASSET_COLUMNS,
    ),
    Endpoint(
        "text_asset_delete",
        "source",
        "LucidSource: delete a text asset, by uuid (answers 204)",
        delete_path="assets/text/{id}/delete/",
        key=None,
    ),
    Endpoint(
        "brands",
        "source",
        "LucidSource brands (the list is a bare JSON array)",
        list_path="brands/",
        detail_path="brands/{id}/",
        list_shape="array",
        columns={"uuid": "string", "name": "string", "state": "string"},
        detail_columns={"updated_on": "datetime"},
    ),
    Endpoint(
        "digital_coas",
        "source",
        "LucidSource digital certificates of analysis, by uuid",
        detail_path="digital_coas/{id}/",
        columns={"uuid": "string", "batch_uuid": "string"},
    ),
    Endpoint(
        "items",
        "source",
        "LucidSource items, by LucidID",
        detail_path="items/{id}/",
        id_kind="lucid_id",
        columns={
            "uuid": "string",
            "created": "datetime",
            "brand_uuid": "string",
            "product_uuid": "string",
            "batch_uuid": "string",
            "digital_coa_uuids": "object",
            "collections": "object",
            "removed_collections": "object",
        },
    ),
    Endpoint(
        "collections",
        "source",
        "LucidSource collections, by uuid or identifier (a Metrc tag, say)",
        detail_path="collections/{id}/",
        id_kind="identifier",
        columns={
            "uuid": "string",
            "identifier": "string",
            "name": "string",
            "collection_type": "string",
            "sub_type": "string",
            "added_on": "datetime",
            "is_public": "bool",
            "is_removed": "bool",
            "removed_on": "datetime",
            "items": "object",
        },
    ),
    Endpoint(
        "retail_batches",
        "retail",
        "LucidRetail batch details, by uuid (adds testing laboratories)",
        detail_path="batches/{id}/",
        columns={**_BATCH_COLUMNS, "testing_laboratories": "object"},
    ),
    Endpoint(
        "inventory_collection",
        "retail",
        "LucidRetail inventory collection of a LucidID (public look-up, 60/min per IP)",
        detail_path="collections/inventory-pos/lucid-id/{id}/",
        id_kind="lucid_id",
        key=None,
        bucket="retail_public",
    ),
    Endpoint(
        "add_items",
        "retail",
        "LucidRetail: add a case's LucidIDs to an inventory collection (dispensary_uuid=)",
        submit_path="collections/inventory-pos/{dispensary_uuid}/add-items/",
        params={"dispensary_uuid": ()},
        key=None,
        lucid_id_fields=("lucid_ids",),
    ),
    Endpoint(
        "caseids_import",
        "retail",
        "LucidRetail: import a CaseID (legacy: validation errors come as 403)",
        submit_path="caseids/import/",
        key=None,
        lucid_id_fields=("lucid_ids",),
    ),
    Endpoint(
        "transactions_complete",
        "retail",
        "LucidRetail: record a sale of LucidIDs",
        submit_path="transactions/complete/",
        key=None,
        lucid_id_fields=("items",),
    ),
    Endpoint(
        "caseids_remove",
        "retail",
        "LucidRetail: remove a CaseID (legacy: validation errors come as 403)",
        submit_path="caseids/import/remove/",
        key=None,
        lucid_id_fields=("lucid_ids",),
    ),
    Endpoint(
        "package_uids_export",
        "retail",
        "LucidRetail: the daily package UIDs export (export_date=YYYY-MM-DD); waits while the server prepares it",
        list_path="package-uids-export/",
        list_shape="object",
        key=None,
        query=("export_date",),
        # The rows of the file the answer's export_url links to (downloaded without credentials).
        columns={
            "package_uid": "string",
            "lucid_id": "string",
            "product_uuid": "string",
            "batch_uuid": "string",
            "added_on": "datetime",
        },
    ),
    Endpoint(
        "transactions_void",
        "retail",
        "LucidRetail: void a sale of LucidIDs",
        submit_path="transactions/void/",
        key=None,
        lucid_id_fields=("items",),
    ),
)

ENDPOINTS: Mapping[str, Endpoint] = {e.name: e for e in _REGISTRY}


def get_endpoint(name: str) -> Endpoint:
    """The registered endpoint called ``name``.

    Args:
        name: an endpoint name such as ``"products"``.

    Returns:
        The Endpoint.

    Raises:
        UnknownEndpointError: no such name; the error lists the close matches.
    """
    try:
        return ENDPOINTS[name]
    except (KeyError, TypeError):
        suggestions = difflib.get_close_matches(str(name), list(ENDPOINTS), n=3, cutoff=0.5)
        raise UnknownEndpointError(str(name), suggestions) from None
