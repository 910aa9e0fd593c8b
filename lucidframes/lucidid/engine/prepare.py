"""Any table in: turn the caller's frame, series or list into one narwhals frame the rules can run on.

Every engine ends up as a narwhals DataFrame (pandas, polars, Arrow) or LazyFrame (polars lazy, DuckDB, Dask,
Spark) with internal columns (named in :mod:`.internal_columns`): ``ROW`` (the 0-based position; for Spark the order
of ``keep=``), ``string_view(j)`` (the j-th checked column as strings, null where a cell is missing or not text),
``not_text(j)`` (True where the cell is something other than text, when that can happen) and ``original(j)`` (the
original cell, when it differs from the string view), plus the ``keep=`` columns. Optional engines are imported
only when such a frame is passed in: their modules are already loaded then, so nothing is imported lazily to dodge
a cycle.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import pandas as pd
import pyarrow as pa

from lucidframes.errors import ConfigError
from lucidframes.lucidid.columns import as_series, as_strings
from lucidframes.lucidid.engine.internal_columns import ROW, not_text, original, string_view
from lucidframes.lucidid.labels import as_labels, resolve_columns

__all__ = ["Prepared", "narwhals_frame", "prepare", "with_row"]


@dataclass
class Prepared:
    """The caller's data, ready for the rules: see the module docstring for the internal columns."""

    frame: Any  # nw.DataFrame | nw.LazyFrame; None for pandas until ``narwhals_frame`` builds it
    names: list[Any]  # the caller's labels of the checked columns
    engine: str  # pandas, polars, polars-lazy, pyarrow, duckdb, dask, spark
    eager: bool
    ordered: bool  # True when ROW is the engine's row order (every engine but Spark)
    has_not_text: list[bool] = field(default_factory=list)
    has_original: list[bool] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    native: Any = None  # the caller's frame (for valid rows and normalised output)
    series: list[pd.Series] | None = None  # pandas: the checked columns as they were
    index: pd.Index | None = None  # pandas: the row labels
    frame_pd: pd.DataFrame | None = None  # pandas: the caller's DataFrame, when it is one
    source: dict[str, Any] = field(default_factory=dict)  # read_table's attrs["source"], when there is one
    views: pd.DataFrame | None = None  # pandas: the internal columns without ROW, on a RangeIndex (the fast path)


def _not_text_flags(series: pd.Series, strings: pd.Series) -> pd.Series | None:
    """True where a pandas cell is present but not a str (None when there is no such cell)."""
    lost = strings.isna().to_numpy(dtype=bool) & series.notna().to_numpy(dtype=bool)
    return pd.Series(lost, index=strings.index) if lost.any() else None


def narwhals_frame(prep: Prepared) -> Any:
    """The narwhals frame of ``prep`` with ROW (for pandas built on first use, from the views).

    Args:
        prep: the prepared input.

    Returns:
        A narwhals DataFrame or LazyFrame.
    """
    if prep.frame is None:
        assert prep.views is not None
        prep.frame = nw.from_native(prep.views, eager_only=True).with_row_index(ROW)
    return prep.frame


def pandas_views(frame: pd.DataFrame, names: list[Any], keep: list[Any], originals: bool = False) -> pd.DataFrame:
    """The internal columns of a pandas frame (a Dask partition too, with ``originals=True``), on a RangeIndex."""
    out: dict[str, Any] = {}
    for j, name in enumerate(names):
        series = frame[name].reset_index(drop=True)
        strings = as_strings(series)
        out[string_view(j)] = strings
        flags = _not_text_flags(series, strings)
        out[not_text(j)] = flags if flags is not None else pd.Series(False, index=strings.index)
        if originals:
            out[original(j)] = series.astype(object)
    for name in keep:
        out[str(name)] = frame[name].reset_index(drop=True)
    return pd.DataFrame(out)


def _from_pandas(frame: pd.DataFrame, names: list[Any], keep: list[Any], series: pd.Series | None) -> Prepared:
    views = pandas_views(frame, names, keep)
    flags = [bool(views[not_text(j)].any()) for j in range(len(names))]
    views = views.drop(columns=[not_text(j) for j, f in enumerate(flags) if not f])
    return Prepared(
        frame=None,  # the pandas fast path needs no ROW column (8 bytes a row): built on first use
        names=names,
        engine="pandas",
        eager=True,
        ordered=True,
        has_not_text=flags,
        has_original=[False] * len(names),
        keep=[str(k) for k in keep],
        native=series if series is not None else frame,
        series=[frame[name] for name in names],
        index=frame.index,
        frame_pd=None if series is not None else frame,
        source=dict(frame.attrs.get("source", {})) if series is None else {},
        views=views,
    )


def _engine_of(native: Any) -> str:
    """A short name of the native frame's engine."""
    module = type(native).__module__.split(".")[0]
    if module == "polars":
        return "polars-lazy" if type(native).__name__ == "LazyFrame" else "polars"
    if module in ("duckdb", "_duckdb"):
        return "duckdb"
    if module in ("dask", "dask_expr"):
        return "dask"
    if module == "pyspark":
        return "spark"
    return module


def _single_column(data: Any) -> tuple[Any, str] | None:
    """A one-column frame of the same engine for a polars Series or an Arrow array, with the name to report."""
    module = type(data).__module__.split(".")[0]
    if module == "polars" and type(data).__name__ == "Series":
        name = data.name or "value"
        return data.rename(name).to_frame(), name
    if isinstance(data, pa.ChunkedArray | pa.Array):
        return pa.table({"value": data}), "value"
    return None


