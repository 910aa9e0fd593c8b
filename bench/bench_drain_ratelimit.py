"""Rate-limited drain: total time against the bound the server's limit sets, and the 429s it took.

    python bench/bench_drain_ratelimit.py [--quick] [--in-process]

The sandbox allows ``limit`` API requests per ``window`` seconds (a sliding window, as DRF throttles; the token
endpoint is not throttled). A drain of R pages cannot finish before its last request may go:
``bound = (ceil(R / limit) - 1) x window + latency``. Printed: lucidframes with its limiter set to the server's
limit (target: within 1.2x of the bound, and no more 429s than the limit forces, i.e. none), then the same drain
with the client's limiter off (what the limiter saves: 429s answered, retries, time). Nothing is asserted.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from _common import header, lf_client, parser, row, sandbox

import lucidframes as lf


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--latency", type=float, default=0.0, help="seconds per API request (default: %(default)s)")
    p.add_argument("--workers", type=int, default=8, help="lucidframes workers (default: %(default)s)")
    args = p.parse_args()
    limit, window, pages = (10, 1.0, 40) if args.quick else (20, 2.5, 100)
    reps = 1 if args.quick else 3
    page_size = 100
    products = pages * page_size
    bound = (math.ceil(pages / limit) - 1) * window + args.latency
    header(
        "Rate-limited drain (lucidframes' limiter vs the server's sliding window)",
        {
            "products": products,
            "page_size": page_size,
            "pages (API requests)": pages,
            "server limit": f"source={limit}/{window}s",
            "client limit": f"the same ({limit}, {window})",
            "workers": args.workers,
            "latency_s": args.latency,
            "reps": f"best of {reps}",
            "sandbox": "in-process" if args.in_process else "child process",
        },
    )
    server_limits = {"source": (limit, window)}
    with sandbox(
        args.in_process,
        sizes={"products": products},
        page_size=page_size,
        latency=args.latency,
        rate_limits=server_limits,
    ) as sb:

        def drain(client_limits: Any) -> tuple[float, dict[str, Any]]:
            sb.set_rate_limits(server_limits)  # a fresh window: no history from the previous run
            sb.clear_log()
            sent: dict[str, float] = {}  # query -> when the client sent the request that was answered 200

            def hook(response: Any, *a: Any, **k: Any) -> None:
                if response.status_code == 200 and "/api/" in response.url:
                    sent[urlsplit(response.url).query] = time.monotonic() - response.elapsed.total_seconds()

            with lf_client(sb, rate_limits=client_limits, workers=args.workers) as client:
                client.session.hooks["response"].append(hook)
                t0 = time.perf_counter()
                try:
                    df = client.load("products")
                    outcome = f"{len(df)} rows"
                    attrs = df.attrs["lucidframes"]
                except lf.APIError as exc:  # the limiter off can run out of retries: report, do not crash
                    outcome = f"gave up: {type(exc).__name__} with {len(exc.partial)} rows"
                    attrs = exc.partial.attrs["lucidframes"] if exc.partial is not None else {}
                elapsed = time.perf_counter() - t0
            log = [e for e in sb.log if e.path.startswith("/api/")]
            counts = Counter(e.status for e in log)
            # How long after the client sent a request the server counted it (its log time is the throttle's):
            # the limiter's window assumes this stays under its margin (50 ms).
            lags = [e.time - sent[e.query] for e in log if e.status == 200 and e.query in sent]
            return elapsed, {
                "max_lag": max(lags, default=0.0),
                "outcome": outcome,
                "429": counts.get(429, 0),
                "requests": sum(counts.values()),
                "retries": attrs.get("retries", 0),
                "throttle_wait": attrs.get("throttle_wait", 0.0),
                "retry_wait": attrs.get("retry_wait", 0.0),
            }

        runs = [drain(server_limits) for _ in range(reps)]
        t_on, on = min(runs, key=lambda r: r[0])
        t_off, off = drain(None)

    print(f"bound = (ceil({pages} / {limit}) - 1) x {window} s + {args.latency} s latency = {bound:.3f} s")
    print()
    row("", "     time", " ratio", "  429s", "requests", "retries", "waits summed over workers (limiter / Retry-After)")
    for label, t, r in (
        (f"limiter on ({limit}/{window}s), best of {reps}", t_on, on),
        ("limiter off (server limit only)", t_off, off),
    ):
        row(
            label,
            f"{t:7.3f} s",
            f"{t / bound:5.2f}x",
            f"{r['429']:6d}",
            f"{r['requests']:8d}",
            f"{r['retries']:7d}",
            f"{r['throttle_wait']:.1f} s / {r['retry_wait']:.1f} s  ({r['outcome']})",
        )
    if reps > 1:
        print("  limiter on, every rep: " + ", ".join(f"{t:.3f} s / {r['429']} x 429" for t, r in runs))
    print(
        "  longest delay from the client's send to the server counting a request (limiter on, per rep): "
        + ", ".join(f"{r['max_lag'] * 1000:.0f} ms" for _, r in runs)
        + " (the limiter's margin: 50 ms)"
    )
    print()
    print(
        f"limiter on: {t_on:.3f} s = {t_on / bound:.2f}x the bound (target <= 1.2x); "
        f"429s: {max(r['429'] for _, r in runs)} at worst over {reps} runs (target: 0)"
    )
    print(
        f"limiter off: {t_off:.3f} s = {t_off / bound:.2f}x the bound; {off['429']} x 429 "
        f"({off['429'] / max(1, off['requests']):.0%} of {off['requests']} API requests)"
    )
    print(f"the limiter saves {off['429'] - max(r['429'] for _, r in runs)} x 429 and {t_off - t_on:+.3f} s")


if __name__ == "__main__":
    main()
