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
from collections.abc import Iterable, Mapping
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
    SEVERITIES,
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
    "SEVERITIES",
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
    "unique_by_default",
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


def _mostly(mostly: Any) -> float | None:
    """``mostly=`` checked: None, or a share of cells from 0 to 1."""
    if mostly is None:
        return None
    if isinstance(mostly, bool) or not isinstance(mostly, int | float | np.number) or not 0 <= float(mostly) <= 1:
        raise ValueError(f"mostly= is the share of cells that must be valid, from 0 to 1 (0.99), not {mostly!r}")
    return float(mostly)


def _severity(severity: Any) -> dict[str, str]:
    """``severity=`` checked: reason codes mapped to "error" or "warning" (every other reason is an error)."""
    if severity is None:
        return {}
    if not isinstance(severity, Mapping):
        raise TypeError(f"severity= maps reasons to 'error' or 'warning', not a {type(severity).__name__}")
    out = {}
    for reason, level in severity.items():
        if reason not in REASONS:
            raise ValueError(f"severity= names reasons ({', '.join(REASONS)}), not {reason!r}")
        if level not in SEVERITIES:
            raise ValueError(f"severity of {reason!r} is 'error' or 'warning', not {level!r}")
        out[str(reason)] = str(level)
    return out


def unique_by_default(fmt: IdFormat, names: list[Any]) -> bool:
    """Whether repeats are errors when ``unique=`` is not given: LucidIDs always; uuids only in a ``uuid`` column.

    A LucidID is one physical label, so a repeat in a sheet is a mistake. A uuid column is unique only when it is
    the row's own id, named ``uuid`` as the API names it; ``product_uuid``, ``brand_uuid`` and the like refer to
    other records, and the same brand on many rows is expected.

    Args:
        fmt: the expected format.
        names: the checked columns' labels.

    Returns:
        True when repeats are reported.
    """
    return fmt.kind == "lucid_id" or all(str(name).lower() == "uuid" for name in names)


def validate_lucid_ids(
    data: Any,
    columns: Any = None,
    kind: str = "lucid_id",
    normalize: bool = False,
    unique: bool | None = None,
    known_ids: Iterable[Any] | None = None,
    length: int | None = None,
    *,
    keep: Any = None,
    max_failures: int = MAX_FAILURES,
    mostly: float | None = None,
    severity: Mapping[str, str] | None = None,
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
            None (the default): for LucidIDs yes; for uuids only in a column named ``uuid`` (the row's own id),
            not in references such as ``brand_uuid`` (see ``unique_by_default``).
        known_ids: ids known to exist: well-formed ids not among them are reported as ``unknown``, and hints
            name the closest known ids.
        length: the id length (default: 22 for uuid; for lucid_id the LUCID_ID_LENGTH environment variable,
            else 20).
        keep: columns to carry into ``failures`` next to each bad cell (an order id, say); on Spark, which has
            no row order, they identify the failing rows and decide which repeat comes "first".
        max_failures: failing cells collected and diagnosed at most (the summary counts stay exact and
            ``report.capped`` says when there were more).
        mostly: pass when at least this share of the checked cells is free of errors (0.99), as pandera's and
            Great Expectations' ``mostly``; None: every cell must be. The report says the share and the threshold.
        severity: reason codes mapped to "warning" or "error": a warning (``{"whitespace": "warning"}`` for what
            normalisation fixes) is reported but does not fail the check. Every other reason is an error.

    Returns:
        A ValidationReport. Misuse raises ConfigError (``columns=``, ``keep=``), TypeError, ValueError; bad
        cells never raise.
    """
    fmt = id_format(kind, length)
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0:
        raise ValueError(f"max_failures must be a whole number >= 0, not {max_failures!r}")
    threshold, levels = _mostly(mostly), _severity(severity)
    started = time.perf_counter()
    prep = prepare(data, columns, keep)
    if unique is None:
        unique = unique_by_default(fmt, prep.names)
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
    report.mostly, report.severity, report.unique = threshold, levels, bool(unique)
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

    Duplicates are not checked here (the server decides whether a repeat is an error). The message counts as
    ``validate_lucid_ids(ids, unique=False)`` does and names the first few ids by position (from 1).

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
        raise LucidIDValidationError(report.refusal("LucidIDs" if kind == "lucid_id" else "uuids"), report=report)
    return batch
