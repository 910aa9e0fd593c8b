"""The registry of named endpoints: product, rate-limit bucket, methods, paths, pagination, key, columns and types.

Names are what analysts type (``client.load("products")``, ``client.lookup("items", ids)``). A name may have a
list path (for ``load``), a detail path (for ``lookup``), a submission (for ``submit``) or a deletion (for
``delete``). Each endpoint draws from one rate-limit bucket (``bucket``): its product's by default ("source",
"retail"), "retail_public" for the public LucidID look-up, which the API limits per caller IP. Column kinds drive
``frames.py``: ``string`` (ids and text), ``bool``, ``int`` (nullable), ``datetime`` (tz-aware, UTC),
``decimal`` (kept as the API's exact decimal strings), ``object`` (lists stay lists).

What an id looks like is an API fact too (``IdFormat``, which the validator re-exports), and every path parameter
and id becomes exactly one path segment (``path_segment``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from lucidframes.config import BUCKETS
from lucidframes.errors import ConfigError, UnknownEndpointError

__all__ = [
    "ALPHABET",
    "ASSET_TYPES",
    "ENDPOINTS",
    "UUID_LENGTH",
    "UUID_MAX",
    "Endpoint",
    "IdFormat",
    "get_endpoint",
    "path_segment",
]

ASSET_TYPES = ("texts", "images", "videos", "files")
# shortuuid's base57: no 0 1 I O l (they look alike); sorted by code point, so fixed-length ids compare like numbers.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
UUID_LENGTH = 22  # shortuuid of a 128-bit uuid
UUID_MAX = "oZEq7ovRbLq6UnGMPwc8B5"  # the encoding of 2**128 - 1: anything above cannot be decoded


@dataclass(frozen=True)
class IdFormat:
    """What a valid identifier looks like: its kind ("lucid_id" or "uuid") and its length."""

    kind: str
    length: int

    @property
    def max_value(self) -> str | None:
        """The largest decodable value: set for 22-character shortuuids, whatever the kind."""
        return UUID_MAX if self.length == UUID_LENGTH else None

    @property
    def pattern(self) -> str:
        """The full-match regular expression (the same in Python's re and pyarrow's RE2)."""
        return f"[{ALPHABET}]{{{self.length}}}"

    @property
    def label(self) -> str:
        """How messages name the identifier."""
        return "LucidID" if self.kind == "lucid_id" else "uuid"

    def matches(self, text: str) -> bool:
        """Whether one text is a well-formed id of this format (the pattern, then the largest value)."""
        return re.fullmatch(self.pattern, text) is not None and (self.max_value is None or text <= self.max_value)


def path_segment(value: object, what: str, kind: str | None = None) -> str:
    """``value`` as exactly one path segment: percent-encoded with nothing kept safe, or refused before sending.

    Args:
        value: a path parameter or id, as the caller gave it.
        what: how the caller named it, for the message (``dispensary_uuid``, ``ids[3]``).
        kind: ``"uuid"`` to require a 22-character base57 shortuuid.

    Returns:
        The encoded segment (``a/b`` becomes ``a%2Fb``); ConfigError for what is not text (None, NaN, a number),
        ``""``, ``.`` or ``..`` (urllib3 resolves dot segments), a lone surrogate, or not of ``kind``.
    """
    wanted = "a uuid (22 characters of the base57 alphabet)" if kind == "uuid" else "text"
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be {wanted}, not {type(value).__name__} {value!r:.60}: nothing was sent.")
    if kind == "uuid" and not IdFormat("uuid", UUID_LENGTH).matches(value):  # (a repr, cut: text may be 3,000 long)
        raise ConfigError(f"{what}={value!r:.60} is not {wanted}: nothing was sent.")
    if value in ("", ".", ".."):
        raise ConfigError(f"{what}={value!r} cannot be a path segment (empty, '.' or '..'): nothing was sent.")
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise ConfigError(f"{what} holds a lone surrogate, which no URL can carry: nothing was sent.") from None


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
    param_kinds: Mapping[str, str] = field(default_factory=dict)  # a free-text path parameter's id kind ("uuid")
    columns: Mapping[str, str] = field(default_factory=dict)  # column -> kind, in display order (list rows)
    detail_columns: Mapping[str, str] = field(default_factory=dict)  # what a detail (lookup) adds to a list row
    lucid_id_fields: tuple[str, ...] = ()  # fields of a submission that hold LucidIDs (checked before sending)
    query: tuple[str, ...] = ()  # parameters sent in the query string (required), not the path
    bucket: str = ""  # the rate-limit bucket it draws from ("" means its product's)
    key_fields: tuple[str, ...] = ()  # what every resource (or linked file's row) holds; default (key,)

    def __post_init__(self) -> None:
        if not self.bucket:
            object.__setattr__(self, "bucket", self.product)
        if not self.key_fields and self.key is not None:
            object.__setattr__(self, "key_fields", (self.key,))
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

    def format_path(self, template: str, params: Mapping[str, object], id_: object = None) -> str:
        """Fill a path template with checked path parameters and id, each exactly one percent-encoded segment.

        Args:
            template: one of this endpoint's paths.
            params: the path parameters given by the caller.
            id_: the resource id for a detail path (None: the template has none).

        Returns:
            The path below the product's version prefix (ConfigError for a parameter missing, unknown, not
            allowed, or not one segment).
        """
        values: dict[str, str] = {}
        for name, allowed in self.params.items():
            if name not in params:
                choices = f" (one of {', '.join(allowed)}), e.g. {name}={allowed[0]!r}" if allowed else " (a uuid)"
                raise ConfigError(f"Endpoint {self.name!r} needs {name}={choices}.")
            value = params[name]
            if allowed and value not in allowed:
                close = difflib.get_close_matches(str(value), allowed, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}.{hint}")
            values[name] = path_segment(value, name, self.param_kinds.get(name))
        extra = set(params) - set(self.params) - set(self.query)
        if extra:
            raise ConfigError(f"Endpoint {self.name!r} takes no parameter {', '.join(sorted(extra))}.")
        missing = [q for q in self.query if q not in params]
        if missing:
            raise ConfigError(f"Endpoint {self.name!r} needs {', '.join(f'{q}=' for q in missing)}.")
        if "{id}" in template:
            # Collection identifiers are free text (Metrc tags, names): encode everything, slashes included.
            values["id"] = path_segment(id_, "id")
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
        key_fields=("inventory_collection_identifier",),  # (inferred: what add_items answers, and the sandbox)
        bucket="retail_public",
    ),
    Endpoint(
        "add_items",
        "retail",
        "LucidRetail: add a case's LucidIDs to an inventory collection (dispensary_uuid=)",
        submit_path="collections/inventory-pos/{dispensary_uuid}/add-items/",
        params={"dispensary_uuid": ()},
        param_kinds={"dispensary_uuid": "uuid"},
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
        key_fields=("package_uid", "lucid_id"),  # the file's header must hold them (inferred: the sandbox's)
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
