"""A background job's own live bar in Jupyter (ipywidgets): the ids or pages done, the status line with its
countdown, and a Stop button. Made when a ``Job`` is shown; a thread of its own moves it every ``TICK`` seconds
until the job ends, so the bar moves without any cell running.
"""

from __future__ import annotations

import html
import threading
from typing import TYPE_CHECKING

import ipywidgets as widgets

from lucidframes.loaders.progress import TICK

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.loaders.job import Job

__all__ = ["JobWidget"]

_STYLES = {"running": "", "done": "success", "stopped": "warning", "failed": "danger"}


class JobWidget:
    """The widgets of one job (``box``), kept up to date from its status."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.bar = widgets.IntProgress(value=0, min=0, max=1, bar_style="info", layout=widgets.Layout(width="30%"))
        self.text = widgets.HTML()
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="warning")
        self.stop_button.on_click(self._on_stop)
        self.box = widgets.HBox([self.bar, self.stop_button, self.text])
        self.box.add_class("lucidframes-job")
        self.update()
        job.add_done_callback(lambda _job: self.update())
        if not job.done:
            threading.Thread(target=self._follow, name="lucidframes-job-widget", daemon=True).start()

    def _on_stop(self, _button: object = None) -> None:
        """Ask the job to stop (the bar says so when it has)."""
        self.job.stop_event.set()
        self.stop_button.disabled = True

    def _follow(self) -> None:
        while not self.job.wait(TICK):
            self.update()

    def update(self) -> None:
        """Move the bar and the line to what the job says now."""
        job, progress = self.job, self.job.progress
        total = getattr(progress, "total", None)
        done = int(getattr(progress, "pages", 0) or 0)
        if total:
            self.bar.max, self.bar.value = max(total, 1), min(done, max(total, 1))
            self.bar.bar_style = _STYLES[job.state]
        else:  # indeterminate until the total is known
            self.bar.max, self.bar.value = 1, 1
            self.bar.bar_style = "info" if job.state == "running" else _STYLES[job.state]
        self.text.value = f"<span style='font-family:monospace'>{html.escape(job.status, quote=False)}</span>"
        self.stop_button.disabled = job.done or self.job.stop_event.is_set()
