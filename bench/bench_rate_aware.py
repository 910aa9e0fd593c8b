"""Rate-aware work: plan estimate vs measured time, a warm cache vs the cold run, requests of a resumed look-up.

    python bench/bench_rate_aware.py [--quick] [--in-process] [--latency S] [--workers N]

(a) ``client.plan(...)`` then the run it plans, on a sandbox whose limit and the client's are both 120 requests a
    minute: a drain (its own window, 20 per 10 s, so that it is rate-bound in 30 s) and 300 look-ups (120 per 60 s).
    The estimate is printed next to the measured wall-clock time of the run (target: within 15%).
(b) The same calls again with the cache warm (``max_age="1h"``): best of 5, against the cold run of (a)
    (target: >= 100x faster); the sandbox's log shows how many requests the warm runs sent (target: 0).
(c) A look-up of 300 ids with a checkpoint, ended part way three ways (the server failing one id until the retry
    policy gives up; Ctrl-C, i.e. SIGINT to a child process; SIGKILL to it), then re-run: the requests the server
    answered overall, against the minimum (one per id, plus the failed attempts of the give-up). Target: equal for
    the give-up and Ctrl-C; after SIGKILL the answers in flight are lost (at most ``workers`` ids twice).
Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import header, lf_client, parser, row, sandbox

import lucidframes as lf
from lucidframes.sandbox import data as datasets

ITEMS = "/api/v1.5/items/"


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def api_count(sb: Any, prefix: str = "/api/") -> int:
    return sum(1 for e in sb.log if e.path.startswith(prefix))


def part_a_b(args: Any, cfg: dict[str, Any], ids: list[str], cache_dir: str) -> list[tuple[str, float, float, float]]:
    """(a) and (b): plans, cold runs, warm runs. Returns rows (label, estimate, cold, warm)."""
    out: list[tuple[str, float, float, float]] = []
    drain_limit, lookup_limit = cfg["drain_limit"], cfg["lookup_limit"]
    with sandbox(
        args.in_process,
        sizes={"products": cfg["products"]},
        page_size=cfg["page_size"],
        latency=args.latency,
        rate_limits={"source": drain_limit},
    ) as sb:
        # the drain: its client limited like the server
        with lf_client(sb, rate_limits={"source": drain_limit}, workers=args.workers, cache=cache_dir) as client:
            plan = client.plan("products")
            print(f"  plan: {plan!r}")
            cold, df = timed(lambda: client.load("products", max_age="1h"))
            sb.clear_log()
            warm = min(timed(lambda: client.load("products", max_age="1h"))[0] for _ in range(5))
            print(f"  drain: {len(df)} rows; warm runs sent {api_count(sb)} API requests")
            out.append((f"drain, {plan.requests} requests at {plan.rate}", plan.seconds, cold, warm))
        sb.set_rate_limits({"source": lookup_limit})  # a fresh window for the look-ups
        with lf_client(sb, rate_limits={"source": lookup_limit}, workers=args.workers, cache=cache_dir) as client:
            plan = client.plan("items", ids)
            print(f"  plan: {plan!r}")
            cold, df = timed(lambda: client.lookup("items", ids, max_age="1h"))
            sb.clear_log()
            warm = min(timed(lambda: client.lookup("items", ids, max_age="1h"))[0] for _ in range(5))
            print(f"  look-up: {dict(Counter(df['_status']))}; warm runs sent {api_count(sb)} API requests")
            out.append((f"{len(ids)} look-ups at {plan.rate}", plan.seconds, cold, warm))
    return out


_CHILD = textwrap.dedent(
    """
    import json, sys
    import lucidframes as lf
    url, cid, secret, path, workers = sys.argv[1:6]
    ids = json.loads(sys.argv[6])
    with lf.Client(url, cid, secret, progress=False, rate_limits=None, workers=int(workers)) as client:
        try:
            client.lookup("items", ids, checkpoint=path)
            print("complete")
        except lf.LookupInterrupted as exc:
            print(f"interrupted with {len(exc.resume.rows)} ids done")
    """
)


def _stop_child_part_way(sb: Any, ids: list[str], path: Path, workers: int, sig: int) -> str:
    """Run a look-up in a child process; send it ``sig`` once a third of the ids are in its checkpoint."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, sb.url, sb.client_id, sb.client_secret, str(path), str(workers),
         json.dumps(ids)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not path.exists() or path.read_text().count("\n") < len(ids) // 3):
        time.sleep(0.01)
    child.send_signal(sig)  # our own child, by its handle
    out, _ = child.communicate(timeout=60)
    return out.strip() or f"killed ({signal.Signals(sig).name})"


