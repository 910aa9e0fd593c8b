"""Benchmark of the LucidID validator: ratios against baselines measured in the same run (nothing is asserted).

    python bench/bench_lucidid.py [--rows 2000000] [--repeat 3] [--parquet-rows 20000000] [--skip ...]

1. The format check (``lucidid.format_mask``) against a bare ``Series.str.fullmatch`` (issue 10: <= 1.1x).
2. The whole validation on pandas against the same bare fullmatch (issue 10: <= 3x), peak memory growth against
   the column's own Arrow size (<= 2x); and pandera's lazy check when pandera is installed.
3. The same data on polars against polars' bare ``str.contains`` + ``is_duplicated`` (<= 1.5x).
4. A Parquet file of ``--parquet-rows`` ids: ``lf.validate_file(engine="duckdb")`` against a hand-written DuckDB
   query of the same rules (<= 1.3x, peak RSS <= 1 GB), and ``engine="pandas"`` for comparison.
5. Dask (2 partitions) and Spark (local[2]) on the same ids: figures only, against pandas.
6. Report building at 0.1%, 1% and 10% bad cells: it should grow with the failures, not with the rows.
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
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import reset_peak_rss, status_kb

import lucidframes as lf
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
    if step.startswith("file-"):  # file-duckdb:PATH, file-pandas:PATH, file-handwritten:PATH: whole-process peak
        kind, _, path = step.partition(":")
        run = {"file-duckdb": lambda: lf.validate_file(path, "lucid_id", engine="duckdb"),
               "file-pandas": lambda: lf.validate_file(path, "lucid_id", engine="pandas"),
               "file-handwritten": lambda: handwritten_duckdb(path)}[kind]  # fmt: skip
        run()
        print(f"{(status_kb('VmHWM') or 0) / 1024:.0f} MB")
        return
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


def handwritten_duckdb(path: str) -> Any:
    """The same rules as one hand-written DuckDB query: counts of bad format and of repeats, first failing rows."""
    import duckdb

    pattern = "^" + id_format().pattern + "$"
    con = duckdb.connect()
    source = f"read_parquet('{path}', file_row_number = true)"
    checked = f"SELECT file_row_number AS r, lucid_id AS v, coalesce(length(lucid_id) = 20 AND regexp_matches(lucid_id, '{pattern}'), false) AS ok FROM {source}"  # noqa: E501
    counts = con.sql(
        f"SELECT count(*) FILTER (NOT ok) AS bad, count(v) FILTER (ok) - count(DISTINCT v) FILTER (ok) AS repeats "
        f"FROM ({checked})"
    ).fetchall()
    rows = con.sql(f"SELECT r, v FROM ({checked}) WHERE NOT ok ORDER BY r LIMIT 100000").fetchall()
    return counts, len(rows)


def write_parquet(path: Path, rows: int) -> None:
    """``rows`` ids, 1% bad, written in row groups of 1M (building the data, not measured)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetWriter(path, pa.schema([("lucid_id", pa.large_string())])) as writer:
        for start in range(0, rows, 1_000_000):
            chunk = make_ids(min(1_000_000, rows - start), 0.01, seed=start)
            writer.write_table(pa.table({"lucid_id": pa.array(chunk.array)}))


def section_polars(ids: pd.Series, repeat: int, pandas_seconds: float) -> None:
    """Polars: the whole validation against polars' bare contains + is_duplicated."""
    try:
        import polars as pl
    except ImportError:
        print("\n3. polars is not installed (pip install 'lucidframes[polars]'): skipped")
        return
    frame = pl.from_arrow(pa.table({"lucid_id": pa.array(ids.array)}))
    pattern = "^" + id_format().pattern + "$"
    bare, _ = timed(
        lambda: frame.select(pl.col("lucid_id").str.contains(pattern), pl.col("lucid_id").is_duplicated().alias("d")),
        repeat,
    )
    ours, _ = timed(lambda: validate_lucid_ids(frame, "lucid_id"), repeat)
    print("\n3. polars, the same ids")
    print(f"   bare str.contains + is_duplicated  {bare:7.3f} s")
    print(f"   validate_lucid_ids(polars frame)   {ours:7.3f} s   ratio {ours / bare:.2f}x (target <= 1.5x)")
    print(f"   (pandas whole validation was {pandas_seconds:.3f} s)")


