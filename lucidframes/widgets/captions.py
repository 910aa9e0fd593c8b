"""The words and tables the Explorer shows about its data: where a preview came from (its ``Key`` and caption),
how a selection is named, and the preview table itself (a few rows, long text cut so every header stays in view).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lucidframes.endpoints import Endpoint

__all__ = ["CELL_CHARS", "PREVIEW_ROWS", "Key", "caption", "describe", "key_text", "load_key", "preview_table"]

PREVIEW_ROWS = 5
CELL_CHARS = 40  # a preview cell longer than this is cut (a comma-joined list would push the headers off screen)
Key = tuple[Any, ...]  # what a preview came from: ("load", name, params) or ("lookup", name)
_TABLE_STYLE = "<style>.lucidframes-preview th{text-align:left;white-space:nowrap}</style>"


def describe(name: str, params: Mapping[str, str]) -> str:
    """An endpoint with its path parameters, for status lines: ``assets (asset_type=images)``.

    Args:
        name: the endpoint name.
        params: its parameters.

    Returns:
        The text.
    """
    return name + (" (" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")" if params else "")


def load_key(ep: Endpoint, params: Mapping[str, str]) -> Key:
    """The key of a fetch's preview.

    Args:
        ep: the endpoint.
        params: its parameters.

    Returns:
        ``("load", name, sorted params)``.
    """
    return ("load", ep.name, tuple(sorted(params.items())))


def key_text(key: Key | None) -> str:
    """``products``, ``assets (asset_type=images)`` or ``a look-up in items``.

    Args:
        key: a preview's key.

    Returns:
        The text.
    """
    if key is None:
        return "nothing"
    if key[0] == "lookup":
        return f"a look-up in {key[1]}"
    return describe(key[1], dict(key[2]))


def caption(df: pd.DataFrame, key: Key) -> str:
    """Where a preview came from: endpoint, parameters, pages (or ids), and when.

    Args:
        df: the frame.
        key: its key.

    Returns:
        One sentence.
    """
    info = df.attrs.get("lucidframes", {})
    if key[0] == "lookup":
        return f"From a look-up in {key[1]} of {info.get('ids', len(df)):,} ids."
    pages = info.get("pages") or []
    shown = _pages_text(pages)
    whole = " (every page)" if info.get("complete") else ""
    when = f", fetched {info['fetched_at']}" if info.get("fetched_at") else ""
    return f"From {key_text(key)}: page{'s' if len(pages) != 1 else ''} {shown}{whole}{when}."


def preview_table(df: pd.DataFrame) -> str:
    """The first rows as an HTML table, text longer than CELL_CHARS cut with "…", headers left-aligned.

    Args:
        df: the frame.

    Returns:
        The HTML.
    """
    head = df.head(PREVIEW_ROWS).copy()
    for column in head.columns:
        if head[column].dtype == object or pd.api.types.is_string_dtype(head[column].dtype):
            head[column] = head[column].map(_cut).astype(object)
    return _TABLE_STYLE + head.to_html(border=0, max_cols=20, show_dimensions=False)


def _cut(value: Any) -> Any:
    """A long value as its first CELL_CHARS characters and "…" (anything else as it is)."""
    if value is None or (isinstance(value, float) and value != value):
        return value
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _pages_text(pages: list[int]) -> str:
    """``1-13``, ``2, 4, 6`` or ``3``."""
    if not pages:
        return "none"
    if pages == list(range(pages[0], pages[-1] + 1)) and len(pages) > 2:
        return f"{pages[0]}-{pages[-1]}"
    return ", ".join(str(p) for p in pages)
