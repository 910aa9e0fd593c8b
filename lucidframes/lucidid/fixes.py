"""``suggest_fixes``: turn the lookalike hints of a report into candidate ids, and keep those the API knows.

The candidates are every substitution the hints name ('0' -> 'o', '1' -> 'i' or 'L', Cyrillic 'С' -> 'C', ...),
applied to the value once normalised, most likely first (the first option of each character before the others).
With a client, every candidate is looked up read-only (``GET items/<id>/``, through the client's rate limit and
retries; nothing is submitted) and only those the API knows are kept.
"""

from __future__ import annotations

import itertools
from typing import Any, Protocol

import pandas as pd

from lucidframes.lucidid.cells import lookalikes, normalize_value
from lucidframes.lucidid.formats import ALPHABET

__all__ = ["FIX_COLUMNS", "suggest_fixes"]

FIX_COLUMNS = ["row", "column", "value", "candidate", "rank"]
_ALPHABET = frozenset(ALPHABET)
_MAX_CANDIDATES = 256  # per value: 8 ambiguous characters with two options each


class _Client(Protocol):
    def lookup(self, name: str, ids: Any, **kwargs: Any) -> pd.DataFrame: ...


def _report_like(report: Any) -> pd.DataFrame:
    failures = getattr(report, "failures", None)
    if not isinstance(failures, pd.DataFrame) or not {"row", "column", "value"} <= set(failures.columns):
        raise TypeError(f"suggest_fixes takes a ValidationReport, not {type(report).__name__}")
    return failures


def candidates(value: Any, length: int, limit: int = _MAX_CANDIDATES) -> list[str]:
    """Ids of ``length`` that the lookalike substitutions turn ``value`` into, most likely first.

    Args:
        value: a failing cell.
        length: the id length.
        limit: candidates returned at most.

    Returns:
        The candidates (empty when the value has a character without a lookalike, or the wrong length).
    """
    if not isinstance(value, str):
        return []
    core, _, url_kind = normalize_value(value)
    if url_kind not in (None, "item") or len(core) != length:
        return []
    options: list[list[str]] = []
    for ch in core:
        if ch in _ALPHABET:
            options.append([ch])
            continue
        choices = lookalikes(ch)
        if not choices:
            return []
        options.append(list(choices))
    if all(len(o) == 1 and o[0] == ch for o, ch in zip(options, core, strict=True)):
        return []  # nothing to substitute: the value fails for another reason (a repeat, an unknown id)
    ranked = sorted(
        itertools.islice(itertools.product(*(range(len(o)) for o in options)), limit * 4),
        key=lambda picks: sum(picks),  # fewer second choices first; product order breaks ties
    )
    return ["".join(o[i] for o, i in zip(options, picks, strict=True)) for picks in ranked[:limit]]


def suggest_fixes(report: Any, client: _Client | None = None, *, limit: int = _MAX_CANDIDATES) -> pd.DataFrame:
    """Candidate ids for the failing cells whose hints name lookalike characters.

    Args:
        report: a ValidationReport.
        client: an ``lf.Client``: keep only the candidates the API knows (read-only look-ups of items).
        limit: candidates per cell at most.

    Returns:
        One row per candidate: ``row``, ``column``, ``value``, ``candidate``, ``rank`` (1 = most likely) and,
        with a client, ``status`` (only ``ok`` rows are kept; a cell with exactly one row is a safe fix).
    """
    failures = _report_like(report)
    length = int(getattr(report, "length", 20))
    rows = []
    for row, column, value in failures[["row", "column", "value"]].itertuples(index=False):
        for rank, candidate in enumerate(candidates(value, length, limit), start=1):
            rows.append((row, column, value, candidate, rank))
    out = pd.DataFrame(rows, columns=FIX_COLUMNS).astype({"row": object, "column": object, "value": object})
    if client is None or not len(out):
        return out if client is None else out.assign(status=pd.Series([], dtype=object))
    found = client.lookup("items", list(dict.fromkeys(out["candidate"])), validate=False, progress=False)
    status = dict(zip(found["_id"], found["_status"], strict=True))
    out["status"] = out["candidate"].map(status)
    return out[out["status"] == "ok"].reset_index(drop=True)
