"""The writer of the database format: tables of a DuckDB file, replaced in one transaction, read back in batches.

``CREATE OR REPLACE TABLE`` for every table in one transaction: the other tables of the file stay, and a crash
leaves the previous ones. Tables go in through Arrow (a frame) or straight from a staged Parquet file (a snapshot
stages each table as Parquet beside the DuckDB file, then reads them all in at once). The ``duckdb`` module is an
extra: ``io/formats.py`` imports it (or says which extra installs it) and hands it to ``DuckDBFile``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pyarrow as pa

from lucidframes.errors import ConfigError
from lucidframes.io.atomic import check_folder

__all__ = ["DuckDBFile", "quote_identifier"]


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes (a table name from the user).

    Args:
        name: the table name.

    Returns:
        The quoted identifier.
    """
    if not name or "\x00" in name:
        raise ConfigError(f"{name!r} is not a table name.")
    return '"' + name.replace('"', '""') + '"'


class DuckDBFile:
    """The tables of one DuckDB file."""

    # The batch format a snapshot stages tables in before they go into the file (``read_parquet`` reads it).
    staged = "parquet"

    def __init__(self, duckdb: ModuleType, path: str | os.PathLike[str]) -> None:
        self._duckdb = duckdb
        self.path = Path(path)

    def check(self) -> None:
        """Open the file for writing and close it again, before anything is fetched for it.

        Returns:
            None. Raises ConfigError when it cannot be opened (another process holds its lock, it is not a DuckDB
            file) or, when it does not exist yet, its folder cannot be written.
        """
        check_folder(self.path)
        if not self.path.exists():
            if not os.access(self.path.parent, os.W_OK):
                raise ConfigError(f"The folder of {self.path} cannot be written.")
            return
        try:
            con = self._duckdb.connect(str(self.path))
        except self._duckdb.Error as exc:
            detail = " ".join(str(exc).split())
            raise ConfigError(f"The DuckDB file {self.path} cannot be opened for writing: {detail}") from None
        con.close()

    def write(self, table: str, df: pd.DataFrame) -> None:
        """``CREATE OR REPLACE`` one table from a frame (its types kept, through Arrow).

        Args:
            table: the table name.
            df: the data.

        Returns:
            None.
        """
        clean = df.copy(deep=False)
        clean.attrs = {}  # attrs hold Python objects pyarrow cannot always store; the data is what matters
        self.replace({table: pa.Table.from_pandas(clean, preserve_index=False)})

    def replace(self, tables: Mapping[str, Any]) -> None:
        """``CREATE OR REPLACE TABLE`` each of ``tables``, all in one transaction.

        Args:
            tables: table name -> a pyarrow Table, or the path of a Parquet file to read.

        Returns:
            None.
        """
        check_folder(self.path)
        con = self._duckdb.connect(str(self.path))
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                for i, (name, source) in enumerate(tables.items()):
                    if isinstance(source, str | os.PathLike):
                        select = "SELECT * FROM read_parquet(?)"
                        con.execute(f"CREATE OR REPLACE TABLE {quote_identifier(name)} AS {select}", [str(source)])
                    else:
                        view = f"_lucidframes_frame_{i}"
                        con.register(view, source)
                        con.execute(f"CREATE OR REPLACE TABLE {quote_identifier(name)} AS SELECT * FROM {view}")
                        con.unregister(view)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()

    def batches(self, source: str, rows: int, *, parquet: bool = False) -> Iterator[pd.DataFrame]:
        """Read a table of the file (or a Parquet file, through DuckDB) back in batches.

        Args:
            source: a table name, or a Parquet file's path with ``parquet=True``.
            rows: rows per batch.
            parquet: read ``source`` as a Parquet file (the DuckDB file is not opened).

        Returns:
            An iterator of DataFrames (nothing when the file or the table does not exist).
        """
        if not parquet and not self.path.exists():
            return
        con = self._duckdb.connect(":memory:") if parquet else self._duckdb.connect(str(self.path), read_only=True)
        try:
            if parquet:
                relation = con.sql("SELECT * FROM read_parquet(?)", params=[str(source)])
            else:
                known = con.execute("SELECT table_name FROM information_schema.tables WHERE table_name = ?", [source])
                if not known.fetchall():
                    return
                relation = con.sql(f"SELECT * FROM {quote_identifier(source)}")
            reader = (getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader)(rows)
            for batch in reader:
                yield batch.to_pandas()
        finally:
            con.close()
