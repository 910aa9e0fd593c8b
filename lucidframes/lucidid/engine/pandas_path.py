"""The rules on pandas at pandas' speed: native passes over every cell, the shared narwhals plan over the few others.

Over the whole column only two passes run: the full match (pyarrow's RE2 on pandas' string dtype, Python's ``re``
on object columns) and, for duplicates, a hash of each well-formed id read straight from the Arrow buffers (32 bits),
sorted to find the hashes that occur more than once. Everything after that (reasons, normalisation, which repeat
comes first, known ids, diagnosis) runs through the narwhals functions of :mod:`.run` and :mod:`.values` on the
candidate rows only, so the rules stay written once. A hash collision only adds a candidate, which the exact
group-by then drops: the hash decides nothing. The narwhals plan over the whole pandas frame (hash tables of 2M
strings, a frame copy per filter) was 4 to 6 times slower.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa

from lucidframes.lucidid.columns import well_formed
from lucidframes.lucidid.engine.internal_columns import CELL, COL, CORE, KEY, ORD, RESCUED, ROW, string_view
from lucidframes.lucidid.engine.prepare import Prepared
from lucidframes.lucidid.engine.run import Check, Findings, TierResult, bad_columns
from lucidframes.lucidid.engine.values import duplicates, known_failures
from lucidframes.lucidid.formats import Reason

__all__ = ["applies", "run"]

_CHUNK = 262_144  # cells packed by one Arrow take (about 5 MB of 20-character ids)
_TABLE_SIZE = 2**20  # the prefilter of repeated hashes: one bool per slot
_MIX = np.uint64(0x9E3779B97F4A7C15)  # an odd 64-bit constant (the golden ratio's): multiplying spreads the bits


def applies(prep: Prepared) -> bool:
    """True for a pandas input (a Series, a list, a DataFrame): the native passes need pandas' own columns."""
    return prep.views is not None


def _arrow(strings: pd.Series) -> pa.Array | None:
    """The Arrow array behind a pyarrow-backed string column; None for object columns (lone surrogates)."""
    if not isinstance(strings.dtype, pd.StringDtype) or strings.dtype.storage != "pyarrow":
        return None
    arr = pa.array(strings.array)
    if isinstance(arr, pa.ChunkedArray):  # one chunk is the usual case: taken as it is, not copied
        return arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    return arr


def _arrow_hash(arr: pa.Array, positions: np.ndarray, width: int) -> np.ndarray:
    """A 32-bit hash of the cells at ``positions``, each exactly ``width`` bytes, read from the Arrow buffers."""
    # 32 bits kept: half the memory; the few thousand extra candidates in 2M ids are dropped by the exact check.
    hashed = np.empty(len(positions), dtype=np.uint32)
    for low in range(0, len(positions), _CHUNK):  # a chunk at a time, so that copies and temporaries stay small
        chosen = positions[low : low + _CHUNK]
        first, last = int(chosen[0]), int(chosen[-1])
        # Consecutive cells (every cell valid) are a slice, no copy; else Arrow's take packs them into one buffer.
        part = arr.slice(first, len(chosen)) if last - first + 1 == len(chosen) else arr.take(pa.array(chosen))
        hashed[low : low + len(chosen)] = _packed_hash(part, width) >> np.uint64(32)
    return hashed


