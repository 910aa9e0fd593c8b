"""LucidID and uuid columns: format, normalisation, vectorised validation, and the ``df.lucid`` accessor.

A LucidID is 20 characters of shortuuid's base57 alphabet (the specification); entity uuids are 22-character
shortuuids no greater than ``UUID_MAX``. The LucidID length is a setting: the ``length=`` argument, else the
``LUCID_ID_LENGTH`` environment variable, else 20.

The check is vectorised: one full-match of the pattern over the column (pyarrow's RE2 on pandas' string dtype)
finds the failing cells; only those get a per-cell diagnosis (:mod:`lucidframes.lucidid_cells`), so the cost of
the report grows with the number of failures, not with the rows. Importing this module registers the
``.lucid`` accessor on DataFrame and Series.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lucidframes.errors import ConfigError, LucidIDValidationError
from lucidframes.lucidid.cells import (
    ALPHABET,
    LUCID_ID_LENGTH,
    REASONS,
    UUID_LENGTH,
    UUID_MAX,
    IdFormat,
    KnownIds,
)
from lucidframes.lucidid.columns import (
    as_series,
    build_report,
    changes_frame,
    check_column,
    mark_duplicates,
    mark_unknown,
    normalize_series,
    replace_columns,
    split_input,
    well_formed,
)
from lucidframes.lucidid.report import ValidationReport

__all__ = [
    "ALPHABET",
    "KINDS",
    "LUCID_ID_LENGTH",
    "REASONS",
    "UUID_LENGTH",
    "UUID_MAX",
    "IdFormat",
    "Normalized",
    "ValidationReport",
    "check_ids_before_send",
    "format_mask",
    "id_format",
    "normalize_lucid_ids",
    "validate_lucid_ids",
]

KINDS = ("lucid_id", "uuid")


class Normalized(NamedTuple):
    """The result of ``normalize_lucid_ids``: unpack it as ``values, changes = ...``.

    ``values`` has the input's shape (Series, or DataFrame with the named columns normalised); ``changes`` has one
    row per changed cell: ``row``, ``column``, ``before``, ``after``, ``action``.
    """

    values: pd.Series | pd.DataFrame
    changes: pd.DataFrame


def id_format(kind: str = "lucid_id", length: int | None = None) -> IdFormat:
    """The expected format for ``kind``.

    Args:
        kind: "lucid_id" or "uuid".
        length: the id length; default 22 for uuid, and for lucid_id the ``LUCID_ID_LENGTH`` environment
            variable, else 20.

    Returns:
        The IdFormat. Raises ValueError for an unknown kind or a length below 1, and ConfigError for an
        unusable ``LUCID_ID_LENGTH``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if length is None:
        length = UUID_LENGTH if kind == "uuid" else _length_from_environment()
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise ValueError(f"length must be a positive integer, not {length!r}")
    return IdFormat(kind, int(length))


def _length_from_environment() -> int:
    raw = os.environ.get("LUCID_ID_LENGTH", "").strip()
    if not raw:
        return LUCID_ID_LENGTH
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"LUCID_ID_LENGTH must be a positive whole number (like 20 or 22), not {raw!r}")
    return int(raw)


def format_mask(values: Iterable[Any] | pd.Series, kind: str = "lucid_id", length: int | None = None) -> pd.Series:
    """The vectorised format check alone: True where a cell is a well-formed id (no duplicates or reasons).

    Args:
        values: a Series or any iterable of cells.
        kind: "lucid_id" or "uuid".
        length: the id length (see ``id_format``).

    Returns:
        A boolean Series aligned to ``values``.
    """
    series = as_series(values)
    _, ok = well_formed(series, id_format(kind, length))
    return pd.Series(ok, index=series.index, name=series.name)


def validate_lucid_ids(
    data: Any,
    columns: Any = None,
    kind: str = "lucid_id",
    normalize: bool = False,
    unique: bool = True,
    known_ids: Iterable[Any] | None = None,
    length: int | None = None,
) -> ValidationReport:
    """Check LucidID (or uuid) columns and report every bad cell with a reason code, a detail and a hint.

    Args:
        data: a DataFrame, a Series, or a list (any iterable) of cells.
        columns: with a DataFrame, the column name or names to check (all with the same kind); may be omitted
            for a one-column frame.
        kind: "lucid_id" (20 characters by default) or "uuid" (22-character shortuuid, at most ``UUID_MAX``).
        normalize: check the values after ``normalize_lucid_ids`` (whitespace, invisible characters and scan
            URLs removed); the report then also carries ``changes`` and ``normalized``.
        unique: report repeats (within a column and across the checked columns), after the first occurrence.
        known_ids: ids known to exist: well-formed ids not among them are reported as ``unknown``, and hints
            name the closest known ids.
        length: the id length (default: 22 for uuid; for lucid_id the LUCID_ID_LENGTH environment variable,
            else 20).

    Returns:
        A ValidationReport. Usage mistakes raise TypeError, ValueError or KeyError; bad cells never raise.
    """
    fmt = id_format(kind, length)
    series_list, names, index, frame = split_input(data, columns)
    known = KnownIds.of(known_ids)
    need_values = unique or known is not None
    checked = [check_column(s, fmt, normalize=normalize, known=known, need_values=need_values) for s in series_list]
    started = time.perf_counter()
    if known is not None:
        mark_unknown(checked, fmt, known)
    if unique:
        mark_duplicates(checked, names, index)
    between = time.perf_counter()
    report = build_report(checked, series_list, names, index, frame, fmt, normalize=normalize)
    # Seconds per phase (read by bench/bench_lucidid.py): vectorised passes vs per-failure work.
    report._timings = {
        phase: sum(c.seconds.get(phase, 0.0) for c in checked) for phase in ("format", "diagnose", "values")
    }
    report._timings.update(known_and_unique=between - started, report=time.perf_counter() - between)
    return report


