"""Bring a narwhals frame (eager or lazy) back as pandas: Python objects per cell, as ``DataFrame.to_dict`` gives.

For a lazy frame each call is one query on the engine; the rules call these only on the few rows they collect.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

__all__ = ["collect", "scalar_row"]


def collect(frame: Any) -> pd.DataFrame:
    """A narwhals frame (eager or lazy) as a pandas DataFrame of Python objects (ints stay ints, nulls None).

    Args:
        frame: a narwhals DataFrame or LazyFrame.

    Returns:
        A pandas DataFrame with object columns.
    """
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    native = eager.to_native()
    if isinstance(native, pd.DataFrame):
        return pd.DataFrame({k: _objects(native[k]) for k in native.columns}, columns=list(native.columns))
    data = eager.to_dict(as_series=False)
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()}, columns=list(data))


def _objects(column: pd.Series) -> pd.Series:
    """A pandas column as Python objects, exactly as ``DataFrame.to_dict`` gives them."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind in "biuf"):
        # numpy's object cast boxes these as to_dict does, without a Python call per cell
        return pd.Series(column.to_numpy(dtype=object), dtype=object)
    return pd.Series(column.to_frame().to_dict(orient="list")[column.name], dtype=object)


def scalar_row(frame: Any) -> dict[str, Any]:
    """The single row of an aggregate as a dict.

    Args:
        frame: a narwhals DataFrame or LazyFrame of one row.

    Returns:
        Column name -> value (None for an empty frame).
    """
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    return {k: v[0] if v else None for k, v in eager.to_dict(as_series=False).items()}
