"""Tables written batch by batch: CSV, Parquet and JSON Lines files that appear under their name only when complete.

A ``TableWriter`` opens a hidden temp file next to its target, takes typed DataFrames one batch at a time (a page
or a few), and on ``commit`` fsyncs and renames it onto the target (or onto ``NAME.partial``); ``discard`` removes
it. Every batch gets the first one's columns, and the format's sink (``io/formats.py``, ``sinks.py``) casts it to
the first one's types, so a file read back has one schema. CSV is UTF-8 with ISO-8601 datetimes and lists or
objects as JSON text; JSON Lines writes one object per row; Parquet keeps the dtypes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import IO, Any

import pandas as pd

from lucidframes.errors import ConfigError, DecodeError
from lucidframes.io import formats
from lucidframes.io.atomic import check_folder, replace_durably, temp_beside

__all__ = ["FILE_FORMATS", "TableWriter", "sha256_of", "write_text"]

FILE_FORMATS = formats.batch_names()


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, in hex.

    Args:
        path: the file.

    Returns:
        64 hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text(df: pd.DataFrame, fmt: str, fh: IO[str], *, header: bool = True, **options: Any) -> None:
    """Write a typed frame in a text format (CSV, JSON Lines) to an open text file, which stays open.

    Args:
        df: the frame.
        fmt: a format that can go to stdout (``csv``, ``jsonl``).
        fh: the file (stdout, or a temp file).
        header: write the CSV header line.
        **options: the format's per-call options (CSV: ``excel_safe``).

    Returns:
        None.
    """
    formats.get(fmt).to_stream(fh, header=header, **options).write(df)


class TableWriter:
    """One table written batch by batch into a temp file next to ``target``; ``commit`` puts it in place.

    ``options`` are the format's per-call options (CSV: ``excel_safe=True``); one the format does not take is a
    ConfigError before anything is written.
    """

    def __init__(self, target: str | os.PathLike[str], fmt: str, **options: Any) -> None:
        if fmt not in FILE_FORMATS:
            raise ConfigError(f"Unknown file format {fmt!r}: use one of {', '.join(FILE_FORMATS)}.")
        self.format = formats.get(fmt)
        self.format.require()  # a missing extra is said before the temp file exists
        self.options = self.format.chosen(options, str(target))
        self.target = check_folder(target)
        self.fmt = fmt
        self.rows = 0
        self.columns: list[str] | None = None
        self._closed = False
        self.temp = temp_beside(self.target)
        try:
            self._sink = self.format.open_sink(self.temp, self.target.name, **self.options)
        except BaseException:
            self.temp.unlink(missing_ok=True)
            raise

    def write(self, df: pd.DataFrame) -> None:
        """Append one batch (its columns must be those of the first batch, in any order; missing ones are null).

        Args:
            df: a typed frame.

        Returns:
            None.
        """
        if self.columns is None:
            self.columns = [str(c) for c in df.columns]
        else:
            extra = [str(c) for c in df.columns if c not in self.columns]
            if extra:
                raise DecodeError(
                    f"{self.target.name}: a later page has columns the first had not ({', '.join(extra)}); "
                    "write JSON Lines (--format jsonl), which has no fixed columns."
                )
            df = df.reindex(columns=self.columns)
        self._sink.write(df)
        self.rows += len(df)

    def commit(self, target: str | os.PathLike[str] | None = None) -> Path:
        """Finish the file, fsync it and rename it onto ``target`` (the writer's own by default).

        Args:
            target: where to put it (``NAME.partial`` for what a failed run fetched).

        Returns:
            The path written.
        """
        final = Path(target) if target is not None else self.target
        try:
            self._close()
            replace_durably(self.temp, final)
        except BaseException:
            self.discard()
            raise
        return final

    def discard(self) -> None:
        """Remove the temp file; the target is untouched.

        Returns:
            None.
        """
        with contextlib.suppress(Exception):
            self._close()
        self.temp.unlink(missing_ok=True)

    def close(self) -> None:
        """Finish the temp file without putting it in place (to read it back before ``commit``).

        Returns:
            None.
        """
        self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._sink.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()
