"""What a snapshot checks before its first request, so that a run that cannot finish fails before it fetches.

``preflight`` checks the names, the format and its library, the folder (its parent exists, it is writable, the
folders the snapshot keeps in it are not files) and the DuckDB file (it opens for writing: no other process holds
its lock, it is a DuckDB file). The command line calls it before it makes a client; ``snapshot`` calls it again,
then takes the folder's lock and checks the previous snapshot's files (``previous.py``), all before the first
request: ``before_requests`` turns the operating system's errors there into one-line ConfigErrors (exit 2).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from lucidframes.errors import ConfigError
from lucidframes.io import formats
from lucidframes.pipelines.staging import PARTIAL_NAME, STAGING_NAME
from lucidframes.pipelines.targets import Target, resolve_targets

__all__ = ["before_requests", "preflight"]

_DUCKDB = formats.get("duckdb")


def preflight(
    directory: str | os.PathLike[str],
    endpoints: Iterable[str] | None = None,
    format: str = formats.SNAPSHOT_DEFAULT,  # noqa: A002
    *,
    duckdb: str | os.PathLike[str] | None = None,
    excel_safe: bool = False,
) -> list[Target]:
    """Check what can be checked before the first request: names, format, writer libraries, folders, DuckDB file.

    Args:
        directory: the snapshot folder (its parent must exist).
        endpoints: target or endpoint names, or None for all.
        format: parquet, csv or jsonl.
        duckdb: the DuckDB file, if any (its folder must exist; it must open for writing).
        excel_safe: the CSV option (refused for other formats and for DuckDB).

    Returns:
        The targets to fetch.
    """
    choices = formats.snapshot_formats()
    if format not in choices:
        raise ConfigError(f"Unknown snapshot format {format!r}: use --format {formats.listed(choices)}.")
    formats.get(format).require()
    (formats.get(format) if duckdb is None else _DUCKDB).chosen({"excel_safe": excel_safe}, str(duckdb or directory))
    targets = resolve_targets([endpoints] if isinstance(endpoints, str) else endpoints)
    folder = Path(directory)
    if not folder.parent.is_dir():
        raise ConfigError(f"The folder {str(folder.parent)!r} does not exist: create it first.")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{str(folder)!r} is a file, not a folder.")
    for name in ("changes", PARTIAL_NAME, STAGING_NAME):
        if (folder / name).exists() and not (folder / name).is_dir():
            raise ConfigError(f"{str(folder / name)!r} is a file: the snapshot keeps a folder there. Move it away.")
    if not os.access(folder if folder.exists() else folder.parent, os.W_OK):
        raise ConfigError(f"The folder {str(folder)!r} cannot be written.")
    if duckdb is not None:
        _DUCKDB.require()
        if not Path(duckdb).parent.is_dir():
            raise ConfigError(f"The folder {str(Path(duckdb).parent)!r} does not exist: create it first.")
        _DUCKDB.open_database(duckdb).check()
    return targets


@contextlib.contextmanager
def before_requests(folder: Path) -> Iterator[None]:
    """The operating system's errors before the first request are a configuration problem: one line, exit 2.

    Args:
        folder: the snapshot folder, for the message.

    Returns:
        A context manager.
    """
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise ConfigError(f"Cannot prepare the snapshot in {folder}: {exc.strerror or exc}{where}.") from None
