"""The pandas accessor: ``df.lucid.validate(...)``, ``series.lucid.valid()``; importing this module registers it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from lucidframes.lucidid.api import Normalized, normalize_lucid_ids, validate_lucid_ids
from lucidframes.lucidid.report.report import ValidationReport

__all__ = ["LucidFrameAccessor", "LucidSeriesAccessor"]


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
        result: pd.DataFrame = validate_lucid_ids(self._frame, columns, **options).valid_rows()
        return result


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
        result: pd.Series = validate_lucid_ids(self._series, **options).valid_rows()
        return result
