"""``lucidframes sandbox``: run the sandbox in the foreground and print how to point a client at it."""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
import sys
import threading
from collections.abc import Sequence
from typing import Any

from lucidframes.sandbox.data import DEFAULT_SIZES
from lucidframes.sandbox.options import SandboxOptions
from lucidframes.sandbox.server import Sandbox
from lucidframes.sandbox.throttle import parse_limits

DEFAULT_PORT = 8765  # fixed, so that exported variables survive a restart; --port 0 picks a free one
FAULT_RE = re.compile(r"(?P<path>.+):(?P<status>\d{3})(?::(?P<times>\d+))?")


def parser() -> argparse.ArgumentParser:
    """The command's options."""
    p = argparse.ArgumentParser(
        prog="lucidframes sandbox",
        description="Serve a local imitation of the Lucid Green API with seeded data, until Ctrl-C.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port, 0 for any free one (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data (default: %(default)s)")
    p.add_argument("--page-size", type=int, default=100, help="rows per page of list endpoints (default: %(default)s)")
    for name, value in DEFAULT_SIZES.items():
        hint = " of each type" if name == "assets" else ""
        p.add_argument(f"--{name}", type=int, metavar="N", help=f"number of {name}{hint} (default: {value})")
    p.add_argument("--token-lifetime", type=float, default=36000, metavar="SECONDS", help="(default: %(default)s)")
    limits = p.add_mutually_exclusive_group()
    limits.add_argument("--rate-limit", metavar="SPEC", help='e.g. "source=60/60,retail=1000/60" (requests/seconds)')
    limits.add_argument("--no-rate-limit", action="store_true", help="turn rate limiting off")
    p.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="delay before each API answer")
    p.add_argument("--error-rate", type=float, default=0.0, metavar="RATE", help="fraction of API requests that get "
                   "a random 500/502/503/504")  # fmt: skip
    p.add_argument("--fault", action="append", default=[], metavar="PATH:STATUS[:TIMES]",
                   help="the next TIMES (default 1) requests matching PATH answer STATUS; repeatable")  # fmt: skip
    p.add_argument("--client-id", help="client id to accept (default: sandbox-client)")
    p.add_argument("--client-secret", help="client secret to accept (default: derived from the seed)")
    return p


def build(args: argparse.Namespace) -> Sandbox:
    """A Sandbox (not started) configured from parsed options; ValueError for bad values."""
    sizes = {name: getattr(args, name) for name in DEFAULT_SIZES if getattr(args, name) is not None}
    limits: Any = None if args.no_rate_limit else (parse_limits(args.rate_limit) if args.rate_limit else "default")
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(SandboxOptions) if hasattr(args, f.name)}
    sandbox = Sandbox(SandboxOptions(**{**given, "sizes": sizes, "rate_limits": limits}))
    for spec in args.fault:
        match = FAULT_RE.fullmatch(spec)
        if not match:
            raise ValueError(f"bad --fault {spec!r}: expected PATH:STATUS[:TIMES], e.g. /api/v1.5/products/:503:2")
        sandbox.fault(match["path"], status=int(match["status"]), times=int(match["times"] or 1))
    return sandbox


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until interrupted: 0 after Ctrl-C, 2 on bad options or a port that cannot be bound."""
    try:
        args = parser().parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help (0) or a usage error (2): an exit code, as the other commands return
        return exc.code if isinstance(exc.code, int) else 2
    try:
        sandbox = build(args)
        sandbox.start()
    except (ValueError, OSError) as exc:
        print(f"lucidframes sandbox: {exc}", file=sys.stderr)
        if isinstance(exc, OSError):
            print("Try another --port (0 picks a free one).", file=sys.stderr)
        return 2
    try:
        exports = {"LUCID_BASE_URL": sandbox.url, "LUCID_CLIENT_ID": sandbox.client_id,
                   "LUCID_CLIENT_SECRET": sandbox.client_secret}  # fmt: skip
        print(f"url: {sandbox.url}")
        print(f"client id: {sandbox.client_id}")
        print(f"client secret: {sandbox.client_secret}")
        print("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in exports.items()), flush=True)
        print("Serving the Lucid Green API sandbox; press Ctrl-C to stop.", file=sys.stderr, flush=True)
        forever = threading.Event()
        while not forever.wait(3600):
            pass
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
    finally:
        sandbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
