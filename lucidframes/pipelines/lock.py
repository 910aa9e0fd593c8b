"""The lock of a snapshot folder: one run at a time writes into it, and a second is refused naming the first.

``DIR/.lucidframes.lock`` is held with ``fcntl.flock`` for the whole run. The kernel drops the lock when the process
ends, however it ends (kill -9 included), so the lock of a dead run is taken over by the next one without guessing
from a pid; the file is never deleted (a deleted lock file lets a third run lock a new file while the second holds
the old one). The holder writes its pid, host and start time into the file, for the message a second run gives;
a record left by a run that no longer holds the lock is only reported as taken over.

Across hosts the lock is as good as the filesystem's locks: local disks hold it, and so does NFS (Linux maps
``flock`` onto NFS byte-range locks); a record naming another host is never judged by its pid, which means nothing
here. Where there is no ``flock`` (Windows) the file is created exclusively and removed at the end instead: a run
killed there leaves it behind, and the message of the next run says to delete it once that run is gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from lucidframes.errors import ConfigError

__all__ = ["LOCK_NAME", "FolderLock"]

LOCK_NAME = ".lucidframes.lock"

log = logging.getLogger("lucidframes.pipelines.lock")


class FolderLock:
    """Held while a run writes into ``folder``: ``with FolderLock(folder): ...``."""

    def __init__(self, folder: Path, what: str = "snapshot") -> None:
        self.path = folder / LOCK_NAME
        self.folder = folder
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise ConfigError naming the run that holds it.

        Returns:
            None.
        """
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        try:
            fd = _lock(self.path)
        except _Held as held:
            raise ConfigError(
                f"{self.folder} is in use by another {self.what} ({_describe(held.record)}): wait for it to end, "
                "or stop it."
            ) from None
        except OSError as exc:
            raise ConfigError(f"Cannot lock {self.path}: {exc.strerror or exc}.") from None
        left = _read(fd)
        if left and left.get("pid") != record["pid"]:
            log.info("took over the lock left by %s, which no longer holds it", _describe(left))
        _write(fd, record)
        self._fd = fd

    def release(self) -> None:
        """Clear the record and drop the lock (the file stays).

        Returns:
            None.
        """
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        _unlock(self.path, fd)


class _Held(Exception):
    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__()
        self.record = record


if sys.platform != "win32":
    import fcntl

    def _lock(path: Path) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            record = _read(fd)
            os.close(fd)
            raise _Held(record) from None
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _unlock(path: Path, fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

else:  # pragma: no cover - no flock: an exclusively created file, removed at the end

    def _lock(path: Path) -> int:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            with open(path, encoding="utf-8", errors="replace") as fh:
                record = _parse(fh.read())
            record["stale"] = f"delete {path} if that run is gone"
            raise _Held(record) from None

    def _unlock(path: Path, fd: int) -> None:
        os.close(fd)
        path.unlink(missing_ok=True)


def _read(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return _parse(os.read(fd, 4096).decode("utf-8", errors="replace"))
    except OSError:
        return {}


def _parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write(fd: int, record: dict[str, Any]) -> None:
    data = json.dumps(record).encode("utf-8")
    with contextlib.suppress(OSError):  # the lock is what matters; the record only makes the message better
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)


def _describe(record: dict[str, Any]) -> str:
    if not record.get("pid"):
        return "a run that is starting"
    stale = f"; {record['stale']}" if record.get("stale") else ""
    host = record.get("host") or "an unknown host"
    return f"pid {record.get('pid')} on {host}, started {record.get('started')}{stale}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
