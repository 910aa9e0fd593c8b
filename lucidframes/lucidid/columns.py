"""How LucidID columns are checked: the vectorised passes, and the per-cell work on the failing cells only.

Internal to :mod:`lucidframes.lucidid`, which holds the public functions. A column goes through one full-match of
the id pattern (pyarrow's RE2 on pandas' string dtype); the cells that fail it are diagnosed one by one; the
well-formed values then go through vectorised ``isin`` (known ids) and ``duplicated`` passes. Everything built
per cell scales with the failures, not with the rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lucidframes.lucidid.cells import (
    ALPHABET,
    UUID_LENGTH,
    Diagnosis,
    IdFormat,
    KnownIds,
    diagnose,
    diagnose_well_formed,
    normalize_value,
    quote,
)
from lucidframes.lucidid.report import CHANGE_COLUMNS, FAILURE_COLUMNS, ValidationReport

ALPHABET_ONLY = f"[{ALPHABET}]*"


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
        values = values.where(values.map(lambda v: isinstance(v, str)).astype(bool))
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


class ColumnCheck:
    """The outcome of checking one column: failing positions with diagnoses, and the well-formed values."""

    def __init__(self) -> None:
        self.fail_pos: list[int] = []
        self.fail_diag: list[Diagnosis] = []
        self.pass_pos: np.ndarray = np.empty(0, dtype=np.intp)
        self.pass_values: pd.Series = pd.Series([], dtype=object)
        self.changes: list[tuple[int, str, str, str]] = []  # position, before, after, action
        self.normalized: pd.Series | None = None
        self.seconds: dict[str, float] = {}  # time per phase, for bench/bench_lucidid.py


def check_column(
    series: pd.Series, fmt: IdFormat, *, normalize: bool, known: KnownIds | None, need_values: bool
) -> ColumnCheck:
    """Check one column: vectorised full-match, then a per-cell diagnosis of the failing cells only."""
    out = ColumnCheck()
    started = time.perf_counter()
    strings, ok = well_formed(series, fmt)
    failing = np.flatnonzero(~ok)
    out.seconds["format"] = time.perf_counter() - started
    cells = series.take(failing).tolist()  # the original cells (not the string view) for the report
    rescued_pos: list[int] = []
    rescued: list[str] = []
    for pos, cell in zip(failing.tolist(), cells, strict=True):
        checked = cell
        if normalize and isinstance(cell, str):
            checked, actions, url_kind = normalize_value(cell)
            if url_kind not in (None, "item") and fmt.kind == "lucid_id":
                checked = cell  # a case or collection id is not a LucidID: leave the URL, report it as case_id
            elif actions:
                out.changes.append((pos, cell, checked, "; ".join(actions)))
        found = diagnose(checked, fmt, known)
        if found is None:  # normalisation fixed it
            rescued_pos.append(pos)
            rescued.append(checked)
            continue
        if checked is not cell and checked != cell:  # identity first: cells may be arrays, lists, anything
            found = found._replace(detail=f"normalised to {quote(checked)}: {found.detail}")
        out.fail_pos.append(pos)
        out.fail_diag.append(found)
    if normalize:
        out.normalized = with_changes(series, out.changes)
    out.seconds["diagnose"] = time.perf_counter() - started - out.seconds["format"]
    if need_values:
        passed = np.flatnonzero(ok)
        values = strings.iloc[passed].reset_index(drop=True)
        if rescued:
            values = pd.concat([values, pd.Series(rescued, dtype=values.dtype)], ignore_index=True)
            passed = np.concatenate([passed, np.asarray(rescued_pos, dtype=np.intp)])
        out.pass_pos, out.pass_values = passed, values
    out.seconds["values"] = time.perf_counter() - started - out.seconds["format"] - out.seconds["diagnose"]
    return out


def with_changes(series: pd.Series, changes: list[tuple[int, str, str, str]]) -> pd.Series:
    """A copy of ``series`` with the changed cells replaced (positions are iloc positions)."""
    if not changes:
        return series.copy()
    # A categorical column would refuse the new values as unknown categories: give it plain objects.
    result = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series.copy()
    result.iloc[[c[0] for c in changes]] = [c[2] for c in changes]
    return result


def mark_unknown(columns: list[ColumnCheck], fmt: IdFormat, known: KnownIds) -> None:
    """Move well-formed values that are not among the known ids to the failures (vectorised isin)."""
    for col in columns:
        unknown = np.flatnonzero(~col.pass_values.isin(known.ids).to_numpy(dtype=bool))
        if not len(unknown):
            continue
        for i in unknown.tolist():
            col.fail_pos.append(int(col.pass_pos[i]))
            col.fail_diag.append(diagnose_well_formed(col.pass_values.iloc[i], fmt, known, "unknown"))
        keep = np.ones(len(col.pass_pos), dtype=bool)
        keep[unknown] = False
        col.pass_pos = col.pass_pos[keep]
        col.pass_values = col.pass_values[keep].reset_index(drop=True)


def repeat_candidates(values: pd.Series) -> np.ndarray:
    """Boolean array: True for every value that occurs more than once, and maybe a few others (hash collisions).

    Well-formed ids all have one length and are ASCII, so on pyarrow storage they can be read as fixed-width
    bytes and hashed to one uint64 each with numpy: about half the time and memory of hashing the strings.
    """
    if not len(values) or not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return values.duplicated(keep=False).to_numpy(dtype=bool)
    import pyarrow as pa
    import pyarrow.compute as pc

    strings = pa.array(values.array)
    width = len(values.iloc[0])
    try:
        fixed = pc.cast(strings, pa.binary(width))  # fails unless every value has this many bytes
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return values.duplicated(keep=False).to_numpy(dtype=bool)
    if isinstance(fixed, pa.ChunkedArray):
        fixed = fixed.combine_chunks()
    if fixed.null_count:
        return values.duplicated(keep=False).to_numpy(dtype=bool)
    data = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)[fixed.offset * width : (fixed.offset + len(fixed)) * width]
    padded = np.zeros((len(fixed), -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = data.reshape(-1, width)
    words = padded.view(np.uint64)
    hashed = np.zeros(len(fixed), dtype=np.uint64)
    for j in range(words.shape[1]):  # a multiply-xorshift mix over the 8-byte words of each id
        hashed ^= words[:, j]
        hashed *= np.uint64(0x9E3779B97F4A7C15)
        hashed ^= hashed >> np.uint64(29)
    return pd.Series(hashed).duplicated(keep=False).to_numpy(dtype=bool)


def mark_duplicates(columns: list[ColumnCheck], names: list[Any], index: pd.Index) -> None:
    """Report every repeat of a well-formed value, within a column and across the columns, after its first."""
    if len(columns) == 1:
        values = columns[0].pass_values
    else:
        values = pd.concat([c.pass_values for c in columns], ignore_index=True)
    repeated = np.flatnonzero(repeat_candidates(values))
    if not len(repeated):
        return
    # Only the candidate cells go through Python, ordered by (row, column): "first" means first in the sheet.
    # The loop compares the strings themselves, so a hash collision among the candidates is harmless.
    col_of = np.repeat(np.arange(len(columns)), [len(c.pass_pos) for c in columns])[repeated]
    pos_of = np.concatenate([c.pass_pos for c in columns])[repeated]
    order = np.lexsort((col_of, pos_of))
    first: dict[str, tuple[int, int]] = {}
    for value, pos, col in zip(
        values.iloc[repeated[order]].tolist(), pos_of[order].tolist(), col_of[order].tolist(), strict=True
    ):
        if value not in first:
            first[value] = (pos, col)
            continue
        first_pos, first_col = first[value]
        where = f"row {_label(index[first_pos])!r}"
        if first_col != col:
            where += f", column {names[first_col]!r}"
        columns[col].fail_pos.append(pos)
        columns[col].fail_diag.append(
            Diagnosis(
                "duplicate",
                f"same id as {where} (first occurrence)",
                "remove the repeated row, or pass unique=False if repeats are expected",
            )
        )


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def length_note(col: ColumnCheck, name: Any, fmt: IdFormat) -> str | None:
    """A note when a column fails only because all its ids have another, consistent length."""
    if len(col.pass_pos):
        return None
    lengths = {d.core_length for d in col.fail_diag if d.core_length is not None}
    if len(lengths) != 1:
        return None
    (other,) = lengths
    if other == fmt.length:
        return None
    count = sum(d.core_length is not None for d in col.fail_diag)
    note = (
        f"Column {name!r}: all {count} id-like values have {other} characters, none {fmt.length}: if that is "
        f"the format of your ids, pass length={other} (or set LUCID_ID_LENGTH={other})"
    )
    if fmt.kind == "lucid_id" and other == UUID_LENGTH:
        note += " or kind='uuid'"
    return note + "."


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


def resolve_columns(frame: pd.DataFrame, columns: Any) -> list[Any]:
    """The columns to check: the named ones (a name or a list), or the only column of a one-column frame."""
    if columns is None:
        if frame.shape[1] == 1:
            return [frame.columns[0]]
        raise ValueError(
            f"say which columns hold ids: columns=[...] (the frame has {', '.join(map(repr, frame.columns))})"
        )
    names = [columns] if isinstance(columns, str) or not isinstance(columns, Sequence) else list(columns)
    if not names:
        raise ValueError("columns= is empty: name at least one column")
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise KeyError(
            f"no column {', '.join(map(repr, missing))}; the frame has {', '.join(map(repr, frame.columns))}"
        )
    repeated = [c for c in names if isinstance(frame[c], pd.DataFrame)]
    if repeated:
        raise ValueError(f"column name {repeated[0]!r} appears more than once in the frame")
    return list(dict.fromkeys(names))


def split_input(data: Any, columns: Any) -> tuple[list[pd.Series], list[Any], pd.Index, pd.DataFrame | None]:
    """The columns to check as Series, their names, the row index, and the frame when the input is one."""
    if isinstance(data, pd.DataFrame):
        names = resolve_columns(data, columns)
        return [data[c] for c in names], names, data.index, data
    series = as_series(data)
    name = series.name if series.name is not None else "value"
    if columns is not None and ([columns] if isinstance(columns, str) else list(columns)) != [name]:
        raise ValueError(f"columns= applies to DataFrames; this input is a single column named {name!r}")
    return [series], [name], series.index, None


def build_report(
    checked: list[ColumnCheck],
    series_list: list[pd.Series],
    names: list[Any],
    index: pd.Index,
    frame: pd.DataFrame | None,
    fmt: IdFormat,
    *,
    normalize: bool,
) -> ValidationReport:
    """Assemble the report; its cost grows with the number of failures (plus one boolean array of the rows)."""
    pos = np.asarray([p for c in checked for p in c.fail_pos], dtype=np.intp)
    col = np.repeat(np.arange(len(checked)), [len(c.fail_pos) for c in checked])
    diags = [d for c in checked for d in c.fail_diag]
    order = np.lexsort((col, pos))
    pos, col = pos[order], col[order]
    diags = [diags[i] for i in order.tolist()]
    cells = np.empty(len(pos), dtype=object)
    for j, source in enumerate(series_list):  # the original cells, fetched with one take per column
        mine = np.flatnonzero(col == j)
        for k, cell in zip(mine.tolist(), source.take(pos[mine]).tolist(), strict=True):
            cells[k] = cell  # one by one: a cell that is a list must stay one cell
    failures = pd.DataFrame(
        {
            "row": index.take(pos) if len(pos) else pd.Index([], dtype=object),
            "column": pd.Series([names[j] for j in col.tolist()], dtype=object),
            "value": pd.Series(cells, dtype=object),  # as they were: never converted to a string dtype
            "reason": [d.reason for d in diags],
            "detail": [d.detail for d in diags],
            "hint": [d.hint for d in diags],
        },
        columns=FAILURE_COLUMNS,
    )
    valid = np.ones(len(index), dtype=bool)
    valid[pos] = False
    notes = [n for c, name in zip(checked, names, strict=True) if (n := length_note(c, name, fmt))]
    changes = None
    normalized: pd.Series | pd.DataFrame | None = None
    if normalize:
        changes = changes_frame([c.changes for c in checked], names, index)
        normalized = replace_columns(frame, names, [c.normalized for c in checked])
    return ValidationReport(
        failures=failures,
        valid_mask=pd.Series(valid, index=index, name="valid"),
        fmt=fmt,
        columns=names,
        changes=changes,
        normalized=normalized,
        notes=notes,
    )


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
