"""What a 2xx answer must be before it is believed: the registry's shapes, checked before anything becomes a row.

A proxy that answers ``200 {"detail": "upstream timed out"}``, a half-configured gateway's ``{}`` or ``null``, an
export answer without its link: none of them is the resource the registry describes. The checks here raise
``BadBody``, which the transport retries like a 5xx for a GET and then raises as a ``DecodeError`` naming what came
back; so such an answer is never a row and never cached. The package export answers with a link
(``export_url``), and its rows are in the CSV that link names (``linked_rows``; the file is fetched by
``_http.download``, never with our credentials), whose header must hold the registry's key fields.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from lucidframes._http.classify import BadBody
from lucidframes._http.download import download, shown_url
from lucidframes._http.transport import Transport
from lucidframes.endpoints import Endpoint
from lucidframes.errors import DecodeError, visible
from lucidframes.loaders.fetch import shape

__all__ = ["LINK_FIELD", "check_array", "check_export", "detail_check", "linked_rows"]

LINK_FIELD = "export_url"


def _said(payload: Any) -> str:
    """What an error-like body says (a proxy's ``detail``/``error``), for the message; empty when it says nothing."""
    said = next((payload.get(k) for k in ("detail", "error") if isinstance(payload.get(k), str)), None)
    return f" saying '{visible(said, 120, prose=True)}'" if isinstance(said, str) else ""


def detail_check(ep: Endpoint) -> Callable[[Any], None]:
    """The check of one resource of ``ep``: a JSON object holding the registry's key fields (not null, not empty).

    Args:
        ep: the endpoint looked up.

    Returns:
        A check for ``Transport.send(check=...)``.
    """

    def check(payload: Any) -> None:
        if not isinstance(payload, dict):
            raise BadBody(f"not a {ep.name} resource (a JSON object) but {shape(payload)}")
        missing = [f for f in ep.key_fields if payload.get(f) in (None, "")]
        if missing:
            raise BadBody(f"not a {ep.name} resource (no {', '.join(missing)}) but {shape(payload)}{_said(payload)}")

    return check


def check_array(payload: Any) -> None:
    """A bare JSON array of objects (brands)."""
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise BadBody(f"not a JSON array of objects but {shape(payload)}")


def check_export(payload: Any) -> None:
    """One JSON object holding the link to the file (the package export): ``{"export_url": "https://..."}``."""
    if not isinstance(payload, dict):
        raise BadBody(f"not a JSON object but {shape(payload)}")
    link = payload.get(LINK_FIELD)
    if not isinstance(link, str) or not link.strip():
        raise BadBody(f"an answer without a link ({LINK_FIELD}) but {shape(payload)}{_said(payload)}")


def linked_rows(
    transport: Transport, payload: dict[str, Any], key_fields: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The rows of the CSV file ``payload["export_url"]`` names (empty cells as missing values).

    Args:
        transport: the transport (its base URL, timeouts and deadline apply to the download).
        payload: the answer holding the link.
        key_fields: columns the file's header must hold (the registry's), else it is not the export.

    Returns:
        One dict per CSV row.

    Raises:
        DecodeError: the file is not UTF-8, is empty, or its header lacks a key field (an error page, say).
    """
    url = payload[LINK_FIELD]
    body = download(url, base=transport.base, timeout=transport.timeout, deadline=transport.deadline)
    shown = shown_url(url)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DecodeError(f"The export at {shown} is not UTF-8 text.", method="GET", url=shown) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [f for f in key_fields if f not in header]
    if missing or (key_fields and not header):
        first = visible(text[:80], prose=True) if text.strip() else "nothing (an empty file)"
        raise DecodeError(
            f"The export at {shown} is not the export's CSV: its header lacks {', '.join(missing)} (it starts with "
            f"{first}). Ask for the export again; if it persists, the link points to something else.",
            method="GET",
            url=shown,
        )
    return [{k: (v if v != "" else None) for k, v in row.items() if k is not None} for row in reader]
