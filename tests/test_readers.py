"""read_table: CSV as text (BOM, separators, encodings), Parquet, and typed errors for unreadable files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lucidframes.errors import EncodingFallbackWarning, LucidError, ReadError
from lucidframes.io.read import read_table, sniff_csv

DATA = Path(__file__).resolve().parent.parent / "data"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_values_are_kept_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "ids.csv", b"order_id,lucid_id,note\n007,NA,null\n0012,,n/a\n1e5,  spaced ,\n")
    frame = read_table(path)
    assert frame["order_id"].tolist() == ["007", "0012", "1e5"]
    assert frame["lucid_id"].iloc[0] == "NA"
    assert pd.isna(frame["lucid_id"].iloc[1])  # only an empty cell is missing
    assert frame["lucid_id"].iloc[2] == "  spaced "
    assert frame["note"].iloc[:2].tolist() == ["null", "n/a"]
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in frame.dtypes)
    assert frame.attrs["source"] == {
        "path": str(path),
        "format": "csv",
        "sep": ",",
        "encoding": "utf-8",
        "first_row_line": 2,
    }


def test_excel_utf8_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "excel.csv", "lucid_id,note\r\nabc,café\r\n".encode("utf-8-sig"))
    frame = read_table(path)
    assert list(frame.columns) == ["lucid_id", "note"]  # no "\ufefflucid_id"
    assert frame["note"].iloc[0] == "café"
    assert frame.attrs["source"]["encoding"] == "utf-8-sig"


@pytest.mark.parametrize(
    ("text", "sep"),
    [
        ("lucid_id;note\r\nabc;x, y\r\n", ";"),
        ('"lucid_id";"note, comma"\nabc;x\n', ";"),
        ("sep=;\nlucid_id;note\nabc;x, y\n", ";"),
        ("lucid_id\tnote\nabc\tx;y\n", "\t"),
        ("lucid_id|note\nabc|x\n", "|"),
        ("lucid_id\nabc\n", ","),
    ],
)
def test_separator_is_detected(tmp_path: Path, text: str, sep: str) -> None:
    frame = read_table(write(tmp_path, "sep.csv", text.encode("utf-8-sig")))
    assert frame.columns[0] == "lucid_id" and frame["lucid_id"].tolist() == ["abc"]
    assert frame.attrs["source"]["sep"] == sep


def test_explicit_separator(tmp_path: Path) -> None:
    assert read_table(write(tmp_path, "x.csv", b"a;b\n1;2\n"), sep=",").columns.tolist() == ["a;b"]


def test_cp1252_falls_back_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "win.csv", "lucid_id,note\nabc,café “quoted”\n".encode("cp1252"))
    with pytest.warns(EncodingFallbackWarning, match=r"not UTF-8 .*line 2.*decoded as cp1252"):
        frame = read_table(path)
    assert frame["note"].iloc[0] == "café “quoted”"
    assert frame.attrs["source"]["encoding"] == "cp1252"


def test_bytes_cp1252_lacks_fall_back_to_latin1(tmp_path: Path) -> None:
    with pytest.warns(EncodingFallbackWarning, match="latin-1"):
        frame = read_table(write(tmp_path, "odd.csv", b"lucid_id,note\nabc,\x81\x8d\n"))
    assert frame["lucid_id"].tolist() == ["abc"]


def test_strict_encoding_gives_a_typed_error(tmp_path: Path) -> None:
    path = write(tmp_path, "win.csv", "lucid_id,note\nabc,café\n".encode("cp1252"))
    with pytest.raises(ReadError, match=r"not valid utf-8: byte b'\\xe9' at offset 21 \(line 2\)"):
        read_table(path, encoding="utf-8")
    with pytest.raises(ReadError, match="unknown encoding"):
        read_table(path, encoding="no-such-codec")


def test_utf16_with_bom(tmp_path: Path) -> None:
    frame = read_table(write(tmp_path, "unicode.csv", "lucid_id\tnote\nabc\tü\n".encode("utf-16")))
    assert frame["note"].tolist() == ["ü"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.csv", "no such file"),
        (lambda p: p, "is a directory"),
        (lambda p: write(p, "empty.csv", b""), "empty"),
        (lambda p: write(p, "blank.csv", b"\n\n  \n"), "empty"),
        (lambda p: write(p, "ragged.csv", b"a,b\n1,2\n1,2,3,4\n"), "not a readable CSV"),
        (lambda p: write(p, "sheet.numbers", b"PK\x03\x04"), "save it as CSV UTF-8"),  # no reader for Numbers
        (lambda p: write(p, "sheet.xlsx", b"PK\x03\x04"), "not a readable Excel workbook"),  # read since issue 21
        (lambda p: write(p, "bad.parquet", b"not parquet at all"), "not a readable Parquet file"),
    ],
)
def test_unreadable_files_raise_read_error(tmp_path: Path, make: object, message: str) -> None:
    with pytest.raises(ReadError, match=message) as caught:
        read_table(make(tmp_path))  # type: ignore[operator]
    assert isinstance(caught.value, LucidError) and isinstance(caught.value, ValueError)


def test_parquet_round_trip(tmp_path: Path) -> None:
    original = pd.DataFrame({"order_id": ["007", "NA", None], "lucid_id": ["abc", " x\u200b", ""]})
    path = tmp_path / "ids.parquet"
    original.to_parquet(path)
    frame = read_table(path)
    assert frame["order_id"].tolist()[:2] == ["007", "NA"] and pd.isna(frame["order_id"].iloc[2])
    assert frame["lucid_id"].tolist() == ["abc", " x\u200b", ""]
    assert frame.attrs["source"]["format"] == "parquet"


def test_spreadsheet_line_of_the_first_row_and_sniffing(tmp_path: Path) -> None:
    plain = write(tmp_path, "plain.csv", b"id;n\nabc;1\n")
    excel = write(tmp_path, "excel.csv", b"sep=;\nid;n\nabc;1\n")
    assert read_table(plain).attrs["source"]["first_row_line"] == 2  # the header is line 1
    assert read_table(excel).attrs["source"]["first_row_line"] == 3  # Excel's sep= line comes first
    assert sniff_csv(plain) == (";", 0) and sniff_csv(excel) == (";", 1) and sniff_csv(plain, sep=",") == (",", 0)


def test_the_sample_sheet() -> None:
    frame = read_table(DATA / "submission_sheet.csv")
    assert list(frame.columns) == ["order_id", "lucid_id", "product_uuid", "note"]
    assert len(frame) == 40
    assert frame["order_id"].iloc[0] == "000007"
    assert (frame["note"] == "NA").any()
