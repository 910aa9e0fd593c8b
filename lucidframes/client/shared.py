"""One sandbox for the whole process, for the one-call start: ``lf.load("products", sandbox=True)``.

The first call with ``sandbox=True`` starts ``lucidframes.sandbox.serve()`` (imported then, not before) and one
Client on it; later calls reuse both, so a notebook pays for the start-up once and keeps one token. Both are
closed at interpreter exit (``atexit``): the port is released and every server thread joined. ``shared_sandbox()``
hands the running Sandbox over for its controls (``set_latency``, ``fault``, ``mutate``, ``log``);
``close_shared_sandbox()`` stops it early (the next ``sandbox=True`` call starts a fresh one).

The shared Client has a result cache in a temporary folder of the process (removed with the sandbox), so
``lf.load(..., sandbox=True, max_age="1h")`` works as it does on the API; the sandbox's data never reaches the
user's cache folder, where its random port would make every entry a new scope anyway.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING

from lucidframes.client import Client

if TYPE_CHECKING:  # pragma: no cover
    from lucidframes.sandbox import Sandbox

__all__ = ["close_shared_sandbox", "shared_client", "shared_sandbox"]

_lock = threading.Lock()
_state: dict[str, object] = {}
_registered = False


def shared_sandbox() -> Sandbox:
    """The process-wide sandbox, started on first use and stopped at exit.

    Returns:
        The running Sandbox (``sb.url``, ``sb.set_latency(...)``, ``sb.fault(...)``, ``sb.log``).
    """
    global _registered
    with _lock:
        sb = _state.get("sandbox")
        if sb is None:
            from lucidframes.sandbox import serve  # the sandbox loads only when asked for

            sb = serve()
            _state["sandbox"] = sb
            if not _registered:
                atexit.register(close_shared_sandbox)
                _registered = True
        return sb  # type: ignore[return-value]


def shared_client() -> Client:
    """The Client on the process-wide sandbox (one token, one connection pool).

    Returns:
        The Client.
    """
    sb = shared_sandbox()
    with _lock:
        client = _state.get("client")
        if client is None:
            folder = tempfile.mkdtemp(prefix="lucidframes-sandbox-cache-")
            _state["cache_folder"] = folder
            client = Client(sb.url, sb.client_id, sb.client_secret, cache=folder)
            _state["client"] = client
        return client  # type: ignore[return-value]


def close_shared_sandbox() -> None:
    """Close the shared Client and stop the shared sandbox (also run at exit); a no-op when none runs."""
    with _lock:
        client, sb = _state.pop("client", None), _state.pop("sandbox", None)
        folder = _state.pop("cache_folder", None)
    if isinstance(client, Client):
        client.close()
    if isinstance(folder, str):
        shutil.rmtree(folder, ignore_errors=True)
    close = getattr(sb, "close", None)
    if callable(close):
        close()
