"""Bodies as real servers send them: gzip, chunked, keep-alive reuse, and a body too large to be a page."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import lucidframes as lf
from lucidframes import config

PAGE = {"count": 2, "next": None, "previous": None, "results": [{"uuid": "a", "name": "é"}, {"uuid": "b"}]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(json.dumps({"access_token": "t0k3n", "expires_in": 3600}).encode())

    def do_GET(self) -> None:
        self.server.connections.add(self.client_address)  # type: ignore[attr-defined]
        body = json.dumps(PAGE).encode()
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "gzip":
            self._send(gzip.compress(body), {"Content-Encoding": "gzip"})
        elif mode == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                piece = body[i : i + 7]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(body)

    def _send(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.mode = "plain"  # type: ignore[attr-defined]
    srv.connections = set()  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _client(srv: ThreadingHTTPServer, recorder: object = None) -> lf.Client:
    url = f"http://127.0.0.1:{srv.server_port}"
    return lf.Client(url, "an-id", "a-secret-value", rate_limits=None, progress=False, sleep=recorder)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["plain", "gzip", "chunked"])
def test_bodies_are_decoded_whatever_the_transfer(server, mode):
    server.mode = mode
    df = _client(server).load("products")
    assert df["uuid"].tolist() == ["a", "b"] and df["name"].iloc[0] == "é"


def test_connections_are_reused(server):
    client = _client(server)
    for _ in range(5):
        client.get_json("products/")
    assert len(server.connections) == 1  # keep-alive: the streamed read gives the connection back to the pool


def test_a_body_too_large_to_be_a_page_is_refused(server, monkeypatch, recorder):
    monkeypatch.setattr(config, "MAX_BODY_BYTES", 100)
    with pytest.raises(lf.DecodeError, match="larger than"):
        _client(server, recorder).load("products")
    assert recorder.waits == [1, 2, 4, 8, 16]  # refused like any bad body: retried, then given up
