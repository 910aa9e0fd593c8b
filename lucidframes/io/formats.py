"""Every table format lucidframes writes (and reads), in ONE table: ``TABLE`` below.

An entry says what the format is called (``name`` for code and ``--format``, ``label`` for people), its file
suffixes (the first is the one written), whether it can go to stdout, the extra it needs and the module that extra
provides (None for the core: pandas and pyarrow are dependencies), whether it is a batch file format (written a
batch at a time by ``TableWriter``: a ``Sink`` from ``sinks.py``) or a database of named tables (``database.py``),
its reader for ``read_table`` (``parse.py``; None: not read), and whether the notebook Explorer offers it.
Everything that used to match a format's name as a string reads this table instead: ``format_for`` (the format of
a path), the ``--format`` choices of the commands, the snapshot's formats, the Explorer's dropdown, ``read_table``'s
dispatch and the messages that list what can be written.

Adding a format (``.xlsx`` was added this way: ``excel.py`` reads, ``excel_sink.py`` writes):

1. Write its writer. A file format written batch by batch is a ``Sink`` subclass in ``sinks.py``: ``open(path,
   name)``, ``write(df)``, ``close()``, and ``batches(path, rows)`` to read back what it wrote (a snapshot computes
   its changes from that). A library that comes with an extra is imported in ``open``, never at the top of the
   module: ``TableWriter`` calls ``Format.require`` first, so a missing extra is a one-line ConfigError.
2. If ``read_table`` should read it, add a reader (``parse.py``, or a module of its own like ``excel.py``):
   ``(file, *, sep, encoding, sheet, header_row) -> DataFrame``, raising ReadError for a file it cannot read. Its
   suffixes (and ``read_suffixes``, read but never written) then stop being refused as "a spreadsheet".
3. Add one ``Format(...)`` entry to ``TABLE``; for an extra, add it to ``[project.optional-dependencies]`` in
   pyproject.toml too. The CLI, the Explorer, the snapshot and the messages follow the table. tests/test_formats.py
   runs every entry through the path lookup, ``TableWriter``, ``read_table``, stdout, its extra's message, the
   CLI's choices and the Explorer's options; a batch format adds one line to its ``IDS_READ_BACK`` (how its own
   reader gives ids back).

A writer's per-call options (CSV's ``excel_safe``: no cell a spreadsheet runs as a formula) are named in the
entry's ``options``; ``TableWriter``, ``export`` and ``to_stream`` pass them to the sink, and an option the format
does not take is a ConfigError naming the formats that do, before anything is written.

Not covered by the table: ``validate_file``'s lazy engines (``lucidid/files.py``, polars and DuckDB) scan CSV and
Parquet only; a workbook is read whole by ``read_table`` and then handed to the chosen engine (decided there).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Literal, Protocol

import pandas as pd

from lucidframes.errors import ConfigError
from lucidframes.io.database import DuckDBFile
from lucidframes.io.excel import read_excel_file
from lucidframes.io.excel_sink import EXCEL_WRITER, ExcelSink
from lucidframes.io.parse import read_csv_file, read_parquet_file
from lucidframes.io.sinks import CsvSink, JsonLinesSink, ParquetSink, Sink, TextSink

__all__ = [
    "SNAPSHOT_DEFAULT",
    "SPREADSHEET_SUFFIXES",
    "TABLE",
    "Format",
    "Reader",
    "batch_names",
    "explorer_options",
    "format_for",
    "get",
    "is_unread_spreadsheet",
    "listed",
    "names",
    "read_format",
    "snapshot_formats",
    "suffix_list",
]


class Reader(Protocol):
    """What ``read_table`` calls for a format it reads (``sheet`` and ``header_row`` where the format has them)."""

    def __call__(
        self,
        file: Path,
        *,
        sep: str | None = None,
        encoding: str | None = None,
        sheet: str | int | None = None,
        header_row: int = 1,
    ) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Format:
    """One format: its names, suffixes, writer, reader, and what it needs."""

    name: str  # in code, in --format and in the manifest
    label: str  # for people: "CSV"
    suffixes: tuple[str, ...]  # lower case; the first is the one written
    kind: Literal["batch", "database"]  # a file written batch by batch (TableWriter), or a file of named tables
    writer: type[Sink] | type[DuckDBFile]
    reader: Reader | None = None  # what read_table reads it with; None: not read
    stdout: bool = False  # can be written to stdout (text formats)
    extra: str | None = None  # pip install 'lucidframes[EXTRA]'; None: the core installs what it needs
    module: str | None = None  # the module that extra provides
    explorer: bool = False  # offered by the notebook Explorer's Export (files an analyst opens)
    read_suffixes: tuple[str, ...] = ()  # more suffixes its reader reads, never written (.xlsm, .xls, .ods)
    options: tuple[str, ...] = ()  # per-call options its writer takes (CSV: excel_safe)

    def __post_init__(self) -> None:
        batch = issubclass(self.writer, Sink)
        if batch != (self.kind == "batch") or (self.stdout and not issubclass(self.writer, TextSink)):
            raise TypeError(f"format {self.name}: its writer {self.writer.__name__} does not fit kind={self.kind!r}")
        if self.explorer and self.kind != "batch":  # the Explorer exports through a temp file renamed into place
            raise TypeError(f"format {self.name}: the Explorer offers files, not databases")
        if (self.extra is None) != (self.module is None):
            raise TypeError(f"format {self.name}: name both the extra and its module, or neither")

    @property
    def suffix(self) -> str:
        """The suffix written (``.csv``)."""
        return self.suffixes[0]

    @property
    def batch(self) -> bool:
        """Written batch by batch into a file of its own (``TableWriter``)."""
        return self.kind == "batch"

    def require(self) -> ModuleType | None:
        """The module the format's extra provides (None for a core format), or a one-line ConfigError naming it.

        Returns:
            The imported module, or None when the format needs no extra.
        """
        if self.module is None:
            return None
        try:
            return importlib.import_module(self.module)
        except ImportError:
            raise ConfigError(
                f"{self.label} output needs {self.module}: pip install 'lucidframes[{self.extra}]'."
            ) from None

    def chosen(self, options: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The per-call options that are set (true), once known to be ones this format's writer takes.

        Args:
            options: the options as the caller gave them (``{"excel_safe": False}`` is no option).
            where: the destination, for the message.

        Returns:
            The options that are set. Raises ConfigError naming one this format does not take.
        """
        odd = next((k for k, v in options.items() if not isinstance(v, bool)), None)
        if odd is not None:
            raise ConfigError(f"{odd}= takes True or False (got {type(options[odd]).__name__} {options[odd]!r}).")
        given = {k: v for k, v in options.items() if v}
        for key in given:
            if key not in self.options:
                takes = listed([f.label for f in TABLE if key in f.options])
                raise ConfigError(f"{key}= applies to {takes} files: {where} is written as {self.label}.")
        return given

    def open_sink(self, path: Path, name: str, **options: Any) -> Sink:
        """A sink writing ``path`` (a batch format), its extra checked first.

        Args:
            path: the file to write (a temp file).
            name: the file as messages call it.
            **options: per-call options of the writer (CSV: ``excel_safe``).

        Returns:
            The open sink.
        """
        self.require()
        if not issubclass(self.writer, Sink):
            raise ConfigError(f"{self.label} is not written batch by batch into a file of its own.")
        return self.writer.open(path, name, **self.chosen(options, name))

    def to_stream(self, fh: IO[str], *, header: bool = True, **options: Any) -> TextSink:
        """A sink writing to an open text stream that stays open (stdout).

        Args:
            fh: the stream.
            header: write the header line (formats that have one).
            **options: per-call options of the writer (CSV: ``excel_safe``).

        Returns:
            The sink.
        """
        if not self.stdout or not issubclass(self.writer, TextSink):
            raise ConfigError(f"{self.label} cannot go to stdout: name a file.")
        return self.writer.to_stream(fh, header=header, **self.chosen(options, "stdout"))

    def open_database(self, path: str | os.PathLike[str]) -> DuckDBFile:
        """The tables of a database file (the format's extra imported, or a ConfigError naming it).

        Args:
            path: the database file.

        Returns:
            The file's tables.
        """
        module = self.require()
        if module is None or not issubclass(self.writer, DuckDBFile):
            raise ConfigError(f"{self.label} is not a database of named tables.")
        return self.writer(module, path)

    def batches(self, path: str | os.PathLike[str], rows: int) -> Iterator[pd.DataFrame]:
        """Read back a file of this (batch) format, ``rows`` at a time, as its sink wrote it.

        Args:
            path: the file.
            rows: rows per batch.

        Returns:
            An iterator of DataFrames.
        """
        if not issubclass(self.writer, Sink):
            raise ConfigError(f"{self.label} is not a file written batch by batch.")
        return self.writer.batches(Path(path), rows)


