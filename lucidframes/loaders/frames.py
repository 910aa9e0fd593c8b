"""Records -> one typed DataFrame: nested objects flattened to dotted columns, dtypes, stable column order; and
the result of a drain (``build_frame``): duplicates dropped by key, the drain's account in ``attrs``.

The frame is built once from all collected records (never a concat per page). Flattening only touches columns
that actually hold dicts, so a flat endpoint costs no more than ``pd.DataFrame(records)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from lucidframes._http.events import WaitStats
from lucidframes.endpoints import Endpoint

__all__ = ["STATUS_COLUMNS", "account", "build_frame", "lookup_frame", "to_frame"]

STATUS_COLUMNS = ("_status", "_error")  # a look-up's own columns, last


def to_frame(
    records: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str] | None = None,
    *,
    flatten: bool = True,
) -> pd.DataFrame:
    """Build a typed DataFrame from API records.

    Args:
        records: the rows, as dicts (as the API sends them).
        columns: the registry's column -> kind map; these come first, in this order, even when absent.
        flatten: expand nested objects into dotted columns (``brand.name``); lists stay lists.

    Returns:
        The DataFrame: registry columns first, then any extra fields in order of first appearance.
    """
    columns = dict(columns or {})
    df = pd.DataFrame.from_records(list(records)) if len(records) else pd.DataFrame()
    if flatten:
        df = _flatten(df)
    present = set(df.columns)
    # Columns the registry names but these records lack (list rows are a subset of the detail fields) are made
    # empty in their final dtype at once: converting a column of Nones cell by cell cost more than the data.
    missing = {name: _empty(kind, df.index) for name, kind in columns.items() if name not in present}
    if missing:
        df = pd.concat([df, pd.DataFrame(missing, index=df.index)], axis=1)
    ordered = list(columns) + [c for c in df.columns if c not in columns]
    df = df[ordered]
    for name, kind in columns.items():
        if name in present:
            df[name] = _convert(df[name], kind)
    for name in df.columns:
        if name not in columns:
            df[name] = _infer(df[name])
    return df


def _flatten(df: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    """Replace every column that holds dicts by its dotted sub-columns, recursively."""
    if df.empty:
        return df
    parts: list[pd.DataFrame | pd.Series] = []
    changed = False
    for name in df.columns:
        col = df[name]
        if col.dtype == object and _holds_dicts(col):
            changed = True
            expanded = pd.DataFrame.from_records(
                [v if isinstance(v, dict) else {} for v in col.tolist()], index=df.index
            )
            if expanded.shape[1] == 0:
                parts.append(col.where(col.map(lambda v: not isinstance(v, dict)), None).rename(name))
                continue
            expanded.columns = [f"{name}.{sub}" for sub in expanded.columns]
            parts.append(_flatten(expanded))
        else:
            parts.append(col)
    if not changed:
        return df
    return pd.concat(parts, axis=1)


def _holds_dicts(col: pd.Series) -> bool:
    """Whether an object column holds dicts, judged by its first non-null value (a column keeps one shape)."""
    first = col.first_valid_index()
    return first is not None and isinstance(col.at[first], dict)


_EMPTY_DTYPES = {
    "datetime": "datetime64[us, UTC]",
    "bool": "boolean",
    "int": "Int64",
    "string": "str",
    "decimal": "str",
}


def _empty(kind: str, index: pd.Index) -> pd.Series:
    """An all-missing column of the dtype ``_convert`` would give ``kind``."""
    dtype = _EMPTY_DTYPES.get(kind, "object")
    return pd.Series(index=index, dtype=dtype)  # no data: pandas fills the dtype's missing value in bulk


def _convert(col: pd.Series, kind: str) -> pd.Series:
    """Coerce a column to the registry's kind; values that do not fit stay visible as strings, never dropped."""
    if kind == "datetime":
        # One unit for every page size and for empty frames, so results compare equal.
        converted = pd.to_datetime(col, utc=True, format="ISO8601", errors="coerce").astype("datetime64[us, UTC]")
        # A value that was present but did not parse must not silently become NaT: keep the column as text.
        lost = converted.isna() & col.notna()
        return _as_text(col) if bool(lost.any()) else converted
    if kind == "bool":
        values = col.tolist()
        if all(v is None or isinstance(v, bool) or _isnan(v) for v in values):
            return col.astype("boolean")
        return _as_text(col)
    if kind == "int":
        try:
            return col.astype("Int64")
        except (TypeError, ValueError):
            return _as_text(col)
    if kind in ("string", "decimal"):
        return _as_text(col)
    return col.astype("object")  # "object": lists and anything else stay as they came


