"""How cells and hints read for people: invisible characters made visible, quoting, and wording for the CLI.

Used by the diagnosis (:mod:`.cells`), the report and the command line; nothing here judges a value.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from lucidframes.errors import visible  # one rule for ids and for a server's words (errors.py, layer 1)

__all__ = ["describe_char", "for_cli", "for_widget", "quote", "visible"]

_CLI_WORDS = (
    (re.compile(r"normalize=True \(or lf\.normalize_lucid_ids\)"), "--normalize"),
    (re.compile(r"\blength=(\d+)"), r"--length \1"),
    (re.compile(r"\bkind='(\w+)'"), r"--kind \1"),
    (re.compile(r"\bunique=False"), "--allow-duplicates"),
)


# The Explorer has a Column and a Kind to choose, and a notebook cell next to it; no Python arguments to pass.
_WIDGET_WORDS = (
    (
        re.compile(r"pass length=(\d+) \(or set LUCID_ID_LENGTH=\1\)"),
        r"set LUCID_ID_LENGTH=\1 before starting the Explorer",
    ),
    (re.compile(r"pass length=(\d+)"), r"set LUCID_ID_LENGTH=\1 before starting the Explorer"),
    (re.compile(r"check with kind='(\w+)'"), r"choose Kind \1"),
    (re.compile(r"\bkind='(\w+)'"), r"Kind \1"),
    (re.compile(r"normalize=True \(or lf\.normalize_lucid_ids\)"), "lf.normalize_lucid_ids (in a notebook cell)"),
    (re.compile(r"pass unique=False if repeats are expected"), "keep them if this column may repeat"),
)


@functools.lru_cache(maxsize=4096)  # a few characters recur in thousands of failing cells
def describe_char(ch: str) -> str:
    """A character as people can read it: visible form and Unicode name, e.g. ``'0' (DIGIT ZERO)``."""
    return f"'{visible(ch)}' ({unicodedata.name(ch, f'U+{ord(ch):04X}')})"


def quote(text: str, limit: int = 60) -> str:
    """A string for a message: quoted, invisible characters shown, cut at ``limit`` characters."""
    return f"'{visible(text, limit)}'"


def for_cli(text: str) -> str:
    """A hint or note worded for the command line: flags (``--normalize``) instead of Python arguments."""
    for pattern, flag in _CLI_WORDS:
        text = pattern.sub(flag, text)
    return text


def for_widget(text: str) -> str:
    """A hint or note worded for the Explorer: its Kind and the environment instead of Python arguments."""
    for pattern, words in _WIDGET_WORDS:
        text = pattern.sub(words, text)
    return text
