"""Helpers shared by test modules (imported as ``helpers``: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import signal

import pandas as pd

from lucidframes.endpoints import ENDPOINTS
from lucidframes.loaders.frames import to_frame

PRODUCTS = "/api/v1.5/products/"


def expected(sb, name: str = "products", **params) -> pd.DataFrame:
    """The sandbox's own rows for a list endpoint, typed the way the registry types them."""
    return to_frame(sb.list_rows(name, **params), ENDPOINTS[name].columns)


def pages_requested(sb, path: str = PRODUCTS) -> list[int]:
    """The page numbers requested from a list path, in order (1 for the bare URL)."""
    out = []
    for e in sb.log:
        if e.path == path:
            query = dict(p.split("=", 1) for p in e.query.split("&") if "=" in p)
            out.append(int(query.get("page", 1)))
    return out


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test interrupts: SIGINT as a terminal's child has it.

    A shell without job control starts background jobs with SIGINT ignored; children inherit that, and Python then
    installs no KeyboardInterrupt handler, so a test run in the background would see the child ignore the signal.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
