"""DuckDB: the whole-column work in two scans, leaving a small table of the rows that can fail for the tier.

The tier (:mod:`.run`) asks one query per step (totals, failing rows per column, counts per reason, the repeated
values, their holders, ...), and on DuckDB each query scans the whole input again. Here the input is scanned twice:

1. The hash of each checked value (``rules.core``: the cell, or normalised with ``normalize=True``) is grouped:
   the hashes that occur more than once, and the number of rows.
2. The rows with a cell that fails the format (``rules.strict_ok``), is not among ``known_ids``, or whose hash
   occurs more than once go into a temporary table, with every internal column of the prepared frame.

The tier then runs unchanged on that table. It holds every row that has a failing cell and every holder of every
repeated value, so counts, first occurrences and the row order are the same as on the whole input; a hash
collision only adds rows that the tier finds are not repeats.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import narwhals as nw

from lucidframes.lucidid.engine import rules
from lucidframes.lucidid.engine.internal_columns import string_view
from lucidframes.lucidid.engine.prepare import Prepared
from lucidframes.lucidid.formats import IdFormat

__all__ = ["narrowed"]

_SRC, _NEED, _HASH, _GROUPING, _N = "__lf_src", "__lf_need", "__lf_h", "__lf_g", "__lf_n"


def _key(j: int) -> str:
    """The internal name of the j-th checked value (the cell, or normalised)."""
    return f"__lf_k{j}"


def _quoted(name: str) -> str:
    """A SQL identifier for any column name."""
    return '"' + name.replace('"', '""') + '"'


def _hashed(j: int) -> str:
    """The hash of the j-th checked value; NULL for a missing value (DuckDB hashes NULL to a constant)."""
    key = _quoted(_key(j))
    return f"CASE WHEN {key} IS NOT NULL THEN hash({key}) END"


def _repeated_hashes(keyed: Any, k: int, table: str) -> int:
    """Scan 1: the hashes held by more than one cell into ``table``; returns the number of rows."""
    # One aggregate with two grouping sets: per hash, and the grand total (the rows, times k after the unnest).
    # One column needs no unnest (a list per row).
    hashes = _hashed(0) if k == 1 else f"unnest([{', '.join(_hashed(j) for j in range(k))}])"
    keyed.query(
        _SRC,
        f"CREATE TEMP TABLE {_quoted(table)} AS "
        f"SELECT grouping({_HASH}) AS {_GROUPING}, {_HASH}, count(*) AS {_N} "
        f"FROM (SELECT {hashes} AS {_HASH} FROM {_SRC}) "
        f"GROUP BY GROUPING SETS (({_HASH}), ()) "
        f"HAVING grouping({_HASH}) = 1 OR ({_HASH} IS NOT NULL AND count(*) > 1)",
    )
    total = keyed.query(_SRC, f"SELECT {_N} FROM {_quoted(table)} WHERE {_GROUPING} = 1").fetchall()
    return int(total[0][0]) // k if total else 0


def _candidates(flagged: Any, columns: list[str], k: int, repeated: str | None, table: str) -> None:
    """Scan 2: the rows that can fail (``__lf_need``, or a repeated hash) into ``table``, prepared columns only."""
    conditions = [_NEED]
    if repeated is not None:
        held = f"(SELECT {_HASH} FROM {_quoted(repeated)} WHERE {_GROUPING} = 0)"
        conditions += [f"{_hashed(j)} IN {held}" for j in range(k)]
    flagged.query(
        _SRC,
        f"CREATE TEMP TABLE {_quoted(table)} AS SELECT {', '.join(map(_quoted, columns))} FROM {_SRC} "
        f"WHERE {' OR '.join(conditions)}",
    )


@contextmanager
def narrowed(
    prep: Prepared, fmt: IdFormat, *, normalize: bool, unique: bool, known: frozenset[str] | None
) -> Iterator[tuple[Prepared, int]]:
    """The prepared DuckDB input cut down to the rows that can fail, and the number of rows of the whole input.

    Args:
        prep: the prepared input (engine duckdb).
        fmt: the expected format.
        normalize: values are checked normalised (their normalised value is what repeats).
        unique: repeats are checked (else only the format and ``known``).
        known: ids known to exist, or None.

    Returns:
        A context giving ``(prepared, n_rows)``: ``prepared`` is ``prep`` over a temporary table, dropped when
        the context ends.
    """
    k = len(prep.names)
    columns = list(prep.frame.collect_schema().names())
    values = [nw.col(string_view(j)) for j in range(k)]
    keys = [rules.core(v, fmt, normalize=normalize).alias(_key(j)) for j, v in enumerate(values)]
    need = []
    for v in values:
        ok = rules.strict_ok(v, fmt).fill_null(False)
        need.append(~ok if known is None else ~ok | ~v.is_in(sorted(known)))
    tag = uuid.uuid4().hex  # one pair of tables per call: calls on one connection do not meet
    repeated, rows = f"__lf_rep_{tag}", f"__lf_rows_{tag}"
    keyed = prep.frame.select(*keys).to_native()
    flagged = prep.frame.with_columns(*keys, nw.any_horizontal(*need, ignore_nulls=True).alias(_NEED)).to_native()
    try:
        if unique:
            n_rows = _repeated_hashes(keyed, k, repeated)
        else:
            counted = keyed.query(_SRC, f"SELECT count(*) FROM {_SRC}").fetchall()
            n_rows = int(counted[0][0])
        _candidates(flagged, columns, k, repeated if unique else None, rows)
        small = flagged.query(_SRC, f"SELECT * FROM {_quoted(rows)}")
        yield replace(prep, frame=nw.from_native(small)), n_rows
    finally:
        for table in (repeated, rows):
            flagged.query(_SRC, f"DROP TABLE IF EXISTS {_quoted(table)}")
