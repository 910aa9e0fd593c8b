"""Shared parts of the loader benchmarks: the sandbox (in a child process or in this one), the baseline loop that
analysts write today (plain ``requests``), timing and the header every script prints.

By default the sandbox runs in a child process (``multiprocessing``, spawn) so that its HTTP and JSON work does not
compete for this process's GIL: a real API runs on another machine, and what the benchmarks measure is the client.
``--in-process`` runs it as a thread of the benchmark instead (the way the tests do), which charges the server's CPU
to whichever side is running. Either way it is ``lucidframes.sandbox.serve`` on 127.0.0.1, and ``sb.log`` works.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import platform
import shlex
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import lucidframes as lf

PRODUCTS_PATH = "/api/v1.5/products/"


# -- the sandbox ------------------------------------------------------------------------------------------------


def _serve_child(conn: Any, kwargs: dict[str, Any]) -> None:
    """Child process: run ``serve(**kwargs)``, send its address, then answer attribute calls until told to stop."""
    from lucidframes.sandbox import serve

    with serve(**kwargs) as sb:
        conn.send((sb.url, sb.client_id, sb.client_secret))
        while True:
            name, args, call = conn.recv()
            if name is None:
                break
            try:
                value = getattr(sb, name)
                conn.send(("ok", value(*args) if call else value))
            except Exception as exc:  # report it to the parent rather than dying silently
                conn.send(("error", repr(exc)))
    conn.close()


class RemoteSandbox:
    """A sandbox served by a child process; ``log``, ``clear_log()``, ``set_rate_limits(...)`` go over a pipe."""

    def __init__(self, **kwargs: Any) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_child, args=(child, kwargs), daemon=True, name="sandbox")
        self._proc.start()
        child.close()
        self.url, self.client_id, self.client_secret = self._conn.recv()

    def _ask(self, name: str, args: tuple[Any, ...] = (), call: bool = True) -> Any:
        self._conn.send((name, args, call))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"sandbox.{name}: {value}")
        return value

    @property
    def log(self) -> list[Any]:
        return self._ask("log", call=False)

    def clear_log(self) -> None:
        self._ask("clear_log")

    def set_rate_limits(self, limits: Any) -> None:
        self._ask("set_rate_limits", (limits,))

    def close(self) -> None:
        if self._proc.is_alive():
            self._conn.send((None, (), False))
        self._proc.join(timeout=30)
        if self._proc.is_alive():  # pragma: no cover - only our own child, by its handle
            self._proc.terminate()
            self._proc.join()


@contextmanager
def sandbox(in_process: bool, **kwargs: Any) -> Iterator[Any]:
    """The sandbox with ``serve(**kwargs)``: in a child process (default) or in this one."""
    if in_process:
        from lucidframes.sandbox import serve

        with serve(**kwargs) as sb:
            yield sb
        return
    sb = RemoteSandbox(**kwargs)
    try:
        yield sb
    finally:
        sb.close()


def statuses(sb: Any, api_only: bool = True) -> Counter[int | None]:
    """How many answers of each status the sandbox logged (API requests only by default)."""
    return Counter(e.status for e in sb.log if not api_only or e.path.startswith("/api/"))


# -- clients ----------------------------------------------------------------------------------------------------


def lf_client(sb: Any, **kwargs: Any) -> lf.Client:
    """A lucidframes Client for the sandbox: no progress bar; other options as given."""
    return lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, **kwargs)


def baseline_token(session: requests.Session, sb: Any) -> str:
    """OAuth2 client credentials, as the API guide shows it."""
    r = session.post(
        sb.url + "/o/token/",
        data={"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def baseline_drain(sb: Any, path: str = PRODUCTS_PATH) -> tuple[pd.DataFrame, int]:
    """What analysts write today: a token, then follow ``next`` one page at a time, then one DataFrame.

    Returns:
        The DataFrame and the number of pages fetched.
    """
    with requests.Session() as session:
        session.headers["Authorization"] = "Bearer " + baseline_token(session, sb)
        url: str | None = sb.url + path
        records: list[dict[str, Any]] = []
        pages = 0
        while url:
            r = session.get(url, timeout=60)
            r.raise_for_status()
            payload = json.loads(r.content)
            records.extend(payload["results"])
            url = payload["next"]
            pages += 1
    return pd.DataFrame(records), pages


def threaded_drain(sb: Any, workers: int, path: str = PRODUCTS_PATH) -> tuple[pd.DataFrame, int]:
    """A reference, not what analysts write: the least a concurrent client does (page 1, then pages 2..N from a
    ThreadPoolExecutor of plain ``requests`` calls on one session, then one DataFrame), with no checks at all.
    It shows how much of a concurrent drain's time is the server and the transport rather than lucidframes."""
    with requests.Session() as session:
        session.headers["Authorization"] = "Bearer " + baseline_token(session, sb)
        url = sb.url + path

        def get(page: int) -> list[dict[str, Any]]:
            r = session.get(url, params={"page": page} if page > 1 else None, timeout=60)
            r.raise_for_status()
            return list(json.loads(r.content)["results"])

        first = json.loads(session.get(url, timeout=60).content)
        pages = -(-first["count"] // len(first["results"])) if first["results"] else 1
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rest = list(pool.map(get, range(2, pages + 1)))
    return pd.DataFrame([r for page in [first["results"], *rest] for r in page]), pages


# -- measuring --------------------------------------------------------------------------------------------------


def interleaved(reps: int, variants: dict[str, Callable[[], Any]]) -> dict[str, tuple[float, float, Any]]:
    """Run every variant once per round, ``reps`` rounds (so a busy moment of the machine hits all of them alike).

    Returns:
        Per variant: the minimum wall time, the minimum CPU time of this process, and the last result.
    """
    best: dict[str, tuple[float, float, Any]] = {}
    for _ in range(reps):
        for label, fn in variants.items():
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            result = fn()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            old = best.get(label, (float("inf"), float("inf"), None))
            best[label] = (min(wall, old[0]), min(cpu, old[1]), result)
            del result
    return best


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a smaller run (well under 30 s)")
    p.add_argument("--in-process", action="store_true", help="serve the sandbox from a thread of this process")
    return p


def header(title: str, params: dict[str, Any]) -> None:
    """The command line, the parameters and the machine."""
    print(f"# {title}")
    print("$ " + shlex.join([Path(sys.executable).as_posix(), *sys.argv]))
    print(
        f"machine: nproc={os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), load average "
        f"{os.getloadavg()[0]:.2f} at start, {platform.machine()}, "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"lucidframes {lf.__version__}, pandas {pd.__version__}, requests {requests.__version__}"
    )
    print("params: " + ", ".join(f"{k}={v}" for k, v in params.items()))
    print()


def row(label: str, *cells: str) -> None:
    print(f"  {label:<44}" + "  ".join(cells))


def profile_all_threads(fn: Callable[[], Any], path: str | Path, top: int = 20) -> Any:
    """Run ``fn`` under cProfile in this thread and in every thread it starts; dump the merged stats to ``path``.

    Worker threads wait a lot: ``acquire`` of locks and ``wait`` are waiting, not work. Read ``tottime``.
    """
    import cProfile
    import pstats
    import threading

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(*_: Any) -> None:  # the first event of a new thread: switch it to a real profiler
        prof = cProfile.Profile()
        with lock:
            profiles.append(prof)
        prof.enable()

    main = cProfile.Profile()
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        result = fn()
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
    stats = pstats.Stats(main)
    for prof in profiles:
        prof.disable()
        stats.add(prof)
    stats.dump_stats(str(path))
    print(f"profile written to {path} (pstats; all threads merged). Top {top} by own time:")
    stats.sort_stats("tottime").print_stats(top)
    return result


def status_kb(field: str) -> int | None:
    """A field of /proc/self/status in kB (VmRSS, VmHWM), or None where there is no such file."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration, ValueError):
        return None


def reset_peak_rss() -> int | None:
    """Reset the peak resident set (VmHWM) to the current one (Linux); the current VmRSS in kB, or None."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return None
    return status_kb("VmRSS")