def section_file(rows: int) -> None:
    """A Parquet file via DuckDB (ours and hand-written) and pandas, each in a fresh process for its peak RSS."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ids.parquet"
        write_parquet(path, rows)
        size = path.stat().st_size / 2**20
        print(f"\n4. Parquet file, {rows:,} ids, 1% bad ({size:.0f} MB on disk); each run in a fresh process")
        results = {}
        for step in ("file-handwritten", "file-duckdb", "file-pandas"):
            command = [sys.executable, __file__, "--memory-step", f"{step}:{path}"]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)
            elapsed = time.perf_counter() - started
            peak = done.stdout.strip() or f"failed: {done.stderr.strip().splitlines()[-1:]}"
            results[step] = elapsed
            print(f"   {step:18s} {elapsed:7.2f} s (process, import included)   peak RSS {peak}")
        print(f"   ratio duckdb engine / hand-written: {results['file-duckdb'] / results['file-handwritten']:.2f}x "
              "(target <= 1.3x)")  # fmt: skip


def section_scale_out(ids: pd.Series, pandas_seconds: float) -> None:
    """Dask (2 partitions) and Spark (local[2]): figures only."""
    print("\n5. scale-out engines on one 2-core machine (figures only)")
    try:
        import dask.dataframe as dd

        ddf = dd.from_pandas(ids.to_frame(), npartitions=2)
        seconds, _ = timed(lambda: validate_lucid_ids(ddf, "lucid_id"), 1)
        print(f"   dask, 2 partitions        {seconds:7.3f} s   {seconds / pandas_seconds:.1f}x pandas")
    except ImportError:
        print("   dask is not installed: skipped")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        print("   pyspark is not installed: skipped")
        return
    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.createDataFrame(pd.DataFrame({"lucid_id": ids.astype(object), "k": range(len(ids))}))
    frame = frame.cache()
    frame.count()
    seconds, _ = timed(lambda: validate_lucid_ids(frame, "lucid_id", keep="k"), 1)
    print(f"   spark, local[2] (cached)  {seconds:7.3f} s   {seconds / pandas_seconds:.1f}x pandas")
    spark.stop()


def main() -> None:
    """Run the three comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parquet-rows", type=int, default=20_000_000)
    parser.add_argument("--skip", nargs="*", default=[], help="sections to skip: pandera polars file scale report")
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
    print(f"   ratio {ours / bare:.2f}x (target <= 1.1x)  ({int((~mask).sum()):,} cells fail the format)")
    arrow_mb = ids.array._pa_array.nbytes / 2**20 if hasattr(ids.array, "_pa_array") else float("nan")

    print("\n2. whole validation (format, duplicates, report), 1% bad")
    full, report = timed(lambda: validate_lucid_ids(ids), repeat)
    phases = ", ".join(f"{k} {v:.3f}" for k, v in report._timings.items())
    failures = len(report.failures)
    print(f"   validate_lucid_ids          {full:7.3f} s   peak {peak_memory('validate', rows, 0.01)}")
    print(f"      {failures:,} failures; phases (s): {phases}")
    print(
        f"   ratio to the bare fullmatch: {full / bare:.2f}x (target <= 3x); the column's Arrow size {arrow_mb:.0f} MB"
    )
    check = pandera_check(ids.to_frame(), pattern) if "pandera" not in args.skip else None
    if check is None:
        print("   pandera is not installed (pip install pandera): no baseline")
    else:
        theirs, cases = timed(check, max(1, repeat - 1))
        print(f"   pandera lazy schema check   {theirs:7.3f} s   peak {peak_memory('pandera', rows, 0.01)}")
        print(f"      {len(cases) if cases is not None else 0:,} failure cases")
        print(f"   ratio ours / pandera: {full / theirs:.2f}x ({theirs / full:.1f}x faster)")
    del report, mask
    if "polars" not in args.skip:
        section_polars(ids, repeat, full)
    if "file" not in args.skip:
        section_file(args.parquet_rows)
    if "scale" not in args.skip:
        section_scale_out(ids, full)
    if "report" in args.skip:
        return

    print("\n6. report building (per-cell diagnosis + report assembly) by share of bad cells")
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
