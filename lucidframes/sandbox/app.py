"""The application behind the sandbox's HTTP server: state, routing, auth, throttling and the token endpoint.

The order of checks is Django's and DRF's: an unknown path is 404 before anything else (a path missing only its
trailing slash is redirected, as APPEND_SLASH does); then authentication (401), throttling (429), the method (405),
and only then the view, which may fail on the body (400/415) or the lookup (404).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, unquote_plus

from lucidframes.sandbox import records
from lucidframes.sandbox.data import Dataset
from lucidframes.sandbox.ids import shortuuid
from lucidframes.sandbox.messages import Headers, Request, Response, detail, empty, json_response
from lucidframes.sandbox.records import ASSET_TYPES, Record
from lucidframes.sandbox.throttle import Limits, Throttle, throttled_detail
from lucidframes.sandbox.tokens import TokenStore, bearer

TOKEN_PATH = "/o/token/"
SOURCE = "/api/v1.5/"
RETAIL = "/api/v1.2/"
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")  # Django's http_method_names order
LIST_FIELDS_OF_FORMS = ("lucid_ids", "items")  # form-encoded fields read with getlist(), as DRF's ListField does
AUTHENTICATE = ("WWW-Authenticate", 'Bearer realm="api"')
MUTABLE = ("products", "batches", "assets")

Handler = Callable[["App", Request, dict[str, str]], Response]


class Reply(Exception):
    """Raised by a view to answer at once (a validation error, a missing object)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass(frozen=True)
class Route:
    """A path pattern, the throttle scope it belongs to, and a view per method."""

    pattern: re.Pattern[str]
    scope: str  # "source", "retail" or "retail_public" (no token needed, throttled per IP)
    name: str  # the view name DRF reports in OPTIONS
    views: dict[str, Handler]

    @property
    def allowed(self) -> list[str]:
        """The Allow header's methods, as Django and DRF list them."""
        methods = set(self.views) | {"OPTIONS"} | ({"HEAD"} if "GET" in self.views else set())
        return [m for m in METHOD_ORDER if m in methods]


def route(prefix: str, pattern: str, scope: str, name: str, **views: Handler) -> Route:
    """A Route from a readable pattern: ``<name>`` is one path segment."""
    regex = re.sub(r"(?<!\?P)<(\w+)>", r"(?P<\1>[^/]+)", pattern)
    return Route(re.compile(re.escape(prefix) + regex), scope, name, {m.upper(): v for m, v in views.items()})


def not_found(model: str) -> Reply:
    """DRF's 404 for a lookup that found nothing (Http404 from get_object_or_404, as DRF >= 3.15 reports it)."""
    return Reply(detail(404, f"No {model} matches the given query."))


def payload(request: Request) -> dict[str, Any]:
    """The parsed body, as DRF's JSON and form parsers give it; 400/415 as DRF answers bad bodies."""
    if not request.body:
        return {}
    content_type = request.headers.get("Content-Type") or ""
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(request.body.decode("utf-8"))
        except ValueError as exc:  # also UnicodeDecodeError, as DRF's JSONParser
            raise Reply(detail(400, f"JSON parse error - {exc}")) from None
    elif media == "application/x-www-form-urlencoded":
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        data = {k: v if k in LIST_FIELDS_OF_FORMS else v[-1] for k, v in form.items()}
    else:
        raise Reply(detail(415, f'Unsupported media type "{content_type}" in request.'))
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise Reply(json_response(400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}))
    return data


def require(data: dict[str, Any], *fields: str) -> None:
    """DRF's field errors for required fields that are missing or blank (all of them at once)."""
    errors = {}
    for name in fields:
        if name not in data or data[name] is None:
            errors[name] = ["This field is required."]
        elif data[name] == "":
            errors[name] = ["This field may not be blank."]
    if errors:
        raise Reply(json_response(400, errors))


def string_list(data: dict[str, Any], name: str) -> list[Any]:
    """A required non-empty list field, with DRF's ListField messages."""
    value = data[name]
    if not isinstance(value, list):
        raise Reply(json_response(400, {name: [f'Expected a list of items but got type "{type(value).__name__}".']}))
    if not value:
        raise Reply(json_response(400, {name: ["This list may not be empty."]}))
    return value


