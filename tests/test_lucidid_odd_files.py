"""``validate_file`` on odd files gives the same report on pandas, polars and DuckDB, or a clear error naming the
engine's limit (issue 18, defect 11): a column named with a quote, named like an internal one (``__lf_row``,
``file_row_number``), with no name, and files that are not UTF-8.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pandas as pd
import pytest

import lucidframes as lf

pytest.importorskip("polars")
pytest.importorskip("duckdb")

G1 = "23456789ABCDEFGHJKLM"
G2 = "abcdefghijkmnopqrstu"
ENGINES = ("pandas", "polars", "duckdb")
assert all(importlib.util.find_spec(e) for e in ENGINES[1:])


def sheet(column: str, other: str = "note") -> pd.DataFrame:
    return pd.DataFrame({other: ["a", "b", "c", "d"], column: [G1, "bad", G1, G2]})


def write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path


def outcome(path: Path, columns, engine: str, **kwargs):
    """What validate_file says on one engine: the report's content, or the error and its message."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = lf.validate_file(path, columns=columns, engine=engine, **kwargs)
    except lf.LucidError as exc:
        return ("error", type(exc).__name__, str(exc))
    failures = report.failures.drop(columns=["detail", "hint"]).astype(str).to_dict(orient="records")
    said = sorted({(w.category.__name__, str(w.message)) for w in caught})
    return ("report", report.n_rows, failures, report.summary.astype(str).values.tolist(), said)


def same_everywhere(path: Path, columns, **kwargs):
    got = {engine: outcome(path, columns, engine, **kwargs) for engine in ENGINES}
    assert got["pandas"][0] == "report", got["pandas"]
    assert got["polars"] == got["pandas"] and got["duckdb"] == got["pandas"], got
    return got["pandas"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("name", ['a"b', "a,b", " spaced ", "file_row_number", "ünï"])
def test_odd_column_names_give_one_report(tmp_path, suffix, name):
    path = write(sheet(name), tmp_path / f"ids{suffix}")
    report = same_everywhere(path, [name], keep=["note"])
    assert [row["column"] for row in report[2]] == [name, name]  # the column as written, on every engine


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("other", ["__lf_row", "file_row_number", "__lf_s0", 'q"uote'])
def test_other_columns_named_like_internal_ones_change_nothing(tmp_path, suffix, other):
    path = write(sheet("lucid_id", other=other), tmp_path / f"ids{suffix}")
    got = {engine: outcome(path, ["lucid_id"], engine) for engine in ENGINES}
    expected = got["pandas"]
    assert expected[0] == "report" and len(expected[2]) == 2
    for engine in ("polars", "duckdb"):
        assert got[engine] == expected or limit_named(got[engine], engine, other), got[engine]


def limit_named(result, engine: str, name: str) -> bool:
    """An error that names the engine, the column and what to do instead."""
    return result[0] == "error" and engine in result[2].lower() and repr(name) in result[2] and "pandas" in result[2]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_id_column_named_like_the_row_number_is_checked_or_refused_clearly(tmp_path, suffix):
    path = write(sheet("__lf_row"), tmp_path / f"ids{suffix}")
    expected = outcome(path, ["__lf_row"], "pandas")
    assert expected[0] == "report" and [row["value"] for row in expected[2]] == ["bad", G1]
    for engine in ("polars", "duckdb"):
        got = outcome(path, ["__lf_row"], engine)
        assert got == expected or limit_named(got, engine, "__lf_row"), got


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_column_without_a_name(tmp_path, suffix):
    path = tmp_path / f"ids{suffix}"
    if suffix == ".csv":
        path.write_text(f",note\n{G1},a\nbad,b\n{G1},c\n", encoding="utf-8")
    else:
        write(pd.DataFrame({"": [G1, "bad", G1], "note": ["a", "b", "c"]}), path)
    expected = outcome(path, [""], "pandas")
    assert expected[0] == "report" and [row["column"] for row in expected[2]] == ["", ""]
    assert outcome(path, [""], "polars") == expected
    duck = outcome(path, [""], "duckdb")
    assert duck == expected or limit_named(duck, "duckdb", ""), duck
    assert len(same_everywhere(path, ["note"])[2]) == 3  # the other column (a, b, c: too short), on every engine


def test_a_cp1252_csv_is_decoded_alike_or_refused_clearly(tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes(f"lucid_id,note\n{G1},café “quoted”\nbad,x\n".encode("cp1252"))
    expected = outcome(path, ["lucid_id"], "pandas", keep=["note"])
    assert expected[0] == "report" and expected[4] and expected[4][0][0] == "EncodingFallbackWarning"
    for engine in ("polars", "duckdb"):
        got = outcome(path, ["lucid_id"], engine, keep=["note"])
        assert got == expected or (got[0] == "error" and "UTF-8" in got[2] and engine in got[2]), got
        if got[0] == "error":
            assert "line 2" in got[2] and "pandas" in got[2]  # where, and what to do


def test_a_file_not_utf8_far_from_its_start_is_refused_clearly(tmp_path):
    path = tmp_path / "late.csv"
    body = "".join(f"{G1},x\n" for _ in range(20_000))
    path.write_bytes(f"lucid_id,note\n{body}bad,café\n".encode("cp1252"))  # the first non-UTF-8 byte: line 20002
    for engine in ("polars", "duckdb"):
        got = outcome(path, ["lucid_id"], engine, unique=False)
        assert got[0] == "error" and "UTF-8" in got[2] and "line 20002" in got[2], got


def test_a_utf16_csv_is_refused_clearly_by_the_lazy_engines(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes(f"lucid_id\tnote\n{G1}\t1\nbad\t2\n".encode("utf-16"))
    assert outcome(path, ["lucid_id"], "pandas")[0] == "report"
    for engine in ("polars", "duckdb"):
        got = outcome(path, ["lucid_id"], engine)
        assert got[0] == "error" and "UTF-16" in got[2] and engine in got[2], got
