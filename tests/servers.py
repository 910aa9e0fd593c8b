"""Small local servers for the transport tests (issue 9), each a ThreadingHTTPServer on 127.0.0.x in a thread.

* ``scripted(respond)``: answers whatever ``respond(request)`` returns and records every request it receives;
* ``foreign()``: another origin that answers a harmless page and records every request (it must see nothing);
* ``redirecting(status, location)``: answers every request with a redirect (``location=None``: to itself, a loop);
* ``api(...)``: a scripted API: a token reply on ``/o/token/`` and a page (or a drip) for every ``/api/`` request.

Imported as ``servers`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    """One request as a server received it."""

    method: str
    path: str  # without the query
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """What to answer: a status, headers, a body; ``drip`` seconds between single bytes of the body when set."""

    status: int = 200
    body: bytes | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip: float | None = None

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        self.headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode()


Respond = Callable[[Seen], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], respond: Respond) -> None:
        super().__init__(address, _Handler)
        self.respond = respond
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's parameter name
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        seen = Seen(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.lock:
            self.server.requests.append(seen)
        reply = self.server.respond(seen)
        data = reply.payload()
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            if reply.drip is None:
                self.wfile.write(data)
                return
            for i in range(len(data)):
                if self.server.closing.wait(reply.drip):
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
        except OSError:
            pass  # the client gave up (a deadline): nothing to do

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any


class Server:
    """A running server: ``url``, ``port``, ``requests`` (what reached it, oldest first)."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.host, self.port = server.server_address[:2]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[Seen]:
        with self._server.lock:
            return list(self._server.requests)

    def api_requests(self) -> list[Seen]:
        """The requests under /api/ (not the token endpoint)."""
        return [r for r in self.requests if r.path.startswith("/api/")]


@contextmanager
def scripted(respond: Respond, host: str = "127.0.0.1", port: int = 0) -> Iterator[Server]:
    """Serve ``respond`` on host:port (port 0: a free one) until the block ends."""
    server = _Server((host, port), respond)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield Server(server)
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


EMPTY_PAGE = {"count": 0, "next": None, "previous": None, "results": []}
TOKEN = {"access_token": "scripted-token-0123456789", "token_type": "Bearer", "expires_in": 36000}


def foreign(host: str = "127.0.0.1", port: int = 0) -> Any:
    """Another origin that records every request and answers a plausible page (old code would take it)."""
    return scripted(lambda seen: Reply(200, {**EMPTY_PAGE, "results": [{"uuid": "foreign"}]}), host, port)


def redirecting(status: int, location: str | None) -> Any:
    """Every request answered ``status`` with ``Location: location`` (None: to the request's own URL, a loop)."""
    box: dict[str, Server] = {}

    def respond(seen: Seen) -> Reply:
        if seen.path == "/o/token/" and status not in (307, 308):
            return Reply(200, TOKEN)
        target = location or f"{box['server'].url}{seen.path}" + (f"?{seen.query}" if seen.query else "")
        return Reply(status, b"", {"Location": target})

    manager = scripted(respond)

    @contextmanager
    def run() -> Iterator[Server]:
        with manager as server:
            box["server"] = server
            yield server

    return run()


def api(
    token: Any = TOKEN,
    page: Any = EMPTY_PAGE,
    *,
    drip: float | None = None,
    token_redirect: str | None = None,
    api_redirect: tuple[int, str] | None = None,
) -> Any:
    """A scripted API: ``token`` for POST /o/token/ (or a 307 to ``token_redirect``), ``page`` for /api/ (or a
    redirect ``(status, location)``; dripped one byte every ``drip`` seconds when set)."""

    def respond(seen: Seen) -> Reply:
        if seen.path == "/o/token/":
            if token_redirect is not None:
                return Reply(307, b"", {"Location": token_redirect})
            return Reply(200, token)
        if api_redirect is not None:
            return Reply(api_redirect[0], b"", {"Location": api_redirect[1]})
        return Reply(200, page, drip=drip)

    return scripted(respond)
