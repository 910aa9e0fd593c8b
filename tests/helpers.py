"""Helpers shared by test modules (imported as ``helpers``: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import pandas as pd

from lucidframes.loaders.endpoints import ENDPOINTS
from lucidframes.loaders.frames import to_frame

PRODUCTS = "/api/v1.5/products/"


def expected(sb, name: str = "products", **params) -> pd.DataFrame:
    """The sandbox's own rows for a list endpoint, typed the way the registry types them."""
    return to_frame(sb.list_rows(name, **params), ENDPOINTS[name].columns)


def pages_requested(sb, path: str = PRODUCTS) -> list[int]:
    """The page numbers requested from a list path, in order (1 for the bare URL)."""
    out = []
    for e in sb.log:
        if e.path == path:
            query = dict(p.split("=", 1) for p in e.query.split("&") if "=" in p)
            out.append(int(query.get("page", 1)))
    return out
