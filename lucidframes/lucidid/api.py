"""The public functions: ``validate_lucid_ids`` (any engine), ``normalize_lucid_ids``, ``format_mask``, the send guard.

A LucidID is 20 characters of shortuuid's base57 alphabet (the specification); entity uuids are 22-character
shortuuids no greater than ``UUID_MAX``. The LucidID length is a setting: the ``length=`` argument, else the
``LUCID_ID_LENGTH`` environment variable, else 20.

The whole-column rules run on the input's own engine (:mod:`.engine.rules`, :mod:`.engine.run`, through
narwhals); only the failing cells come back, at most ``max_failures`` of them, and only those get a per-cell
diagnosis (:mod:`.cells`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lucidframes.errors import LucidIDValidationError
from lucidframes.lucidid.columns import (
    as_series,
    changes_frame,
    normalize_series,
    replace_columns,
    split_input,
    well_formed,
)
from lucidframes.lucidid.engine import pandas_path, run, valid
from lucidframes.lucidid.engine.prepare import prepare
from lucidframes.lucidid.formats import (
    ALPHABET,
    KINDS,
    LUCID_ID_LENGTH,
    REASONS,
    UUID_LENGTH,
    UUID_MAX,
    IdFormat,
    Reason,
    lucid_id_length,
)
from lucidframes.lucidid.known import KnownIds
from lucidframes.lucidid.report.assemble import build_report
from lucidframes.lucidid.report.report import ValidationReport

__all__ = [
    "ALPHABET",
    "KINDS",
    "LUCID_ID_LENGTH",
    "MAX_FAILURES",
    "REASONS",
    "UUID_LENGTH",
    "UUID_MAX",
    "IdFormat",
    "Normalized",
    "Reason",
    "ValidationReport",
    "check_ids_before_send",
    "format_mask",
    "id_format",
    "normalize_lucid_ids",
    "validate_lucid_ids",
]

MAX_FAILURES = 100_000  # failing cells collected and diagnosed at most; the summary counts stay exact


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
        length = UUID_LENGTH if kind == "uuid" else lucid_id_length()
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise ValueError(f"length must be a positive integer, not {length!r}")
    return IdFormat(kind, int(length))


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
    *,
    keep: Any = None,
    max_failures: int = MAX_FAILURES,
) -> ValidationReport:
    """Check LucidID (or uuid) columns on the data's own engine and report every bad cell with a reason and a hint.

    Args:
        data: a pandas, polars (eager or lazy), Arrow, DuckDB, Dask or Spark frame; or one column: a pandas or
            polars Series, an Arrow array, a numpy array, or any iterable of cells.
        columns: with a frame, the label or labels (any iterable) of the id columns, all of the same kind; may be
            omitted for a one-column frame.
        kind: "lucid_id" (20 characters by default) or "uuid" (22-character shortuuid, at most ``UUID_MAX``).
        normalize: check the values after ``normalize_lucid_ids`` (whitespace, invisible characters and scan
            URLs removed); the report then also carries ``changes`` and (for pandas) ``normalized``.
        unique: report repeats (within a column and across the checked columns), after the first occurrence.
        known_ids: ids known to exist: well-formed ids not among them are reported as ``unknown``, and hints
            name the closest known ids.
        length: the id length (default: 22 for uuid; for lucid_id the LUCID_ID_LENGTH environment variable,
            else 20).
        keep: columns to carry into ``failures`` next to each bad cell (an order id, say); on Spark, which has
            no row order, they identify the failing rows and decide which repeat comes "first".
        max_failures: failing cells collected and diagnosed at most (the summary counts stay exact and
            ``report.capped`` says when there were more).

    Returns:
        A ValidationReport. Misuse raises ConfigError (``columns=``, ``keep=``), TypeError, ValueError; bad
        cells never raise.
    """
    fmt = id_format(kind, length)
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0:
        raise ValueError(f"max_failures must be a whole number >= 0, not {max_failures!r}")
    started = time.perf_counter()
    prep = prepare(data, columns, keep)
    known = KnownIds.of(known_ids)
    known_set = known.ids if known is not None else None
    check = run.Check(fmt, normalize, unique, known, max_failures)
    result = pandas_path.run(prep, check) if pandas_path.applies(prep) else run.run(prep, check)
    between = time.perf_counter()

    def valid_rows() -> Any:
        return valid.valid_rows(prep, fmt, normalize=normalize, unique=unique, known=known_set)

    report = build_report(
        prep, result, fmt, known=known, normalize=normalize, max_failures=max_failures, valid_rows=valid_rows
    )
    # Seconds per phase (read by bench/bench_lucidid.py): the engine's passes vs per-failure work.
    report._timings = {"engine": between - started, "report": time.perf_counter() - between}
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


def _all_well_formed(batch: list[Any], fmt: IdFormat) -> bool:
    """True when every id is a well-formed id of ``fmt``: the vectorised format check alone, under 1 ms for 500 ids."""
    _, ok = well_formed(as_series(batch), fmt)
    return bool(ok.all())


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
    fmt = id_format(kind, length)
    if _all_well_formed(batch, fmt):  # the usual case: no report to build (a report costs tens of ms)
        return batch
    report = validate_lucid_ids(batch, kind=kind, unique=False, length=length)
    if not report.ok:
        label = "LucidID" if kind == "lucid_id" else "uuid"
        head = f"Nothing was sent: {len(report.failures)} of {len(batch)} {label}(s) failed the local check"
        raise LucidIDValidationError(report.message(prefix=head), report=report)
    return batch
