"""``report.apply_fixes()``: the fixes a report's hints point to, applied to a copy of the data, with a change log.

A fix is proposed for a failing text cell when it leads to one well-formed id:

- whitespace and invisible characters removed, and the id taken out of a scan URL (what normalisation does);
- lookalike characters replaced where each has one reading ('0' and 'O' are 'o'); a character with two readings
  ('1', 'l' and 'I' are 'i' or 'L') leaves several candidates, and none is chosen without a client.

With ``client=`` (an ``lf.Client``), every proposed id is looked up read-only (``GET items/<id>/``, nothing is
submitted): a fix to an id the API does not know is not applied, and of several candidates the one the API knows
is. Repeats, empty cells, case ids and unknown ids get no fix: they need a person. Only the failures the report
collected are fixed (``report.capped`` says when there were more).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Protocol

import narwhals as nw
import numpy as np
import pandas as pd

from lucidframes.errors import ConfigError
from lucidframes.lucidid.cells import normalize_value
from lucidframes.lucidid.fixes import candidates
from lucidframes.lucidid.formats import IdFormat
from lucidframes.lucidid.wording import describe_char, quote

__all__ = ["CHANGE_LOG_COLUMNS", "FIXABLE", "Fixed", "apply_changes", "plan_fixes"]

CHANGE_LOG_COLUMNS = ["row", "column", "before", "after", "why", "applied"]
FIXABLE = frozenset({"whitespace", "url_wrapped", "bad_character", "wrong_length", "not_decodable"})


class Fixed(NamedTuple):
    """What ``report.apply_fixes()`` returns: unpack it as ``fixed, changes = report.apply_fixes()``.

    ``frame`` is a copy of the data with the fixes applied (the input's kind: pandas, polars, Arrow); ``changes``
    has one row per proposed fix: ``row`` (and ``line`` for a sheet), ``column``, ``before``, ``after``, ``why``
    and ``applied`` (False when it was not: ``why`` says why).
    """

    frame: Any
    changes: pd.DataFrame


class _Client(Protocol):
    def lookup(self, name: str, ids: Any, **kwargs: Any) -> pd.DataFrame: ...


def _swaps(before: str, after: str) -> str:
    """The characters replaced, in words: ``'0' (DIGIT ZERO) -> 'o'``."""
    pairs = dict.fromkeys((a, b) for a, b in zip(before, after, strict=True) if a != b)
    return ", ".join(f"{describe_char(a)} -> '{b}'" for a, b in pairs)


def _proposal(value: Any, fmt: IdFormat) -> tuple[list[str], str] | None:
    """The candidate ids for one failing cell and the words for what changed; None when there is nothing to fix."""
    if not isinstance(value, str):
        return None
    core, actions, url_kind = normalize_value(value)
    if url_kind not in (None, "item"):
        return None  # a case or collection id: no LucidID to take out of it
    if re.fullmatch(fmt.pattern, core) and (fmt.max_value is None or core <= fmt.max_value):
        return [core], "; ".join(actions)
    found = candidates(value, fmt.length)
    if not found:
        return None
    return found, "; ".join([*actions, _swaps(core, found[0])])


def _known(client: _Client | None, ids: list[str]) -> dict[str, bool] | None:
    """Which ids the API knows (read-only look-ups of items); None without a client."""
    if client is None or not ids:
        return None if client is None else {}
    found = client.lookup("items", list(dict.fromkeys(ids)), validate=False, progress=False)
    return {str(i): s == "ok" for i, s in zip(found["_id"], found["_status"], strict=True)}


def _decide(options: list[str], why: str, known: dict[str, bool] | None) -> tuple[str, str, bool]:
    """The fix to apply (after, why, applied) for one cell's candidates."""
    if known is None:
        if len(options) == 1:
            return options[0], why, True
        readings = " or ".join(quote(o) for o in options[:4]) + (" or more" if len(options) > 4 else "")
        return options[0], f"{why}; not applied: could be {readings} (client= keeps the one the API knows)", False
    kept = [o for o in options if known.get(o)]
    if len(kept) == 1:
        return kept[0], f"{why}; the API knows it", True
    if not kept:
        return options[0], f"{why}; not applied: the API knows no such id", False
    return kept[0], f"{why}; not applied: the API knows {len(kept)} of the candidates", False


def _proposals(failures: pd.DataFrame, fmt: IdFormat) -> list[tuple[Any, tuple[list[str], str]]]:
    """Each fixable failure's index in ``failures`` with its candidates and the words for them."""
    picked = failures[failures["reason"].isin(FIXABLE)]
    proposals = []
    for i, value in zip(picked.index, picked["value"].tolist(), strict=True):
        found = _proposal(value, fmt)
        if found is not None:
            proposals.append((i, found))
    return proposals


def plan_fixes(failures: pd.DataFrame, fmt: IdFormat, client: _Client | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """The change log of a report's failures: one row per cell a fix is proposed for.

    Args:
        failures: ``report.failures``.
        fmt: the report's format.
        client: an ``lf.Client``: keep only fixes to ids the API knows (LucidIDs only).

    Returns:
        ``(log, which)``: a DataFrame with ``CHANGE_LOG_COLUMNS`` (``line`` after ``row`` when the failures have
        it), and the position in ``failures`` of each of its rows.
    """
    if client is not None and fmt.kind != "lucid_id":
        raise ConfigError("client= checks fixes against the API's items, which are LucidIDs; this report is of uuids")
    proposals = _proposals(failures, fmt)
    known = _known(client, [c for _, (options, _) in proposals for c in options])
    rows = []
    for i, (options, why) in proposals:
        after, reason, applied = _decide(options, why, known)
        rows.append((i, failures.at[i, "value"], after, reason, applied))
    index = [r[0] for r in rows]
    log = failures.loc[index, [c for c in ("row", "line", "column") if c in failures.columns]].reset_index(drop=True)
    log["before"] = pd.Series([r[1] for r in rows], dtype=object)
    log["after"] = pd.Series([r[2] for r in rows], dtype=object)
    log["why"] = pd.Series([r[3] for r in rows], dtype=object)
    log["applied"] = pd.Series([r[4] for r in rows], dtype=bool)
    return log, np.asarray([failures.index.get_loc(i) for i in index], dtype=np.int64)


def _mine(columns: list[Any], name: Any) -> list[int]:
    """The changes (by position in ``columns``) that belong to the column ``name``."""
    return [k for k, c in enumerate(columns) if c is name or c == name]


def _pandas_column(original: pd.Series, positions: np.ndarray, values: list[Any]) -> pd.Series:
    """A pandas column with ``values`` at ``positions``, in its own dtype where text fits it."""
    column = original.astype(object)
    column.iloc[positions] = values
    return column.astype(original.dtype) if _fits(original) else column


def apply_changes(data: Any, names: list[Any], positions: np.ndarray, columns: list[Any], values: list[Any]) -> Any:
    """A copy of ``data`` with ``values`` written at (position, column) (pandas, or an eager narwhals frame).

    Args:
        data: the report's input (a pandas DataFrame or Series, a polars DataFrame, an Arrow table).
        names: the checked columns' labels.
        positions: the 0-based row of each change.
        columns: the column label of each change.
        values: the new values.

    Returns:
        The copy, of the input's kind.
    """
    if isinstance(data, pd.Series):
        return _pandas_column(data, positions, values)
    if isinstance(data, pd.DataFrame):
        out = data.copy()
        for name in names:
            mine = _mine(columns, name)
            if mine:
                col = next(j for j, c in enumerate(out.columns) if c is name or c == name)
                fixed = _pandas_column(out.iloc[:, col], positions[mine], [values[k] for k in mine])
                out.isetitem(col, fixed.array)
        return out
    frame = nw.from_native(data, eager_only=True)
    backend = nw.get_native_namespace(frame)
    for name in names:
        mine = _mine(columns, name)
        if not mine:
            continue
        cells = frame[name].to_list()
        for k in mine:
            cells[int(positions[k])] = values[k]
        frame = frame.with_columns(nw.new_series(name, cells, frame.schema[name], backend=backend))
    return frame.to_native()


def _fits(series: pd.Series) -> bool:
    """Whether the column keeps its dtype with the new (text) values in it."""
    return isinstance(series.dtype, pd.StringDtype) or series.dtype == object
