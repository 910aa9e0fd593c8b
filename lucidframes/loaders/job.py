"""Background jobs: ``background=True`` on ``load``, ``lookup``, ``lf.load``, ``lf.lookup`` and ``lf.snapshot``.

::

    job = client.lookup("items", lucid_ids, background=True)   # returns at once; the kernel stays free
    job                     # in Jupyter: its own live bar (ipywidgets), the countdown of a wait, a Stop button
    job.status              # one line: "items: 60/150 ids, rows=60, wait=rate limited · next request in 42 s"
    job.stop()              # ends within a second, keeping what was fetched
    job.partial             # the rows so far
    df = job.result()       # the frame, or the typed error (with .partial and .resume)
    df = await job          # in an async cell

The work runs in a daemon thread with its own Stop event, reporting to a ``Watch`` (``loaders.progress``): the
run's progress is the same object a tqdm bar draws, so ``status`` is the bar's own text. Jobs of one client share
its transport, so its limiter: two jobs never exceed the API's limit together.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from lucidframes.errors import DrainInterrupted, DrainStopped, LookupInterrupted
from lucidframes.loaders.progress import TICK, Watch, watching

__all__ = ["STOP_WAIT", "Job"]

STOP_WAIT = 2.0  # seconds stop() waits for the job to end (it ends within one; a slow machine gets some slack)


class Job:
    """Work running in the background: watch it (``status``, its bar), stop it, and collect its result.

    Args:
        name: what it fetches (the endpoint, or "snapshot").
        work: the call to run; it must end soon after ``stop`` is set.
        stop: the event that stops it (a new one when omitted).
        kind: "load", "lookup" or "snapshot" (which interrupt a Ctrl-C during ``result()`` raises).
    """

    def __init__(
        self, name: str, work: Callable[[], Any], *, stop: threading.Event | None = None, kind: str = "load"
    ) -> None:
        self.name = name
        self.kind = kind
        self.stop_event = stop if stop is not None else threading.Event()
        self._watch = Watch()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Job], None]] = []
        self._widget: Any = None
        self._thread = threading.Thread(target=self._run, args=(work,), name=f"lucidframes-job-{name}", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], Any]) -> None:
        with watching(self._watch):
            try:
                self._value = work()
            except BaseException as exc:  # kept for result(): the typed error with .partial and .resume
                self._error = exc
        with self._lock:
            self._done.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            self._call(callback)

    def _call(self, callback: Callable[[Job], None]) -> None:
        with contextlib.suppress(Exception):  # a watcher's failure (a closed event loop) is not the job's
            callback(self)

    # -- watching ---------------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether the job has ended (finished, failed or stopped)."""
        return self._done.is_set()

    @property
    def state(self) -> str:
        """``running``, ``done``, ``stopped`` or ``failed``."""
        if not self.done:
            return "running"
        if self._error is None:
            return "done"
        return "stopped" if isinstance(self._error, DrainStopped) else "failed"

    @property
    def status(self) -> str:
        """One line: the run's progress as its bar says it (then how it ended, once it has)."""
        progress = self._watch.progress
        line = progress.status if progress is not None else f"{self.name}: starting"
        if not self.done:
            return line
        state = self.state
        return f"{line} · {state if state != 'failed' else f'failed: {type(self._error).__name__}'}"

    @property
    def progress(self) -> Any:
        """The run's progress (``DrainProgress``: counts, rate, postfix), None before the run has started."""
        return self._watch.progress

    @property
    def partial(self) -> Any:
        """The rows so far: while running, what has arrived; after a failure or Stop, the error's ``.partial``."""
        if self.done:
            return self._value if self._error is None else getattr(self._error, "partial", None)
        progress = self._watch.progress
        source = getattr(progress, "partial", None)
        return source() if callable(source) else None

    def add_done_callback(self, callback: Callable[[Job], None]) -> None:
        """Call ``callback(job)`` once the job has ended (at once when it has)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        self._call(callback)

    # -- stopping and collecting ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the job: it ends within a second, keeping what was fetched (``partial``, or ``result()``'s error)."""
        self.stop_event.set()
        self._done.wait(STOP_WAIT)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True once it has."""
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> Any:
        """The job's result: the frame (or manifest), or its error raised (with ``.partial`` and ``.resume``).

        Args:
            timeout: seconds to wait at most (None: until it ends).

        Returns:
            What the blocking call returns.

        Raises:
            TimeoutError: still running after ``timeout`` seconds.
            DrainInterrupted: Ctrl-C while waiting: the job is stopped, and what it fetched is kept
                (``LookupInterrupted`` for a look-up).
        """
        try:
            ended = self._wait_interruptibly(timeout)
        except KeyboardInterrupt:
            self.stop()
            raise self._interrupted() from None
        if not ended:
            raise TimeoutError(f"The job is still running after {timeout:g} s ({self.status}).")
        if self._error is not None:
            raise self._error
        return self._value

    def _wait_interruptibly(self, timeout: float | None) -> bool:
        """Wait in short steps, so a Ctrl-C in the waiting thread is seen at once."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.wait(TICK):
            if deadline is not None and time.monotonic() >= deadline:
                return False
        return True

    def _interrupted(self) -> DrainInterrupted:
        """The interrupt a Ctrl-C during ``result()`` raises, carrying what the stopped job kept."""
        error = self._error
        kind = LookupInterrupted if self.kind == "lookup" else DrainInterrupted
        what = "look-up" if self.kind == "lookup" else "drain" if self.kind == "load" else "snapshot"
        return kind(
            f"The {what} of {self.name!r} was interrupted.",
            partial=getattr(error, "partial", None),
            resume=getattr(error, "resume", None),
        )

    def __await__(self) -> Generator[Any, None, Any]:
        return self._wait_async().__await__()

    async def _wait_async(self) -> Any:
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not ended.done():
                ended.set_result(None)

        def wake(_job: Job) -> None:
            loop.call_soon_threadsafe(settle)

        self.add_done_callback(wake)
        try:
            await ended
        except asyncio.CancelledError:  # the awaiting cell was interrupted: stop the job too
            self.stop()
            raise
        return self.result()

    # -- display ----------------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Job {self.status}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """In Jupyter: a live bar (ipywidgets) with the countdown and a Stop button; elsewhere the status line."""
        box = self.widget()
        bundle = box._repr_mimebundle_(**kwargs) if box._repr_mimebundle_ is not None else {}
        return {**bundle, "text/plain": repr(self)}

    def widget(self) -> Any:
        """The job's own widget (made on first use), moved by a thread of its own until the job ends."""
        if self._widget is None:
            from lucidframes.loaders.job_widget import JobWidget  # ipywidgets loads only when a job is shown

            self._widget = JobWidget(self)
        return self._widget.box