class App:
    """The sandbox's state and request handling; every change to the data goes through ``lock``."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        seed: int,
        page_size: int,
        token_lifetime: float,
        limits: Limits,
        client_id: str,
        client_secret: str,
    ) -> None:
        self.data = dataset
        self.seed = seed
        self.page_size = page_size
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens = TokenStore(token_lifetime)
        self.throttle = Throttle(limits)
        self.lock = threading.RLock()
        self.inventory: dict[str, Record] = {}  # inventory collection identifier -> collection
        self.inventory_of: dict[str, str] = {}  # LucidID -> inventory collection identifier
        self.transactions: dict[str, Record] = {}  # order id -> transaction
        self.exports: set[str] = set()  # export dates already requested once (the next request gets the URL)
        self._ids = random.Random(f"requests:{seed}")
        self._serials = {name: len(self._rows(name)) for name in ("products", "batches")}
        self._serials.update({f"assets:{t}": len(dataset["assets"][t]) for t in ASSET_TYPES})
        self.index: dict[str, dict[str, Record]] = {}
        self.reindex()
        from lucidframes.sandbox.routes import FILES, ROUTES  # here, because the views import this module

        self.routes = ROUTES
        self.files = FILES

    # --- data --------------------------------------------------------------------------------------------------

    def reindex(self) -> None:
        """Rebuild the lookup tables from ``data`` (after editing its lists directly)."""
        with self.lock:
            index = {name: {r["uuid"]: r for r in self.data[name]} for name in
                     ("products", "batches", "brands", "digital_coas", "items", "collections")}  # fmt: skip
            for kind in ASSET_TYPES:
                index[f"assets:{kind}"] = {r["uuid"]: r for r in self.data["assets"][kind]}
            index["collections:identifier"] = {c["identifier"]: c for c in self.data["collections"]}
            self.index = index

    def _rows(self, resource: str, asset_type: str | None = None) -> list[Record]:
        """The live list of a resource (assets need their type)."""
        if resource == "assets":
            if asset_type not in ASSET_TYPES:
                raise ValueError(f"asset_type must be one of {', '.join(ASSET_TYPES)}, got {asset_type!r}")
            rows: list[Record] = self.data["assets"][asset_type]
            return rows
        if resource not in self.data:
            raise ValueError(f"unknown resource {resource!r}: expected one of {', '.join(self.data)}")
        listed: list[Record] = self.data[resource]
        return listed

    def new_uuid(self) -> str:
        """A new shortuuid for a record created through the API, seeded."""
        with self.lock:
            return shortuuid(self._ids)

    def request_id(self) -> str:
        """A new request id (hex, like a UUID without dashes), seeded."""
        with self.lock:
            return f"{self._ids.getrandbits(128):032x}"

    def lookup(self, table: str, key: str, model: str) -> Record:
        """A record by uuid from an index, or DRF's 404."""
        found = self.index[table].get(key)
        if found is None:
            raise not_found(model)
        return found

    def mutate(
        self,
        resource: str,
        insert: int = 0,
        delete: int = 0,
        position: str | int = "start",
        asset_type: str | None = None,
    ) -> tuple[list[Record], list[Record]]:
        """Delete then insert records at a position ("start", "end" or an index); returns (inserted, deleted)."""
        if resource not in MUTABLE:
            raise ValueError(f"only {', '.join(MUTABLE)} can be mutated, not {resource!r}")
        if insert < 0 or delete < 0:
            raise ValueError("insert and delete must not be negative")
        with self.lock:
            rows = self._rows(resource, asset_type)
            if position == "start":
                at = 0
            elif position == "end":
                at = len(rows)
            elif isinstance(position, int) and not isinstance(position, bool):
                at = max(0, min(position, len(rows)))
            else:
                raise ValueError(f"position must be 'start', 'end' or an index, got {position!r}")
            # "end" deletes the last records; "start" and an index delete the records from there on
            start = max(0, len(rows) - delete) if position == "end" else at
            deleted = rows[start : start + delete]
            del rows[start : start + delete]
            table = f"assets:{asset_type}" if resource == "assets" else resource
            for gone in deleted:
                self.index[table].pop(gone["uuid"], None)
            inserted = [self._new_record(resource, asset_type) for _ in range(insert)]
            at = len(rows) if position == "end" else min(at, len(rows))
            rows[at:at] = inserted
            for new in inserted:
                self.index[table][new["uuid"]] = new
            return inserted, deleted

    def _new_record(self, resource: str, asset_type: str | None) -> Record:
        """One new seeded record for mutate(): dated after the generated data, with a fresh serial."""
        key = f"assets:{asset_type}" if resource == "assets" else resource
        serial = self._serials[key]
        self._serials[key] = serial + 1
        rng = random.Random(f"{self.seed}:{key}:{serial}")
        if resource == "assets":
            assert asset_type is not None
            return records.asset(rng, asset_type, serial)
        if not self.data["brands"]:
            raise ValueError("cannot add products or batches to a dataset without brands")
        owner = rng.choice(self.data["brands"])
        if resource == "products":
            return records.product(rng, serial, owner, start=records.LATER)
        return records.batch(rng, serial, owner, rng.choice(records.STRAINS), start=records.LATER)

    # --- requests ----------------------------------------------------------------------------------------------

    def resolve(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route of a path and its decoded parameters, or None."""
        for candidate in self.routes:
            match = candidate.pattern.fullmatch(path)
            if match:
                return candidate, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def client_of(self, headers: Headers) -> str | None:
        """The client id of a request's bearer token, if the token is valid now."""
        return self.tokens.client_for(bearer(headers.get("Authorization")))

    def handle(self, request: Request) -> Response:
        """Answer one request (the HTTP layer drops the body of HEAD answers)."""
        if request.path == TOKEN_PATH:
            return self.token(request)
        for prefix, view in self.files:  # files that links point to (no token: the link is the permission)
            if request.path.startswith(prefix):
                return view(self, request)
        found = self.resolve(request.path)
        if found is None:
            slashed = request.path + "/"
            if not request.path.endswith("/") and (slashed == TOKEN_PATH or self.resolve(slashed)):
                location = request.path + "/" + (f"?{request.query}" if request.query else "")
                return empty(301, [("Location", location)])
            return detail(404, "Not found.")
        target, params = found
        common = [("Allow", ", ".join(target.allowed)), ("Vary", "Accept")]  # DRF sends these on every answer
        response = self._dispatch(request, target, params)
        response.headers.extend(h for h in common if response.header(h[0]) is None)
        return response

    def _dispatch(self, request: Request, target: Route, params: dict[str, str]) -> Response:
        """Authentication, throttling, method, view."""
        client = self.client_of(request.headers)
        if client is None and target.scope != "retail_public":
            return empty(401, [AUTHENTICATE])
        key = request.client_ip if target.scope == "retail_public" else str(client)
        wait = self.throttle.check(target.scope, key)
        if wait is not None:
            seconds, message = throttled_detail(wait)
            return detail(429, message, [("Retry-After", str(seconds))])
        if request.method not in target.allowed:
            return detail(405, f'Method "{request.method}" not allowed.')
        if request.method == "OPTIONS":
            return json_response(200, {
                "name": target.name, "description": "", "renders": ["application/json"],
                "parses": ["application/json", "application/x-www-form-urlencoded"],
            })  # fmt: skip
        view = target.views["GET" if request.method == "HEAD" else request.method]
        try:
            return view(self, request, params)
        except Reply as reply:
            return reply.response

    def token(self, request: Request) -> Response:
        """``POST /o/token/``: the client-credentials grant as Django OAuth Toolkit (oauthlib) answers it."""
        allow = [("Allow", "POST, OPTIONS")]
        if request.method == "OPTIONS":
            return empty(200, allow)
        if request.method != "POST":
            return empty(405, allow)  # Django's View.http_method_not_allowed: no body
        no_store = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        media = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = parse_qs(request.body.decode("utf-8", "replace")) if media == "application/x-www-form-urlencoded" else {}
        params = {k: v[-1] for k, v in form.items()}
        if params.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"}, no_store)
        client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        basic = request.headers.get("Authorization") or ""
        if basic[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(basic[6:].strip(), validate=True).decode("utf-8")
                raw_id, _, raw_secret = decoded.partition(":")
                client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            except (binascii.Error, UnicodeDecodeError):
                client_id, secret = "", ""
        good_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        good_secret = hmac.compare_digest(secret.encode(), self.client_secret.encode())
        if not (good_id and good_secret):
            challenge = ("WWW-Authenticate", 'Bearer error="invalid_client"')
            return json_response(401, {"error": "invalid_client"}, [*no_store, challenge])
        token = self.tokens.issue(client_id)
        lifetime = int(self.tokens.lifetime)
        body = {"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": "read write"}
        return json_response(200, body, no_store)
