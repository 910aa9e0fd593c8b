"""pandas columns for the validator: the string view of a column, the bare format mask, and normalisation.

The string view (pandas' pyarrow-backed string dtype, missing where a cell is not a str) is what the rules in
:mod:`lucidframes.lucidid.engine.rules` run on for pandas and Dask; normalisation only looks at the cells with a
character outside the alphabet, so its cost grows with the cells it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lucidframes.errors import ConfigError
from lucidframes.lucidid.cells import is_text, normalize_value
from lucidframes.lucidid.formats import ALPHABET, IdFormat
from lucidframes.lucidid.labels import as_labels, resolve_columns

__all__ = [
    "CHANGE_COLUMNS",
    "as_series",
    "as_strings",
    "changes_frame",
    "full_match",
    "normalize_series",
    "replace_columns",
    "split_input",
    "well_formed",
    "with_changes",
]

ALPHABET_ONLY = f"[{ALPHABET}]*"
CHANGE_COLUMNS = ["row", "column", "before", "after", "action"]


def as_strings(values: pd.Series) -> pd.Series:
    """The column as a string-dtype Series, missing where a cell is not a str; positions unchanged."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype):
        return values
    if isinstance(dtype, pd.CategoricalDtype):
        values = values.astype(object)
    elif values.dtype != object:
        if pd.api.types.is_string_dtype(dtype):  # pd.ArrowDtype(pa.string()) and other string extension types
            return values.astype("str")
        return pd.Series(pd.NA, index=values.index, dtype="string")  # numbers, dates, bools: no strings at all
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        # Mixed column: a pass over the types (not the common case; pure string columns skip it).
        values = values.where(values.map(is_text).astype(bool))  # is_text refuses a signalling NaN (a ConfigError)
    try:
        return values.astype("str")  # pyarrow-backed when pyarrow is installed: RE2 runs without the GIL
    except (UnicodeError, ValueError, TypeError):
        return values.astype(object)  # lone surrogates cannot be UTF-8: keep Python strings and Python's re


def full_match(strings: pd.Series, pattern: str) -> np.ndarray:
    """Boolean array: True where the cell is a string that matches ``pattern`` entirely."""
    matched = strings.str.fullmatch(pattern)
    if matched.dtype != bool:
        matched = matched.fillna(False)  # "string" and object dtypes give NA for missing cells
    return np.array(matched, dtype=bool)  # a writable copy: callers clear more cells


def well_formed(series: pd.Series, fmt: IdFormat) -> tuple[pd.Series, np.ndarray]:
    """The string view of a column and a writable boolean array: True where the cell is a well-formed id."""
    strings = as_strings(series)
    ok = full_match(strings, fmt.pattern)
    if fmt.max_value is not None and ok.any():
        # Same length, alphabet sorted by code point: string order is numeric order.
        ok[np.flatnonzero(ok)[(strings[ok] > fmt.max_value).to_numpy(dtype=bool)]] = False
    return strings, ok


def with_changes(series: pd.Series, changes: list[tuple[int, str, str, str]]) -> pd.Series:
    """A copy of ``series`` with the changed cells replaced (positions are iloc positions)."""
    if not changes:
        return series.copy()
    # A categorical column would refuse the new values as unknown categories: give it plain objects.
    result = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series.copy()
    result.iloc[[c[0] for c in changes]] = [c[2] for c in changes]
    return result


def as_series(values: Any) -> pd.Series:
    """A Series from a Series, Index, array or any iterable of cells (one cell per element)."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.DataFrame):
        raise TypeError("pass a DataFrame together with columns=[...], or a single column (a Series)")
    if isinstance(values, str | bytes):
        raise TypeError("pass a list (or Series) of ids, not a single string")
    if isinstance(values, pd.Index):
        return pd.Series(values, index=None, name=values.name)
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return pd.Series(values)
    if not isinstance(values, Iterable):
        raise TypeError(f"expected a DataFrame, Series or list of ids, not {type(values).__name__}")
    cells = list(values)
    column = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):  # element by element: a cell that is itself a list stays one cell
        column[i] = cell
    return pd.Series(column, dtype=object)


def split_input(data: Any, columns: Any) -> tuple[list[pd.Series], list[Any], pd.Index, pd.DataFrame | None]:
    """The columns to check as Series, their names, the row index, and the frame when the input is one."""
    if isinstance(data, pd.DataFrame):
        names, _ = resolve_columns(list(data.columns), columns)
        return [data[c] for c in names], names, data.index, data
    series = as_series(data)
    name = series.name if series.name is not None else "value"
    if columns is not None and as_labels(columns) != [name]:
        raise ConfigError(f"columns= applies to tables; this input is a single column named {name!r}")
    return [series], [name], series.index, None


def changes_frame(per_column: list[list[tuple[int, str, str, str]]], names: list[Any], index: pd.Index) -> pd.DataFrame:
    """The changes of every column as one DataFrame in row order, with the row labels of ``index``."""
    rows = sorted(
        ((pos, name, before, after, action) for name, changes in zip(names, per_column, strict=True)
         for pos, before, after, action in changes),
        key=lambda r: r[0],
    )  # fmt: skip
    positions = np.asarray([r[0] for r in rows], dtype=np.intp)
    return pd.DataFrame(
        {
            "row": index.take(positions) if len(rows) else pd.Index([], dtype=object),
            **{key: pd.Series([r[i] for r in rows], dtype=object) for i, key in enumerate(CHANGE_COLUMNS) if i},
        },
        columns=CHANGE_COLUMNS,
    )


def replace_columns(
    frame: pd.DataFrame | None, names: list[Any], columns: list[pd.Series | None]
) -> pd.Series | pd.DataFrame:
    """The frame with the named columns replaced (copy-on-write: only those are new), or the one Series."""
    if frame is None:
        assert columns[0] is not None
        return columns[0]
    out = frame.copy(deep=False)
    for name, values in zip(names, columns, strict=True):
        out[name] = values
    return out


def normalize_series(series: pd.Series) -> tuple[pd.Series, list[tuple[int, str, str, str]]]:
    """Normalise one column: only strings with a character outside the alphabet are looked at in Python."""
    strings = as_strings(series)
    candidates = np.flatnonzero(~full_match(strings, ALPHABET_ONLY) & strings.notna().to_numpy(dtype=bool))
    changes = []
    for pos, cell in zip(candidates.tolist(), series.take(candidates).tolist(), strict=True):
        if isinstance(cell, str):
            after, actions, _ = normalize_value(cell)
            if actions:
                changes.append((pos, cell, after, "; ".join(actions)))
    return with_changes(series, changes), changes
