"""The sandbox's server: many clients at once, hostile input at the socket level, clean shutdown, the command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import requests
from helpers import default_sigint

from lucidframes.sandbox import Sandbox, serve
from lucidframes.sandbox import cli as sandbox_cli

PRODUCTS = "/api/v1.5/products/"


def get_token(sb: Sandbox) -> str:
    """A token from the token endpoint."""
    form = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    return str(requests.post(sb.url + "/o/token/", data=form, timeout=5).json()["access_token"])


def exchange(sb: Sandbox, raw: bytes) -> bytes:
    """Send raw bytes, return everything the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", sb.port), timeout=2) as conn:
        conn.sendall(raw)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def still_serving(sb: Sandbox, token: str) -> bool:
    reply = requests.get(sb.url + PRODUCTS, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    return reply.status_code == 200


# -- load -------------------------------------------------------------------------------------------------------------


def test_load_8_threads_x_200_requests(sandbox):
    token = get_token(sandbox)
    uuids = [p["uuid"] for p in sandbox.data["products"][:50]]
    failures: list[str] = []
    done = [0] * 8

    def client(index: int) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            for n in range(200):
                path = f"{PRODUCTS}?page={n % 13 + 1}" if n % 2 else f"{PRODUCTS}{uuids[n % 50]}/"
                try:
                    reply = session.get(sandbox.url + path, timeout=10)
                    reply.json()
                    if reply.status_code != 200:
                        failures.append(f"{path}: {reply.status_code}")
                except Exception as exc:
                    failures.append(f"{path}: {exc!r}")
                done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "deadlock: clients still waiting after 60 s"
    assert failures == []
    assert done == [200] * 8
    assert time.monotonic() - started < 60
    assert len([e for e in sandbox.log if e.path.startswith(PRODUCTS)]) == 1600
    assert sandbox.errors == []


# -- hostile input ------------------------------------------------------------------------------------------------


def test_huge_declared_body_is_refused_without_reading_it(sandbox):
    token = get_token(sandbox)
    started = time.monotonic()
    answer = exchange(
        sandbox,
        b"POST /api/v1.2/transactions/complete/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert time.monotonic() - started < 2
    assert still_serving(sandbox, token)


def test_large_body_gets_413(sandbox):
    token = get_token(sandbox)
    reply = requests.post(
        sandbox.url + "/api/v1.2/transactions/complete/",
        data=b"x" * (5 * 1024 * 1024),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert reply.status_code == 413
    assert still_serving(sandbox, token)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/9.9\r\n\r\n", b"505"),
        (b"GET " + PRODUCTS.encode() + b" HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
        (b"GET " + PRODUCTS.encode() + b" HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 150 + b"\r\n", b"431"),
        (b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b"400"),
        (b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"400"),
        (b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"411"),
        (b"GET " + PRODUCTS.encode() + b" HTTP/1.1\r\nHost: \xff\xfe<script>\r\nAuthorization: \x00\r\n\r\n", b"401"),
        (b"GET /api/v1.5/%ff%fe/ HTTP/1.1\r\nHost: x\r\n\r\n", b"404"),
        (b"GET " + PRODUCTS.encode() + b"?page=%ff HTTP/1.1\r\nHost: x\r\n\r\n", b"401"),
    ],
)
def test_odd_requests_get_4xx_and_the_server_keeps_serving(sandbox, raw, status):
    token = get_token(sandbox)
    answer = exchange(sandbox, raw)
    assert answer.split(b" ", 2)[1] == status, answer[:200]
    assert still_serving(sandbox, token)
    assert sandbox.errors == []


def test_half_sent_request_does_not_block_others(sandbox):
    token = get_token(sandbox)
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=2) as stalled:
        stalled.sendall(b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        assert still_serving(sandbox, token)


# -- shutdown -----------------------------------------------------------------------------------------------------


def test_shutdown_leaves_no_thread_and_no_port():
    before = set(threading.enumerate())
    sb = serve(rate_limits=None)
    token = get_token(sb)
    session = requests.Session()  # a keep-alive connection left open
    session.headers["Authorization"] = f"Bearer {token}"
    assert session.get(sb.url + PRODUCTS, timeout=5).status_code == 200
    idle = socket.create_connection(("127.0.0.1", sb.port), timeout=2)  # connected, never sends anything
    sb.fault(PRODUCTS, kind="slow", delay=30)  # and a request in the middle of a slow answer
    outcome: list[str] = []

    def wait_for_slow_answer() -> None:
        try:
            requests.get(sb.url + PRODUCTS, headers=session.headers, timeout=10)
            outcome.append("answered")
        except requests.RequestException:
            outcome.append("cut short")

    slow = threading.Thread(target=wait_for_slow_answer)
    slow.start()
    time.sleep(0.1)

    started = time.monotonic()
    sb.close()
    assert time.monotonic() - started < 2
    slow.join(timeout=5)
    assert outcome == ["cut short"]
    assert set(threading.enumerate()) <= before
    assert idle.recv(1) == b""  # the server closed its end
    idle.close()
    session.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", sb.port), timeout=1).close()
    sb.close()  # closing twice is harmless


def test_context_manager_closes_on_error():
    with pytest.raises(RuntimeError), serve() as sb:
        port = sb.port
        raise RuntimeError("boom")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# -- the command --------------------------------------------------------------------------------------------------


def test_cli_options_build_the_sandbox():
    args = sandbox_cli.parser().parse_args(
        ["--port", "0", "--seed", "3", "--page-size", "7", "--products", "20", "--rate-limit", "source=5/10",
         "--latency", "0.5", "--error-rate", "0.1", "--fault", "/api/v1.5/products/?page=2:503:2",
         "--token-lifetime", "60"]
    )  # fmt: skip
    sb = sandbox_cli.build(args)
    assert sb.seed == 3 and sb.page_size == 7 and len(sb.data["products"]) == 20
    assert sb.app.throttle._limits == {"source": (5, 10.0)}
    assert sb._latency == 0.5 and sb.app.tokens.lifetime == 60
    [fault] = sb.faults
    assert (fault.path, fault.status, fault.times) == ("/api/v1.5/products/?page=2", 503, 2)


def test_cli_bad_options_exit_2(capsys):
    assert sandbox_cli.main(["--port", "0", "--fault", "nonsense"]) == 2
    assert "PATH:STATUS" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_cli_serves_until_ctrl_c():
    command = [sys.executable, "-m", "lucidframes.sandbox.cli", "--port", "0", "--no-rate-limit", "--products", "5"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with subprocess.Popen(command, **pipes, env=env, preexec_fn=default_sigint) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(4)]
            url = lines[0].split(": ", 1)[1].strip()
            client_id = lines[1].split(": ", 1)[1].strip()
            secret = lines[2].split(": ", 1)[1].strip()
            assert lines[3].startswith(f"export LUCID_BASE_URL={url} LUCID_CLIENT_ID={client_id} LUCID_CLIENT_SECRET=")
            form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
            token = requests.post(url + "/o/token/", data=form, timeout=5).json()["access_token"]
            reply = requests.get(url + PRODUCTS, headers={"Authorization": f"Bearer {token}"}, timeout=5)
            assert reply.json()["count"] == 5
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