def _typed_columns(frame: Any, names: list[Any], keep: list[str]) -> tuple[Any, list[bool], list[bool]]:
    """The internal columns of a typed engine's frame: strings, not-text flags and originals by column dtype."""
    schema = frame.collect_schema() if isinstance(frame, nw.LazyFrame) else frame.schema
    exprs: list[nw.Expr] = []
    flags, originals = [], []
    for j, name in enumerate(names):
        dtype = schema[name]
        col = nw.col(name)
        if dtype == nw.String:
            exprs.append(col.alias(string_view(j)))
            flags.append(False)
            originals.append(False)
        elif dtype in (nw.Categorical, nw.Enum):
            exprs.append(col.cast(nw.String).alias(string_view(j)))
            flags.append(False)
            originals.append(False)
        else:  # numbers, dates, binary, lists: every present cell is "not a string"
            exprs += [
                nw.lit(None, nw.String).alias(string_view(j)),
                ~col.is_null().alias(not_text(j)),
                col.alias(original(j)),
            ]
            flags.append(True)
            originals.append(True)
    exprs += [nw.col(k) for k in keep]
    return frame.select(*exprs), flags, originals


def with_row(native: Any, engine: str, names: list[Any], keep: list[str]) -> tuple[Any, bool]:
    """The narwhals frame with ROW added the engine's way; False when the engine has no row order (Spark)."""
    if engine == "duckdb":
        if ROW not in native.columns:
            native = native.project(f'*, (row_number() OVER ()) - 1 AS "{ROW}"')
        return nw.from_native(native), True
    if engine == "dask":
        with warnings.catch_warnings():  # narwhals announces a separate narwhals-dask package
            warnings.simplefilter("ignore", FutureWarning)
            frame = nw.from_native(native)
        return frame.with_row_index(ROW, order_by=None), True
    frame = nw.from_native(native)
    if engine == "spark":  # no row order: the keep= columns (else the id columns) decide what comes "first"
        return frame.with_row_index(ROW, order_by=[*keep] or [str(n) for n in names]), False
    if isinstance(frame, nw.LazyFrame):
        return frame.with_row_index(ROW, order_by=None), True  # type: ignore[arg-type]  # None: scan order (polars, dask)
    return frame.with_row_index(ROW), True


def prepare(data: Any, columns: Any = None, keep: Any = None) -> Prepared:
    """Adapt any supported input for the rules.

    Args:
        data: a pandas, polars (eager or lazy), Arrow, DuckDB, Dask or Spark frame; a pandas or polars Series, an
            Arrow array, a numpy array, an Index, or any iterable of cells.
        columns: with a frame, the label or labels of the id columns.
        keep: columns to carry into the failures (an order id, say): how failures are identified on Spark.

    Returns:
        The Prepared input. Raises ConfigError for unusable ``columns=``/``keep=`` and TypeError for inputs that
        are not tables or columns.
    """
    if isinstance(data, pd.DataFrame):
        names, kept = resolve_columns(list(data.columns), columns, keep)
        return _from_pandas(data, names, kept, None)
    single = _single_column(data)
    if single is None and _engine_of(data) in ("polars", "polars-lazy", "pyarrow", "duckdb", "dask", "spark"):
        if _engine_of(data) == "dask" and type(data).__name__ == "Series":
            data = data.to_frame()
        return _from_engine(data, columns, keep)
    if single is not None:
        native, name = single
        if columns is not None and as_labels(columns) != [name]:
            raise ConfigError(f"columns= applies to tables; this input is a single column named {name!r}")
        return _from_engine(native, None, keep)
    series = as_series(data)  # lists, arrays, Index, Series; TypeError for the rest
    label: Any = series.name if series.name is not None else "value"
    if columns is not None and as_labels(columns) != [label]:
        raise ConfigError(f"columns= applies to tables; this input is a single column named {label!r}")
    frame = series.to_frame(name=label)
    prepared = _from_pandas(frame, [label], [], series)
    prepared.series = [series]
    return prepared


def _from_engine(native: Any, columns: Any, keep: Any) -> Prepared:
    engine = _engine_of(native)
    if engine == "dask":
        return _from_dask(native, columns, keep)
    wrapped = nw.from_native(native)
    available = list(wrapped.collect_schema().names()) if isinstance(wrapped, nw.LazyFrame) else list(wrapped.columns)
    names, kept = resolve_columns(available, columns, keep)
    frame, ordered = with_row(native, engine, names, [str(k) for k in kept])
    typed, flags, originals = _typed_columns(frame, names, [ROW, *map(str, kept)])
    return Prepared(
        frame=typed,
        names=names,
        engine=engine,
        eager=isinstance(typed, nw.DataFrame),
        ordered=ordered,
        has_not_text=flags,
        has_original=originals,
        keep=[str(k) for k in kept],
        native=native,
    )


def _from_dask(native: Any, columns: Any, keep: Any) -> Prepared:
    """Dask partitions are pandas frames: the pandas string views are built per partition, on the workers."""
    names, kept = resolve_columns(list(native.columns), columns, keep)
    meta = pandas_views(native._meta, names, kept, True)
    views = native.map_partitions(pandas_views, names, kept, True, meta=meta)
    frame, _ = with_row(views, "dask", names, [str(k) for k in kept])
    return Prepared(
        frame=frame,
        names=names,
        engine="dask",
        eager=False,
        ordered=True,
        has_not_text=[True] * len(names),
        has_original=[True] * len(names),
        keep=[str(k) for k in kept],
        native=native,
    )
