"""Benchmark of the LucidID validator: ratios against baselines measured in the same run (nothing is asserted).

    python bench/bench_lucidid.py [--rows 2000000] [--repeat 3]

1. The format check (``lucidid.format_mask``) against a bare ``Series.str.fullmatch`` of the same pattern on
   pandas' string dtype (target: within 1.5x).
2. The whole validation (format, duplicates, report) against pandera's lazy schema check with the same rules:
   a full-match pattern and uniqueness (target: faster). Needs ``pip install pandera``; skipped without it.
3. Report building (per-cell diagnosis of the failing cells plus assembling the report) at 0.1%, 1% and 10% bad
   cells: it should grow with the failures, not with the rows.
Peak memory is the growth of the peak resident set during one run of a step, each in a fresh Python process
(allocators keep freed memory, so in-process figures would depend on what ran before). Linux: VmHWM, reset
through /proc/self/clear_refs; elsewhere tracemalloc, which misses pyarrow's allocations.
"""

from __future__ import annotations

import argparse
import gc
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import reset_peak_rss, status_kb

from lucidframes.lucidid import ALPHABET, format_mask, id_format, validate_lucid_ids


def make_ids(rows: int, bad_fraction: float, seed: int = 0) -> pd.Series:
    """``rows`` random LucidIDs as pandas' string dtype, ``bad_fraction`` of them spoiled in the usual ways."""
    rng = np.random.default_rng(seed)
    letters = np.array(list(ALPHABET))[rng.integers(0, len(ALPHABET), size=(rows, 20))]
    ids = letters.view("<U20").ravel().astype(object)
    bad = rng.choice(rows, size=int(rows * bad_fraction), replace=False)
    for k, i in enumerate(bad.tolist()):  # building the data, not measured
        value, kind = ids[i], k % 6
        ids[i] = [
            value[:7] + "0" + value[8:],  # bad_character
            value[:-1],  # wrong_length
            f" {value}",  # whitespace
            ids[(i + 1) % rows],  # duplicate
            None,  # missing
            f"https://qr.lcdg.io/{value}",  # url_wrapped
        ][kind]
    return pd.Series(ids, dtype="str", name="lucid_id")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the result of that best run (its phase timings match it)."""
    best, kept = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        if elapsed < best:
            best, kept = elapsed, result
        del result
    return best, kept


def peak_memory(step: str, rows: int, fraction: float) -> str:
    """Peak memory growth of one step, measured in a fresh Python process (allocators keep freed memory)."""
    command = [sys.executable, __file__, "--memory-step", step, "--rows", str(rows), "--fraction", str(fraction)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    return done.stdout.strip() or f"n/a ({done.stderr.strip().splitlines()[-1:]})"


def _memory_step(step: str, rows: int, fraction: float) -> None:
    """Run one step once in this (fresh) process and print its peak memory growth in MB."""
    ids = make_ids(rows, fraction)
    pattern = id_format().pattern
    steps: dict[str, Callable[[], Any]] = {
        "fullmatch": lambda: ids.str.fullmatch(pattern),
        "format_mask": lambda: format_mask(ids),
        "validate": lambda: validate_lucid_ids(ids),
    }
    check = pandera_check(ids.to_frame(), pattern)
    if check is not None:
        steps["pandera"] = check
    gc.collect()
    before = reset_peak_rss()
    if before is not None and status_kb("VmHWM") is not None:
        steps[step]()
        print(f"+{((status_kb('VmHWM') or before) - before) / 1024:.0f} MB")
    else:  # elsewhere: tracemalloc sees Python and numpy allocations, not pyarrow's
        tracemalloc.start()
        steps[step]()
        print(f"+{tracemalloc.get_traced_memory()[1] / 2**20:.0f} MB (tracemalloc)")


def pandera_check(frame: pd.DataFrame, pattern: str) -> Callable[[], Any] | None:
    """pandera's lazy check with the same rules, or None when pandera is not installed."""
    try:
        import pandera.pandas as pa
    except ImportError:
        try:
            import pandera as pa  # type: ignore[no-redef]
        except ImportError:
            return None
    schema = pa.DataFrameSchema(
        {"lucid_id": pa.Column(str, pa.Check.str_matches(f"^{pattern}$"), unique=True, nullable=False)}
    )

    def run() -> Any:
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            return exc.failure_cases
        return None

    return run


def main() -> None:
    """Run the three comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-step", help=argparse.SUPPRESS)  # internal: one step in a fresh process
    parser.add_argument("--fraction", type=float, default=0.01, help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows, repeat = args.rows, args.repeat
    if args.memory_step:
        _memory_step(args.memory_step, rows, args.fraction)
        return
    pattern = id_format().pattern
    print(f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, {rows:,} ids")
    print("times: best of the repeats; peak: growth of the peak resident set, each step in a fresh process")

    ids = make_ids(rows, 0.01)
    print(f"\n1. format check, 1% bad (dtype {ids.dtype}, {type(ids.array).__name__})")
    bare, _ = timed(lambda: ids.str.fullmatch(pattern), repeat)
    ours, mask = timed(lambda: format_mask(ids), repeat)
    print(f"   bare Series.str.fullmatch   {bare:7.3f} s   peak {peak_memory('fullmatch', rows, 0.01)}")
    print(f"   lucidid.format_mask         {ours:7.3f} s   peak {peak_memory('format_mask', rows, 0.01)}")
    print(f"   ratio {ours / bare:.2f}x   ({int((~mask).sum()):,} cells fail the format)")

    print("\n2. whole validation (format, duplicates, report), 1% bad")
    full, report = timed(lambda: validate_lucid_ids(ids), repeat)
    phases = ", ".join(f"{k} {v:.3f}" for k, v in report._timings.items())
    failures = len(report.failures)
    print(f"   validate_lucid_ids          {full:7.3f} s   peak {peak_memory('validate', rows, 0.01)}")
    print(f"      {failures:,} failures; phases (s): {phases}")
    check = pandera_check(ids.to_frame(), pattern)
    if check is None:
        print("   pandera is not installed (pip install pandera): no baseline")
    else:
        theirs, cases = timed(check, max(1, repeat - 1))
        print(f"   pandera lazy schema check   {theirs:7.3f} s   peak {peak_memory('pandera', rows, 0.01)}")
        print(f"      {len(cases) if cases is not None else 0:,} failure cases")
        print(f"   ratio ours / pandera: {full / theirs:.2f}x ({theirs / full:.1f}x faster)")
    del report, mask

    print("\n3. report building (per-cell diagnosis + report assembly) by share of bad cells")
    print("   bad      failures   diagnose+report   per failure   whole validation   peak")
    for fraction in (0.001, 0.01, 0.1):
        data = make_ids(rows, fraction, seed=1)
        total, result = timed(lambda data=data: validate_lucid_ids(data), max(1, repeat - 1))
        building = result._timings["diagnose"] + result._timings["report"]
        per = building / max(1, len(result.failures)) * 1e6
        print(
            f"   {fraction:5.1%}  {len(result.failures):9,}   {building:11.3f} s   {per:8.1f} µs   "
            f"{total:12.3f} s     {peak_memory('validate', rows, fraction)}"
        )
        del data, result


if __name__ == "__main__":
    main()
