"""CSV / Parquet / JSON Lines writers for loaded DataFrames.

CSV is UTF-8 with ISO-8601 datetimes (UTC, ``+00:00``), no index column, and lists or objects as JSON text, so
a reporting pipeline reads back exactly what was loaded. Parquet keeps the dtypes (it needs the ``parquet``
extra). JSON Lines writes one object per row.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from lucidframes.errors import ConfigError

__all__ = ["FORMATS", "export", "format_for"]

FORMATS = ("csv", "parquet", "jsonl")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format for a path: ``fmt`` if given, else from the suffix (``-`` means CSV on stdout).

    Args:
        path: the destination.
        fmt: an explicit format (csv, parquet, jsonl).

    Returns:
        The format name.
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"Unknown export format {fmt!r}: use one of {', '.join(FORMATS)}.")
        return fmt
    if str(path) == "-":
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"Cannot tell the format of {str(path)!r}: name it .csv, .parquet or .jsonl, or pass format=."
        )
    return _SUFFIXES[suffix]


def export(df: pd.DataFrame, path: str | os.PathLike[str], format: str | None = None) -> Path | None:  # noqa: A002
    """Write a DataFrame as CSV, Parquet or JSON Lines.

    Args:
        df: the data (as loaded).
        path: the file to write, or ``-`` for stdout (CSV or JSON Lines).
        format: csv, parquet or jsonl; from the suffix when omitted.

    Returns:
        The path written (None for stdout).
    """
    fmt = format_for(path, format)
    if fmt == "parquet":
        if str(path) == "-":
            raise ConfigError("Parquet cannot go to stdout: name a .parquet file.")
        return _write_parquet(df, Path(path))
    text_df = _textual(df, lists_as_json=fmt == "csv")
    if str(path) == "-":
        _write_text(text_df, fmt, sys.stdout)
        return None
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise ConfigError(f"The folder {str(target.parent)!r} does not exist.")
    with target.open("w", encoding="utf-8", newline="") as fh:
        _write_text(text_df, fmt, fh)
    return target


def _write_text(df: pd.DataFrame, fmt: str, fh: Any) -> None:
    """CSV or JSON Lines of an already textual frame."""
    if fmt == "csv":
        df.to_csv(fh, index=False, lineterminator="\n")
    else:
        for row in df.to_dict(orient="records"):
            fh.write(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")


def _textual(df: pd.DataFrame, *, lists_as_json: bool) -> pd.DataFrame:
    """A copy with datetimes as ISO-8601 text and (for CSV) lists/objects as JSON text; missing stays missing."""
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col):
            out[name] = _iso(col)
        elif lists_as_json and col.dtype == object:
            out[name] = col.map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v)
    return out


def _iso(col: pd.Series) -> pd.Series:
    """ISO-8601 text in UTC (``2025-03-01T20:00:00+00:00``), with microseconds only where a value has them."""
    utc = col.dt.tz_convert("UTC") if col.dt.tz is not None else col.dt.tz_localize("UTC")
    micro = bool((utc.dt.microsecond.fillna(0) != 0).any())
    text = utc.dt.strftime("%Y-%m-%dT%H:%M:%S.%f" if micro else "%Y-%m-%dT%H:%M:%S") + "+00:00"
    out: pd.Series = text.where(col.notna(), None)
    return out


def _plain(value: Any) -> Any:
    """A JSON-ready value: missing becomes null, numpy scalars become Python ones."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Parquet through pyarrow (the ``parquet`` extra)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError("Parquet needs pyarrow: pip install 'lucidframes[parquet]'.") from None
    if not path.parent.exists():
        raise ConfigError(f"The folder {str(path.parent)!r} does not exist.")
    clean = df.copy()
    clean.attrs = {}  # attrs hold Python objects pyarrow cannot always store; the data is what matters
    clean.to_parquet(path, index=False)
    return path
