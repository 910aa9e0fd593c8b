"""One attempt on the wire: the pooled session, the bearer hook, and a body read within the total deadline.

``Wire.attempt`` sends one request (redirects never followed, TLS verified), reads the whole body with every read
bounded by what is left of the attempt's deadline (a server that trickles bytes cannot hold a worker past it),
decodes a 2xx body and runs the caller's shape check. It decides nothing: the send loop in ``transport`` judges the
answer, retries and waits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from lucidframes import config
from lucidframes._http.auth import BearerAuth, SecretForm, TokenProvider
from lucidframes._http.classify import BadBody, DeadlineExceeded
from lucidframes._version import __version__

__all__ = ["USER_AGENT", "Check", "Wire", "read_body"]

USER_AGENT = (
    f"lucidframes/{__version__} (+https://pypi.org/project/lucidframes/) python-requests/{requests.__version__}"
)
_CHUNK = 65536

# check(payload) raises BadBody when a 2xx body is not of the shape the caller expects.
Check = Callable[[Any], None]


class _Bearer(BearerAuth):
    """The bearer hook, remembering per thread which token generation it put on the request."""

    def __init__(self, provider: TokenProvider) -> None:
        super().__init__(provider)
        self._local = threading.local()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self.provider.header()
        self._local.generation = self.provider.generation
        return r

    def sent_generation(self) -> int:
        """The generation of the token this thread sent last."""
        return int(getattr(self._local, "generation", -1))


class Wire:
    """The pooled session with our headers, the bearer hook, the timeouts, and one try on them."""

    def __init__(
        self,
        session: requests.Session | None,
        auth: TokenProvider,
        *,
        timeout: tuple[float, float],
        deadline: float,
        pool_size: int,
    ) -> None:
        self.session = session if session is not None else requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self.timeout = timeout
        self.deadline = deadline
        self._bearer = _Bearer(auth)
        self._pool_size = 0
        self._pool_lock = threading.Lock()
        self.ensure_pool(pool_size)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def ensure_pool(self, size: int) -> None:
        """Keep at least ``size`` pooled connections per host, so that many workers never discard connections."""
        with self._pool_lock:
            if size <= self._pool_size:
                return
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size, max_retries=0)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
            self._pool_size = size

    def sent_generation(self) -> int:
        """The generation of the token this thread sent last (what a 401 refused)."""
        return self._bearer.sent_generation()

    def attempt(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        form: SecretForm | None,
        check: Check | None,
        authenticate: bool,
    ) -> tuple[requests.Response, Any]:
        """One try: send (no redirects), read the body within the deadline, decode and check a 2xx.

        Args:
            method: the HTTP method.
            url: the absolute URL.
            params: query parameters.
            json_body: a JSON payload.
            form: a form payload, revealed only as it is handed to requests.
            check: raises BadBody when a 2xx body is not of the expected shape.
            authenticate: send the bearer header.

        Returns:
            The response (its body read) and the decoded payload (None unless a non-empty 2xx other than 204).
        """
        deadline_at = time.monotonic() + self.deadline
        connect, read = self.timeout
        response = self.session.request(
            method,
            url,
            params=params,
            json=json_body,
            data=form.reveal() if form is not None else None,
            auth=self._bearer if authenticate else None,
            timeout=(connect, min(read, self.deadline)),
            allow_redirects=False,
            stream=True,
            verify=True,
        )
        read_body(response, deadline_at, read)
        status = response.status_code
        if not 200 <= status < 300 or status == 204 or not response.content:
            return response, None
        try:
            payload = json.loads(response.content)
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise BadBody(f"not JSON ({kind[:60]})") from None
        if check is not None and status != 202:  # a 202 body says "preparing", not what was asked for
            check(payload)
        return response, payload


def read_body(response: requests.Response, deadline_at: float, read_timeout: float) -> None:
    """Read the whole body into ``response``, each read bounded by what is left of the deadline.

    Args:
        response: a response opened with ``stream=True``.
        deadline_at: the ``time.monotonic()`` by which the last byte must be in.
        read_timeout: the longest wait for any one read.

    Raises:
        DeadlineExceeded: the deadline passed (the connection is closed, never reused).
        BadBody: the body is larger than ``config.MAX_BODY_BYTES``.
    """
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            left = deadline_at - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded("deadline")
            _set_timeout(raw, min(read_timeout, left))
            try:
                chunk = raw.read1(_CHUNK, decode_content=True)
            except Exception:
                if time.monotonic() >= deadline_at:
                    raise DeadlineExceeded("deadline") from None
                raise
            if not chunk:
                break
            size += len(chunk)
            if size > config.MAX_BODY_BYTES:
                raise BadBody(f"larger than {config.MAX_BODY_BYTES // 2**20} MiB")
            chunks.append(chunk)
    except BaseException:
        response.close()  # a half-read connection is never reused
        raise
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]  # requests' own flag: the body is read
    raw.release_conn()


def _set_timeout(raw: Any, seconds: float) -> None:
    """Bound the next socket read (urllib3 keeps the connection on the response while it streams)."""
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))
