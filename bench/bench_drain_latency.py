"""Latency-bound drain: lucidframes' concurrent pages against the sequential ``next`` loop analysts write today.

    python bench/bench_drain_latency.py [--quick] [--in-process] [--latency S] [--profile FILE]

The sandbox answers every API request after ``latency`` seconds, rate limits off on both sides. Printed:
lucidframes ``client.load("products")`` at 8 workers against a plain ``requests`` loop that follows ``next``
(target: at least 5x faster), and against the lower bound ``latency x ceil(pages / workers)`` (target: within
1.3x), plus rows for other worker counts. Each time is the best of ``reps`` runs and includes fetching the token.
Nothing is asserted.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from _common import (
    baseline_drain,
    header,
    interleaved,
    lf_client,
    parser,
    profile_all_threads,
    row,
    sandbox,
    statuses,
    threaded_drain,
)


def timeline(sb: Any, workers: int) -> dict[str, float]:
    """One load with a response hook on the client's session: when page 1 and the last page came back, when the
    load returned, and the mean response time (send to headers read) of the API requests."""
    stamps: list[float] = []
    elapsed: list[float] = []
    with lf_client(sb, rate_limits=None, workers=workers) as client:

        def hook(response: Any, *args: Any, **kwargs: Any) -> None:
            stamps.append(time.perf_counter())
            if "/api/" in response.url:
                elapsed.append(response.elapsed.total_seconds())

        client.session.hooks["response"].append(hook)
        t0 = time.perf_counter()
        client.load("products")
        t_end = time.perf_counter()
    # stamps[0] is the token, stamps[1] page 1
    return {
        "token": stamps[0] - t0,
        "page1": stamps[1] - t0,
        "last": stamps[-1] - t0,
        "end": t_end - t0,
        "mean_response": statistics.mean(elapsed),
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--latency", type=float, default=0.05, help="seconds per API request (default: %(default)s)")
    p.add_argument("--profile", metavar="FILE", help="also write a cProfile (pstats) of one load at 8 workers")
    args = p.parse_args()
    latency = args.latency
    products, page_size = (6_000, 100) if args.quick else (12_000, 100)
    reps = 1 if args.quick else 3
    worker_rows = (1, 4, 8, 16) if not args.quick else (4, 8, 16)
    pages = math.ceil(products / page_size)
    header(
        "Latency-bound drain (lucidframes vs a sequential requests loop)",
        {
            "products": products,
            "page_size": page_size,
            "pages": pages,
            "latency_s": latency,
            "rate_limits": "off (server and client)",
            "reps": f"best of {reps}",
            "sandbox": "in-process" if args.in_process else "child process",
        },
    )
    with sandbox(
        args.in_process, sizes={"products": products}, page_size=page_size, latency=latency, rate_limits=None
    ) as sb:

        def lucidframes(workers: int) -> object:
            with lf_client(sb, rate_limits=None, workers=workers) as client:
                return client.load("products")

        lucidframes(8)  # warm-up: imports, first connections (not timed)
        variants: dict[str, Any] = {
            "baseline": lambda: baseline_drain(sb),
            "reference": lambda: threaded_drain(sb, 8),
        }
        for w in sorted({8, *worker_rows}):
            variants[f"workers={w}"] = lambda w=w: lucidframes(w)
        results = interleaved(reps, variants)
        t_base, _, (df_base, base_pages) = results.pop("baseline")
        t_ref = results.pop("reference")[0]
        assert base_pages == pages, (base_pages, pages)
        times = {int(label.split("=")[1]): wall for label, (wall, _, _) in results.items()}
        for _, _, df in results.values():
            assert len(df) == len(df_base) == products  # same rows, or the comparison means nothing
        non_200 = {k: v for k, v in statuses(sb).items() if k != 200}
        tl = min((timeline(sb, 8) for _ in range(reps)), key=lambda t: t["end"])
        sb.clear_log()
        lucidframes(8)
        requests_per_drain = sum(1 for e in sb.log if e.path.startswith("/api/"))
        report(latency, pages, reps, t_base, t_ref, times, non_200, tl)
        print(
            f"API requests per drain: {requests_per_drain} for {pages} pages; the extra one is the page-1 re-read "
            f"that catches rows lost to deletes + inserts (about one latency, {latency * 1000:.0f} ms = "
            f"{latency / times[8]:.1%} of the 8-worker drain)"
        )
        if args.profile:
            print()
            profile_all_threads(lambda: lucidframes(8), args.profile)


def report(
    latency: float,
    pages: int,
    reps: int,
    t_base: float,
    t_ref: float,
    times: dict[int, float],
    non_200: dict[Any, int],
    tl: dict[str, float],
) -> None:
    """The table, the ratios and the timeline."""
    print(
        f"baseline (requests, follow next, sequential): {t_base:7.3f} s  "
        f"({t_base / pages * 1000:.1f} ms/page; latency {latency * 1000:.0f} ms)"
    )
    print()
    row("lucidframes client.load('products')", "     time", "speedup", "bound*", "ratio", "bound+1**", "ratio")
    for w, t in times.items():
        bound = latency * math.ceil(pages / w)
        strict = latency * (1 + math.ceil((pages - 1) / w))
        row(
            f"workers={w}",
            f"{t:7.3f} s",
            f"{t_base / t:6.2f}x",
            f"{bound:6.3f} s",
            f"{t / bound:5.2f}x",
            f"{strict:8.3f} s",
            f"{t / strict:5.2f}x",
        )
    t8 = times[8]
    bound8 = latency * math.ceil(pages / 8)
    print()
    print("   * bound = latency x ceil(pages / workers), the issue's lower bound")
    print("  ** bound+1 = latency x (1 + ceil((pages - 1) / workers)): page 1 must come back before the fan-out")
    print()
    print(f"speedup at 8 workers vs baseline: {t_base / t8:.2f}x   (target >= 5x)")
    print(f"ratio to lower bound at 8 workers: {t8 / bound8:.2f}x   (target <= 1.3x)")
    print(
        f"reference, bare ThreadPoolExecutor + requests at 8 threads (no checks, same sandbox): {t_ref:.3f} s = "
        f"{t_ref / bound8:.2f}x the bound; lucidframes / reference = {t8 / t_ref:.2f}x"
    )
    print(f"non-200 answers in the sandbox log: {non_200 or 'none'}")
    print()
    fan_out = tl["last"] - tl["page1"]
    rounds = math.ceil((pages - 1) / 8)
    print(f"where the time goes at 8 workers (one load with a response hook, best of {reps}; total {tl['end']:.3f} s):")
    print("  token".ljust(42) + f"{tl['token']:.3f} s")
    print("  page 1 (alone: count and page size)".ljust(42) + f"{tl['page1'] - tl['token']:.3f} s")
    per_round = fan_out / rounds * 1000
    print(
        f"  pages 2..{pages} ({rounds} rounds of 8)".ljust(42)
        + f"{fan_out:.3f} s = {per_round:.1f} ms per round (latency {latency * 1000:.0f} ms); "
        + f"mean response time {tl['mean_response'] * 1000:.1f} ms"
    )
    print("  after the last page (frame, checks)".ljust(42) + f"{tl['end'] - tl['last']:.3f} s")


if __name__ == "__main__":
    main()
