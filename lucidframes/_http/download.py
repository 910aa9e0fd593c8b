"""Downloading a file a response links to (the package export's ``export_url``): never with our credentials.

The API answers the export with a link, not the data. Such links are, on the real service, pre-signed addresses
on a storage host: the link itself is the permission, and the host is not ours. So the file is fetched by this
helper, not by the transport (which only talks to the base URL and always carries the bearer token):

- no ``Authorization`` header, ever, and no cookies (a fresh session each time), whatever the host;
- ``https`` only, except for the configured base URL's own origin or a loopback host (the sandbox serves its
  export on its own ``http://127.0.0.1`` address);
- redirects are not followed (a 3xx is a ``RedirectError``), TLS is verified, and the download has a total
  deadline and a size cap, as every request of the transport has;
- no retries: an export link is short-lived, so a failure says to ask for the export again;
- errors and logs name the scheme, host and path only: the query of a pre-signed link is a credential.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests

from lucidframes import config
from lucidframes._http.classify import DeadlineExceeded, classify_exception, status_error, transport_error
from lucidframes._http.urls import BaseURL, origin_of
from lucidframes.errors import Attempt, PaginationError

__all__ = ["download", "shown_url"]

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_CHUNK = 65536


def shown_url(url: str) -> str:
    """A link as it may appear in messages: scheme, host and path, never the query (a signature)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def download(url: str, *, base: BaseURL, timeout: tuple[float, float], deadline: float) -> bytes:
    """GET the file ``url`` names, without credentials, within ``deadline`` seconds.

    Args:
        url: the link from the response.
        base: the configured API origin (the only plain-http origin allowed besides loopback).
        timeout: (connect, read) seconds for each socket operation.
        deadline: seconds the whole download may take.

    Returns:
        The file's bytes.

    Raises:
        PaginationError: the link is not a plain http(s) URL, or is plain http to a host that is not ours.
        APIError: the download failed (typed as the transport types failures: status, timeout, connection).
    """
    origin = origin_of(url) if isinstance(url, str) else None
    if origin is None:
        raise PaginationError(f"Refusing to download {str(url)[:80]!r}: not a plain http(s) link.")
    if origin.scheme != "https" and origin != base and origin.host not in _LOOPBACK:
        raise PaginationError(
            f"Refusing to download {shown_url(url)} over plain http: an export link to another host must be https."
        )
    shown = shown_url(url)
    deadline_at = time.monotonic() + deadline
    with requests.Session() as session:  # fresh: no auth hook, no cookies, no pooled connection of the API's
        session.headers["Accept"] = "*/*"
        try:
            response = session.get(
                url, timeout=(timeout[0], min(timeout[1], deadline)), allow_redirects=False, stream=True, verify=True
            )
            body = _read(response, deadline_at)
        except BaseException as exc:
            failure = classify_exception(exc)
            if failure is None:
                raise
            raise transport_error(failure, exc, "GET", shown, [Attempt(None, type(exc).__name__, 0.0)], "") from None
    if not 200 <= response.status_code < 300:
        history = [Attempt(response.status_code, None, 0.0)]
        raise status_error(response, "GET", shown, history, "the export link may have expired: ask again")
    return body


def _read(response: requests.Response, deadline_at: float) -> bytes:
    """The body, within the deadline and the size cap."""
    chunks: list[bytes] = []
    size = 0
    with response:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > config.MAX_BODY_BYTES:
                raise PaginationError(f"The export is larger than {config.MAX_BODY_BYTES // 2**20} MiB.")
            if time.monotonic() > deadline_at:
                raise DeadlineExceeded("deadline")
            chunks.append(chunk)
    body = b"".join(chunks)
    response._content = body  # so an error answer's body can still be read (status_error parses it)
    return body
