"""The drain's progress bar: tqdm.auto (a widget in Jupyter, text on stderr in a terminal), total from ``count``.

The bar shows pages (its total once page 1 has told us the count), rows in the postfix, and the time spent
waiting on backoff or the rate limit, refreshed live while workers wait. ``progress=False`` or ``TQDM_DISABLE=1``
turn it off. It names the endpoint only: no URL, token or parameter value reaches it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from tqdm.auto import tqdm

__all__ = ["DrainProgress", "ProgressCallback", "WaitStats"]

# callback(done, total, rows, waited): pages (or ids) done, the total once known, rows so far, seconds waited.
# Called from the thread that runs the drain; a widget uses it to move its own bar.
ProgressCallback = Callable[[int, int | None, int, float], None]


class WaitStats:
    """Retries and waits counted across worker threads: the observer the client reports each wait to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retries = 0
        self.retry_wait = 0.0
        self.throttle_wait = 0.0

    def __call__(self, kind: str, seconds: float) -> None:
        with self._lock:
            if kind == "retry":
                self.retries += 1
                self.retry_wait += seconds
            else:
                self.throttle_wait += seconds


class DrainProgress:
    """A context manager around one tqdm bar for one drain."""

    def __init__(
        self,
        name: str,
        enabled: bool,
        *,
        total: int | None,
        stats: WaitStats,
        unit: str = "page",
        callback: ProgressCallback | None = None,
    ) -> None:
        self.stats = stats
        self.callback = callback
        self.rows = 0
        self.pages = 0
        kwargs: dict[str, Any] = {"desc": name, "unit": unit, "total": total, "leave": True}
        # tqdm reads TQDM_* variables once, at import; read ours per bar so a notebook can change its mind.
        if not enabled or os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes"):
            kwargs["disable"] = True
        self.bar = tqdm(**kwargs)

    @property
    def total(self) -> int | None:
        """The bar's total (pages), once known."""
        total = self.bar.total
        return int(total) if total is not None else None

    def __enter__(self) -> DrainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def set_total(self, total: int, done: int | None = None) -> None:
        """Set the number of pages (known after page 1) and, optionally, how many are already done."""
        self.bar.total = total
        if done is not None:
            self.bar.n = done
            self.pages = done
        self.bar.refresh()
        self._notify()

    def page_done(self, rows: int) -> None:
        """One more page fetched, with ``rows`` rows."""
        self.rows += rows
        self.pages += 1
        self.bar.update(1)
        self._postfix()
        self._notify()

    def refresh_waits(self) -> None:
        """Show the waits so far (called while workers are busy, so a long wait is visible as it happens)."""
        self._postfix()
        self._notify()

    def restart(self) -> None:
        """Start over (a re-fetch after the data changed)."""
        self.rows = 0
        self.pages = 0
        self.bar.reset(total=None)
        self._notify()

    def _notify(self) -> None:
        if self.callback is not None:
            self.callback(self.pages, self.total, self.rows, self.stats.retry_wait + self.stats.throttle_wait)

    def _postfix(self) -> None:
        waited = self.stats.retry_wait + self.stats.throttle_wait
        postfix = {"rows": self.rows}
        if waited:
            postfix["waited"] = f"{waited:.1f}s"  # type: ignore[assignment]
        if self.stats.retries:
            postfix["retries"] = self.stats.retries
        self.bar.set_postfix(postfix, refresh=False)
