"""The caller's rows whose checked cells all pass, as a query on the input's own engine (nothing is collected).

The same rules as :mod:`.run` (format, normalisation, known ids, repeats after the first occurrence), written as
one filter so that a lazy engine returns a lazy frame; eager engines get the rows by a boolean mask.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from lucidframes.lucidid.engine import rules
from lucidframes.lucidid.engine.collect import collect, scalar_row
from lucidframes.lucidid.engine.internal_columns import FIRST, KEY, ORD, ROW, N, checked_key, passes, string_view
from lucidframes.lucidid.engine.prepare import Prepared, narwhals_frame, with_row
from lucidframes.lucidid.formats import IdFormat

__all__ = ["valid_rows"]


def valid_rows(prep: Prepared, fmt: IdFormat, *, normalize: bool, unique: bool, known: frozenset[str] | None) -> Any:
    """The caller's rows whose checked cells all pass, as a query on the input's engine (nothing is collected).

    Args:
        prep: the prepared input.
        fmt: the expected format.
        normalize: values were checked normalised (the rows come back as they were, not normalised).
        unique: repeats after the first occurrence do not pass.
        known: ids known to exist, or None.

    Returns:
        A native frame of the input's engine (lazy for lazy engines).
    """
    k = len(prep.names)
    base = narwhals_frame(prep).with_columns(
        *(rules.strict_ok(nw.col(string_view(j)), fmt).fill_null(False).alias(passes(j)) for j in range(k))
    )
    keys, conds = [], []
    for j in range(k):
        s = nw.col(string_view(j))
        ok = nw.col(passes(j))
        if normalize:
            checked = rules.core(s, fmt, normalize=True)
            rescued = ~ok & rules.strict_ok(checked, fmt).fill_null(False)
            key = nw.when(ok).then(s).when(rescued).then(checked)
            cond = ok | rescued
        else:
            key, cond = nw.when(ok).then(s), ok
        if known is not None:
            cond = cond & key.is_in(sorted(known))
        keys.append(key.alias(checked_key(j)))
        conds.append(cond)
    good = base.with_columns(*keys).filter(*conds)
    if unique:
        long_parts = [
            good.select((nw.col(ROW) * k + j).alias(ORD), nw.col(checked_key(j)).alias(KEY)) for j in range(k)
        ]
        long = long_parts[0] if k == 1 else nw.concat(long_parts, how="vertical")
        firsts = long.group_by(KEY).agg(nw.col(ORD).min().alias(FIRST))
        repeats = long.join(firsts, on=KEY).filter(nw.col(ORD) > nw.col(FIRST)).select((nw.col(ORD) // k).alias(ROW))
        good = good.join(repeats, on=ROW, how="anti")
    rows = good.select(ROW)
    if prep.eager:
        mask = np.zeros(int(scalar_row(narwhals_frame(prep).select(nw.len().alias(N)))[N]), dtype=bool)
        mask[collect(rows)[ROW].to_numpy(dtype=np.int64)] = True
        if isinstance(prep.native, pd.DataFrame | pd.Series):
            return prep.native.loc[mask]
        return nw.from_native(prep.native, eager_only=True).filter(mask.tolist()).to_native()
    full = _full_frame(prep)
    joined = full.join(rows, on=ROW, how="semi").sort(ROW) if prep.ordered else full.join(rows, on=ROW, how="semi")
    return joined.drop(ROW).to_native()


def _full_frame(prep: Prepared) -> Any:
    """The caller's frame with ROW, numbered exactly as in ``prep.frame``."""
    frame, _ = with_row(prep.native, prep.engine, prep.names, prep.keep)
    return frame
