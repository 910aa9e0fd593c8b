"""DRF's PageNumberPagination: page numbers, ``Invalid page.``, and ``next``/``previous`` links, as DRF builds them."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

PAGE_PARAM = "page"
LAST_PAGE_STRINGS = ("last",)


class InvalidPage(Exception):
    """The requested page does not exist (DRF answers 404 ``{"detail": "Invalid page."}``)."""


def page_number(query: str, count: int, page_size: int) -> int:
    """The 1-based page a query asks for, validated like Django's Paginator (a missing or empty page is 1)."""
    values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == PAGE_PARAM]
    raw = values[-1] if values else ""  # QueryDict.get returns the last value
    # Django: num_pages is at least 1 (allow_empty_first_page), so page 1 of an empty list is valid
    pages = max(1, math.ceil(count / page_size))
    if raw in LAST_PAGE_STRINGS:
        return pages
    try:
        number = int(raw or 1)  # int() as Django's validate_number: " 2" and "+2" pass, "2.0" and "two" do not
    except ValueError:
        raise InvalidPage(raw) from None
    if number < 1 or number > pages:
        raise InvalidPage(raw)
    return number


def replace_query_param(url: str, key: str, value: object) -> str:
    """DRF's replace_query_param: set one parameter, re-encode the query sorted by key."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def remove_query_param(url: str, key: str) -> str:
    """DRF's remove_query_param: drop one parameter, re-encode the query sorted by key."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params.pop(key, None)
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def links(url: str, number: int, count: int, page_size: int) -> tuple[str | None, str | None]:
    """(next, previous) for a page of ``url``; previous of page 2 is the URL without ``page``, as in DRF."""
    has_next = number * page_size < count
    following = replace_query_param(url, PAGE_PARAM, number + 1) if has_next else None
    if number == 1:
        return following, None
    if number == 2:
        return following, remove_query_param(url, PAGE_PARAM)
    return following, replace_query_param(url, PAGE_PARAM, number - 1)


def envelope(url: str, query: str, rows_count: int, page_size: int) -> tuple[int, int, int, str | None, str | None]:
    """(page number, start, end, next, previous) for a request, or InvalidPage."""
    number = page_number(query, rows_count, page_size)
    start = (number - 1) * page_size
    following, previous = links(url, number, rows_count, page_size)
    return number, start, min(start + page_size, rows_count), following, previous
