"""The whole-column rules, written once as narwhals expressions: the same on pandas, polars, Arrow, DuckDB, Dask, Spark.

Two passes, so that the cost of the detail grows with the failures, not with the rows:

1. ``strict_ok``: one length test and one anchored regular expression over every cell (plus, for 22-character
   shortuuids, a comparison with ``UUID_MAX``): True for a well-formed id.
2. ``reason``: on the failing rows only, the first reason code that applies, in the order of ``cells.diagnose``
   (missing, not a string, case id, scan URL, whitespace, length, alphabet, decode bound). With ``normalize=True``
   whitespace, invisible characters and scan URLs are removed first, exactly as ``cells.normalize_value`` does.

``unknown`` (``known_ids=``) and ``duplicate`` are decided by :mod:`lucidframes.lucidid.engine.run` on the well-formed
values. Every pattern avoids the constructs on which Python's ``re``, RE2 and Java disagree (see ``formats``).
"""

from __future__ import annotations

import narwhals as nw

from lucidframes.lucidid.formats import (
    ALPHABET,
    CASE_URL,
    INVISIBLE_CHARS,
    SCAN_URL,
    WHITESPACE_CHARS,
    IdFormat,
    Reason,
)

__all__ = ["core", "reason", "strict_ok"]

_INVISIBLE = f"[{INVISIBLE_CHARS}]"
_EDGE_SPACE = f"^[{WHITESPACE_CHARS}]+|[{WHITESPACE_CHARS}]+$"
_BAD_CHAR = f"[^{ALPHABET}]"
# Without capturing groups: pandas warns about groups in str.contains, and only Python needs them (cells.py).
_SCAN_URL = "^" + SCAN_URL.replace("(case|c|collection)", "(?:case|c|collection)").replace("([^/?#]+)", "[^/?#]+") + "$"
_CASE_URL = f"^{CASE_URL}$"


def strict_ok(s: nw.Expr, fmt: IdFormat) -> nw.Expr:
    """True where the string cell is a well-formed id of ``fmt`` (missing cells give False or null: both fail).

    Args:
        s: the column as strings.
        fmt: the expected format.

    Returns:
        A boolean expression. The length test keeps ``$`` honest in Python and Java, where it also matches before
        a final newline.
    """
    ok = ~s.is_null() & (s.str.len_chars() == fmt.length) & s.str.contains(f"^{fmt.pattern}$")
    if fmt.max_value is not None:
        ok = ok & (s <= nw.lit(fmt.max_value))  # same length, alphabet sorted by code point: numeric order
    return ok


def _stripped(s: nw.Expr) -> nw.Expr:
    """Invisible characters removed anywhere, then surrounding whitespace (``cells.normalize_value``'s first steps)."""
    return s.str.replace_all(_INVISIBLE, "").str.replace_all(_EDGE_SPACE, "")


def _url_id(stripped: nw.Expr) -> nw.Expr:
    """The last path segment of a scan URL: query and fragment, one trailing slash and the path before it removed."""
    return stripped.str.replace_all(r"[?#][\s\S]*$", "").str.replace_all("/$", "").str.replace_all(r"^[\s\S]*/", "")


def core(s: nw.Expr, fmt: IdFormat, *, normalize: bool) -> nw.Expr:
    """The value that is checked: the cell, or with ``normalize=True`` the cell once normalised.

    Args:
        s: the column as strings.
        fmt: the expected format (a case URL is not unwrapped in a LucidID column).
        normalize: apply ``normalize_lucid_ids``' rules first.

    Returns:
        A string expression.
    """
    if not normalize:
        return s
    stripped = _stripped(s)
    is_url = stripped.str.contains(_SCAN_URL)
    if fmt.kind == "lucid_id":
        is_url = is_url & ~stripped.str.contains(_CASE_URL)
    return nw.when(is_url).then(_url_id(stripped)).otherwise(stripped)


def _core_checks(value: nw.Expr, fmt: IdFormat) -> nw.Expr:
    """Length, alphabet and decode bound of a value free of surrounding whitespace; null when well-formed."""
    checks = (
        nw.when(value.str.len_chars() != fmt.length)
        .then(nw.lit(Reason.WRONG_LENGTH.value))
        .when(value.str.contains(_BAD_CHAR))
        .then(nw.lit(Reason.BAD_CHARACTER.value))
    )
    if fmt.max_value is not None:
        checks = checks.when(value > nw.lit(fmt.max_value)).then(nw.lit(Reason.NOT_DECODABLE.value))
    return checks.otherwise(nw.lit(None, nw.String))


def reason(s: nw.Expr, not_a_string: nw.Expr | None, fmt: IdFormat, *, normalize: bool) -> nw.Expr:
    """The reason code of a cell, null when it passes the format (``unknown`` and ``duplicate`` are decided later).

    Args:
        s: the column as strings (null where the cell is missing or not a string).
        not_a_string: True where the cell holds something other than text, or None when no cell does.
        fmt: the expected format.
        normalize: check the value after normalising it.

    Returns:
        A string expression: one of ``Reason``'s values, or null.
    """
    stripped = _stripped(s)
    is_url = stripped.str.contains(_SCAN_URL)
    first = nw.when(s.is_null() | (s == nw.lit(""))).then(nw.lit(Reason.MISSING.value))
    if not_a_string is not None:
        first = (
            nw.when(not_a_string)
            .then(nw.lit(Reason.NOT_A_STRING.value))
            .when(s.is_null() | (s == nw.lit("")))
            .then(nw.lit(Reason.MISSING.value))
        )
    if fmt.kind == "lucid_id":
        is_case = stripped.str.contains(_CASE_URL)
        first = first.when(is_url & is_case).then(nw.lit(Reason.CASE_ID.value))
    if not normalize:
        return (
            first.when(is_url)
            .then(nw.lit(Reason.URL_WRAPPED.value))
            .when(stripped == nw.lit(""))
            .then(nw.lit(Reason.MISSING.value))
            .when(stripped != s)
            .then(nw.lit(Reason.WHITESPACE.value))
            .otherwise(_core_checks(s, fmt))
        )
    # Normalised: the scan URL's id (which may itself carry spaces) or the stripped cell is what is checked.
    value = nw.when(is_url).then(_url_id(stripped)).otherwise(stripped)
    value_stripped = value.str.replace_all(_EDGE_SPACE, "")
    return (
        first.when(value_stripped == nw.lit(""))
        .then(nw.lit(Reason.MISSING.value))
        .when(value_stripped != value)
        .then(nw.lit(Reason.WHITESPACE.value))
        .otherwise(_core_checks(value, fmt))
    )
