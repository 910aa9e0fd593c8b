"""Checkpoints: the pages a drain has fetched, kept in a JSON Lines file so a re-run continues where one stopped.

A header line names the drain (endpoint and parameters); then one line per page, appended and flushed as each
page arrives, so a crash loses at most the page being written (a line cut short is fetched again). The file is
deleted once the drain is complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lucidframes.errors import ConfigError
from lucidframes.loaders.pages import DrainState, Fetched

__all__ = ["Checkpoint"]

VERSION = 2  # 2: `next` is the page number the link named (1 kept the link itself)


class Checkpoint:
    """Fetched pages of one drain in a JSON Lines file."""

    def __init__(self, path: Path, endpoint: str, params: dict[str, str]) -> None:
        self.path = path
        self.endpoint = endpoint
        self.params = params
        self.header: dict[str, Any] = {"lucidframes_checkpoint": VERSION, "endpoint": endpoint, "params": params}

    def read(self) -> DrainState | None:
        """The state saved by an earlier run, or None when there is none."""
        if not self.path.exists():
            return None
        state = DrainState(self.endpoint, dict(self.params))
        try:
            with self.path.open(encoding="utf-8") as fh:
                header = json.loads(fh.readline())
                if {k: header.get(k) for k in self.header} != self.header:
                    raise ConfigError(
                        f"Checkpoint {self.path} belongs to another drain ({header.get('endpoint')!r} "
                        f"{header.get('params')}, format {header.get('lucidframes_checkpoint')}); delete it or "
                        "choose another file."
                    )
                for line in fh:
                    if not line.endswith("\n"):
                        break  # a line cut short by a crash: that page is fetched again
                    page = json.loads(line)
                    state.add(int(page["page"]), (page["results"], page["count"], page["next"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"Checkpoint {self.path} is not readable ({exc}); delete it to start over.") from None
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
