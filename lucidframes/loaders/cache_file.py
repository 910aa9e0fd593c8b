"""The result cache's file on disk: private to the user, checked to be ours, set aside when damaged.

The cache holds a brand's data, so its folder is created ``0700`` and its database file (and with it SQLite's
write-ahead log and shared-memory files, which SQLite creates with the database file's mode) ``0600``, whatever the
umask. A file that is not a lucidframes cache of this version (garbage, cut short, another program's database, a
later schema) is *set aside*: renamed ``NAME.damaged-<time>``, so that nothing is lost but cached results and the
cache is rebuilt empty; a folder where the file should be is a ConfigError (nothing is moved).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
import warnings
from pathlib import Path

from lucidframes.errors import CacheWarning, ConfigError

__all__ = [
    "COLUMNS",
    "Damaged",
    "check_layout",
    "inode",
    "private_file",
    "private_folder",
    "set_aside",
    "warn_aside",
    "warn_off",
]

# The columns of our two tables: a file whose tables have others was not written by this version.
COLUMNS = {
    "meta": ["key", "value"],
    "entries": ["scope", "endpoint", "params", "kind", "key", "fetched_at", "body"],
}
_LOGS = ("-wal", "-shm", "-journal")  # SQLite's files beside the database


class Damaged(Exception):
    """The cache file is not a lucidframes cache of this version (the message says why)."""


def private_folder(folder: Path) -> None:
    """Create the cache folder (``0700``) if missing; a folder that exists keeps its mode (it may be the user's).

    Args:
        folder: the cache folder.

    Returns:
        None. Raises ConfigError when it cannot be created.
    """
    if folder.is_dir():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)  # the umask may have taken bits mkdir was given
    except OSError as exc:
        raise ConfigError(f"The cache folder {folder} cannot be created ({exc.strerror or exc}).") from None


def private_file(path: Path) -> None:
    """Create the database file ``0600`` before SQLite does (it would use the umask), or make an existing one so.

    Args:
        path: the database file.

    Returns:
        None. Raises ConfigError for a folder where the file should be; OSError when the file cannot be created.
    """
    if path.is_dir():
        raise ConfigError(f"The cache file {path} is a folder: remove it, or give the cache another folder.")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for each in (path, *(Path(f"{path}{suffix}") for suffix in _LOGS)):
        with contextlib.suppress(OSError):  # a file of another user's (a shared folder) stays as it is
            if each.exists() and stat.S_IMODE(each.stat().st_mode) != 0o600:
                each.chmod(0o600)


def check_layout(db: sqlite3.Connection, version: int) -> None:
    """Raise Damaged unless the open database holds our tables (or none yet) and our schema version.

    Args:
        db: a connection inside a transaction.
        version: the schema version this code writes.

    Returns:
        None.
    """
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, columns in COLUMNS.items():
        if table in tables:
            found = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            if found != columns:
                raise Damaged(f"its table {table!r} is not a lucidframes cache's")
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is not None and row[0] != str(version):
            raise Damaged(f"it was written by another version of lucidframes (cache schema {row[0]}, not {version})")


def set_aside(path: Path, found: int | None) -> Path:
    """Rename a damaged database to ``NAME.damaged-<time>`` and drop SQLite's files beside it.

    Args:
        path: the database file.
        found: the inode of the file found damaged; another process may have set it aside and built a new one
            since, which is then left alone (None: no check).

    Returns:
        Where it went (``path`` itself when another process got there first).
    """
    with contextlib.suppress(FileNotFoundError):
        if found is not None and path.stat().st_ino != found:
            return path
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
        path.rename(aside)
        for suffix in _LOGS:  # a stale log replayed into the new file would bring the damage back
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return aside
    return path


def inode(path: Path) -> int | None:
    """The file's inode (None when it does not exist)."""
    try:
        return path.stat().st_ino
    except OSError:
        return None


def warn_off(path: Path, reason: str) -> None:
    """Say, once per client, that the cache cannot be used and the call goes on without it."""
    warnings.warn(
        f"The result cache {path} cannot be used ({reason}); going on without it: results are returned, and "
        "nothing more is cached by this client (a new Client tries again).",
        CacheWarning,
        stacklevel=5,
    )


def warn_aside(path: Path, aside: Path, reason: str) -> None:
    """Say that a damaged cache file was set aside (and where) and the cache rebuilt empty."""
    warnings.warn(
        f"The result cache {path} was damaged ({reason}): moved aside to {aside} and rebuilt empty (only cached "
        "results are lost; delete the old file when you no longer need it).",
        CacheWarning,
        stacklevel=5,
    )
