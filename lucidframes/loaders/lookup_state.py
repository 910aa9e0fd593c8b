"""Where a look-up stands (the ids answered so far), and its checkpoint file, so that a re-run sends only the rest.

A look-up that gives up, is interrupted or is killed keeps what it had: its error carries ``.resume`` (a
``LookupState``: pass it back as ``resume=``), and with ``checkpoint=PATH`` every answer is appended to a JSON Lines
file as it arrives (flushed and fsynced per batch), which a re-run reads. A header line names the look-up (endpoint
and parameters); a line cut short by a crash is ignored (that id is asked again). The file is deleted once the
look-up is complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lucidframes.errors import ConfigError

__all__ = ["LookupCheckpoint", "LookupState"]

VERSION = 1


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
    """The answers of one look-up in a JSON Lines file."""

    def __init__(self, path: Path, endpoint: str, params: dict[str, str]) -> None:
        self.path = path
        self.header: dict[str, Any] = {"lucidframes_lookup_checkpoint": VERSION, "endpoint": endpoint, "params": params}

    def read(self) -> LookupState | None:
        """The state saved by an earlier run, or None when there is none."""
        if not self.path.exists():
            return None
        state = LookupState(self.header["endpoint"], dict(self.header["params"]))
        try:
            with self.path.open(encoding="utf-8") as fh:
                header = json.loads(fh.readline())
                if not isinstance(header, dict) or "lucidframes_lookup_checkpoint" not in header:
                    raise ConfigError(f"{self.path} is not a look-up checkpoint; delete it or choose another file.")
                LookupState(str(header.get("endpoint")), header.get("params") or {}).check(
                    state.endpoint, state.params, f"Checkpoint {self.path}"
                )
                for line in fh:
                    if not line.endswith("\n"):
                        break  # cut short by a crash: that id is asked again
                    entry = json.loads(line)
                    state.rows[str(entry["id"])] = dict(entry["row"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"Checkpoint {self.path} is not readable ({exc}); delete it to start over.") from None
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
