"""Shared fixtures: sandboxes on 127.0.0.1, fresh for each test and stopped after it.

The suite runs on pytest-xdist workers (``-n auto`` in pyproject's addopts), so every test may run next to any
other, in another process, in any order. What keeps that safe: servers bind port 0 (the sandbox's default, JupyterLab
a free port), files go under ``tmp_path`` (never the repository or a fixed path in /tmp), and session- or
module-scoped fixtures hold nothing a test changes (they are built once per worker). ``pytest -n0`` runs everything in
one process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import lucidframes as lf
from lucidframes.sandbox import Sandbox, serve

# Tests that share an expensive module fixture, kept on one pytest-xdist worker: node id prefix -> group name.
# pytest-xdist's xdist_group mark is meant for this, but it groups nothing on pytest 9.2 (pytest-xdist#1386: the mark
# renames node ids, which pytest 9.2 no longer allows), so --dist loadgroup reads this table instead.
XDIST_GROUPS = {
    "tests/test_kernel.py::": "kernel",  # one kernel runs the notebook that its tests read
}


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadgroup, with the groups of XDIST_GROUPS; every other test goes to whichever worker is free."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class Grouped(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = next((g for prefix, g in XDIST_GROUPS.items() if nodeid.startswith(prefix)), None)
            return f"group:{group}" if group else super()._split_scope(nodeid)

    return Grouped(config, log)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox with the default seed and data, rate limiting off."""
    with serve(rate_limits=None) as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with any ``serve()`` options (rate limiting off unless given); all stopped after the test."""
    started: list[Sandbox] = []

    def start(**options: Any) -> Sandbox:
        options.setdefault("rate_limits", None)
        sb = serve(**options)
        started.append(sb)
        return sb

    yield start
    for sb in started:
        sb.close()


# -- client fixtures (the lead's): a Client on the sandbox whose sleep hook records waits ------------------------


class Recorder:
    """A sleep hook that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(sandbox, recorder):
    """A Client on the sandbox with client credentials, recorded waits and no client-side rate limit."""
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, rate_limits=None,
                   progress=False) as c:  # fmt: skip
        yield c


@pytest.fixture
def sandbox_client(sandbox_factory, recorder):
    """Make (sandbox, client) pairs: sandbox options and Client options in one call."""
    client_keys = {"retry", "timeout", "workers", "rate_limits", "api_prefixes"}

    def make(**kwargs):
        client_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in client_keys}
        client_kwargs.setdefault("rate_limits", None)
        sb = sandbox_factory(**kwargs)
        return sb, lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, progress=False, **client_kwargs)

    return make
