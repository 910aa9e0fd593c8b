"""Atomic file writes: a temp file in the same folder, flushed and fsynced, then ``os.replace`` onto the name.

A run killed at any moment leaves either the previous file or the new one under the final name, never half a
file; the temp file (``.NAME.XXXX.tmp``, hidden) is removed when the writer fails in Python. Readers never see a
file in the making, so a pipeline's next job cannot pick up a truncated CSV.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lucidframes.errors import ConfigError

__all__ = ["atomic_path", "atomic_write", "check_folder", "fsync_folder", "replace_durably", "temp_beside"]


def _file_mode() -> int:
    """The permissions a plain ``open`` would give a new file (mkstemp makes them 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def check_folder(path: str | os.PathLike[str]) -> Path:
    """Check that the folder a file is to be written in exists (it is never created silently).

    Args:
        path: the file to be written.

    Returns:
        The path, as a Path.

    Raises:
        ConfigError: the folder does not exist or is not a folder.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"The folder {str(folder)!r} does not exist: create it first.")
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success it is fsynced and renamed onto ``path``.

    For writers that open a file by name (pyarrow's ParquetWriter). On an exception the temp file is removed and
    ``path`` is untouched.

    Args:
        path: the final file name.

    Returns:
        A context manager yielding the temp path to write.
    """
    target = check_folder(path)
    temp = temp_beside(target)
    try:
        yield temp
        replace_durably(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def temp_beside(target: str | os.PathLike[str]) -> Path:
    """A new empty hidden temp file in the folder of ``target`` (``.NAME.XXXX.tmp``), with the usual permissions.

    Args:
        target: the file it will replace.

    Returns:
        The temp file's path.
    """
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(name, _file_mode())
    return Path(name)


def replace_durably(temp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """fsync a closed temp file, ``os.replace`` it onto ``target``, and fsync the folder.

    Args:
        temp: the finished temp file (closed by its writer).
        target: the final name.

    Returns:
        None.
    """
    with open(temp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(temp, target)
    fsync_folder(Path(target).parent)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = "",
    errors: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temp file next to ``path`` for writing; on success flush, fsync and ``os.replace`` it onto ``path``.

    Args:
        path: the final file name (its folder must exist).
        mode: ``"w"`` (text) or ``"wb"`` (bytes).
        encoding: the text encoding (ignored for bytes).
        newline: as for ``open`` (``""``: no translation, what CSV writers want).
        errors: as for ``open`` (``"backslashreplace"`` keeps a stray surrogate visible instead of failing).

    Returns:
        A context manager yielding the open file.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes new files: mode 'w' or 'wb', not {mode!r}")
    binary = mode == "wb"
    with atomic_path(path) as temp:
        kwargs: dict[str, Any] = {} if binary else {"encoding": encoding, "newline": newline, "errors": errors}
        with open(temp, mode, **kwargs) as fh:
            yield fh
            fh.flush()


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, as on Windows).

    Args:
        folder: the folder whose entries changed.

    Returns:
        None.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
