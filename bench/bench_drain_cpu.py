"""CPU-bound drain: lucidframes against a bare ``requests`` + ``json`` + ``pd.DataFrame`` loop over the same pages.

    python bench/bench_drain_cpu.py [--quick] [--in-process] [--profile FILE]

No latency, rate limits off, 100k+ rows. Printed for the baseline, lucidframes at 1 worker (like for like) and
at the default 8: the best of ``reps`` wall times (interleaved rounds) and this process's CPU time during the load
(the client's own cost: with the sandbox in a child process, the server's work is not in it), their ratios to the
baseline (target: within 1.5x), and peak memory next to the final DataFrame's ``memory_usage(deep=True)``. Peak
memory is measured once per variant in a fresh Python process (allocators keep freed memory, so figures after
other runs would depend on them): the growth of the peak resident set during the load (Linux VmHWM, reset through
/proc/self/clear_refs; elsewhere the ru_maxrss growth) and the tracemalloc peak (Python and numpy allocations;
pyarrow's string buffers are not seen by it). ``--profile FILE`` also writes a cProfile of one lucidframes load
(1 worker, all threads) to FILE. Nothing is asserted.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import resource
import tracemalloc
from types import SimpleNamespace
from typing import Any

import pandas as pd
from _common import (
    baseline_drain,
    header,
    interleaved,
    lf_client,
    parser,
    profile_all_threads,
    reset_peak_rss,
    row,
    sandbox,
    status_kb,
)

VARIANTS = ("baseline", "lucidframes workers=1", "lucidframes workers=8")


def run_variant(variant: str, sb: Any) -> pd.DataFrame:
    """One drain of products by the named variant."""
    if variant == "baseline":
        return baseline_drain(sb)[0]
    workers = int(variant.rsplit("=", 1)[1])
    with lf_client(sb, rate_limits=None, workers=workers) as client:
        return client.load("products")


def memory_child(conn: Any, variant: str, address: tuple[str, str, str]) -> None:
    """In a fresh process: peak RSS growth and tracemalloc peak of one drain, and the frame's deep size."""
    sb = SimpleNamespace(url=address[0], client_id=address[1], client_secret=address[2])
    gc.collect()
    method = "VmHWM"
    before = reset_peak_rss()
    if before is None or status_kb("VmHWM") is None:
        method, before = "ru_maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    df = run_variant(variant, sb)
    after = status_kb("VmHWM") if method == "VmHWM" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_growth = ((after or before) - before) * 1024
    frame = int(df.memory_usage(deep=True).sum())
    rows = len(df)
    del df
    gc.collect()
    tracemalloc.start()
    run_variant(variant, sb)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    conn.send({"rss_growth": rss_growth, "method": method, "traced_peak": traced, "frame": frame, "rows": rows})
    conn.close()


def measure_memory(variant: str, address: tuple[str, str, str]) -> dict[str, Any]:
    """``memory_child`` in a fresh (spawned) Python process."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=memory_child, args=(child, variant, address), name=f"memory:{variant}")
    proc.start()
    child.close()
    try:
        return dict(parent.recv())
    finally:
        proc.join(timeout=60)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--profile", metavar="FILE", help="also write a cProfile (pstats) of one lucidframes load")
    args = p.parse_args()
    products, page_size = (30_000, 1000) if args.quick else (120_000, 1000)
    reps = 3 if args.quick else 5
    pages = -(-products // page_size)
    header(
        "CPU-bound drain (lucidframes vs requests + json + pd.DataFrame)",
        {
            "products (rows)": products,
            "page_size": page_size,
            "pages": pages,
            "latency_s": 0.0,
            "rate_limits": "off (server and client)",
            "reps": f"best of {reps}",
            "sandbox": "in-process" if args.in_process else "child process",
        },
    )
    with sandbox(args.in_process, sizes={"products": products}, page_size=page_size, rate_limits=None) as sb:
        run_variant("lucidframes workers=8", sb)  # warm-up (not timed)
        results = interleaved(reps, {variant: lambda v=variant: run_variant(v, sb) for variant in VARIANTS})
        timings = {variant: (wall, cpu) for variant, (wall, cpu, _) in results.items()}
        for variant, (_, _, df) in results.items():
            assert len(df) == products, (variant, len(df))  # same rows, or the comparison means nothing
        del results, df
        address = (sb.url, sb.client_id, sb.client_secret)
        memory = {variant: measure_memory(variant, address) for variant in VARIANTS}
        report(timings, memory, products)
        if args.profile:
            print()
            profile_all_threads(lambda: run_variant("lucidframes workers=1", sb), args.profile)


def report(timings: dict[str, tuple[float, float]], memory: dict[str, dict[str, Any]], products: int) -> None:
    """The table and the ratios."""
    base_wall, base_cpu = timings["baseline"]
    mb = 2**20
    row("", "  wall", "ratio", "client CPU", "ratio", "peak RSS +", "tracemalloc peak", "frame (deep)")
    for variant in VARIANTS:
        wall, cpu = timings[variant]
        m = memory[variant]
        row(
            variant,
            f"{wall:6.3f} s",
            f"{wall / base_wall:5.2f}x",
            f"{cpu:8.3f} s",
            f"{cpu / base_cpu:5.2f}x",
            f"{m['rss_growth'] / mb:7.0f} MB",
            f"{m['traced_peak'] / mb:13.0f} MB",
            f"{m['frame'] / mb:9.0f} MB",
        )
    print(f"  (peak RSS growth by {memory['baseline']['method']}; frame = final DataFrame memory_usage(deep=True))")
    print()
    w1, w8 = timings["lucidframes workers=1"][0], timings["lucidframes workers=8"][0]
    print(
        f"lucidframes vs baseline, wall: workers=1 {w1 / base_wall:.2f}x, workers=8 {w8 / base_wall:.2f}x "
        f"(target <= 1.5x); {products / w8:,.0f} rows/s at 8 workers"
    )
    cpu1 = timings["lucidframes workers=1"][1]
    print(
        f"client CPU, workers=1 vs baseline: {cpu1 / base_cpu:.2f}x ({(cpu1 - base_cpu) * 1000 / products * 1000:.1f}"
        f" us more per row)"
    )
    for variant in VARIANTS[1:]:
        m = memory[variant]
        print(
            f"{variant}: peak RSS growth {m['rss_growth'] / m['frame']:.1f}x the frame, "
            f"tracemalloc peak {m['traced_peak'] / m['frame']:.1f}x the frame"
        )


if __name__ == "__main__":
    main()
