"""Ids known to exist (say, from a load): membership, and the known ids closest to a bad value, for hints.

The closest ids are found without comparing against every known id: each known id is cut into blocks, and a
value within d substitutions of it equals it exactly on one of d+1 blocks (the pigeonhole principle).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lucidframes.lucidid.formats import ALPHABET

__all__ = ["KnownIds"]


@dataclass
class KnownIds:
    """Ids known to exist (say, from a load): membership, and the closest known ids to a bad value."""

    ids: frozenset[str]
    max_distance: int = 3
    _blocks: dict[tuple[int, int, str], list[str]] | None = field(default=None, repr=False)
    _folded: dict[str, list[str]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, values: Iterable[Any] | None) -> KnownIds | None:
        """Build from any iterable of ids (non-strings and missing values are ignored); None stays None."""
        if values is None:
            return None
        if isinstance(values, str):
            values = [values]
        return cls(frozenset(v for v in values if isinstance(v, str)))

    def _spans(self, length: int) -> list[tuple[int, int]]:
        # Pigeonhole: a string within d substitutions of another equals it exactly on one of d+1 blocks.
        edges = np.linspace(0, length, self.max_distance + 2).round().astype(int)
        return [(int(a), int(b)) for a, b in itertools.pairwise(edges.tolist())]

    def closest(self, value: str, limit: int = 3) -> list[tuple[str, int]]:
        """Known ids of the same length within ``max_distance`` substitutions, nearest first (Hamming)."""
        if self._blocks is None:  # built on first use: only reports with failures pay for it
            self._blocks = {}
            for known in self.ids:
                for i, (a, b) in enumerate(self._spans(len(known))):
                    self._blocks.setdefault((len(known), i, known[a:b]), []).append(known)
        candidates: set[str] = set()
        for i, (a, b) in enumerate(self._spans(len(value))):
            candidates.update(self._blocks.get((len(value), i, value[a:b]), ()))
        scored = sorted((sum(x != y for x, y in zip(value, c, strict=True)), c) for c in candidates)
        return [(c, d) for d, c in scored if d <= self.max_distance][:limit]

    def same_but_case(self, value: str) -> list[str]:
        """Known ids equal to the value except for letter case (LucidIDs are case-sensitive)."""
        if self._folded is None:
            self._folded = {}
            for known in self.ids:
                self._folded.setdefault(known.casefold(), []).append(known)
        return sorted(k for k in self._folded.get(value.casefold(), []) if k != value)

    def one_edit_away(self, value: str) -> list[str]:
        """Known ids that one inserted or deleted character turns the value into."""
        found = {value[:i] + value[i + 1 :] for i in range(len(value))} & self.ids
        if len(value) <= 64:  # insertion tries every alphabet character at every position
            found |= {value[:i] + ch + value[i:] for i in range(len(value) + 1) for ch in ALPHABET} & self.ids
        return sorted(found)[:3]

    def hint(self, value: str) -> str:
        """A sentence naming the closest known ids, or saying there is none nearby."""
        if value in self.ids:
            return ""
        cased = self.same_but_case(value)
        if cased:
            return f"known id {cased[0]!r} differs only in letter case (LucidIDs are case-sensitive)"
        near = self.closest(value)
        if near:
            parts = []
            for known, distance in near:
                where = [str(i) for i, (x, y) in enumerate(zip(value, known, strict=True)) if x != y]
                parts.append(f"{known!r} ({distance} differing: index {', '.join(where)})")
            return "closest known id" + ("s" if len(parts) > 1 else "") + ": " + "; ".join(parts)
        edits = self.one_edit_away(value)
        if edits:
            return "known id one inserted or deleted character away: " + ", ".join(repr(e) for e in edits)
        return f"no known id within {self.max_distance} characters"