# THE table. Its order is the order of every list shown to people (choices, messages, the Explorer's dropdown);
# the first format that can go to stdout is what ``-`` means.
TABLE: tuple[Format, ...] = (
    Format(
        "csv", "CSV", (".csv",), "batch", CsvSink, read_csv_file, stdout=True, explorer=True, options=("excel_safe",)
    ),
    Format("parquet", "Parquet", (".parquet", ".pq"), "batch", ParquetSink, read_parquet_file, explorer=True),
    Format("jsonl", "JSON Lines", (".jsonl", ".ndjson"), "batch", JsonLinesSink, stdout=True),
    Format("duckdb", "DuckDB", (".duckdb", ".ddb"), "database", DuckDBFile, extra="duckdb", module="duckdb"),
    # Written as .xlsx only: an .xlsm needs macros and an .xls another file format, so those are read, not written.
    Format(
        "xlsx",
        "Excel",
        (".xlsx",),
        "batch",
        ExcelSink,
        read_excel_file,
        extra="excel",
        module=EXCEL_WRITER,
        explorer=True,
        read_suffixes=(".xlsm", ".xls", ".xlsb", ".ods"),
    ),
)
# A snapshot's default: Parquet keeps the types that the next run's changes are computed against.
SNAPSHOT_DEFAULT = "parquet"
# Files saved from spreadsheet programs. read_table refuses those no format above reads, with a message saying to
# save them as CSV; a format that reads one (.xlsx, .xls, ...) takes it off the list by naming its suffix.
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")