def _packed_hash(arr: pa.Array, width: int) -> np.ndarray:
    """The hashes of an array whose every cell is exactly ``width`` bytes: one cell every ``width`` bytes."""
    if not len(arr):
        return np.empty(0, dtype=np.uint64)
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=offset_type)[arr.offset : arr.offset + len(arr) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    if end - start != len(arr) * width:  # only well-formed ids are hashed, so this should not happen: stay exact
        return _python_hash64(pd.Series(arr.to_pylist(), dtype=object))
    data = arr.buffers()[2]
    steps = [*range(0, width - 7, 8)] or [0]
    size = 8 if width >= 8 else 1
    if width >= 8 and steps[-1] != width - 8:
        steps.append(width - 8)  # the last word overlaps the one before it
    elif width < 8:
        steps = list(range(width))
    hashed = np.zeros(len(arr), dtype=np.uint64)
    for step in steps:  # strided views: word ``step`` of every cell, unaligned, without copying
        word = np.ndarray((len(arr),), dtype=np.uint64 if size == 8 else np.uint8, buffer=data,
                          offset=start + step, strides=(width,))  # fmt: skip
        hashed ^= word
        hashed *= _MIX  # wraps modulo 2**64, as a hash should
        hashed ^= hashed >> np.uint64(29)
    return hashed


def _python_hash64(values: pd.Series) -> np.ndarray:
    """Python's own string hash (the same for equal strings within this process), as unsigned 64-bit integers."""
    return np.fromiter(map(hash, values.tolist()), dtype=np.int64, count=len(values)).view(np.uint64)


def _python_hash(values: pd.Series) -> np.ndarray:
    """Python's string hash cut to the 32 bits the Arrow hashes keep (object columns: lone surrogates)."""
    return (_python_hash64(values) >> np.uint64(32)).astype(np.uint32)


@dataclass
class _Values:
    """The well-formed values of every checked column, as one long table in segments (order = row * k + column)."""

    repeated: np.ndarray | None = None  # which entries' hashes repeat, when nothing joined after hashing
    sizes: list[int] = field(default_factory=list)
    hashes: list[np.ndarray] = field(default_factory=list)
    known: list[np.ndarray] = field(default_factory=list)
    makers: list[Callable[[np.ndarray], pd.DataFrame]] = field(default_factory=list)

    def add(self, size: int, hashes: np.ndarray, known: np.ndarray, maker: Any) -> None:
        """One segment: its number of values, their hashes and known-id flags, and how to build their rows."""
        self.sizes.append(size)
        self.hashes.append(hashes)
        self.known.append(known)
        self.makers.append(maker)

    def frame(self, chosen: np.ndarray) -> Any:
        """The chosen entries (indices into the long table) as a narwhals frame of ORD, COL, KEY, CELL, keep."""
        parts, low = [], 0
        for size, make in zip(self.sizes, self.makers, strict=True):
            local = chosen[(chosen >= low) & (chosen < low + size)] - low
            if len(local):
                parts.append(make(local))
            low += size
        return nw.from_native(pd.concat(parts, ignore_index=True), eager_only=True)


def _column_maker(prep: Prepared, j: int, positions: np.ndarray) -> Callable[[np.ndarray], pd.DataFrame]:
    """Rows of the j-th column's well-formed cells, by index among ``positions``."""
    assert prep.views is not None
    views, k = prep.views, len(prep.names)

    def make(local: np.ndarray) -> pd.DataFrame:
        rows = positions[local]
        cells = views[string_view(j)].take(rows).reset_index(drop=True)
        data = {ORD: rows * k + j, COL: np.full(len(rows), j, dtype=np.int64), KEY: cells, CELL: cells}
        data.update({name: views[name].take(rows).reset_index(drop=True) for name in prep.keep})
        return pd.DataFrame(data)

    return make


def _rescued_maker(rescued: pd.DataFrame, j: int, k: int, keep: list[str]) -> Callable[[np.ndarray], pd.DataFrame]:
    """Rows of the j-th column's cells that normalisation makes well-formed (their normalised value is the key)."""

    def make(local: np.ndarray) -> pd.DataFrame:
        part = rescued.iloc[local].reset_index(drop=True)
        data = {
            ORD: part[ROW].to_numpy(dtype=np.int64) * k + j,
            COL: np.full(len(part), j, dtype=np.int64),
            KEY: part[CORE],
            CELL: part[string_view(j)],
        }
        data.update({name: part[name] for name in keep})
        return pd.DataFrame(data)

    return make


def _hash_columns(
    arrays: list[pa.Array | None], strings: list[pd.Series], goods: list[np.ndarray], width: int, plain: bool
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The hashes of every column's well-formed cells; with ``plain`` (nothing else joins them) which repeat."""
    if not goods:  # neither repeats nor known ids are checked
        return [], None
    if None in arrays:  # an object column: Python's hash for every column, so that equal ids hash alike
        hashes = [_python_hash(s.take(g)) for s, g in zip(strings, goods, strict=True)]
    else:
        hashes = [_arrow_hash(a, g, width) for a, g in zip(arrays, goods, strict=True) if a is not None]
    return hashes, _repeated(np.concatenate(hashes)) if plain and hashes else None


def _failing_cells(prep: Prepared, check: Check, found: Findings, j: int, ok: np.ndarray) -> Any:
    """The j-th column's failing cells through the shared plan: counts, diagnosis, changes; their frame back."""
    assert prep.views is not None
    failing = np.flatnonzero(~ok)
    rows = prep.views.take(failing).reset_index(drop=True)
    rows.insert(0, ROW, failing.astype(np.int64))
    bad = nw.from_native(rows, eager_only=True).select(*bad_columns(prep, j, check.fmt, check.normalize))
    found.add_column(prep, bad, j, len(failing), check)
    return bad


def _format_pass(prep: Prepared, check: Check, found: Findings) -> _Values:
    """The full match of every column, the failing cells through the shared plan, and the well-formed values.

    The hashing (Arrow's take and numpy, which release the GIL) runs on a second thread while this one diagnoses
    the failing cells in Python.
    """
    assert prep.views is not None
    k = len(prep.names)
    strings = [prep.views[string_view(j)] for j in range(k)]
    arrays = [_arrow(s) for s in strings]
    oks = [well_formed(s, check.fmt)[1] for s in strings]
    width = check.fmt.length  # a well-formed id is ``length`` characters of an ASCII alphabet: as many bytes
    goods = [np.flatnonzero(ok) for ok in oks] if check.unique or check.known is not None else []
    plain = check.unique and check.known is None and not check.normalize
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lucidframes-hash") as pool:
        job = pool.submit(_hash_columns, arrays, strings, goods, width, plain)
        bads = [_failing_cells(prep, check, found, j, oks[j]) for j in range(k)]
        hashes, repeated = job.result()
    values = _Values(repeated=repeated)
    known_list = sorted(check.known.ids) if check.known is not None else None
    for j, good in enumerate(goods):
        values.add(len(good), hashes[j], _known_flags(strings[j], known_list, good), _column_maker(prep, j, good))
        if check.normalize:
            _add_rescued(values, bads[j], j, k, prep.keep, known_list, None not in arrays, width)
    return values


def _add_rescued(
    values: _Values, bad: Any, j: int, k: int, keep: list[str], known_list: list[str] | None, arrow: bool, width: int
) -> None:
    """The j-th column's cells that normalisation makes well-formed, as one more segment of the values."""
    rescued = bad.filter(nw.col(RESCUED)).to_native().reset_index(drop=True)
    if not len(rescued):
        return
    cores = rescued[CORE].astype(object)
    if arrow:
        hashes = _arrow_hash(pa.array(cores.tolist(), type=pa.large_string()), np.arange(len(cores)), width)
    else:
        hashes = _python_hash(cores)
    values.add(len(rescued), hashes, _known_flags(cores, known_list), _rescued_maker(rescued, j, k, keep))


def _known_flags(cells: pd.Series, known_list: list[str] | None, positions: np.ndarray | None = None) -> np.ndarray:
    """Which cells (those at ``positions``, else all) are known ids; an empty array when no ids are known."""
    if known_list is None:
        return np.ones(0, bool)
    chosen = cells if positions is None else cells.take(positions)
    return chosen.isin(known_list).to_numpy(dtype=bool)


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """Boolean array: True where the hash occurs more than once (a sort, not a hash table: 2M ids in ~0.1 s)."""
    ordered = np.sort(hashes)
    twice = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered  # 8 bytes a value: gone before the look-ups below allocate theirs
    if not len(twice):
        return np.zeros(len(hashes), dtype=bool)
    # A 1 MB table of the repeated hashes' low bits first (cache-resident), then a binary search of the few hits.
    table = np.zeros(_TABLE_SIZE, dtype=bool)
    table[twice & np.uint32(_TABLE_SIZE - 1)] = True
    hits = np.flatnonzero(table[hashes & np.uint32(_TABLE_SIZE - 1)])
    at = np.minimum(np.searchsorted(twice, hashes[hits]), len(twice) - 1)
    repeated = np.zeros(len(hashes), dtype=bool)
    repeated[hits[twice[at] == hashes[hits]]] = True
    return repeated


def run(prep: Prepared, check: Check) -> TierResult:
    """Run every rule on a pandas input: the same TierResult as :func:`.run.run`, row for row.

    Args:
        prep: the prepared input (``applies(prep)`` must be True).
        check: what to check.

    Returns:
        The TierResult.
    """
    assert prep.views is not None
    found = Findings(len(prep.names), eager=True)
    values = _format_pass(prep, check, found)
    if not values.sizes:
        return found.result(len(prep.views), check.cap)
    if values.repeated is not None:  # no known ids, no normalisation: found beside the diagnosis
        candidates = np.flatnonzero(values.repeated)
    else:
        remaining = np.arange(sum(values.sizes))
        if check.known is not None:
            unknown = np.flatnonzero(~np.concatenate(values.known))
            if len(unknown):
                _, counts, rows, where = known_failures(values.frame(unknown), check.known.ids, check.cap, True)
                found.add_values(Reason.UNKNOWN.value, counts, rows, where)
                remaining = np.flatnonzero(np.concatenate(values.known))
        wanted = check.unique and len(remaining)
        candidates = remaining[_repeated(np.concatenate(values.hashes)[remaining])] if wanted else remaining[:0]
    if len(candidates):
        repeats, rows = duplicates(values.frame(candidates), check.cap, True)
        found.add_values(Reason.DUPLICATE.value, repeats, rows, rows[ORD] if len(rows) else None)
    return found.result(len(prep.views), check.cap)
