"""URLs: the configured base URL, checked once, and links taken from responses, which are data, not addresses.

A ``next`` link is never sent. Its authority is checked against the base URL's (with the normalisation the sender
itself applies: the host's case, the scheme's default port), its path must be the endpoint's own, and only its
page number is kept; the URL that is sent is rebuilt from the base URL. An authority holding anything a host and
port cannot (``\\``, ``@``, whitespace, control characters) is refused outright, because URL parsers disagree about
where such an authority ends (urllib.parse and urllib3 do): what we check must be what we would connect to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from lucidframes.errors import ConfigError, PaginationError

__all__ = ["BaseURL", "origin_of", "page_from_link", "parse_base_url", "with_query"]

DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name or IPv4 address, or a bracketed IPv6 literal, then an optional port: nothing else.
_AUTHORITY = re.compile(r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\@]")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")  # never in a URL we send, whatever the part


@dataclass(frozen=True)
class BaseURL:
    """The API's origin: scheme, lower-case host and port (the default filled in), e.g. https://source..."""

    scheme: str
    host: str
    port: int

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, the port only when it is not the scheme's default."""
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{self.host}" + ("" if default else f":{self.port}")

    def join(self, path: str) -> str:
        """The absolute URL of an absolute path on this origin."""
        return self.origin + "/" + path.lstrip("/")


def with_query(url: str, params: Mapping[str, Any] | None) -> str:
    """The URL with its query as it is sent (``.../products/?page=999``), for messages and errors."""
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def _split_authority(url: str) -> tuple[str, str, str] | None:
    """(scheme, authority, rest) of ``scheme://authority/rest``, or None when it has no such shape."""
    match = re.match(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>.*)\Z", url, re.S)
    if match is None:
        return None
    return match["scheme"].lower(), match["authority"], match["rest"]


def _origin_of(scheme: str, authority: str) -> BaseURL | None:
    """The origin an authority names, or None when it is not a plain ``host[:port]``."""
    if scheme not in DEFAULT_PORTS or _FORBIDDEN.search(authority):
        return None
    match = _AUTHORITY.fullmatch(authority)
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        return None
    return BaseURL(scheme, match["host"].lower(), port)


def origin_of(url: str) -> BaseURL | None:
    """The origin of an absolute http(s) URL, or None when it is not one (or its authority holds odd characters).

    Only the authority is held to ``host[:port]``: a path or query may hold ``@`` (an owner's e-mail in a
    pre-signed link), but no URL may hold whitespace or control characters.

    Args:
        url: the URL.

    Returns:
        The origin, normalised as the base URL is.
    """
    if _CONTROL.search(url):
        return None
    parts = _split_authority(url)
    return _origin_of(parts[0], parts[1]) if parts else None


def parse_base_url(text: str, *, setting: str = "LUCID_BASE_URL") -> BaseURL:
    """Check a configured base URL: ``http(s)://host[:port]`` and nothing more.

    Args:
        text: the configured value.
        setting: the name to quote in the error (the variable or argument it came from).

    Returns:
        The parsed origin.

    Raises:
        ConfigError: not a URL, a placeholder, a host with odd characters, or a URL with a path (say "host only").
    """
    value = text.strip()
    parts = _split_authority(value)
    origin = _origin_of(parts[0], parts[1]) if parts else None
    if parts is None or origin is None or not origin.host.strip("."):
        raise ConfigError(
            f"The base URL {value!r} is not a host URL like https://source.lucidgreen.io (set {setting})."
        )
    rest = parts[2]
    if rest.rstrip("/"):
        raise ConfigError(
            f"The base URL takes the host only ({origin.origin}), not {rest!r}: the API prefix (/api/v1.5/, "
            f"/api/v1.2/) is added per endpoint; set api_prefixes= to change it (set {setting})."
        )
    return origin


def page_from_link(link: object, base: BaseURL, list_path: str) -> int:
    """The page number a ``next`` (or ``previous``) link names, after checking it points where the list is.

    Args:
        link: the link as the server sent it.
        base: the configured origin.
        list_path: the absolute path of the endpoint's list (``/api/v1.5/products/``).

    Returns:
        The page number (1 when the link has no ``page`` parameter, as DRF's first page).

    Raises:
        PaginationError: the link is not a string, points to another origin, holds characters an authority cannot,
            leaves the endpoint's path, or names no readable page; nothing is sent.
    """
    path, _, query = _link_rest(link, base).partition("?")
    query = query.partition("#")[0]
    if unquote(path) != list_path:
        raise PaginationError(f"Refusing a page link outside {list_path} (it names {unquote(path)[:80]!r}).")
    return _page_of(query)


def _link_rest(link: object, base: BaseURL) -> str:
    """The path and query of a link on our own origin (a bare path is one); anything else raises PaginationError."""
    if not isinstance(link, str):
        raise PaginationError(f"A page link should be a URL or null, got {type(link).__name__}.")
    if _FORBIDDEN.search(link):
        raise PaginationError("Refusing a page link holding whitespace, control characters, '\\' or '@'.")
    if link.startswith("/") and not link.startswith("//"):
        return link  # a path on our own origin
    parts = _split_authority(link)
    origin = _origin_of(parts[0], parts[1]) if parts else None
    if origin != base or parts is None:
        shown = f"{parts[0]}://{parts[1]!r}" if parts else repr(link[:60])
        raise PaginationError(
            f"Refusing to follow a link to another origin ({shown}); the API is at {base.origin}. "
            "Credentials are only sent to the configured base URL."
        )
    return parts[2]


def _page_of(query: str) -> int:
    """The one positive ``page`` a link's query names (1 when it names none, as DRF's first page)."""
    pages = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "page"]
    if not pages:
        return 1
    if len(pages) > 1 or not pages[0].isdigit() or int(pages[0]) < 1:
        raise PaginationError(f"A page link names no readable page ({pages!r}).")
    return int(pages[0])
