"""The ``Sandbox``: its life cycle, its controls, and what every request goes through before the app.

Each request passes, in order: the scripted faults (checked first, as a proxy in front of the app would answer),
the latency, the random server errors, then the application (``app.App``). Every request is logged. Reading and
writing HTTP is ``httpd``'s.
"""

from __future__ import annotations

import random
import re
import threading
import time
import traceback
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from lucidframes.sandbox import data as datasets
from lucidframes.sandbox.app import App
from lucidframes.sandbox.faults import Fault, FaultBook, FaultKind, RandomErrors, RetryAfter
from lucidframes.sandbox.httpd import Backend, SandboxServer
from lucidframes.sandbox.ids import ALPHABET
from lucidframes.sandbox.messages import Headers, Request, Response, empty
from lucidframes.sandbox.options import SandboxOptions, options_from
from lucidframes.sandbox.records import Record
from lucidframes.sandbox.throttle import LimitsSpec, parse_limits

__all__ = ["LogEntry", "Sandbox", "serve"]

POLL_INTERVAL = 0.01  # how often the accept loop looks for shutdown: bounds the time close() takes


@dataclass(frozen=True)
class LogEntry:
    """One request as the sandbox saw it; ``status`` is None when the connection was dropped."""

    method: str
    path: str  # as sent, percent-encoded, without the query
    query: str  # the raw query string, without "?"
    status: int | None
    time: float  # time.monotonic() when the answer was decided
    token_valid: bool  # whether the request carried a bearer token that was valid at that moment


