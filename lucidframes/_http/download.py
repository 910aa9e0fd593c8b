"""Downloading a file a response links to (the package export's ``export_url``): never with our credentials.

The API answers the export with a link, not the data. Such links are, on the real service, pre-signed addresses
on a storage host: the link itself is the permission, and the host is not ours. So the file is fetched by this
helper, not by the transport (which only talks to the base URL and always carries the bearer token):

- no ``Authorization`` header, ever, and no cookies (a fresh session each time), whatever the host;
- ``https`` only, except for the configured base URL's own origin or a loopback host (the sandbox serves its
  export on its own ``http://127.0.0.1`` address);
- redirects are not followed (a 3xx is a ``RedirectError``), TLS is verified, and the download has one total
  deadline and a size cap, read as the transport reads a body (``wire.read_body``: a file dripped a byte at a
  time ends at the deadline);
- no retries: an export link is short-lived, so a failure says to ask for the export again;
- errors and logs name the scheme, host and path only: the query of a pre-signed link is a credential (it may
  hold ``@``, an owner's e-mail: only the authority is held to ``host[:port]``).
"""

from __future__ import annotations

import time

import requests

from lucidframes._http.classify import classify_exception, status_error, transport_error
from lucidframes._http.urls import BaseURL, origin_of
from lucidframes._http.wire import read_body
from lucidframes.errors import Attempt, PaginationError, visible

__all__ = ["download", "shown_url"]

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def shown_url(url: object) -> str:
    """A link as it may appear in messages: scheme, host and path, never the query or fragment (a signature)."""
    if not isinstance(url, str):
        return f"a {type(url).__name__}, not a link"
    bare = url.split("?", 1)[0].split("#", 1)[0]
    return visible(bare, 120, prose=True)


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
        raise PaginationError(f"Refusing to download {shown_url(url)}: not a plain http(s) link.")
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
            read_body(response, deadline_at, timeout[1])
        except BaseException as exc:
            failure = classify_exception(exc)
            if failure is None:
                raise
            raise transport_error(failure, exc, "GET", shown, [Attempt(None, type(exc).__name__, 0.0)], "") from None
    if not 200 <= response.status_code < 300:
        history = [Attempt(response.status_code, None, 0.0)]
        raise status_error(response, "GET", shown, history, "the export link may have expired: ask again")
    return response.content