def part_c(args: Any, ids: list[str]) -> list[tuple[str, int, int, str]]:
    """(c): requests answered overall by a look-up ended part way and re-run, against the minimum."""
    results: list[tuple[str, int, int, str]] = []
    with sandbox(True, latency=args.latency, rate_limits=None) as sb, tempfile.TemporaryDirectory() as tmp:
        # 1. the server fails one id until the policy gives up (6 attempts), then the re-run
        path = Path(tmp) / "giveup.jsonl"
        sb.fault(f"{ITEMS}{ids[len(ids) // 3]}/", status=503, times=6)
        with lf_client(sb, rate_limits=None, workers=args.workers, sleep=lambda s: None) as client:
            try:
                client.lookup("items", ids, checkpoint=path)
                note = "did not give up"
            except lf.ServerError as exc:
                note = f"gave up with {len(exc.resume.rows)} ids done"
            client.lookup("items", ids, checkpoint=path)
        results.append(("server failing one id (give-up), re-run", api_count(sb, ITEMS), len(ids) + 6, note))
        # 2. and 3. Ctrl-C and SIGKILL of a child process, then the re-run here
        for label, sig in (("Ctrl-C (SIGINT) of a child, re-run", signal.SIGINT),
                           ("SIGKILL of a child, re-run", signal.SIGKILL)):  # fmt: skip
            sb.clear_log()
            path = Path(tmp) / f"{sig}.jsonl"
            note = _stop_child_part_way(sb, ids, path, args.workers, sig)
            with lf_client(sb, rate_limits=None, workers=args.workers) as client:
                client.lookup("items", ids, checkpoint=path)
            results.append((label, api_count(sb, ITEMS), len(ids), note))
    return results


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--latency", type=float, default=0.02, help="seconds per API request (default: %(default)s)")
    p.add_argument("--workers", type=int, default=8, help="lucidframes workers (default: %(default)s)")
    args = p.parse_args()
    cfg: dict[str, Any] = (
        {"products": 150, "page_size": 10, "drain_limit": (10, 5.0), "lookup_limit": (40, 20.0), "ids": 100}
        if args.quick
        else {"products": 600, "page_size": 10, "drain_limit": (20, 10.0), "lookup_limit": (120, 60.0), "ids": 300}
    )
    header(
        "Rate-aware work: plan vs measured, warm cache vs cold, requests of a resumed look-up",
        {
            "drain": f"{cfg['products']} products in pages of {cfg['page_size']}, limit {cfg['drain_limit']}",
            "look-ups": f"{cfg['ids']} items, limit {cfg['lookup_limit']}",
            "limits": "server and client alike",
            "workers": args.workers,
            "latency_s": args.latency,
            "sandbox": "in-process" if args.in_process else "child process (parts a, b); in-process (part c)",
        },
    )
    # the sandbox's data follows from its seed and sizes: the same ids here as in the server
    ids = [r["uuid"] for r in datasets.cached(0, {"products": cfg["products"]})["items"][: cfg["ids"]]]
    with tempfile.TemporaryDirectory() as cache_dir:
        ab = part_a_b(args, cfg, ids, cache_dir)
    print()
    print("(a) plan vs measured (target: within 15%)   (b) warm cache vs cold (target: >= 100x)")
    row("", "estimate", "  measured", " est/meas", "   warm (best of 5)", " cold/warm")
    for label, est, cold, warm in ab:
        ratio, speedup = f"{est / cold:8.2f}x", f"{cold / warm:9.0f}x"
        row(label, f"{est:7.2f} s", f"{cold:8.2f} s", ratio, f"{warm * 1000:12.1f} ms", speedup)
    c = part_c(args, [r["uuid"] for r in datasets.cached(0, None)["items"][: cfg["ids"]]])
    print()
    print("(c) requests answered overall (the ended run + the re-run) vs the minimum (target: equal)")
    row("", "requests", " minimum", " ratio", "  the ended run")
    for label, got, minimum, note in c:
        row(label, f"{got:8d}", f"{minimum:8d}", f"{got / minimum:5.2f}x", f"  {note}")


if __name__ == "__main__":
    main()
