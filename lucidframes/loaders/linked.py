"""Rows from a file a response links to: the package export answers ``{"export_url": ...}``, and its rows are
in the CSV that link names. The file is fetched by ``_http.download`` (never with our credentials; see there).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from lucidframes._http.download import download, shown_url
from lucidframes._http.transport import Transport
from lucidframes.errors import DecodeError

__all__ = ["LINK_FIELD", "linked_rows"]

LINK_FIELD = "export_url"


def linked_rows(transport: Transport, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the CSV file ``payload["export_url"]`` names (empty cells as missing values).

    Args:
        transport: the transport (its base URL, timeouts and deadline apply to the download).
        payload: the answer holding the link.

    Returns:
        One dict per CSV row.
    """
    url = payload[LINK_FIELD]
    body = download(url, base=transport.base, timeout=transport.timeout, deadline=transport.deadline)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DecodeError(f"The export at {shown_url(url)} is not UTF-8 text.", method="GET") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        return []
    return [{k: (v if v != "" else None) for k, v in row.items() if k is not None} for row in reader]
