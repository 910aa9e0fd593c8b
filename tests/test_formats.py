"""io/formats.py is the one place a format is described: every entry of its table goes through the path lookup,
TableWriter (and read_table where it reads one), stdout, its extra's message, the CLI's choices and the Explorer's
options, so that a new entry (and its writer) is all a new format needs."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import lucidframes as lf
from lucidframes.cli.main import build_parser
from lucidframes.io import formats
from lucidframes.io.database import DuckDBFile
from lucidframes.io.export import FORMATS, check_writer, format_for
from lucidframes.io.read import check_file, read_table
from lucidframes.io.sinks import CsvSink
from lucidframes.io.write import FILE_FORMATS, TableWriter
from lucidframes.widgets import Explorer

BATCH = [f for f in formats.TABLE if f.batch]
DATABASES = [f for f in formats.TABLE if not f.batch]
READABLE = [f for f in formats.TABLE if f.reader is not None]
WITH_EXTRA = [f for f in formats.TABLE if f.extra is not None]
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# A small typed frame: ids with leading zeros, a nullable integer, UTC datetimes, lists, and a missing value each.
FRAME = pd.DataFrame(
    {
        "id": pd.Series(["007", "A1", None], dtype=object),
        "n": pd.array([1, 2, None], dtype="Int64"),
        "when": pd.to_datetime(["2025-03-01T20:00:00Z", "2025-03-02T08:30:00Z", None], utc=True),
        "tags": [["a", "b"], [], None],
    }
)
# How each batch format's own reader (Sink.batches) gives the id column back: a new batch format says it here.
IDS_READ_BACK = {
    "csv": ["007", "A1", ""],  # text, as written; an empty cell is empty text
    "parquet": ["007", "A1", None],  # typed (missing is missing)
    "jsonl": ['"007"', '"A1"', "null"],  # each value's JSON text
    # The text Excel shows. FRAME's last row has no value at all, and a sheet ends at its last value: in Excel
    # (as in any reader of it) such a row at the end is no row. An empty row between two others is kept.
    "xlsx": ["007", "A1"],
}


def _ids(fmt: formats.Format) -> str:
    return fmt.name


@pytest.mark.parametrize("fmt", formats.TABLE, ids=_ids)
def test_every_suffix_names_its_format(fmt):
    for suffix in fmt.suffixes:
        assert suffix == suffix.lower() and suffix.startswith(".")
        assert format_for(f"out{suffix}") == fmt.name
        assert format_for(f"OUT{suffix.upper()}") == fmt.name
    assert format_for("anything.bin", fmt.name) == fmt.name  # an explicit name wins over the suffix


def test_the_table_is_consistent():
    suffixes = [s for f in formats.TABLE for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes)), "two formats claim one suffix"
    assert len(formats.names()) == len(formats.TABLE), "two formats share a name"
    assert FILE_FORMATS == formats.batch_names() == tuple(f.name for f in BATCH)
    assert formats.names() == FORMATS
    assert format_for("-") == next(f.name for f in formats.TABLE if f.stdout)  # `-` is the first stdout format
    with pytest.raises(TypeError, match="does not fit"):
        formats.Format("x", "X", (".x",), "database", CsvSink)  # a batch writer for a database: refused at import
    with pytest.raises(TypeError, match="the Explorer offers files"):
        formats.Format("x", "X", (".x",), "database", DuckDBFile, explorer=True, extra="x", module="x")


def test_an_unknown_suffix_or_name_lists_what_can_be_written():
    with pytest.raises(lf.ConfigError) as caught:
        format_for("out.xyz")
    assert f"name it {formats.suffix_list()}, or pass format=" in str(caught.value)
    assert all(f.suffix in str(caught.value) for f in formats.TABLE)
    with pytest.raises(lf.ConfigError, match="Unknown export format 'xyz'") as caught:
        format_for("out.csv", "xyz")
    assert all(name in str(caught.value) for name in formats.names())
    with pytest.raises(lf.ConfigError, match="Unknown file format") as caught:
        TableWriter(Path("out.duckdb"), "duckdb")  # a database is not written batch by batch
    assert all(name in str(caught.value) for name in FILE_FORMATS)


@pytest.mark.parametrize("fmt", BATCH, ids=_ids)
def test_every_batch_format_round_trips_through_table_writer(fmt, tmp_path):
    assert set(IDS_READ_BACK) == set(FILE_FORMATS), "say in IDS_READ_BACK how a new batch format reads back"
    path = tmp_path / f"t{fmt.suffix}"
    with TableWriter(path, fmt.name) as writer:
        writer.write(FRAME.iloc[:2])
        writer.write(FRAME.iloc[2:])  # a second batch: same columns, one schema, one header
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind
    back = pd.concat(list(fmt.batches(path, 2)), ignore_index=True)
    assert list(back.columns) == list(FRAME.columns) and len(back) == len(IDS_READ_BACK[fmt.name])
    assert [None if pd.isna(v) else v for v in back["id"]] == IDS_READ_BACK[fmt.name]


@pytest.mark.parametrize("fmt", [f for f in READABLE if f.batch], ids=_ids)
def test_every_readable_format_round_trips_through_read_table(fmt, tmp_path):
    path = tmp_path / f"t{fmt.suffix}"
    lf.export(FRAME, path)
    back = read_table(path)
    assert back.attrs["source"]["format"] == fmt.name
    assert list(back.columns) == list(FRAME.columns) and len(back) == len(IDS_READ_BACK[fmt.name])
    assert back["id"].tolist()[:2] == ["007", "A1"]  # ids exactly as written
    assert len(back) == 2 or pd.isna(back["id"].iloc[2])
    for suffix in fmt.suffixes:  # every suffix of the format is read by its reader
        copy = tmp_path / f"copy{suffix}"
        copy.write_bytes(path.read_bytes())
        assert read_table(copy).attrs["source"]["format"] == fmt.name


def test_csv_and_parquet_keep_what_they_promise(tmp_path):
    lf.export(FRAME, tmp_path / "t.csv")
    lf.export(FRAME, tmp_path / "t.parquet")
    text = read_table(tmp_path / "t.csv")
    assert text["when"].tolist()[:2] == ["2025-03-01T20:00:00+00:00", "2025-03-02T08:30:00+00:00"]
    assert json.loads(text["tags"][0]) == ["a", "b"] and text["n"].tolist()[:2] == ["1", "2"]
    typed = read_table(tmp_path / "t.parquet")
    assert typed["when"].equals(FRAME["when"]) and typed["n"].equals(FRAME["n"])


def test_files_no_format_reads_are_read_as_csv_and_spreadsheets_are_refused(tmp_path):
    plain = tmp_path / "ids.txt"
    plain.write_text("id\n007\n", encoding="utf-8")
    assert read_table(plain)["id"].tolist() == ["007"] and formats.read_format(plain).name == "csv"
    for suffix in formats.SPREADSHEET_SUFFIXES:
        sheet = tmp_path / f"sheet{suffix}"
        sheet.write_bytes(b"PK\x03\x04")
        if any(suffix in (*f.suffixes, *f.read_suffixes) for f in READABLE):
            continue  # a format reads it (.xlsx, .xls, .ods, ...)
        with pytest.raises(lf.ReadError, match="a spreadsheet; save it as CSV UTF-8"):
            check_file(sheet)


@pytest.mark.parametrize("fmt", formats.TABLE, ids=_ids)
def test_stdout_takes_exactly_the_formats_that_say_so(fmt, tmp_path, capsys):
    if not fmt.stdout:
        with pytest.raises(lf.ConfigError, match=f"^{fmt.label} cannot go to stdout: name a file.$"):
            check_writer("-", fmt.name)
        return
    capsys.readouterr()
    assert lf.export(FRAME, "-", fmt.name) is None
    lf.export(FRAME, tmp_path / f"t{fmt.suffix}")
    assert capsys.readouterr().out == (tmp_path / f"t{fmt.suffix}").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", DATABASES, ids=_ids)
def test_every_database_format_round_trips_a_table(fmt, tmp_path):
    if fmt.module is not None:
        pytest.importorskip(fmt.module)
    path = tmp_path / f"t{fmt.suffix}"
    lf.export(FRAME, path, table="t")
    back = pd.concat(list(fmt.open_database(path).batches("t", 10)), ignore_index=True)
    assert back["id"].tolist()[:2] == ["007", "A1"] and back["when"].iloc[0] == FRAME["when"].iloc[0]


@pytest.mark.parametrize("fmt", WITH_EXTRA, ids=_ids)
def test_a_missing_extra_is_one_line_naming_it(fmt, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, fmt.module, None)  # `import duckdb` now raises ImportError
    message = f"^{fmt.label} output needs {fmt.module}: pip install 'lucidframes\\[{fmt.extra}\\]'.$"
    with pytest.raises(lf.ConfigError, match=message):
        check_writer(tmp_path / f"out{fmt.suffix}", fmt.name)
    with pytest.raises(lf.ConfigError, match=message):
        lf.export(FRAME, tmp_path / f"out{fmt.suffix}", table="t")
    assert list(tmp_path.iterdir()) == []


def test_the_extras_are_those_of_pyproject():
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert {f.extra for f in WITH_EXTRA} <= set(extras)
    assert all(extras[name] for name in extras), "an empty extra installs nothing"  # as `parquet = []` did


def _subcommand(command: str):
    return build_parser()._subparsers._group_actions[0].choices[command]


def _choices(command: str) -> tuple[str, ...]:
    (action,) = [a for a in _subcommand(command)._actions if a.dest == "format"]
    return tuple(action.choices)


def test_the_cli_offers_the_tables_formats():
    assert _choices("fetch") == _choices("lookup") == formats.names()
    assert _choices("snapshot") == formats.snapshot_formats()
    assert sorted(_choices("snapshot")) == sorted(FILE_FORMATS) and _choices("snapshot")[0] == formats.SNAPSHOT_DEFAULT
    help_text = _subcommand("fetch").format_help()
    assert all(f.suffix in help_text for f in formats.TABLE)


def test_the_explorer_offers_the_tables_options(client):
    explorer = Explorer(client)
    try:
        assert tuple(explorer.export_format.options) == formats.explorer_options()
        assert explorer.export_format.value == formats.explorer_options()[0][1]
    finally:
        explorer.close()
    assert formats.explorer_options() == tuple((f.label, f.name) for f in formats.TABLE if f.explorer)
