"""Snapshots: one ``lucidframes snapshot`` against the separate ``fetch`` runs it replaces, and peak memory.

    python bench/bench_snapshot.py [--quick] [--in-process] [--latency S] [--rows N]

Part 1, time. A sandbox with 50 ms latency per API request (default sizes: products 1,203, batches 300, 40 of each
asset type, 25 brands; pages of 100). Measured, best of ``reps`` interleaved rounds:

* ``separate fetch runs``: one ``lucidframes fetch ENDPOINT -o FILE.parquet`` process per snapshot table (seven),
  one after the other, as a cron job does today: the baseline;
* ``snapshot``: one ``lucidframes snapshot -o DIR`` process (every table, changes, manifest);
* the library alone, in this process: ``lf.snapshot`` against the sum of ``client.load`` + ``lf.export`` per table.

Printed as ratios against the baseline, and against the latency bound: per table, page 1 alone, then the other
pages ``workers`` at a time, then the drain's page-1 re-read (one more round trip), so
``latency x sum(2 + ceil((pages - 1) / workers))`` for paginated tables and ``latency`` for brands.

Part 2, memory. ``--rows`` products (default 120,000) in pages of 1,000, no latency, in a fresh process each:
the growth of the peak resident set (Linux VmHWM, reset through /proc/self/clear_refs) while ``lf.snapshot``
writes them to Parquet, and while ``client.load`` + ``lf.export`` does; next to the final frame's
``memory_usage(deep=True)``. Target: the snapshot's peak at most 3x the frame. Nothing is asserted.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
from _common import header, interleaved, lf_client, parser, reset_peak_rss, row, sandbox, status_kb

import lucidframes as lf
from lucidframes.pipelines.snapshot import snapshot_targets

CLI = [sys.executable, "-m", "lucidframes"]


def cli_env(sb: Any) -> dict[str, str]:
    return {**os.environ, "LUCID_BASE_URL": sb.url, "LUCID_CLIENT_ID": sb.client_id,
            "LUCID_CLIENT_SECRET": sb.client_secret, "TQDM_DISABLE": "1"}  # fmt: skip


def run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")


def separate_fetches(sb: Any, out: Path) -> None:
    """What a pipeline runs today: one fetch process per table."""
    env = cli_env(sb)
    for name, target in snapshot_targets().items():
        params = [f"--param={k}={v}" for k, v in target.params.items()]
        run([*CLI, "fetch", target.endpoint, *params, "-o", str(out / f"{name}.parquet"), "--quiet"], env)


def one_snapshot(sb: Any, out: Path) -> None:
    run([*CLI, "snapshot", "-o", str(out), "--quiet"], cli_env(sb))


def library_loads(sb: Any, out: Path) -> None:
    """The library without snapshot: a fresh client (token) per table, load, export."""
    for name, target in snapshot_targets().items():
        with lf_client(sb, rate_limits=None) as client:
            lf.export(client.load(target.endpoint, **target.params), out / f"{name}.parquet")


def library_snapshot(sb: Any, out: Path) -> None:
    with lf_client(sb, rate_limits=None) as client:
        lf.snapshot(client, out)


def latency_bound(latency: float, workers: int, page_size: int) -> tuple[float, int]:
    """(the bound in seconds, round trips) for the default dataset's tables (see the module docstring)."""
    from lucidframes.sandbox.data import DEFAULT_SIZES

    rows = {"products": DEFAULT_SIZES["products"], "batches": DEFAULT_SIZES["batches"]}
    rows.update({f"assets_{t}": DEFAULT_SIZES["assets"] for t in ("texts", "images", "videos", "files")})
    trips = 1  # brands: one bare array
    for n in rows.values():
        pages = max(1, math.ceil(n / page_size))
        trips += 1 + math.ceil((pages - 1) / workers) + (1 if pages > 1 else 0)
    return latency * trips, trips


