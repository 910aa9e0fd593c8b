"""Literal reason counts on every engine: small hand-made columns whose counts per reason are written down here.

test_lucidid_engines.py compares each engine with pandas, which cannot see a bug that both share (the whole-column
rules are written once, in ``lucidid/engine/rules.py``). Here every engine must give the counts written below, both
when every failing cell fits under ``max_failures`` (the failing rows are collected and diagnosed in Python) and with
``max_failures=0`` (the engine classifies every failing row itself with ``rules.reason``; no row comes back). The
counts differ from one reason to the next where that is easy, so that two reasons swapped show. Spark needs Java;
engines that are not installed are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import lucidframes as lf

G1 = "23456789ABCDEFGHJKLM"
G2 = "abcdefghijkmnopqrstu"
G3 = "NPQRSTUVWXYZvwxyz234"
UUID = "EHzzEQny77sJrcw9ENJq2t"
UUID_MAX = "oZEq7ovRbLq6UnGMPwc8B5"  # the largest decodable 22-character shortuuid (2**128 - 1)

# Each case: the cells, the options, and the expected count per reason (reasons absent: no such failure).
CASES: dict[str, tuple[list[str | None], dict[str, Any], dict[str, int]]] = {
    "lucid_id": (
        [
            None, "", "   ", "\u200b",  # missing: 4 (null, empty, only whitespace, only an invisible character)
            f"https://qr.lcdg.io/{G2}",  # url_wrapped: 1
            f"https://qr.lcdg.io/case/{UUID}", f"qr.lcdg.io/c/{G1}",  # case_id: 2 (a case or collection URL)
            f" {G2}", f"{G3}\u00a0", G1 + "\n",  # whitespace: 3 (leading, trailing no-break space, final newline)
            G1[:-1], G1 + "a", "x", f"https://example.com/{G1}", "a" * 25,  # wrong_length: 5
            G1[:7] + "0" + G1[8:], "С" + G2[1:], G1[:-1] + "I", G1[:-1] + "l", G1[:-1] + "O", G1[:-1] + "!",  # bad: 6
            G1, G1, G1, G1, G2, G2, G2, G2, G2,  # duplicate: 3 + 4 = 7
            G3,  # valid once
        ],
        {},
        {"missing": 4, "url_wrapped": 1, "case_id": 2, "whitespace": 3, "wrong_length": 5, "bad_character": 6,
         "duplicate": 7},
    ),
    "lucid_id_normalized": (
        [
            f" {G1}", "\u200b" + G2,  # whitespace and invisible characters removed: G1, G2
            f"https://qr.lcdg.io/{G2}", f" https://qr.lcdg.io/{G3}?x=1 ",  # the id taken out of the URL: G2, G3
            f"https://qr.lcdg.io/case/{UUID}", f"https://qr.lcdg.io/c/{G3}",  # case_id: 2 (not unwrapped for LucidIDs)
            f"https://qr.lcdg.io/ {G1}",  # whitespace: 1 (inside the URL, around the id: not removed)
            f"https://qr.lcdg.io/{G3[:-1]}/", f" {G1[:-1]}", "x", f"https://qr.lcdg.io/{G1}/tail",  # wrong_length: 5,
            f"https://example.com/{G2}",  # with another host's URL (not unwrapped)
            None, "   ", "", "https://qr.lcdg.io/ /",  # missing: 4 (the last: a URL whose id is only a space)
            G1[:-1] + "!", f" {G1[:-1]}0 ",  # bad_character: 2
            f"https://qr.lcdg.io/{G3}/",  # one trailing slash removed: G3
            G1, G2, G2,  # duplicate: G1 twice (1), G2 four times (3), G3 twice (1): 5
        ],
        {"normalize": True},
        {"missing": 4, "case_id": 2, "whitespace": 1, "wrong_length": 5, "bad_character": 2, "duplicate": 5},
    ),
    "uuid": (
        [
            UUID, UUID_MAX, UUID_MAX,  # valid: the largest decodable value is still decodable (duplicate: 1)
            "oZEq7ovRbLq6UnGMPwc8B6", "zZEq7ovRbLq6UnGMPwc8B5",  # not_decodable: 2 (above UUID_MAX)
            f"https://qr.lcdg.io/case/{UUID}", f"https://qr.lcdg.io/{UUID}", f"qr.lcdg.io/c/{G1}",  # url_wrapped: 3
            G1, UUID + "2", "",  # wrong_length: 2; missing: 1
            "0" + UUID[1:], UUID[:-1] + "l", UUID[:-1] + "I", "zzzzzzzzzzzzzzzzzzzzz0",  # bad_character: 4
            f" {UUID}", f"{UUID_MAX} ", f"\u200b{UUID}", f"{UUID}\t", f"{UUID}\u3000",  # whitespace: 5
        ],
        {"kind": "uuid", "unique": True},  # the column is "id", not "uuid": repeats count only when asked for
        {"missing": 1, "url_wrapped": 3, "whitespace": 5, "wrong_length": 2, "bad_character": 4, "not_decodable": 2,
         "duplicate": 1},
    ),
    "uuid_normalized": (
        [
            f"https://qr.lcdg.io/case/{UUID}", f" {UUID_MAX} ",  # valid once normalised (a uuid kind takes case URLs)
            "oZEq7ovRbLq6UnGMPwc8B6", " https://qr.lcdg.io/c/oZEq7ovRbLq6UnGMPwc8B7 ",  # not_decodable: 2
            f"https://qr.lcdg.io/{G1}", G1[:-1],  # wrong_length: 2
            None,  # missing: 1
            UUID,  # duplicate: 1
        ],
        {"kind": "uuid", "normalize": True, "unique": True},
        {"missing": 1, "wrong_length": 2, "not_decodable": 2, "duplicate": 1},
    ),
    "lucid_id_22": (  # a LucidID length of 22: the decode bound of shortuuids applies, case URLs stay case_id
        [UUID, "oZEq7ovRbLq6UnGMPwc8B6", f"https://qr.lcdg.io/case/{UUID}", f"qr.lcdg.io/c/{UUID}", G1, UUID_MAX],
        {"length": 22, "unique": False},
        {"case_id": 2, "wrong_length": 1, "not_decodable": 1},
    ),
}  # fmt: skip


def _need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install 'lucidframes[{extra}]')")


def _arrow(cells: list[Any]) -> pa.Table:
    return pa.table({"id": pa.array(cells, type=pa.string()), "k": pa.array(range(len(cells)), type=pa.int64())})


def _pandas(cells: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({"id": pd.Series(cells, dtype=object), "k": range(len(cells))})


ENGINES: dict[str, tuple[tuple[str, str] | None, Callable[[list[Any]], Any]]] = {
    "pandas-object": (None, _pandas),
    "pandas-str": (None, lambda cells: _pandas(cells).astype({"id": "str"})),
    "pandas-category": (None, lambda cells: _pandas(cells).astype({"id": "category"})),
    "arrow-table": (None, _arrow),
    "polars": (("polars", "polars"), lambda cells: __import__("polars").from_arrow(_arrow(cells))),
    "polars-lazy": (("polars", "polars"), lambda cells: __import__("polars").from_arrow(_arrow(cells)).lazy()),
    "duckdb": (("duckdb", "duckdb"), lambda cells: __import__("duckdb").from_arrow(_arrow(cells))),
    "dask": (
        ("dask", "dask"),
        lambda cells: __import__("dask.dataframe").dataframe.from_pandas(
            _pandas(cells).astype({"id": "str"}), npartitions=2
        ),
    ),
}


# Bugs these tests found, left for their own fix: strict xfails, so that a fix shows as an XPASS failure to remove.
KNOWN_BUGS = {
    ("uuid_normalized", "dask"): "Dask, a 22-character format and a null cell: TypeError 'boolean value of NA is "
    "ambiguous' from the decode-bound comparison (rules.strict_ok) on a pyarrow-backed string column",
}


def counts(report: lf.ValidationReport) -> dict[str, int]:
    """The report's summary as {reason: count} (one column checked), counts as plain ints."""
    assert set(report.summary["column"]) <= {"id", "value"}
    return {str(r): int(n) for r, n in zip(report.summary["reason"], report.summary["count"], strict=True)}


