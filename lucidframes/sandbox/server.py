"""The sandbox's HTTP server (standard library, threads, HTTP/1.1 keep-alive) and the ``Sandbox`` controls.

Each request passes, in order: the scripted faults (checked first, as a proxy in front of the app would answer),
the latency, the random server errors, then the application (``app.App``). Every request is logged.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

from lucidframes.sandbox import data as datasets
from lucidframes.sandbox.app import App
from lucidframes.sandbox.faults import Fault, FaultBook, FaultKind, RandomErrors, RetryAfter
from lucidframes.sandbox.ids import ALPHABET
from lucidframes.sandbox.messages import JSON_TYPE, Request, Response, detail, empty, encode
from lucidframes.sandbox.options import SandboxOptions, options_from
from lucidframes.sandbox.records import Record
from lucidframes.sandbox.throttle import LimitsSpec, parse_limits

MAX_BODY = 4 * 1024 * 1024  # larger bodies get 413 (Django refuses above 2.5 MB with a 400)
DRAIN_LIMIT = 64 * 1024 * 1024  # up to this, a refused body is read and discarded so the client sees the 413
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may sit idle (or a body may stall)
POLL_INTERVAL = 0.01  # how often the accept loop looks for shutdown: bounds the time close() takes
SLOW_STEPS = 4  # a "slow" body arrives in this many pieces, each after a pause of delay / SLOW_STEPS
HOST_RE = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


@dataclass(frozen=True)
class LogEntry:
    """One request as the sandbox saw it; ``status`` is None when the connection was dropped."""

    method: str
    path: str  # as sent, percent-encoded, without the query
    query: str  # the raw query string, without "?"
    status: int | None
    time: float  # time.monotonic() when the answer was decided
    token_valid: bool  # whether the request carried a bearer token that was valid at that moment


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, so that closing it closes them too."""

    daemon_threads = True  # a process that forgets close() can still exit; close() joins them all (join_threads)
    request_queue_size = 128  # the default of 5 drops connections under a burst of concurrent clients

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._open: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        self._open_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS look-up of the host (slow on some machines)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a connection in a new thread, remembering both (ThreadingMixIn does not track daemon threads)."""
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        with self._open_lock:
            self._open.add(request)
            self._workers = [t for t in self._workers if t.is_alive()]
            self._workers.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection as it closes."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut every open connection down, waking the threads blocked reading from them."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def join_threads(self) -> None:
        """Wait for every connection thread to finish."""
        with self._open_lock:
            threads, self._workers = self._workers, []
        for thread in threads:
            thread.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors are normal (clients go away, faults close sockets); anything else is recorded."""
        if not isinstance(sys.exc_info()[1], OSError):
            self.sandbox._errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets the Sandbox answer it, writes the answer (or a faulty version of it)."""

    protocol_version = "HTTP/1.1"
    server_version = "lucidframes-sandbox"
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body go in two writes: without this, delayed ACKs add 40 ms
    server: _Server

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the app (which answers 405), not only those with a ``do_`` method."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def version_string(self) -> str:
        """The Server header."""
        return self.server_version

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's answer to a request it cannot parse, with a status line (even for garbage) and JSON."""
        if self.request_version == "HTTP/0.9":  # what a request line it could not read leaves behind
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        body = encode({"detail": message or HTTPStatus(code).phrase})
        self.send_response(code, message)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's parameter name
        """Quiet: the Sandbox keeps its own log."""

    def _serve(self) -> None:
        """Answer the request just parsed by BaseHTTPRequestHandler."""
        sandbox = self.server.sandbox
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        path, _, query = target.partition("?")
        body = self._read_body(path, query)
        if body is None:
            return
        host = self.headers.get("Host") or ""
        if not HOST_RE.fullmatch(host):
            host = f"{self.server.server_name}:{self.server.server_port}"
        request = Request(self.command, path, query, self.headers, body, self.client_address[0], f"http://{host}")
        response, fault = sandbox._answer(request)
        self._send(response, fault)

    def _read_body(self, path: str, query: str) -> bytes | None:
        """The request body, or None after answering a body that cannot or will not be read."""
        length_text = self.headers.get("Content-Length")
        refusal: Response | None = None
        if self.headers.get("Transfer-Encoding"):
            refusal = detail(411, "Length required: send the body with a Content-Length.")
        elif length_text is None:
            return b""
        elif not length_text.strip().isdigit():
            refusal = detail(400, "Invalid Content-Length header.")
        elif int(length_text) > MAX_BODY:
            if int(length_text) <= DRAIN_LIMIT:
                self._discard(int(length_text))
            refusal = detail(413, f"Request body is larger than {MAX_BODY} bytes.")
        else:
            return self.rfile.read(int(length_text))
        self.close_connection = True  # the rest of the stream cannot be trusted
        valid = self.server.sandbox.app.client_of(self.headers) is not None
        self.server.sandbox._record(self.command, path, query, refusal.status, valid)
        self._send(refusal, None)
        return None

    def _discard(self, length: int) -> None:
        """Read and drop a body, so that the client gets to read our answer instead of a reset connection."""
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                return
            length -= len(chunk)

    def _send(self, response: Response | None, fault: Fault | None) -> None:
        """Write the answer, as the fault (if any) says: whole, truncated or dribbled; None drops the connection."""
        if response is None:
            self._abort()
            return
        kind = fault.kind if fault else "status"
        body = response.body
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.status not in (204, 304) and not (100 <= response.status < 200):
            declared = len(body) if body or kind != "truncate" else 64
            self.send_header("Content-Length", str(declared))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if kind == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self._abort()
        elif kind == "slow" and fault is not None:
            stop = self.server.sandbox._stop
            step = max(1, -(-len(body) // SLOW_STEPS))
            for start in range(0, len(body), step):
                if stop.wait(fault.delay / SLOW_STEPS):
                    self._abort()
                    return
                self.wfile.write(body[start : start + step])
        else:
            self.wfile.write(body)

    def _abort(self) -> None:
        """Close the connection now, without (the rest of) an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle --------------------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind and serve in a background thread."""
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = _Server((self.host, self.port), self)
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

    def _answer(self, request: Request) -> tuple[Response | None, Fault | None]:
        """Faults, latency, random errors, then the app; logged; counted for mutate_after."""
        api = request.path.startswith("/api/")
        valid = self.app.client_of(request.headers) is not None
        fault = self._faults.take(request.method, request.path, request.query)
        if api and self._latency:
            self._stop.wait(self._latency)
        if fault and fault.delay and fault.kind != "slow":
            self._stop.wait(fault.delay)
        response: Response | None = None
        if fault and fault.kind == "status":
            response = fault.status_response(request.method)
        elif fault and fault.kind == "not_json":
            response = fault.not_json_response()
        elif not (fault and fault.kind == "drop"):
            response = (self._random_errors.pick() if api else None) or self._handle(request)
        if api:
            self._count_api_request()
        self._record(request.method, request.path, request.query, response.status if response else None, valid)
        return response, fault

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