def _as_text(col: pd.Series) -> pd.Series:
    """Strings stay strings, missing stays missing, anything else becomes its JSON-ish text."""
    if col.dtype == "str":  # pandas already inferred a string column: nothing to do
        return col
    values = [v if v is None or isinstance(v, str) or _isnan(v) else _text(v) for v in col.tolist()]
    return pd.Series(values, index=col.index, dtype="str", name=col.name)


def _text(value: Any) -> str:
    """A readable text for a non-string value in a text column (a number, a list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _isnan(value: Any) -> bool:
    """True for float NaN (what pandas puts in for absent keys)."""
    return isinstance(value, float) and value != value


def _infer(col: pd.Series) -> pd.Series:
    """Types for columns the registry does not name: booleans, nullable ints, text; lists stay objects."""
    if col.dtype != object:
        return col
    values = [v for v in col.tolist() if v is not None and not _isnan(v)]
    if not values:
        return col
    if all(isinstance(v, bool) for v in values):
        return col.astype("boolean")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return col.astype("Int64")
    if all(isinstance(v, str) for v in values):
        return col.astype("str")
    return col


def account(
    ep: Endpoint,
    params: dict[str, str],
    stats: WaitStats,
    *,
    complete: bool,
    count: int | None,
    pages: list[int],
    page_size: int | None,
    drift: dict[str, Any] | None,
    rows: int,
    duplicates: int,
    timeline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The drain's account (``df.attrs["lucidframes"]``): what was fetched, what was dropped, how long it waited.

    Args:
        ep: the endpoint.
        params: its path and query parameters.
        stats: the waits counted during the drain.
        complete: every page was fetched (not a chosen page or a partial result).
        count: the count the server announced last.
        pages: the page numbers fetched.
        page_size: the server's page size, when known.
        drift: what the drift checks found (None where they did not run).
        rows: rows kept after dropping duplicates.
        duplicates: rows dropped as duplicates by key.
        timeline: the page spans and waits (``Timeline.to_attrs``), for ``lf.run_summary``.

    Returns:
        The account.
    """
    return {
        "endpoint": ep.name,
        "params": dict(params),
        "pages": pages,
        "page_size": page_size,
        "rows": rows,
        "count": count,
        "complete": complete,
        "duplicates_dropped": duplicates,
        "retries": stats.retries,
        "retry_wait": stats.retry_wait,
        "throttle_wait": stats.throttle_wait,
        "total_wait": stats.total_wait,
        "drift": drift,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "timeline": timeline,
    }


def build_frame(ep: Endpoint, records: list[dict[str, Any]], info: dict[str, Any], *, flatten: bool) -> pd.DataFrame:
    """The typed frame of ``records`` with duplicates dropped by key, ``info`` (corrected) in ``attrs``.

    Args:
        ep: the endpoint (its columns and key).
        records: the raw records, in page order.
        info: the account from ``account``; its ``rows`` and ``duplicates_dropped`` are set from the frame.
        flatten: expand nested objects into dotted columns.

    Returns:
        The DataFrame.
    """
    df = to_frame(records, ep.columns, flatten=flatten)
    dropped = 0
    if ep.key is not None and ep.key in df.columns and len(df):
        dup = df.duplicated(subset=[ep.key], keep="first") & df[ep.key].notna()
        dropped = int(dup.sum())
        if dropped:
            df = df.loc[~dup].reset_index(drop=True)
    df.attrs["lucidframes"] = {**info, "rows": len(df), "duplicates_dropped": dropped}
    return df


def lookup_frame(
    ep: Endpoint,
    wanted: list[str],
    found: dict[str, dict[str, Any]],
    params: dict[str, str],
    stats: WaitStats,
    *,
    flatten: bool,
    extra: dict[str, Any],
) -> pd.DataFrame:
    """One row per id asked for, typed, the status columns last, the look-up's account in ``attrs``.

    Args:
        ep: the endpoint (its look-up columns).
        wanted: the ids asked for, in order (duplicates kept).
        found: the row of each id answered (or ``pending``).
        params: the endpoint's parameters.
        stats: the waits counted during the look-up.
        flatten: expand nested objects into dotted columns.
        extra: more of the account (cached, resumed, requests, the timeline).

    Returns:
        The DataFrame.
    """
    records = [{"_id": i, **found[i]} for i in wanted]
    columns = {"_id": "string", **ep.lookup_columns}
    df = to_frame(records, columns, flatten=flatten)
    df = df[[c for c in df.columns if c not in STATUS_COLUMNS] + list(STATUS_COLUMNS)]
    df["_status"] = df["_status"].astype("str")
    statuses = df["_status"].value_counts().to_dict()
    df.attrs["lucidframes"] = {
        "endpoint": ep.name,
        "params": params,
        "rows": len(df),
        "ids": len(wanted),
        "requests": len(found),
        "statuses": {str(k): int(v) for k, v in statuses.items()},
        "retries": stats.retries,
        "total_wait": stats.total_wait,
        **extra,
    }
    return df