def check(report: lf.ValidationReport, expected: dict[str, int], n_rows: int, cap: int | None) -> None:
    assert counts(report) == expected
    assert report.n_rows == n_rows
    total = sum(expected.values())
    if cap == 0:  # the engine's own classification: exact counts, no row collected
        assert report.capped and len(report.failures) == 0
    else:  # every failing cell diagnosed in Python: the rows agree with the counts
        assert not report.capped and len(report.failures) == total
        assert report.failures["reason"].value_counts().to_dict() == expected


@pytest.mark.parametrize("cap", [None, 0], ids=["all-rows", "max_failures=0"])
@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("case", list(CASES))
def test_reason_counts_are_literal_on_every_engine(
    case: str, engine: str, cap: int | None, request: pytest.FixtureRequest
) -> None:
    need, make = ENGINES[engine]
    if need is not None:
        _need(*need)
    if (case, engine) in KNOWN_BUGS:
        request.applymarker(pytest.mark.xfail(strict=True, raises=TypeError, reason=KNOWN_BUGS[case, engine]))
    cells, options, expected = CASES[case]
    limit = {} if cap is None else {"max_failures": cap}
    report = lf.validate_lucid_ids(make(cells), columns="id", keep="k", **options, **limit)
    check(report, expected, len(cells), cap)


