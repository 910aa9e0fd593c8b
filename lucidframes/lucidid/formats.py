"""What a valid id looks like: the alphabet, the lengths, the reason codes, and the patterns every engine shares.

The patterns are written for the common subset of Python's ``re``, RE2 (pyarrow, polars, DuckDB) and Java
(Spark): characters are placed literally in classes (no ``\\u`` or ``\\x{}`` escapes, which differ between them),
and ``\\s`` is never used (ASCII-only in RE2 and Java, Unicode in Python).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from lucidframes import config
from lucidframes.endpoints import ALPHABET, UUID_LENGTH, UUID_MAX, IdFormat
from lucidframes.errors import ConfigError

__all__ = [
    "ALPHABET",
    "INVISIBLE_CHARS",
    "KINDS",
    "LUCID_ID_LENGTH",
    "REASONS",
    "SCAN_URL",
    "SEVERITIES",
    "UUID_LENGTH",
    "UUID_MAX",
    "WHITESPACE_CHARS",
    "IdFormat",
    "Reason",
    "lucid_id_length",
]

# ALPHABET, UUID_LENGTH, UUID_MAX and IdFormat are the registry's (an API fact every layer reads), re-exported here.
LUCID_ID_LENGTH = config.DEFAULT_LUCID_ID_LENGTH  # the specification's; LUCID_ID_LENGTH or length= override it
KINDS = ("lucid_id", "uuid")


class Reason(StrEnum):
    """Stable reason codes, in the order a cell is checked (a cell gets the first that applies).

    Members are strings: ``failures["reason"] == "wrong_length"`` and ``== lf.Reason.WRONG_LENGTH`` agree.
    """

    MISSING = "missing"
    NOT_A_STRING = "not_a_string"
    URL_WRAPPED = "url_wrapped"
    CASE_ID = "case_id"
    WHITESPACE = "whitespace"
    WRONG_LENGTH = "wrong_length"
    BAD_CHARACTER = "bad_character"
    NOT_DECODABLE = "not_decodable"
    UNKNOWN = "unknown"  # only with known_ids=: well-formed, but not among the known ids
    DUPLICATE = "duplicate"


REASONS: tuple[str, ...] = tuple(r.value for r in Reason)
SEVERITIES = ("error", "warning")  # severity= levels: a warning is reported but does not fail the check

# Invisible format characters that copy-paste from web pages and Excel leaves behind; removed anywhere.
INVISIBLE_CHARS = (
    "\u00ad\u061c\u180e"
    + "".join(map(chr, range(0x200B, 0x2010)))
    + "".join(map(chr, range(0x202A, 0x202F)))
    + "".join(map(chr, range(0x2060, 0x2065)))
    + "".join(map(chr, range(0x2066, 0x2070)))
    + "\ufeff\ufff9\ufffa\ufffb"
)
# Exactly the characters Python's str.strip() removes, so that every engine strips the same ones.
WHITESPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
# A scan URL: https://qr.lcdg.io/<id>, /case/<id>, /c/<id>, /collection/<id>, on qr. or dev-qr. (any *.lcdg.io).
_HOST = r"(?i:(?:https?://)?(?:[a-z0-9-]+\.)*lcdg\.io(?::[0-9]+)?)"
SCAN_URL = _HOST + r"/(?:(?i:(case|c|collection))/)?([^/?#]+)/?(?:[?#][\s\S]*)?"
CASE_URL = _HOST + r"/(?i:case|c|collection)/[^/?#]+/?(?:[?#][\s\S]*)?"


def lucid_id_length(environ: Mapping[str, str] | None = None) -> int:
    """The LucidID length: ``LUCID_ID_LENGTH`` when set (a whole number from 1 to 64), else 20.

    Args:
        environ: the environment to read (defaults to ``os.environ``).

    Returns:
        The length.
    """
    text = (os.environ if environ is None else environ).get(config.ENV_LUCID_ID_LENGTH, "").strip()
    if not text:
        return config.DEFAULT_LUCID_ID_LENGTH
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ConfigError(
            f"{config.ENV_LUCID_ID_LENGTH} must be a positive whole number (like 20 or 22) up to 64, not {text!r}"
        )
    return int(text)