class Sandbox:
    """A running imitation of the Lucid Green API; see ``lucidframes.sandbox`` for the controls.

    Args:
        options: a SandboxOptions (the defaults when omitted).
        **changes: options by name (``seed=``, ``page_size=``, ``rate_limits=``, ...; see SandboxOptions).
    """

    def __init__(self, options: SandboxOptions | None = None, /, **changes: Any) -> None:
        opts = options_from(options, changes)
        self.options = opts
        self.seed = opts.seed
        self.page_size = opts.page_size
        self.host = opts.host
        self.port = opts.port
        self.client_id = opts.client_id or "sandbox-client"
        self.client_secret = opts.client_secret or _default_secret(opts.seed)
        self.app = App(
            datasets.cached(opts.seed, opts.sizes),
            seed=opts.seed,
            page_size=opts.page_size,
            token_lifetime=opts.token_lifetime,
            limits=opts.limits(),
            client_id=self.client_id,
            client_secret=self.client_secret,
        )
        self._faults = FaultBook()
        self._random_errors = RandomErrors(opts.error_rate, opts.seed)
        self._latency = 0.0
        self.set_latency(opts.latency)
        self._log: list[LogEntry] = []
        self._log_lock = threading.Lock()
        self._after: list[tuple[list[int], dict[str, Any]]] = []  # [requests left], mutate() arguments
        self._errors: list[str] = []
        self._stop = threading.Event()
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle --------------------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind and serve in a background thread."""
        if self._server is not None:
            return self
        self._stop.clear()
        backend = Backend(self._answer, self._refused, self._errors.append, self._stop)
        self._server = SandboxServer((self.host, self.port), backend)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, name=f"sandbox:{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving: close the listening socket and every open connection, and join every thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stop.set()  # wakes latency waits and slow bodies
        server.shutdown()
        server.close_connections()
        server.server_close()
        server.join_threads()
        thread.join()
        self._server = self._thread = None

    def __repr__(self) -> str:
        limits = self.app.throttle.limits
        said = ", ".join(f"{scope} {n}/{window:g}s" for scope, (n, window) in limits.items()) or "none"
        state = self.url if self._server is not None else "stopped"
        return f"<Sandbox {state} · seed {self.seed} · rate limits {said} · {len(self.log):,} requests served>"

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def data(self) -> dict[str, Any]:
        """The live dataset (see ``lucidframes.sandbox.data``); edit lists through ``mutate`` or call ``reindex``."""
        return self.app.data

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected errors inside the server (a test can assert there are none)."""
        return list(self._errors)

    # --- controls ----------------------------------------------------------------------------------------------

    def list_rows(self, resource: str, asset_type: str | None = None) -> list[Record]:
        """Exactly the rows the list endpoint serves, in order, across all pages (brands: the bare array)."""
        if resource not in datasets.LIST_FIELDS:
            raise ValueError(f"{resource!r} has no list endpoint: expected one of {', '.join(datasets.LIST_FIELDS)}")
        with self.app.lock:
            return [datasets.row(resource, r) for r in self.app._rows(resource, asset_type)]

    def fault(
        self,
        path: str | re.Pattern[str],
        status: int | None = None,
        times: int | None = 1,
        retry_after: RetryAfter = None,
        kind: FaultKind = "status",
        delay: float = 0.0,
        method: str | None = None,
        *,
        body: Any = None,
        retry_after_form: Literal["seconds", "http-date"] = "seconds",
    ) -> Fault:
        """Make the next ``times`` requests matching ``path`` fail (see ``lucidframes.sandbox.faults``)."""
        return self._faults.add(Fault(path, status, times, retry_after, kind, delay, method, body, retry_after_form))

    @property
    def faults(self) -> list[Fault]:
        """The scripted faults not used up yet."""
        return self._faults.pending()

    def clear_faults(self) -> None:
        """Forget the scripted faults not used up yet."""
        self._faults.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far becomes invalid now."""
        self.app.tokens.expire_all()

    def issue_token(self) -> str:
        """A valid token without a request to the token endpoint (for tests of the fixed-token mode)."""
        return self.app.tokens.issue(self.client_id)

    def mutate(
        self,
        resource: str,
        insert: int = 0,
        delete: int = 0,
        position: str | int = "start",
        *,
        asset_type: str | None = None,
    ) -> tuple[list[Record], list[Record]]:
        """Now: delete records, then insert new seeded ones, at "start", "end" or an index; (inserted, deleted)."""
        return self.app.mutate(resource, insert, delete, position, asset_type)

    def mutate_after(
        self,
        n_requests: int,
        resource: str,
        insert: int = 0,
        delete: int = 0,
        position: str | int = "start",
        *,
        asset_type: str | None = None,
    ) -> None:
        """Mutate once the next ``n_requests`` API requests (any under /api/) have been answered."""
        if n_requests < 1:
            raise ValueError("n_requests must be at least 1 (call mutate() to change the data now)")
        self.app._rows(resource, asset_type)  # fail now, not in a server thread, on a bad resource
        arguments = {"resource": resource, "insert": insert, "delete": delete, "position": position}
        with self.app.lock:
            self._after.append(([n_requests], {**arguments, "asset_type": asset_type}))

    def reindex(self) -> None:
        """Rebuild the detail look-ups after editing ``data`` lists by hand."""
        self.app.reindex()

    @property
    def log(self) -> list[LogEntry]:
        """A copy of the request log, oldest first."""
        with self._log_lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Empty the request log."""
        with self._log_lock:
            self._log.clear()

    def set_latency(self, seconds: float) -> None:
        """Wait this long before answering each API request."""
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self._latency = seconds

    def set_error_rate(self, rate: float, seed: int | None = None) -> None:
        """Answer this fraction of API requests with 500/502/503/504 (no body), drawn from ``seed``."""
        self._random_errors.set(rate, self.seed if seed is None else seed)

    def set_rate_limits(self, rate_limits: LimitsSpec) -> None:
        """New limits ("default", None, a dict or "source=60/60,..."); the request history starts afresh."""
        self.app.throttle.configure(parse_limits(rate_limits))

    # --- requests ----------------------------------------------------------------------------------------------

    def _record(self, method: str, path: str, query: str, status: int | None, token_valid: bool) -> None:
        """Append to the log (before the answer is written, so a client never sees an answer not yet logged)."""
        entry = LogEntry(method, path, query, status, time.monotonic(), token_valid)
        with self._log_lock:
            self._log.append(entry)

    def _refused(self, method: str, path: str, query: str, headers: Headers, status: int) -> None:
        """Log a request the server refused before reading its body (the app never saw it)."""
        self._record(method, path, query, status, self.app.client_of(headers) is not None)

    def _answer(self, request: Request) -> tuple[Response | None, Fault | None]:
        """Faults, latency, random errors, then the app; logged; counted for mutate_after."""
        api = request.path.startswith("/api/")
        valid = self.app.client_of(request.headers) is not None
        fault = self._faults.take(request.method, request.path, request.query)
        self._delay(fault, api=api)
        response = self._respond(request, fault, api=api)
        if api:
            self._count_api_request()
        self._record(request.method, request.path, request.query, response.status if response else None, valid)
        return response, fault

    def _delay(self, fault: Fault | None, *, api: bool) -> None:
        """The latency of an API request, then a fault's own delay (a slow fault spreads its delay over the body)."""
        if api and self._latency:
            self._stop.wait(self._latency)
        if fault is not None and fault.delay and fault.kind != "slow":
            self._stop.wait(fault.delay)

    def _respond(self, request: Request, fault: Fault | None, *, api: bool) -> Response | None:
        """The fault's own answer, None when it drops the connection, else a random server error or the app's."""
        if fault is not None:
            if fault.kind == "status":
                return fault.status_response(request.method)
            if fault.kind == "not_json":
                return fault.not_json_response()
            if fault.kind == "drop":
                return None
        return (self._random_errors.pick() if api else None) or self._handle(request)

    def _handle(self, request: Request) -> Response:
        """The app's answer; a bug in it is a 500 (and recorded in ``errors``), as Django would answer."""
        try:
            return self.app.handle(request)
        except Exception:
            self._errors.append(traceback.format_exc())
            return empty(500)

    def _count_api_request(self) -> None:
        """Run the mutations whose request count has run out."""
        with self.app.lock:
            due = []
            for entry in self._after:
                entry[0][0] -= 1
                if entry[0][0] == 0:
                    due.append(entry)
            for entry in due:
                self._after.remove(entry)
                self.app.mutate(**entry[1])


def _default_secret(seed: int) -> str:
    """A deterministic, obviously-sandbox client secret (not a real secret: printing it is fine)."""
    return "sandbox-secret-" + "".join(random.Random(f"secret:{seed}").choices(ALPHABET, k=24))


def serve(options: SandboxOptions | None = None, /, **changes: Any) -> Sandbox:
    """Start a sandbox in the background and return it; use it as a context manager to stop it.

    Args:
        options: a SandboxOptions (the defaults when omitted).
        **changes: options by name, replacing those of ``options`` (``serve(seed=1, rate_limits=None)``).

    Returns:
        The started Sandbox.
    """
    return Sandbox(options, **changes).start()