def normalize_lucid_ids(values: Any, columns: Any = None) -> Normalized:
    """Remove whitespace and invisible characters around or in ids, and unwrap scan URLs; report each change.

    Scan URLs are ``https://qr.lcdg.io/<id>``, ``/case/<id>``, ``/c/<id>``, ``/collection/<id>`` (also on
    ``dev-qr.lcdg.io``); the id is the last path segment. Nothing else is changed: not letter case, not lookalike
    characters (those get hints from ``validate_lucid_ids``), not non-string cells.

    Args:
        values: a Series or list of cells, or a DataFrame together with ``columns``.
        columns: with a DataFrame, the columns to normalise.

    Returns:
        ``Normalized(values, changes)``: the normalised Series (or DataFrame copy), and a DataFrame with one row
        per changed cell (``row``, ``column``, ``before``, ``after``, ``action``).
    """
    series_list, names, index, frame = split_input(values, columns)
    done = [normalize_series(series) for series in series_list]
    return Normalized(
        replace_columns(frame, names, [series for series, _ in done]),
        changes_frame([changes for _, changes in done], names, index),
    )


def check_ids_before_send(ids: Iterable[str], kind: str = "lucid_id", length: int | None = None) -> list[str]:
    """The guard for API calls that send ids: return them as a list when all are well-formed, else raise.

    Duplicates are not checked here (the server decides whether a repeat is an error).

    Args:
        ids: the ids about to be sent.
        kind: "lucid_id" or "uuid".
        length: the id length (see ``id_format``).

    Returns:
        The ids, unchanged, as a list. Raises LucidIDValidationError (with ``.report``) naming the bad ones.
    """
    if isinstance(ids, str | bytes):
        raise TypeError("pass a list of ids, not a single string")
    batch = list(ids)
    report = validate_lucid_ids(batch, kind=kind, unique=False, length=length)
    if not report.ok:
        label = "LucidID" if kind == "lucid_id" else "uuid"
        head = f"Nothing was sent: {len(report.failures)} of {len(batch)} {label}(s) failed the local check"
        raise LucidIDValidationError(report.message(prefix=head), report=report)
    return batch


# --------------------------------------------------------------------------------------------------------------
# The pandas accessor: df.lucid / series.lucid
# --------------------------------------------------------------------------------------------------------------


@pd.api.extensions.register_dataframe_accessor("lucid")
class LucidFrameAccessor:
    """``df.lucid.validate(...)``, ``df.lucid.normalize(...)``, ``df.lucid.valid(...)``."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def validate(self, columns: Any = None, **options: Any) -> ValidationReport:
        """``validate_lucid_ids(df, columns, **options)``.

        Args:
            columns: the id column or columns.
            **options: kind, normalize, unique, known_ids, length.

        Returns:
            The ValidationReport.
        """
        return validate_lucid_ids(self._frame, columns, **options)

    def normalize(self, columns: Any = None) -> Normalized:
        """``normalize_lucid_ids(df, columns)``: a copy with those columns normalised, and the changes.

        Args:
            columns: the id column or columns.

        Returns:
            ``Normalized(values, changes)``.
        """
        return normalize_lucid_ids(self._frame, columns)

    def valid(self, columns: Any = None, **options: Any) -> pd.DataFrame:
        """The rows whose checked cells all pass (first occurrences of repeated ids included).

        Args:
            columns: the id column or columns.
            **options: as for ``validate``.

        Returns:
            A DataFrame with the passing rows.
        """
        report = validate_lucid_ids(self._frame, columns, **options)
        return self._frame.loc[report.valid_mask.to_numpy()]


@pd.api.extensions.register_series_accessor("lucid")
class LucidSeriesAccessor:
    """``series.lucid.validate()``, ``series.lucid.normalize()``, ``series.lucid.valid()``."""

    def __init__(self, series: pd.Series) -> None:
        self._series = series

    def validate(self, **options: Any) -> ValidationReport:
        """``validate_lucid_ids(series, **options)``.

        Args:
            **options: kind, normalize, unique, known_ids, length.

        Returns:
            The ValidationReport.
        """
        return validate_lucid_ids(self._series, **options)

    def normalize(self) -> Normalized:
        """``normalize_lucid_ids(series)``.

        Returns:
            ``Normalized(values, changes)``.
        """
        return normalize_lucid_ids(self._series)

    def valid(self, **options: Any) -> pd.Series:
        """The cells that pass.

        Args:
            **options: as for ``validate``.

        Returns:
            A Series with the passing cells.
        """
        report = validate_lucid_ids(self._series, **options)
        return self._series.loc[report.valid_mask.to_numpy()]
