"""Where a drain stands: ``DrainState`` (the pages fetched so far, the ``resume=`` of an error) and ``Checkpoint``
(the same pages kept in a JSON Lines file, so a re-run continues where one stopped).

A checkpoint's header line names the drain (endpoint and parameters) and its scope (server, API prefix, account:
another's is refused, see ``checkpoint_file``); then one line per page, appended and flushed as each page arrives,
so a crash loses at most the page being written (a line cut short is fetched again). The file is deleted once the
drain is complete.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lucidframes.errors import ConfigError
from lucidframes.loaders.checkpoint_file import (
    Unreadable,
    header_of,
    is_count,
    rows_or_raise,
    said_resumed,
    scope_or_raise,
    unreadable,
)

__all__ = ["DRIFT_POLICIES", "Checkpoint", "DrainState", "Fetched"]

DRIFT_POLICIES = ("refetch", "warn", "raise")


# (rows, count, next page number) of one fetched page.
Fetched = tuple[list[dict[str, Any]], int | None, int | None]


@dataclass
class DrainState:
    """Where a drain stands: the pages fetched so far. Pass it back as ``resume=`` to continue.

    ``pages`` holds the rows of the pages the drain keeps; ``keys`` holds only the keys, in row order, of the pages
    whose rows a streaming consumer took (``keep_rows=False``): all the duplicate and drift checks need. A fetched
    page is in one of the two, never both.
    """

    endpoint: str
    params: dict[str, str]
    pages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[int, int | None] = field(default_factory=dict)
    nexts: dict[int, int | None] = field(default_factory=dict)  # the page each page's `next` names
    vanished: set[int] = field(default_factory=set)  # pages that answered "Invalid page." mid-drain (data shrank)
    keys: dict[int, list[Any]] = field(default_factory=dict)  # pages handed over: their keys alone
    # repeats() of the pages as they are (the drift check and the account both ask; add() forgets it)
    _repeats: tuple[str, tuple[int, int]] | None = field(default=None, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"DrainState(endpoint={self.endpoint!r}, params={self.params!r}, pages_fetched={self.numbers()})"

    def add(self, number: int, fetched: Fetched) -> None:
        """Record one fetched page."""
        rows, count, next_page = fetched
        self._repeats = None
        self.keys.pop(number, None)
        self.pages[number] = rows
        self.counts[number] = count
        self.nexts[number] = next_page

    def release(self, number: int, key: str) -> None:
        """Forget a page's rows (the consumer has them) and keep their keys, for the checks."""
        self.keys[number] = [r.get(key) for r in self.pages.pop(number)]

    def numbers(self) -> list[int]:
        """The fetched page numbers, in order (rows held or keys only)."""
        return sorted({*self.pages, *self.keys})

    def has(self, number: int) -> bool:
        """Whether a page was fetched."""
        return number in self.pages or number in self.keys

    def size_of(self, number: int) -> int:
        """The rows a fetched page had."""
        return len(self.keys[number]) if number in self.keys else len(self.pages[number])

    @property
    def rows(self) -> int:
        """The rows of every fetched page."""
        return sum(len(p) for p in self.pages.values()) + sum(len(k) for k in self.keys.values())

    def page_keys(self, number: int, key: str | None) -> list[Any]:
        """A fetched page's keys in row order (its rows themselves when the endpoint has no key)."""
        if number in self.keys:
            return self.keys[number]
        rows = self.pages[number]
        return [r.get(key) for r in rows] if key is not None else list(rows)

    def all_keys(self, key: str) -> Iterator[Any]:
        """Every fetched row's key, in page order."""
        for number in self.numbers():
            yield from self.page_keys(number, key)

    def repeats(self, key: str) -> tuple[int, int]:
        """(rows without a key, rows whose key an earlier row had), counted on a sorted list of the keys.

        Sorted rather than put in a set: the list's pointers are a quarter of a set's table, and this runs at the
        end of a drain, when the peak is.
        """
        if self._repeats is None or self._repeats[0] != key:
            present = [k for k in self.all_keys(key) if k is not None]
            missing = self.rows - len(present)
            try:
                present.sort()
                repeated = sum(1 for a, b in itertools.pairwise(present) if a == b)
            except TypeError:  # keys of several types (never seen from the API): a set does without an order
                repeated = len(present) - len(set(present))
            self._repeats = (key, (missing, repeated))
        return self._repeats[1]

    @property
    def page_size(self) -> int | None:
        """The server's page size: the rows of any fetched page that has a ``next`` (None if unknown)."""
        return next((self.size_of(n) for n in self.numbers() if self.nexts.get(n)), None)

    @property
    def count(self) -> int | None:
        """The count the last fetched page announced."""
        counts = [c for n in self.numbers() if (c := self.counts.get(n)) is not None]
        return counts[-1] if counts else None

    def total_pages(self) -> int | None:
        """How many pages page 1's count makes (None until page 1 told it), at the page size seen so far.

        The size is that of a page with a ``next`` when one was fetched, else page 1's rows (at least 1).
        """
        count = self.counts.get(1)
        if count is None:
            return None
        size = self.page_size or (self.size_of(1) if self.has(1) else 0) or 1
        return max(math.ceil(count / size), 1)

    def records(self) -> list[dict[str, Any]]:
        """Every record the state holds, in page order (not those of pages handed over: only their keys are kept)."""
        return [r for n in sorted(self.pages) for r in self.pages[n]]