def part_time(args: Any) -> None:
    latency, page_size, workers = args.latency, 100, 8
    reps = 1 if args.quick else 3
    bound, trips = latency_bound(latency, workers, page_size)
    print(f"## time: every snapshot table at {latency * 1000:.0f} ms latency, pages of {page_size}, {workers} workers")
    with sandbox(args.in_process, page_size=page_size, latency=latency, rate_limits=None) as sb:
        tmp = Path(tempfile.mkdtemp(prefix="bench-snapshot-"))
        variants = {
            "separate fetch runs (7 processes)": lambda: separate_fetches(sb, tmp / "fetch"),
            "lucidframes snapshot (1 process)": lambda: one_snapshot(sb, tmp / "snap"),
            "library: load + export per table": lambda: library_loads(sb, tmp / "lib"),
            "library: lf.snapshot": lambda: library_snapshot(sb, tmp / "libsnap"),
        }
        for folder in ("fetch", "lib", "libsnap"):
            (tmp / folder).mkdir()
        best = interleaved(reps, variants)
    base = best["separate fetch runs (7 processes)"][0]
    lib_base = best["library: load + export per table"][0]
    row("", "time      vs fetch runs   vs bound")
    for label, (wall, _cpu, _) in best.items():
        against = lib_base if label.startswith("library") else base
        row(label, f"{wall:7.3f} s  {base / wall if against is base else lib_base / wall:6.2f}x faster"
            f"  {wall / bound:5.2f}x")  # fmt: skip
    print(f"  latency bound: {bound:.3f} s ({trips} round trips of {latency * 1000:.0f} ms)")
    print("  (library rows compare with 'library: load + export per table', the CLI rows with the fetch runs)\n")


def memory_child(conn: Any, variant: str, address: tuple[str, str, str], out: str, batch_rows: int) -> None:
    """In a fresh process: the peak RSS growth of one way of writing products to Parquet, and the frame's size."""
    sb = SimpleNamespace(url=address[0], client_id=address[1], client_secret=address[2])
    import pyarrow.parquet  # noqa: F401 - imported before the measurement, as a warm process has it

    import lucidframes.pipelines.table

    lucidframes.pipelines.table.BATCH_ROWS = batch_rows

    with lf_client(sb, rate_limits=None) as client:  # warm up the code paths on a small table
        lf.snapshot(client, Path(out) / "warm", ["brands"])
        client.load("brands")
    before = reset_peak_rss()
    t0 = time.perf_counter()
    with lf_client(sb, rate_limits=None) as client:
        if variant == "snapshot":
            lf.snapshot(client, Path(out) / "snap", ["products"])
        else:
            lf.export(client.load("products"), Path(out) / "products.parquet")
    wall = time.perf_counter() - t0
    after = status_kb("VmHWM")
    conn.send((None if before is None or after is None else (after - before) * 1024, wall))
    conn.close()


def part_memory(args: Any) -> None:
    rows = 20_000 if args.quick else args.rows
    print(f"## memory: {rows:,} products in pages of 1,000 written to Parquet (batches of {args.batch_rows:,} rows)")
    ctx = mp.get_context("spawn")
    with sandbox(args.in_process, sizes={"products": rows}, page_size=1000, rate_limits=None) as sb:
        address = (sb.url, sb.client_id, sb.client_secret)
        results = {}
        out = tempfile.mkdtemp(prefix="bench-snapshot-mem-")
        for variant in ("load + export", "snapshot"):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=memory_child, args=(there, variant, address, out, args.batch_rows))
            proc.start()
            results[variant] = here.recv()
            proc.join()
        frame = pd.read_parquet(Path(out) / "snap" / "products.parquet")
        deep = int(frame.memory_usage(deep=True).sum())
    row("", "peak RSS growth   x frame   wall")
    for variant, (growth, wall) in results.items():
        if growth is None:
            row(variant, "n/a (no /proc/self/clear_refs)")
            continue
        row(variant, f"{growth / 2**20:8.1f} MB      {growth / deep:5.2f}x    {wall:.2f} s")
    print(f"  final frame: {len(frame):,} rows, memory_usage(deep=True) {deep / 2**20:.1f} MB (target: snapshot <= 3x)")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--latency", type=float, default=0.05, help="seconds per API request (default 0.05)")
    p.add_argument("--rows", type=int, default=120_000, help="products for the memory part (default 120,000)")
    p.add_argument("--batch-rows", type=int, default=None, help="rows the snapshot writes at a time")
    p.add_argument("--memory-only", action="store_true", help="only the memory part")
    args = p.parse_args()
    from lucidframes.pipelines.table import BATCH_ROWS

    args.batch_rows = args.batch_rows or BATCH_ROWS
    header("bench_snapshot", {"latency": args.latency, "rows": args.rows, "batch_rows": args.batch_rows,
                              "quick": args.quick})  # fmt: skip
    if not args.memory_only:
        part_time(args)
    part_memory(args)


if __name__ == "__main__":
    main()
