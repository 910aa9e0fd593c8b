"""``columns=`` and ``keep=``: one label or any iterable of labels, checked against the frame's columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lucidframes.errors import ConfigError, MissingColumnError

__all__ = ["as_labels", "resolve_columns"]


def as_labels(columns: Any) -> list[Any] | None:
    """``columns=`` as a list of labels: one label (str, number) or any iterable of labels; None if neither."""
    if isinstance(columns, str | bytes | int | float) or np.isscalar(columns):
        return [columns]
    if isinstance(columns, pd.Index | pd.Series | np.ndarray):
        return list(columns.tolist())
    if isinstance(columns, dict):
        return list(columns)
    if isinstance(columns, Iterable):
        return list(columns)
    return None


def resolve_columns(available: list[Any], columns: Any, keep: Any = None) -> tuple[list[Any], list[Any]]:
    """The columns to check (a label or iterable of labels; the only column of a one-column frame) and ``keep=``.

    Args:
        available: the frame's column labels.
        columns: what the caller passed as ``columns=``.
        keep: what the caller passed as ``keep=``.

    Returns:
        ``(names, keep)``, deduplicated in the caller's order. Raises ConfigError naming the frame's columns.
    """
    have = ", ".join(map(repr, available)) or "no columns"
    names = _requested(available, columns, have)
    kept = [] if keep is None else as_labels(keep)
    if kept is None:
        raise ConfigError(f"keep= takes a column label or a list of labels, not {type(keep).__name__}")
    for label in [*names, *kept]:
        if not _has(available, label):
            raise MissingColumnError(f"no column {label!r}; the frame has {have}")
    names = list(dict.fromkeys(names))
    _refuse_repeated(available, names)
    return names, list(dict.fromkeys(kept))


def _requested(available: list[Any], columns: Any, have: str) -> list[Any]:
    """The labels ``columns=`` names (not yet looked up): the only column when None; ``have`` lists the frame's."""
    if columns is None:
        if len(available) == 1:
            return [available[0]]
        raise ConfigError(f"say which columns hold ids: columns=[...] (the frame has {have})")
    if isinstance(columns, tuple) and _has(available, columns):
        return [columns]  # a MultiIndex label is a tuple
    labels = as_labels(columns)
    if labels is None:
        raise ConfigError(
            f"columns= takes a column label or a list of labels, not {type(columns).__name__}; the frame has {have}"
        )
    if not labels:
        raise ConfigError(f"columns= is empty: name at least one column (the frame has {have})")
    return labels


def _refuse_repeated(available: list[Any], names: list[Any]) -> None:
    """Raise ConfigError when a checked column's label appears more than once in the frame (it would be ambiguous)."""
    if len(set(map(repr, available))) == len(available):
        return
    repeated = [c for c in names if sum(repr(a) == repr(c) for a in available) > 1]
    if repeated:
        raise ConfigError(f"column name {repeated[0]!r} appears more than once in the frame")


def _has(available: list[Any], label: Any) -> bool:
    """Whether ``label`` is one of the columns (False for an unhashable or incomparable label)."""
    try:
        return any(label is a or bool(label == a) for a in available)
    except (TypeError, ValueError):
        return False
