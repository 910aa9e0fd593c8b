"""What a drain's and a look-up's checkpoint files share: a header naming the run and its scope, lines read
defensively, and the line a resumed run says.

A checkpoint holds one server's answers for one account: its header names the run (endpoint, parameters) and the
*scope* the cache keys entries by (base URL, the product's API prefix, the client id or a digest of a fixed token:
never a secret). A checkpoint of another run, another scope, or an earlier format (which named no scope) is refused
with a ConfigError before anything is sent, and so is a line that is not what was written (``Unreadable``: a page
whose ``results`` is a string, numbers or lists). A run that resumes says so on the ``lucidframes`` logger (INFO,
event ``resumed``): what it took from the file and what is left.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, TypeGuard

from lucidframes.errors import ConfigError

__all__ = ["Unreadable", "header_of", "is_count", "rows_or_raise", "said_resumed", "scope_or_raise", "unreadable"]

log = logging.getLogger("lucidframes")


class Unreadable(Exception):
    """A line of a checkpoint that is not what lucidframes writes (the message says what is wrong)."""


def header_of(path: Path, line: str, kind: str, what: str) -> dict[str, Any]:
    """The header line of a checkpoint, or a ConfigError saying the file is not one.

    Args:
        path: the file.
        line: its first line.
        kind: the key that marks the header (``lucidframes_checkpoint``).
        what: the kind of checkpoint, for the message (``drain``, ``look-up``).

    Returns:
        The header.
    """
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or kind not in header:
        raise ConfigError(f"{path} is not a {what} checkpoint; delete it or choose another file.")
    return header


def scope_or_raise(path: Path, header: dict[str, Any], kind: str, version: int, scope: str) -> None:
    """Refuse a checkpoint of another format or another scope (server, API prefix, account).

    Args:
        path: the file.
        header: its header.
        kind: the key holding the format's version.
        version: the version this code writes.
        scope: the scope of the run that would resume it.

    Returns:
        None.
    """
    if header.get(kind) != version or not isinstance(header.get("scope"), str):
        raise ConfigError(
            f"Checkpoint {path} was written by another version of lucidframes (format {header.get(kind)!r}, not "
            f"{version}) and does not say which server and account it holds answers of; delete it to start over."
        )
    if header["scope"] != scope:
        raise ConfigError(
            f"Checkpoint {path} holds the answers of another server or account ({header['scope']}), not of "
            f"{scope}; they are not resumed here. Delete it, or resume it with the client that wrote it."
        )


def unreadable(path: Path, number: int, why: str) -> ConfigError:
    """The ConfigError for line ``number`` of a checkpoint.

    Args:
        path: the file.
        number: the line (1-based).
        why: what is wrong with it.

    Returns:
        The error, to raise.
    """
    return ConfigError(f"Checkpoint {path} is not readable (line {number}: {why}); delete it to start over.")


def is_count(value: Any, least: int = 0) -> TypeGuard[int]:
    """Whether a JSON value is a whole number (not a boolean) of at least ``least``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def rows_or_raise(value: Any, name: str) -> list[dict[str, Any]]:
    """A list of JSON objects, or Unreadable naming what it is instead.

    Args:
        value: what the line holds.
        name: the field, for the message.

    Returns:
        The rows.
    """
    if not isinstance(value, list):
        raise Unreadable(f"{name} is {_shape(value)}, not a list of rows")
    for item in value:
        if not isinstance(item, dict):
            raise Unreadable(f"{name} holds {_shape(item)}, not rows (JSON objects)")
    return value


def said_resumed(endpoint: str, path: Path, taken: int, unit: str, left: int | None) -> None:
    """Say (INFO, event ``resumed``) that a run continues from its checkpoint: what it took, what is left.

    Args:
        endpoint: the endpoint.
        path: the checkpoint.
        taken: pages or ids taken from it.
        unit: ``pages`` or ``ids``.
        left: how many are left to fetch (None when not known yet).

    Returns:
        None.
    """
    rest = f"{left:,} left" if left is not None else "the rest to fetch"
    log.info(
        "%s: resuming from the checkpoint %s: %s %s taken from it, %s",
        endpoint,
        path,
        f"{taken:,}",
        unit,
        rest,
        extra={"event": "resumed", "endpoint": endpoint},
    )


def _shape(value: Any) -> str:
    """A JSON value's kind, as a message names it (``a str``, ``a number``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"
