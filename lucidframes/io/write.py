"""Tables written batch by batch: CSV, Parquet and JSON Lines files that appear under their name only when complete.

A ``TableWriter`` opens a hidden temp file next to its target, takes typed DataFrames one batch at a time (a page
or a few), and on ``commit`` fsyncs and renames it onto the target (or onto ``NAME.partial``); ``discard`` removes
it. Every batch is cast to the first one's columns and types, so a file read back has one schema. CSV is UTF-8
with ISO-8601 datetimes and lists or objects as JSON text; JSON Lines writes one object per row; Parquet keeps the
dtypes (the ``parquet`` extra).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

import pandas as pd

from lucidframes.errors import ConfigError, DecodeError
from lucidframes.io.atomic import check_folder, replace_durably, temp_beside

__all__ = ["FILE_FORMATS", "TableWriter", "require_pyarrow", "sha256_of", "textual", "write_text"]

FILE_FORMATS = ("csv", "parquet", "jsonl")


def require_pyarrow(what: str = "Parquet") -> Any:
    """The pyarrow module, or a ConfigError naming the extra that installs it.

    Args:
        what: what needs it, for the message.

    Returns:
        The ``pyarrow`` module.
    """
    try:
        import pyarrow
    except ImportError:
        raise ConfigError(f"{what} needs pyarrow: pip install 'lucidframes[parquet]'.") from None
    return pyarrow


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


def textual(df: pd.DataFrame, *, lists_as_json: bool) -> pd.DataFrame:
    """A copy with datetimes as ISO-8601 text and (for CSV) lists/objects as JSON text; missing stays missing.

    Args:
        df: a typed frame.
        lists_as_json: turn lists and dicts into JSON text (CSV has no lists).

    Returns:
        The copy.
    """
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col):
            out[name] = _iso(col)
        elif lists_as_json and col.dtype == object:
            out[name] = col.map(lambda v: json.dumps(_jsonable(v), ensure_ascii=False) if _is_listish(v) else v)
    return out


def _is_listish(value: Any) -> bool:
    return isinstance(value, list | dict | tuple) or type(value).__name__ == "ndarray"


def _jsonable(value: Any) -> Any:
    """Lists, dicts and numpy arrays (as Parquet reads lists back) as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _iso(col: pd.Series) -> pd.Series:
    """ISO-8601 text in UTC (``2025-03-01T20:00:00+00:00``), with microseconds only where a value has them."""
    utc = col.dt.tz_convert("UTC") if col.dt.tz is not None else col.dt.tz_localize("UTC")
    micro = bool((utc.dt.microsecond.fillna(0) != 0).any())
    text = utc.dt.strftime("%Y-%m-%dT%H:%M:%S.%f" if micro else "%Y-%m-%dT%H:%M:%S") + "+00:00"
    out: pd.Series = text.where(col.notna(), None)
    return out


def _plain(value: Any) -> Any:
    """A JSON-ready value: missing becomes null, numpy scalars and arrays become Python ones."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def write_text(df: pd.DataFrame, fmt: str, fh: IO[str], *, header: bool = True) -> None:
    """Write a typed frame as CSV or JSON Lines to an open text file.

    Args:
        df: the frame.
        fmt: ``csv`` or ``jsonl``.
        fh: the file (stdout, or a temp file).
        header: write the CSV header line.

    Returns:
        None.
    """
    if fmt == "csv":
        textual(df, lists_as_json=True).to_csv(fh, index=False, header=header, lineterminator="\n")
        return
    for row in textual(df, lists_as_json=False).to_dict(orient="records"):
        fh.write(json.dumps({str(k): _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")


class TableWriter:
    """One table written batch by batch into a temp file next to ``target``; ``commit`` puts it in place."""

    def __init__(self, target: str | os.PathLike[str], fmt: str) -> None:
        if fmt not in FILE_FORMATS:
            raise ConfigError(f"Unknown file format {fmt!r}: use one of {', '.join(FILE_FORMATS)}.")
        if fmt == "parquet":
            require_pyarrow()
        self.target = check_folder(target)
        self.fmt = fmt
        self.rows = 0
        self.columns: list[str] | None = None
        self._schema: Any = None
        self._parquet: Any = None
        self._text: IO[str] | None = None
        self._closed = False
        self.temp = temp_beside(self.target)
        if fmt != "parquet":
            self._text = open(self.temp, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in commit

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
        if self.fmt == "parquet":
            self._write_parquet(df)
        else:
            assert self._text is not None
            write_text(df, self.fmt, self._text, header=self.rows == 0)
        self.rows += len(df)

    def _write_parquet(self, df: pd.DataFrame) -> None:
        pa = require_pyarrow()
        import pyarrow.parquet as pq

        clean = df.copy(deep=False)
        clean.attrs = {}  # attrs hold Python objects pyarrow cannot always store; the data is what matters
        if self._parquet is None:
            table = pa.Table.from_pandas(clean, preserve_index=False)
            self._schema = _settled(pa, table.schema)
            table = table.cast(self._schema)
            self._parquet = pq.ParquetWriter(self.temp, self._schema)
        else:
            try:
                table = pa.Table.from_pandas(clean, schema=self._schema, preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
                raise DecodeError(
                    f"{self.target.name}: a later page does not fit the types of the first ({exc}); "
                    "write JSON Lines (--format jsonl) instead."
                ) from None
        self._parquet.write_table(table)

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
        if self._text is not None:
            self._text.flush()
            self._text.close()
            self._text = None
        if self.fmt == "parquet":
            if self._parquet is None:  # no batch came: an empty file with no columns is still a valid Parquet file
                pa = require_pyarrow()
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self.temp)
            else:
                self._parquet.close()
            self._parquet = None

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def _settled(pa: Any, schema: Any) -> Any:
    """The first batch's schema, with columns it saw only nulls in made text (lists of text), so later pages fit."""
    fields = []
    for fld in schema:
        if pa.types.is_null(fld.type):
            fld = fld.with_type(pa.string())
        elif pa.types.is_list(fld.type) and pa.types.is_null(fld.type.value_type):
            fld = fld.with_type(pa.list_(pa.string()))
        fields.append(fld)
    return pa.schema(fields, metadata=schema.metadata)
