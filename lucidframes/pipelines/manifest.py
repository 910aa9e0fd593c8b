"""The snapshot manifest: what a run fetched, where it wrote it, and whether it can be trusted.

``DIR/manifest.json`` is written last and atomically, so a manifest that exists describes files that exist. Its
JSON Schema ships in the package (``manifest_schema()``; the file is
``lucidframes/pipelines/manifest.schema.json``). The manifest holds the base URL but never a credential.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from lucidframes.io.atomic import atomic_write

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "STATUSES",
    "manifest_schema",
    "read_manifest",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# Run and endpoint statuses, with the exit code the command line gives for each (the worst endpoint wins).
STATUSES = {"complete": 0, "failed_check": 1, "partial": 3, "interrupted": 130, "not_fetched": 0}


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every manifest validates against.

    Returns:
        The schema as a dict.
    """
    text = resources.files("lucidframes.pipelines").joinpath("manifest.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of the snapshot in ``directory``, or None when there is none (or it cannot be read).

    Args:
        directory: a snapshot folder.

    Returns:
        The manifest, or None.
    """
    path = Path(directory) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("lucidframes_manifest") == MANIFEST_VERSION else None


def write_manifest(directory: str | os.PathLike[str], manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically (temp file, fsync, rename).

    Args:
        directory: the snapshot folder.
        manifest: the manifest.

    Returns:
        The path written.
    """
    path = Path(directory) / MANIFEST_NAME
    with atomic_write(path) as fh:
        fh.write(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    return path