VERSION = 3  # 3: the header names the scope (server, prefix, account); 2: `next` is the page number the link named
_KIND = "lucidframes_checkpoint"


class Checkpoint:
    """Fetched pages of one drain in a JSON Lines file, for one scope (see ``checkpoint_file``)."""

    def __init__(self, path: Path, endpoint: str, params: dict[str, str], scope: str = "") -> None:
        self.path = path
        self.endpoint = endpoint
        self.params = params
        self.header: dict[str, Any] = {_KIND: VERSION, "endpoint": endpoint, "params": params, "scope": scope}

    def read(self) -> DrainState | None:
        """The state saved by an earlier run of the same drain and scope, or None when there is none.

        Raises ConfigError for a checkpoint of another drain, scope or format, and for a line that is not a page
        as written (nothing is sent before). A state taken from the file is said on the ``lucidframes`` logger.
        """
        if not self.path.exists():
            return None
        state = DrainState(self.endpoint, dict(self.params))
        number = 1
        try:
            with self.path.open(encoding="utf-8") as fh:
                header = header_of(self.path, fh.readline(), _KIND, "drain")
                if header.get("endpoint") != self.endpoint or header.get("params") != self.params:
                    raise ConfigError(
                        f"Checkpoint {self.path} belongs to another drain ({header.get('endpoint')!r} "
                        f"{header.get('params')}); delete it or choose another file."
                    )
                scope_or_raise(self.path, header, _KIND, VERSION, self.header["scope"])
                for line in fh:
                    number += 1  # the line the message names
                    if not line.endswith("\n"):
                        break  # a line cut short by a crash: that page is fetched again
                    state.add(*_page(line))
        except (Unreadable, ValueError) as exc:
            raise unreadable(self.path, number, str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"Checkpoint {self.path} cannot be read ({exc.strerror or exc}).") from None
        if state.numbers():
            total = state.total_pages()
            left = max(total - len(state.numbers()), 0) if total is not None else None
            said_resumed(self.endpoint, self.path, len(state.numbers()), "pages", left)
        return state

    def write(self, number: int, fetched: Fetched) -> None:
        """Append one page (the header first, for a new file), flushed to disk before the drain goes on."""
        rows, count, next_page = fetched
        new = not self.path.exists()
        with self.path.open("a", encoding="utf-8") as fh:
            if new:
                fh.write(json.dumps(self.header) + "\n")
            fh.write(json.dumps({"page": number, "count": count, "next": next_page, "results": rows}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def reset(self) -> None:
        """Forget the saved pages (a re-fetch after drift starts over)."""
        self.remove()

    def remove(self) -> None:
        """Delete the file once the drain is complete."""
        self.path.unlink(missing_ok=True)


def _page(line: str) -> tuple[int, Fetched]:
    """A page line as written: its number, rows, count and next page; Unreadable for anything else."""
    page = json.loads(line)
    if not isinstance(page, dict):
        raise Unreadable("not a page (a JSON object)")
    number, count, next_page = page.get("page"), page.get("count"), page.get("next")
    if not is_count(number, 1):
        raise Unreadable(f"page is {number!r}, not a page number")
    rows = rows_or_raise(page.get("results"), "results")
    if count is not None and not is_count(count):
        raise Unreadable(f"count is {count!r}, not a number of rows")
    if next_page is not None and not is_count(next_page, 1):
        raise Unreadable(f"next is {next_page!r}, not a page number")
    return number, (rows, count, next_page)
