"""LucidID rules for one cell at a time: normalising a value, and diagnosing a failing value with a hint.

The vectorised column checks live in :mod:`.engine`; this module only ever sees the few cells that failed them, so
clarity wins over speed here. Hints name candidates (:mod:`.known` for ids known to exist); nothing here corrects
a value silently. How values read in messages is :mod:`.wording`.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lucidframes.errors import ConfigError
from lucidframes.lucidid.formats import (
    ALPHABET,
    INVISIBLE_CHARS,
    LUCID_ID_LENGTH,
    REASONS,
    SCAN_URL,
    UUID_LENGTH,
    UUID_MAX,
    IdFormat,
)
from lucidframes.lucidid.known import KnownIds
from lucidframes.lucidid.wording import describe_char, quote, visible

__all__ = [
    "ALPHABET",
    "LUCID_ID_LENGTH",
    "REASONS",
    "UUID_LENGTH",
    "UUID_MAX",
    "Diagnosis",
    "IdFormat",
    "diagnose",
    "diagnose_cell",
    "diagnose_well_formed",
    "is_missing",
    "is_text",
    "lookalikes",
    "normalize_value",
]

_ALPHABET_SET = frozenset(ALPHABET)
_BAD_CHAR = re.compile(f"[^{ALPHABET}]")
_DROP_ALPHABET = dict.fromkeys(map(ord, ALPHABET))  # str.translate table that deletes alphabet characters
# Invisible format characters that copy-paste from web pages and Excel leaves behind; removed anywhere.
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")
# A scan URL: https://qr.lcdg.io/<id>, /case/<id>, /c/<id>, /collection/<id>, on qr. or dev-qr. (any *.lcdg.io).
_SCAN_URL = re.compile(SCAN_URL)
_OTHER_URL = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://([^/?#]*)")
_SHOW_CHARS = 5  # bad characters named in one detail

# Characters outside the alphabet -> the alphabet characters they are usually mistaken for.
_LOOKALIKES: dict[str, str] = {
    "0": "o", "O": "o", "1": "iL", "l": "iL", "I": "iL", "|": "iL", "!": "i", "ı": "i",
    # Cyrillic and Greek letters that render like Latin ones (a keyboard layout or a PDF copy brings them in)
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "o", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "Ѕ": "S", "і": "i",
    "ј": "j", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "iL", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "o", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v", "κ": "k",
}  # fmt: skip
_SEPARATORS = frozenset(" -_.,;:/\\'\"`")


class Diagnosis(NamedTuple):
    """Why one cell failed: a reason code, a detail for people, a hint (never applied), and its core length.

    ``core_length`` is the length of the value once whitespace is removed, when what is left uses only alphabet
    characters; the column check uses it to notice a column whose ids all have another consistent length.
    """

    reason: str
    detail: str
    hint: str
    core_length: int | None = None


def is_text(value: Any) -> bool:
    """Whether a cell is a str; a signalling NaN (``Decimal('sNaN')``: any comparison raises, pandas' own too) is
    refused with a ConfigError here, before pandas would raise a bare InvalidOperation from deep inside."""
    if isinstance(value, Decimal) and value.is_snan():
        raise ConfigError(f"A cell holds {value!r}, a signalling NaN that cannot be compared: turn the column into "
                          "text first (df[col].astype(str)), or drop that cell.")  # fmt: skip
    return isinstance(value, str)


def is_missing(value: Any) -> bool:
    """True for None, NaN (float or numpy), pd.NA and NaT; never raises, whatever the value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(math.isnan(value))
    return isinstance(value, np.datetime64 | np.timedelta64) and bool(np.isnat(value))


def normalize_value(value: str) -> tuple[str, list[str], str | None]:
    """Remove invisible characters, strip whitespace and unwrap a scan URL.

    Args:
        value: one cell.

    Returns:
        ``(normalised, actions, url_kind)``: the actions taken, in words, and for a scan URL its kind
        (``"item"``, ``"case"``, ``"c"`` or ``"collection"``), else None.
    """
    actions: list[str] = []
    core = value
    invisible = [] if value.isascii() else _INVISIBLE.findall(core)  # every invisible character is non-ASCII
    if invisible:
        core = _INVISIBLE.sub("", core)
        names = sorted({describe_char(ch) for ch in invisible})
        actions.append(f"removed {len(invisible)} invisible character(s): {', '.join(names)}")
    stripped = core.strip()
    if stripped != core:
        actions.append("stripped surrounding whitespace")
        core = stripped
    url_kind = None
    match = _SCAN_URL.fullmatch(core) if "/" in core else None  # a scan URL has a path
    if match:
        url_kind = (match.group(1) or "item").lower()
        core = match.group(2)
        actions.append("extracted the id from a scan URL" + ("" if url_kind == "item" else f" (/{url_kind}/)"))
    return core, actions, url_kind


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _bad_chars_text(core: str) -> tuple[str, str]:
    """Detail and hint for the characters of ``core`` outside the alphabet ("" when there are none)."""
    bad = []
    for m in _BAD_CHAR.finditer(core):
        bad.append((m.start(), m.group()))
        if len(bad) > _SHOW_CHARS:
            break
    if not bad:
        return "", ""
    total = len(bad) if len(bad) <= _SHOW_CHARS else len(core.translate(_DROP_ALPHABET))  # C speed on 1 MB
    shown = bad[:_SHOW_CHARS]
    detail = ", ".join(f"{describe_char(ch)} at index {i}" for i, ch in shown)
    if total > len(shown):
        detail += f" and {total - len(shown)} more"
    detail = f"{total} character(s) outside the base57 alphabet: {detail}"
    return detail, _char_hints(tuple(dict.fromkeys(ch for _, ch in shown)))


@functools.lru_cache(maxsize=4096)  # the same few bad characters recur across thousands of cells
def _char_hints(chars: tuple[str, ...]) -> str:
    """The hint for these characters outside the alphabet (distinct, in order of appearance)."""
    hints = []
    for ch in chars:
        options = lookalikes(ch)
        if options:
            hints.append(f"'{visible(ch)}' is probably " + " or ".join(f"'{o}'" for o in options))
        elif ch in _SEPARATORS or ch.isspace():
            hints.append(f"'{visible(ch)}' does not belong in an id: remove it")
    if any(ch in "01IOl" for ch in chars):
        hints.append("LucidIDs never contain 0, 1, I, O or l")
    return _join(*hints)


@functools.lru_cache(maxsize=4096)
def lookalikes(ch: str) -> tuple[str, ...]:
    """Alphabet characters that ``ch`` is likely a mistyped or lookalike form of."""
    if ch in _LOOKALIKES:
        return tuple(c for c in _LOOKALIKES[ch] if c in _ALPHABET_SET)
    folded = unicodedata.normalize("NFKC", ch)  # full-width and other compatibility forms: 'Ａ' -> 'A'
    if len(folded) == 1 and folded != ch:
        return (folded,) if folded in _ALPHABET_SET else lookalikes(folded)
    return ()


def _length_hint(core: str, fmt: IdFormat) -> str:
    if fmt.kind == "lucid_id" and len(core) == UUID_LENGTH:
        return "22 characters is the shortuuid form (entity uuids, the vendor's example item ids): pass length=22"
    if fmt.kind == "uuid" and len(core) == LUCID_ID_LENGTH:
        return "20 characters is a LucidID: check with kind='lucid_id'"
    return "look for a character that was dropped or added when the id was copied"


def _check_core(core: str, fmt: IdFormat, known: KnownIds | None) -> Diagnosis | None:
    """Length, alphabet and range of a value already free of whitespace; None when well-formed."""
    bad_detail, bad_hint = _bad_chars_text(core)
    core_length = None if bad_detail else len(core)
    if len(core) != fmt.length:
        detail = f"{len(core)} characters, expected {fmt.length}"
        hint = _length_hint(core, fmt)
        if known is not None:
            hint = _join(hint, known.hint(core))
        return Diagnosis("wrong_length", _join(detail, bad_detail), _join(hint, bad_hint), core_length)
    if bad_detail:
        hint = _join(bad_hint, known.hint(core) if known is not None else "")
        return Diagnosis("bad_character", bad_detail, hint or "retype the id from the label", None)
    if fmt.max_value is not None and core > fmt.max_value:
        return diagnose_well_formed(core, fmt, known, reason="not_decodable")
    return None


def diagnose_well_formed(core: str, fmt: IdFormat, known: KnownIds | None, reason: str) -> Diagnosis:
    """The diagnosis for a value of the right length and alphabet that is above the maximum or unknown."""
    if reason == "not_decodable":
        detail = f"above {UUID_MAX!r}, the largest 22-character shortuuid: it cannot be decoded to a uuid"
        hint = "a character or the case of a letter was probably changed"
    else:
        detail = f"well-formed, but not among the {len(known.ids) if known else 0} known ids"
        hint = "it may belong to another account, or be mistyped"
    if known is not None:
        hint = _join(known.hint(core), hint)
    return Diagnosis(reason, detail, hint, len(core))


def _blank(ch: str) -> bool:
    """Whitespace or an invisible format character: what normalisation strips from either end."""
    return ch.isspace() or _INVISIBLE.match(ch) is not None


def _whitespace_detail(value: str) -> str:
    """Where the surrounding whitespace and invisible characters of ``value`` are."""
    n = len(value)
    start = 0
    while start < n and _blank(value[start]):
        start += 1
    end = n
    while end > start and _blank(value[end - 1]):
        end -= 1
    parts = []
    if start:
        parts.append("leading " + ", ".join(sorted({describe_char(ch) for ch in value[:start]})))
    if end < n:
        parts.append("trailing " + ", ".join(sorted({describe_char(ch) for ch in value[end:]})))
    inside = [(m.start(), m.group()) for m in _INVISIBLE.finditer(value, start, end)]
    if inside:
        parts.append(", ".join(f"{describe_char(ch)} at index {i}" for i, ch in inside[:_SHOW_CHARS]))
    return _join(*parts)


def diagnose(value: Any, fmt: IdFormat, known: KnownIds | None = None) -> Diagnosis | None:
    """Why a single cell is not a valid id of ``fmt``; None when it is one. Never raises.

    Args:
        value: the cell, of any type.
        fmt: the expected format.
        known: ids known to exist, for hints.

    Returns:
        A Diagnosis with the first reason that applies (see ``REASONS``), or None.
    """
    if not isinstance(value, str):  # the type first: most failing cells are strings
        if is_missing(value):
            return Diagnosis("missing", "empty cell", "fill it in, or drop the row")
        return _not_a_string(value)
    if value == "":
        return Diagnosis("missing", "empty string", "fill it in, or drop the row")
    core, actions, url_kind = normalize_value(value)
    if url_kind is not None:
        return _scan_url(core, url_kind, fmt, known)
    if not core:
        return Diagnosis("missing", "only whitespace or invisible characters: " + visible(value, 40), "fill it in")
    if actions:
        return _surrounded(value, core, fmt, known)
    return _foreign_url(core, _check_core(core, fmt, known))


def _scan_url(core: str, url_kind: str, fmt: IdFormat, known: KnownIds | None) -> Diagnosis:
    """A value that is one of our scan URLs: a case or collection where a LucidID is expected, or a wrapped id."""
    if fmt.kind == "lucid_id" and url_kind != "item":
        detail = f"a {url_kind} scan URL: {quote(core)} is a case or collection id, not a LucidID"
        return Diagnosis("case_id", detail, "list the LucidIDs of that case or collection and check those")
    inner = _check_core(core, fmt, known)
    inner_text = f"; the id itself fails: {inner.reason}: {inner.detail}" if inner else ""
    detail = f"a qr.lcdg.io scan URL; the id in it is {quote(core)}{inner_text}"
    return Diagnosis("url_wrapped", detail, "normalize=True (or lf.normalize_lucid_ids) extracts the id")


def _surrounded(value: str, core: str, fmt: IdFormat, known: KnownIds | None) -> Diagnosis:
    """A value with whitespace or invisible characters around or in it; what the rest fails, if anything."""
    inner = _check_core(core, fmt, known)
    detail = _whitespace_detail(value)
    if inner is not None:
        detail += f"; once removed, still {inner.reason}: {inner.detail}"
    hint = "normalize=True (or lf.normalize_lucid_ids) removes them"
    return Diagnosis("whitespace", detail, hint, inner.core_length if inner else len(core))


def _foreign_url(core: str, result: Diagnosis | None) -> Diagnosis | None:
    """The diagnosis of a bare value, with a hint when it is a URL but not one of ours."""
    if result is None or result.reason == "bad_character":
        return result
    other = _OTHER_URL.match(core)
    if other is None:
        return result
    # a URL, but not one of ours: say so rather than only counting characters
    hint = f"a URL from {other.group(1) or 'another host'}, not a qr.lcdg.io scan URL"
    return result._replace(hint=_join(hint, result.hint))


def _not_a_string(value: Any) -> Diagnosis:
    kind = type(value).__name__
    if isinstance(value, bytes | bytearray):
        return Diagnosis("not_a_string", f"{kind} of length {len(value)}", "decode it first: value.decode('utf-8')")
    if isinstance(value, bool | np.bool_):
        return Diagnosis("not_a_string", f"{kind} {value}", "expected text")
    if isinstance(value, int | float | np.integer | np.floating):
        text = repr(value)
        return Diagnosis(
            "not_a_string",
            f"{kind} {text[:40]}",
            "a number, not text: read the file with every column as text (lucidframes.read_table, or dtype=str), "
            "or Excel may have converted the cell",
        )
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not break the report
        text = "<unrepresentable>"
    return Diagnosis("not_a_string", f"{kind} {visible(text, 40)}", "expected one id as text per cell")


def diagnose_cell(
    cell: Any, reason: str | None, core: Any, fmt: IdFormat, known: KnownIds | None, normalize: bool
) -> Diagnosis | None:
    """One failing cell as the column check sees it: normalised first with ``normalize``; None when that fixes it.

    Args:
        cell: the cell as it was.
        reason: the engine's reason when it computed one ("unknown" is only known there), else None.
        core: the value that was checked (for "unknown").
        fmt: the expected format.
        known: ids known to exist, for hints.
        normalize: check the value once normalised.

    Returns:
        The Diagnosis, or None when the normalised value is a valid id.
    """
    if reason == "unknown":
        return diagnose_well_formed(core, fmt, known, "unknown")
    checked = cell
    if normalize and isinstance(cell, str):
        checked, _, url_kind = normalize_value(cell)
        if url_kind not in (None, "item") and fmt.kind == "lucid_id":
            checked = cell  # a case or collection id is not a LucidID: reported as case_id
    found = diagnose(checked, fmt, known)
    if found is None:
        return None
    if checked is not cell and checked != cell:
        found = found._replace(detail=f"normalised to {quote(checked)}: {found.detail}")
    return found