@pytest.mark.parametrize("cap", [None, 0], ids=["all-rows", "max_failures=0"])
@pytest.mark.parametrize("case", list(CASES))
def test_reason_counts_of_a_plain_list(case: str, cap: int | None) -> None:
    cells, options, expected = CASES[case]
    limit = {} if cap is None else {"max_failures": cap}
    check(lf.validate_lucid_ids(cells, **options, **limit), expected, len(cells), cap)


# Cells that are not text: "not_a_string" comes before every other reason, "missing" right after it.
MIXED: list[Any] = [
    1, 2.5, b"bytes", True,  # not_a_string: 4
    None, float("nan"), "", "  ", "\u200b",  # missing: 5
    G1[:-1], f"https://qr.lcdg.io/{G1}", G1, G1,  # wrong_length, url_wrapped, duplicate: 1 each
]  # fmt: skip
MIXED_COUNTS = {"missing": 5, "not_a_string": 4, "url_wrapped": 1, "wrong_length": 1, "duplicate": 1}


@pytest.mark.parametrize("cap", [None, 0], ids=["all-rows", "max_failures=0"])
def test_not_a_string_counts_in_an_object_column(cap: int | None) -> None:
    limit = {} if cap is None else {"max_failures": cap}
    report = lf.validate_lucid_ids(_pandas(MIXED), columns="id", **limit)
    check(report, MIXED_COUNTS, len(MIXED), cap)


@pytest.mark.parametrize("cap", [None, 0], ids=["all-rows", "max_failures=0"])
@pytest.mark.parametrize("engine", ["arrow-table", "polars", "duckdb"])
def test_not_a_string_counts_in_a_number_column(engine: str, cap: int | None) -> None:
    """A typed number column: every number is not_a_string, every null is missing (2 and 1 here)."""
    table = pa.table({"id": pa.array([7, None, 8], type=pa.int64())})
    if engine != "arrow-table":
        _need(engine, engine)
        table = __import__("polars").from_arrow(table) if engine == "polars" else __import__("duckdb").from_arrow(table)
    limit = {} if cap is None else {"max_failures": cap}
    check(lf.validate_lucid_ids(table, columns="id", **limit), {"missing": 1, "not_a_string": 2}, 3, cap)


# ---------------------------------------------------------------------------------------------------- Spark


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[2] SparkSession (the same one test_lucidid_engines.py gets: getOrCreate)."""
    _need("pyspark", "spark")
    if shutil.which("java") is None:
        pytest.skip("Java is missing (apt-get install -y default-jre-headless)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("lucidframes-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.parametrize("cap", [None, 0], ids=["all-rows", "max_failures=0"])
@pytest.mark.parametrize("case", list(CASES))
def test_reason_counts_are_literal_on_spark(spark: Any, case: str, cap: int | None) -> None:
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    cells, options, expected = CASES[case]
    schema = StructType([StructField("id", StringType()), StructField("k", LongType())])
    frame = spark.createDataFrame([(c, i) for i, c in enumerate(cells)], schema)
    limit = {} if cap is None else {"max_failures": cap}
    check(lf.validate_lucid_ids(frame, columns="id", keep="k", **options, **limit), expected, len(cells), cap)
