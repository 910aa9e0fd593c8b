"""The sandbox's HTTP side (standard library, threads, HTTP/1.1 keep-alive): read a request, write its answer.

``SandboxServer`` serves each connection in a thread and knows them all, so closing it closes them too. Its handler
refuses bodies it will not read (chunked, too large, a bad length), hands every other request to the ``Backend``
(the ``Sandbox`` in ``server``, which decides the answer) and writes the answer as the fault says: whole,
truncated, dribbled, or not at all.
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from lucidframes.sandbox.faults import Fault
from lucidframes.sandbox.messages import JSON_TYPE, Headers, Request, Response, detail, encode

__all__ = ["Backend", "SandboxServer"]

MAX_BODY = 4 * 1024 * 1024  # larger bodies get 413 (Django refuses above 2.5 MB with a 400)
DRAIN_LIMIT = 64 * 1024 * 1024  # up to this, a refused body is read and discarded so the client sees the 413
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may sit idle (or a body may stall)
SLOW_STEPS = 4  # a "slow" body arrives in this many pieces, each after a pause of delay / SLOW_STEPS
HOST_RE = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


@dataclass(frozen=True)
class Backend:
    """What the server hands requests to and tells of what happens outside them (the Sandbox fills it in)."""

    # The answer to a request (None drops the connection) and the fault, if any, that says how to write it.
    answer: Callable[[Request], tuple[Response | None, Fault | None]]
    # Log a request refused before it reached the app: method, path, query, headers, status.
    refused: Callable[[str, str, str, Headers, int], None]
    # Keep the traceback of an unexpected error in the server (connection errors are normal and not kept).
    crashed: Callable[[str], None]
    # Set when the sandbox closes: ends the pauses of a slow body.
    stop: threading.Event


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, so that closing it closes them too."""

    daemon_threads = True  # a process that forgets close() can still exit; close() joins them all (join_threads)
    request_queue_size = 128  # the default of 5 drops connections under a burst of concurrent clients

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        self.backend = backend
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
            self.backend.crashed(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets the Sandbox answer it, writes the answer (or a faulty version of it)."""

    protocol_version = "HTTP/1.1"
    server_version = "lucidframes-sandbox"
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body go in two writes: without this, delayed ACKs add 40 ms
    server: SandboxServer

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
        response, fault = self.server.backend.answer(request)
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
        self.server.backend.refused(self.command, path, query, self.headers, refusal.status)
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
            stop = self.server.backend.stop
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