_BY_NAME = {f.name: f for f in TABLE}
_BY_SUFFIX = {suffix: f for f in TABLE for suffix in f.suffixes}
_BY_READ_SUFFIX = {**{suffix: f for f in TABLE for suffix in f.read_suffixes}, **_BY_SUFFIX}
_STDOUT = next(f for f in TABLE if f.stdout)
_FALLBACK_READ = _BY_NAME["csv"]  # read_table reads any file no reader claims as CSV (``.txt``, ``.tsv``, ...)


def get(name: str) -> Format:
    """The format called ``name``.

    Args:
        name: csv, parquet, jsonl, duckdb.

    Returns:
        Its entry. Raises ConfigError for a name not in the table.
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ConfigError(f"Unknown format {name!r}: use one of {', '.join(names())}.") from None


def names() -> tuple[str, ...]:
    """Every format's name: the ``--format`` choices of ``fetch`` and ``lookup``, what ``lf.export`` writes.

    Returns:
        The names, in the table's order.
    """
    return tuple(_BY_NAME)


def batch_names() -> tuple[str, ...]:
    """The batch file formats (what ``TableWriter`` writes).

    Returns:
        The names, in the table's order.
    """
    return tuple(f.name for f in TABLE if f.batch)


def snapshot_formats() -> tuple[str, ...]:
    """The ``--format`` choices of ``snapshot`` (one file per endpoint): the default first.

    Returns:
        The names.
    """
    return (SNAPSHOT_DEFAULT, *(n for n in batch_names() if n != SNAPSHOT_DEFAULT))


def explorer_options() -> tuple[tuple[str, str], ...]:
    """The notebook Explorer's Export dropdown: ``(label, name)`` pairs.

    Returns:
        The options, in the table's order.
    """
    return tuple((f.label, f.name) for f in TABLE if f.explorer)


def listed(words: Sequence[str]) -> str:
    """Words as a sentence lists them: ``parquet, csv or jsonl``.

    Args:
        words: at least one.

    Returns:
        The text.
    """
    return (", ".join(words[:-1]) + " or " + words[-1]) if len(words) > 1 else words[0]


def suffix_list() -> str:
    """The suffixes written, as a sentence lists them: ``.csv, .parquet, .jsonl or .duckdb``.

    Returns:
        The text.
    """
    return listed([f.suffix for f in TABLE])


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format for a path: ``fmt`` if given, else from the suffix (``-`` means CSV on stdout).

    Args:
        path: the destination.
        fmt: an explicit format (csv, parquet, jsonl, duckdb).

    Returns:
        The format name.
    """
    if fmt is not None:
        if fmt not in _BY_NAME:
            raise ConfigError(f"Unknown export format {fmt!r}: use one of {', '.join(names())}.")
        return fmt
    if str(path) == "-":
        return _STDOUT.name
    found = _BY_SUFFIX.get(Path(path).suffix.lower())
    if found is None:
        raise ConfigError(f"Cannot tell the format of {str(path)!r}: name it {suffix_list()}, or pass format=.")
    return found.name


def read_format(path: str | os.PathLike[str]) -> Format:
    """The format ``read_table`` reads a file as: the one its suffix names if that one has a reader, else CSV.

    Args:
        path: the file.

    Returns:
        The format (its ``reader`` is set).
    """
    found = _BY_READ_SUFFIX.get(Path(path).suffix.lower())
    return found if found is not None and found.reader is not None else _FALLBACK_READ


def is_unread_spreadsheet(path: str | os.PathLike[str]) -> bool:
    """Whether a file is a spreadsheet that no format reads (``read_table`` asks for CSV instead).

    Args:
        path: the file.

    Returns:
        True for such a file.
    """
    suffix = Path(path).suffix.lower()
    found = read_format(path)
    return suffix in SPREADSHEET_SUFFIXES and suffix not in (*found.suffixes, *found.read_suffixes)
