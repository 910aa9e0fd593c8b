"""Where a look-up stands (the ids answered so far), and its checkpoint file, so that a re-run sends only the rest.

A look-up that gives up, is interrupted or is killed keeps what it had: its error carries ``.resume`` (a
``LookupState``: pass it back as ``resume=``), and with ``checkpoint=PATH`` every answer is appended to a JSON Lines
file as it arrives (flushed and fsynced per batch), which a re-run reads. A header line names the look-up (endpoint
and parameters) and its scope (server, API prefix, account: another's is refused, see ``checkpoint_file``); a line
cut short by a crash is ignored (that id is asked again). The file is deleted once the look-up is complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lucidframes.errors import ConfigError
from lucidframes.loaders.checkpoint_file import Unreadable, header_of, said_resumed, scope_or_raise, unreadable

__all__ = ["LookupCheckpoint", "LookupState", "said_resumed"]

VERSION = 2  # 2: the header names the scope (server, prefix, account)
_KIND = "lucidframes_lookup_checkpoint"


@dataclass
class LookupState:
    """The answers of a look-up so far (id -> row with ``_status``). Pass it back as ``resume=`` to continue."""

    endpoint: str
    params: dict[str, str]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"LookupState(endpoint={self.endpoint!r}, params={self.params!r}, ids_done={len(self.rows)})"

    def check(self, endpoint: str, params: Mapping[str, str], where: str) -> None:
        """Raise ConfigError unless this state belongs to a look-up of ``endpoint`` with ``params``."""
        if self.endpoint != endpoint or self.params != dict(params):
            raise ConfigError(
                f"{where} holds a look-up of {self.endpoint!r} {self.params}, not of {endpoint!r} {dict(params)}: "
                "pass the .resume (or the checkpoint) of the same look-up."
            )


class LookupCheckpoint:
    """The answers of one look-up in a JSON Lines file, for one scope (see ``checkpoint_file``)."""

    def __init__(self, path: Path, endpoint: str, params: dict[str, str], scope: str = "") -> None:
        self.path = path
        self.header: dict[str, Any] = {_KIND: VERSION, "endpoint": endpoint, "params": params, "scope": scope}

    def read(self) -> LookupState | None:
        """The state saved by an earlier run of the same look-up and scope, or None when there is none.

        Raises ConfigError for a checkpoint of another look-up, scope or format, and for a line that is not an
        answer as written (nothing is sent before).
        """
        if not self.path.exists():
            return None
        state = LookupState(self.header["endpoint"], dict(self.header["params"]))
        number = 1
        try:
            with self.path.open(encoding="utf-8") as fh:
                header = header_of(self.path, fh.readline(), _KIND, "look-up")
                LookupState(str(header.get("endpoint")), header.get("params") or {}).check(
                    state.endpoint, state.params, f"Checkpoint {self.path}"
                )
                scope_or_raise(self.path, header, _KIND, VERSION, self.header["scope"])
                for line in fh:
                    number += 1  # the line the message names
                    if not line.endswith("\n"):
                        break  # cut short by a crash: that id is asked again
                    id_, row = _answer(line)
                    state.rows[id_] = row
        except (Unreadable, ValueError) as exc:
            raise unreadable(self.path, number, str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"Checkpoint {self.path} cannot be read ({exc.strerror or exc}).") from None
        return state

    def write(self, rows: Mapping[str, dict[str, Any]]) -> None:
        """Append answers (the header first, for a new file), flushed to disk before the look-up goes on."""
        if not rows:
            return
        new = not self.path.exists()
        with self.path.open("a", encoding="utf-8") as fh:
            if new:
                fh.write(json.dumps(self.header) + "\n")
            for id_, row in rows.items():
                fh.write(json.dumps({"id": id_, "row": row}, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def remove(self) -> None:
        """Delete the file once the look-up is complete."""
        self.path.unlink(missing_ok=True)


def _answer(line: str) -> tuple[str, dict[str, Any]]:
    """An answer line as written: the id and its row (with a text ``_status``); Unreadable for anything else."""
    entry = json.loads(line)
    if not isinstance(entry, dict) or "id" not in entry:
        raise Unreadable("not an answer (a JSON object with an id)")
    row = entry.get("row")
    if not isinstance(row, dict) or not isinstance(row.get("_status"), str):
        raise Unreadable(f"the row of {entry['id']!r} is not a row with a _status")
    return str(entry["id"]), row
