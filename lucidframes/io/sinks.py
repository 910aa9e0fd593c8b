"""The writers of the batch file formats: a sink per format, opened on a file, fed typed frames, closed.

``io/formats.py`` names them in its table; ``TableWriter`` (write.py) owns the temp file, the rename and the check
that every batch has the first one's columns, and hands each batch to its sink. CSV is UTF-8 with ISO-8601
datetimes (UTC, ``+00:00``) and lists or objects as JSON text; JSON Lines writes one object per row; Parquet keeps
the dtypes and casts every batch to the first one's schema. CSV quotes every field holding CR or LF (a bare CR
too), and with ``excel_safe=True`` puts ``'`` before text a spreadsheet would run as a formula. Each sink also reads
back what it wrote, batch by batch (what a snapshot's changes are computed from).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Self

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lucidframes.errors import DecodeError
from lucidframes.io.csv_text import write_csv

__all__ = ["CsvSink", "JsonLinesSink", "ParquetSink", "Sink", "TextSink", "textual"]


class Sink(ABC):
    """One file of a batch format: ``open`` it, ``write`` typed frames, ``close`` it; ``batches`` reads one back."""

    @classmethod
    @abstractmethod
    def open(cls, path: Path, name: str, **options: Any) -> Self:
        """Start writing ``path`` (an empty temp file).

        Args:
            path: the file to write.
            name: the file as messages call it (the final name, not the temp file's).
            **options: the per-call options the format's table entry names (CSV: ``excel_safe``).

        Returns:
            The sink.
        """

    @abstractmethod
    def write(self, df: pd.DataFrame) -> None:
        """Append one batch (its columns are those of the first batch, in the same order).

        Args:
            df: a typed frame.

        Returns:
            None.
        """

    @abstractmethod
    def close(self) -> None:
        """Finish the file (a second call does nothing).

        Returns:
            None.
        """

    @classmethod
    @abstractmethod
    def batches(cls, path: Path, rows: int) -> Iterator[pd.DataFrame]:
        """Read a file this sink wrote back, ``rows`` at a time.

        Args:
            path: the file.
            rows: rows per batch.

        Returns:
            An iterator of DataFrames.
        """


class TextSink(Sink):
    """A text format, written to a file of its own or to an open stream (stdout)."""

    def __init__(self, fh: IO[str], *, owns: bool, header: bool = True, **options: Any) -> None:
        self._fh = fh
        self._owns = owns
        self._header = header
        self._closed = False
        self.options = options

    @classmethod
    def open(cls, path: Path, name: str, **options: Any) -> Self:
        """Start writing ``path`` as UTF-8 text.

        Args:
            path: the file to write.
            name: unused (text formats have no message that names the file).
            **options: the format's per-call options (CSV: ``excel_safe``).

        Returns:
            The sink.
        """
        return cls(open(path, "w", encoding="utf-8", newline=""), owns=True, **options)  # closed in close()

    @classmethod
    def to_stream(cls, fh: IO[str], *, header: bool = True, **options: Any) -> Self:
        """Write to an open stream that stays open (stdout).

        Args:
            fh: the stream.
            header: write the header line (formats that have one).
            **options: the format's per-call options (CSV: ``excel_safe``).

        Returns:
            The sink.
        """
        return cls(fh, owns=False, header=header, **options)

    def write(self, df: pd.DataFrame) -> None:
        """Append one batch; the header (where the format has one) goes before the first only.

        Args:
            df: a typed frame.

        Returns:
            None.
        """
        self.encode(df, self._fh, header=self._header)
        self._header = False

    def close(self) -> None:
        """Flush and close a file of its own; a stream given to it is left open.

        Returns:
            None.
        """
        if self._closed:
            return
        self._closed = True
        if self._owns:
            self._fh.flush()
            self._fh.close()

    @abstractmethod
    def encode(self, df: pd.DataFrame, fh: IO[str], *, header: bool) -> None:
        """Write one batch as text.

        Args:
            df: a typed frame.
            fh: where to write.
            header: write the header line first (formats that have one).

        Returns:
            None.
        """


class CsvSink(TextSink):
    """CSV: UTF-8, ISO-8601 datetimes, lists and objects as JSON text, no index column; ``excel_safe``: no formula."""

    def encode(self, df: pd.DataFrame, fh: IO[str], *, header: bool) -> None:
        """Write one batch as CSV rows.

        Args:
            df: a typed frame.
            fh: where to write.
            header: write the header line first.

        Returns:
            None.
        """
        write_csv(textual(df, lists_as_json=True), fh, header=header, excel_safe=bool(self.options.get("excel_safe")))

    @classmethod
    def batches(cls, path: Path, rows: int) -> Iterator[pd.DataFrame]:
        """Read the file back with every value as text, as written.

        Args:
            path: the file.
            rows: rows per batch.

        Returns:
            An iterator of DataFrames.
        """
        if Path(path).stat().st_size == 0:
            return
        yield from pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=rows)


class JsonLinesSink(TextSink):
    """JSON Lines: one object per row; missing values are null, datetimes ISO-8601 text."""

    def encode(self, df: pd.DataFrame, fh: IO[str], *, header: bool) -> None:
        """Write one batch, a line per row.

        Args:
            df: a typed frame.
            fh: where to write.
            header: unused (JSON Lines has no header).

        Returns:
            None.
        """
        for row in textual(df, lists_as_json=False).to_dict(orient="records"):
            fh.write(json.dumps({str(k): _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")

    @classmethod
    def batches(cls, path: Path, rows: int) -> Iterator[pd.DataFrame]:
        """Read the file back with every value as its JSON text (``"a"``, ``1``, ``null``).

        Args:
            path: the file.
            rows: rows per batch.

        Returns:
            An iterator of DataFrames.
        """
        with open(path, encoding="utf-8") as fh:
            held: list[dict[str, Any]] = []
            for line in fh:
                held.append({k: json.dumps(v) for k, v in json.loads(line).items()})
                if len(held) >= rows:
                    yield pd.DataFrame(held)
                    held = []
            if held:
                yield pd.DataFrame(held)


class ParquetSink(Sink):
    """Parquet: the first batch's types (columns it saw only nulls in made text) are the file's schema."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    @classmethod
    def open(cls, path: Path, name: str, **options: Any) -> Self:
        """Start writing ``path`` (the Parquet writer opens it with the first batch, which gives the schema).

        Args:
            path: the file to write.
            name: the file as messages call it.
            **options: none (the format's table entry names no option).

        Returns:
            The sink.
        """
        return cls(path, name)

    def write(self, df: pd.DataFrame) -> None:
        """Append one batch as a row group, cast to the first batch's schema.

        Args:
            df: a typed frame.

        Returns:
            None.

        Raises:
            DecodeError: the batch does not fit the first one's types.
        """
        clean = df.copy(deep=False)
        clean.attrs = {}  # attrs hold Python objects pyarrow cannot always store; the data is what matters
        if self._writer is None or self._schema is None:
            table = pa.Table.from_pandas(clean, preserve_index=False)
            self._schema = _settled(table.schema)
            table = table.cast(self._schema)
            self._writer = pq.ParquetWriter(self.path, self._schema)
        else:
            try:
                table = pa.Table.from_pandas(clean, schema=self._schema, preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
                raise DecodeError(
                    f"{self.name}: a later page does not fit the types of the first ({exc}); "
                    "write JSON Lines (--format jsonl) instead."
                ) from None
        self._writer.write_table(table)

    def close(self) -> None:
        """Finish the file; with no batch written, an empty file with no columns (still valid Parquet).

        Returns:
            None.
        """
        if self._closed:
            return
        self._closed = True
        if self._writer is None:
            pq.write_table(pa.table({}), self.path)
        else:
            self._writer.close()
        self._writer = None

    @classmethod
    def batches(cls, path: Path, rows: int) -> Iterator[pd.DataFrame]:
        """Read the file back with its types, a row group's worth at a time.

        Args:
            path: the file.
            rows: rows per batch.

        Returns:
            An iterator of DataFrames.
        """
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pandas()


def _settled(schema: pa.Schema) -> pa.Schema:
    """The first batch's schema, with columns it saw only nulls in made text (lists of text), so later pages fit."""
    fields = []
    for fld in schema:
        if pa.types.is_null(fld.type):
            fld = fld.with_type(pa.string())
        elif pa.types.is_list(fld.type) and pa.types.is_null(fld.type.value_type):
            fld = fld.with_type(pa.list_(pa.string()))
        fields.append(fld)
    return pa.schema(fields, metadata=schema.metadata)


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
