"""What the sandbox's views share: the URL pattern type, answering at once, and DRF's body parsing and field checks.

``source.py`` and ``retail.py`` hold the views, ``routes.py`` the URL table, ``state.py`` the data they read and
change; ``app.py`` dispatches to them. Nothing here imports those modules: every import points down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from lucidframes.sandbox.messages import Reply, Request, Response, detail, json_response
from lucidframes.sandbox.state import State

__all__ = [
    "LIST_FIELDS_OF_FORMS",
    "METHOD_ORDER",
    "RETAIL",
    "SOURCE",
    "Handler",
    "Route",
    "payload",
    "require",
    "route",
    "string_list",
]

SOURCE = "/api/v1.5/"
RETAIL = "/api/v1.2/"
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")  # Django's http_method_names order
LIST_FIELDS_OF_FORMS = ("lucid_ids", "items")  # form-encoded fields read with getlist(), as DRF's ListField does

Handler = Callable[[State, Request, dict[str, str]], Response]


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
