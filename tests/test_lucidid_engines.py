"""The same data gives the same report on every engine: pandas (object, str, category), polars (eager, lazy), Arrow
(Table, ChunkedArray, Array), DuckDB, Dask (2 partitions) and Spark (local[2], one session for the whole run).

Engines that are not installed are skipped with the reason; Spark also needs Java (``apt-get install
default-jre-headless``). Rows are compared in order where the engine has one; on Spark (no row order) the
failures are compared as the set of (value, reason, kept order id), and the counts exactly.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lucidframes as lf
from lucidframes.errors import ConfigError

G1 = "23456789ABCDEFGHJKLM"
G2 = "abcdefghijkmnopqrstu"
G3 = "NPQRSTUVWXYZvwxyz234"
UUID = "EHzzEQny77sJrcw9ENJq2t"

# Each case: the id columns (as lists of cells), and the options. Together they cover every reason code.
CASES: dict[str, tuple[dict[str, list[Any]], dict[str, Any]]] = {
    "every_reason": (
        {
            "id": [
                G1,
                None,
                "",
                "   ",
                "\u200b",
                f" {G2}",
                f"{G3}\u00a0",
                f"https://qr.lcdg.io/{G2}",
                f"https://qr.lcdg.io/case/{UUID}",
                G1[:-1],
                G1 + "a",
                G1[:7] + "0" + G1[8:],
                "С" + G2[1:],
                f"https://example.com/{G1}",
                G1,
                G1,
                G3,
                "23456789ABCDEFGHJKL\n",
            ]
        },
        {},
    ),
    "normalize": (
        {"id": [f" {G1}", f"https://qr.lcdg.io/{G2}", f"https://qr.lcdg.io/case/{UUID}", f" {G1[:-1]}", G1, "x", None]},
        {"normalize": True},
    ),
    "known_ids": (
        {"id": [G1, G1[:-1] + "N", G1[:5] + "0" + G1[6:], "23456789abcdefghjkLM", G2]},
        {"known_ids": [G1, G2]},
    ),
    "uuid": (
        {"id": [UUID, "oZEq7ovRbLq6UnGMPwc8B5", "oZEq7ovRbLq6UnGMPwc8B6", "zZEq7ovRbLq6UnGMPwc8B5", G1, UUID]},
        {"kind": "uuid"},
    ),
    "two_columns": (
        {"a": [G1, G2, "bad", None, G3], "b": [G3, G1, G2, G2, "  "]},
        {},
    ),
    "no_repeats_check": ({"id": [G1, G1, "x", G1]}, {"unique": False}),
    "length_22": ({"id": [UUID, "2" * 22, None, f" {UUID} "]}, {}),
    "capped": ({"id": [f"bad{i}" for i in range(30)] + [G1, G1, G1]}, {"max_failures": 7}),
}


def _java() -> str | None:
    if shutil.which("java") is None:
        return "Java is missing (apt-get install -y default-jre-headless)"
    return None


def _need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install 'lucidframes[{extra}]')")


# How fast the JVM runs, not what Spark computes: HotSpot's quick C1 compiler alone (C2's optimising compilations
# cost more CPU than they save in a run this short) and the serial collector halve the CPU time of the Spark tests.
SPARK_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] SparkSession for every Spark test of the run (starting one takes seconds).

    Session-scoped fixtures are per pytest-xdist worker: only one test uses this one, so one worker starts it.
    """
    _need("pyspark", "spark")
    reason = _java()
    if reason:
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("lucidframes-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.extraJavaOptions", SPARK_JAVA_OPTIONS)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def frame_of(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """The case as a pandas frame of object columns, with an order id ``k``."""
    n = len(next(iter(columns.values())))
    data = {name: pd.Series(values, dtype=object) for name, values in columns.items()}
    return pd.DataFrame({**data, "k": list(range(n))})


def _to_str(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    return frame.astype({n: "str" for n in names})


def _arrow(frame: pd.DataFrame, names: list[str]) -> pa.Table:
    return pa.table({c: pa.array(frame[c].tolist(), type=pa.string() if c in names else pa.int64()) for c in frame})


MAKERS: dict[str, Callable[[pd.DataFrame, list[str]], Any]] = {
    "pandas-object": lambda f, names: f,
    "pandas-str": _to_str,
    "pandas-category": lambda f, names: f.astype({n: "category" for n in names}),
    "polars": lambda f, names: __import__("polars").from_arrow(_arrow(f, names)),
    "polars-lazy": lambda f, names: __import__("polars").from_arrow(_arrow(f, names)).lazy(),
    "arrow-table": _arrow,
    "duckdb": lambda f, names: __import__("duckdb").from_arrow(_arrow(f, names)),
    "dask": lambda f, names: __import__("dask.dataframe").dataframe.from_pandas(_to_str(f, names), npartitions=2),
}
NEEDS = {"polars": ("polars", "polars"), "polars-lazy": ("polars", "polars"), "duckdb": ("duckdb", "duckdb"),
         "dask": ("dask", "dask")}  # fmt: skip


def comparable(report: lf.ValidationReport) -> pd.DataFrame:
    """The failures with plain Python values (row labels as ints), for comparing engines."""
    out = report.failures.copy()
    out["row"] = [int(r) if not pd.isna(r) else None for r in out["row"]]
    return out.astype(object).reset_index(drop=True)


@pytest.mark.parametrize("engine", list(MAKERS))
@pytest.mark.parametrize("case", list(CASES))
def test_same_report_on_every_engine(engine: str, case: str) -> None:
    if engine in NEEDS:
        _need(*NEEDS[engine])
    columns, options = CASES[case]
    base = frame_of(columns)
    names = list(columns)
    expected = lf.validate_lucid_ids(base, columns=names, keep="k", **options)
    report = lf.validate_lucid_ids(MAKERS[engine](base, names), columns=names, keep="k", **options)
    assert report.summary.equals(expected.summary), (report.summary, expected.summary)
    assert comparable(report).equals(comparable(expected)), (report.failures, expected.failures)
    assert (report.ok, report.capped, report.n_rows, report.notes) == (
        expected.ok,
        expected.capped,
        expected.n_rows,
        expected.notes,
    )
    assert not expected.ok and len(expected.failures) > 0  # every case has failures to compare


@pytest.mark.parametrize("make", ["chunked", "array", "polars-series"])
def test_single_columns_of_other_engines(make: str) -> None:
    values = [G1, None, "bad", G1, f" {G2}"]
    expected = lf.validate_lucid_ids(values)
    if make == "polars-series":
        _need("polars", "polars")
        import polars as pl

        data: Any = pl.Series("value", values)
    else:
        data = pa.chunked_array([values[:2], values[2:]]) if make == "chunked" else pa.array(values)
    report = lf.validate_lucid_ids(data)
    assert comparable(report).equals(comparable(expected))
    assert report.valid_mask is not None and report.valid_mask.tolist() == expected.valid_mask.tolist()


def test_arrow_column_of_valid_ids_passes() -> None:
    """The bug of issue 10: every value of a pyarrow column, valid ones included, was "not_a_string"."""
    table = pa.table({"lucid_id": [G1, G2, G3]})
    assert lf.validate_lucid_ids(table.column("lucid_id")).ok
    assert lf.validate_lucid_ids(table, columns="lucid_id").ok


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb", "dask"])
def test_valid_rows_come_back_on_the_same_engine(engine: str) -> None:
    _need(*NEEDS[engine])
    base = frame_of({"id": [G1, "bad", G2, G1, None, G3]})
    native = MAKERS[engine](base, ["id"])
    report = lf.validate_lucid_ids(native, columns="id")
    rows = report.valid_rows()
    assert type(rows).__module__.split(".")[0] == type(native).__module__.split(".")[0]
    assert report.valid_mask is None  # lazy engines have no mask: the rows are a query
    back = lf.validate_lucid_ids(rows, columns="id")
    assert back.ok and back.n_rows == 3


def test_valid_rows_of_eager_engines() -> None:
    base = frame_of({"id": [G1, "bad", G2, G1]})
    assert lf.validate_lucid_ids(base, "id").valid_rows()["k"].tolist() == [0, 2]
    table = lf.validate_lucid_ids(_arrow(base, ["id"]), "id").valid_rows()
    assert isinstance(table, pa.Table) and table.column("k").to_pylist() == [0, 2]


def test_non_string_columns_of_typed_engines() -> None:
    _need("polars", "polars")
    import polars as pl

    report = lf.validate_lucid_ids(pl.DataFrame({"n": [1, None, 3]}), columns="n")
    assert report.failures["reason"].tolist() == ["not_a_string", "missing", "not_a_string"]
    assert report.failures["value"].tolist()[0] == 1 and "int 1" in report.failures["detail"].iloc[0]


# ---------------------------------------------------------------------------------------------------- Spark


# One test with a subtest per case (each reported on its own), not three parametrized tests, which pytest-xdist
# would spread over its workers, each of them starting a JVM.
def test_spark_counts_and_failures_by_kept_columns(spark: Any, subtests: pytest.Subtests) -> None:
    for case in ["every_reason", "two_columns", "capped"]:
        with subtests.test(case=case):
            check_on_spark(spark, case)


def check_on_spark(spark: Any, case: str) -> None:
    columns, options = CASES[case]
    base = frame_of(columns)
    names = list(columns)
    expected = lf.validate_lucid_ids(base, columns=names, keep="k", **options)
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType([*(StructField(n, StringType()) for n in names), StructField("k", LongType())])
    rows = [tuple(r) for r in base[[*names, "k"]].itertuples(index=False)]
    report = lf.validate_lucid_ids(spark.createDataFrame(rows, schema), columns=names, keep="k", **options)
    assert report.summary.equals(expected.summary)
    assert report.failures["row"].isna().all()  # no row order on Spark: the kept columns say which row

    def keyed(r: lf.ValidationReport) -> set[tuple[Any, ...]]:
        return {(repr(v), reason, int(k)) for v, reason, k in r.failures[["value", "reason", "k"]].itertuples(False)}

    assert keyed(report) == keyed(expected)
    valid = report.valid_rows()
    assert sorted(r["k"] for r in valid.collect()) == sorted(expected.valid_rows()["k"].tolist())


# ---------------------------------------------------------------------------------------------------- columns=, cap


@pytest.mark.parametrize(
    "columns", ["a", ["a", "b"], ("a", "b"), {"a", "b"}, (c for c in ["a", "b"]), pd.Index(["a", "b"]), {"a": 1}]
)
def test_columns_takes_a_label_or_any_iterable(columns: Any) -> None:
    frame = pd.DataFrame({"a": [G1, "x"], "b": [G2, G3], "c": [1, 2]})
    report = lf.validate_lucid_ids(frame, columns=columns)
    assert set(report.columns) <= {"a", "b"} and report.failures["row"].tolist() == [1]


def test_columns_labels_of_any_type() -> None:
    frame = pd.DataFrame({0: [G1, "x"], ("multi", 1): [G2, G3]})
    assert lf.validate_lucid_ids(frame, columns=[0, ("multi", 1)]).failures["column"].tolist() == [0]
    assert lf.validate_lucid_ids(frame, columns=0).failures["row"].tolist() == [1]


@pytest.mark.parametrize("columns", [3.5j, object(), [["a"]], [], "zz"])
def test_bad_columns_are_config_errors_naming_the_columns(columns: Any) -> None:
    frame = pd.DataFrame({"a": [G1], "b": [G2]})
    with pytest.raises(ConfigError, match=r"the frame has 'a', 'b'"):
        lf.validate_lucid_ids(frame, columns=columns)


def test_max_failures_caps_rows_but_not_counts() -> None:
    cells = [f"bad{i}" for i in range(50)] + [None] * 10 + [G1, G1]
    report = lf.validate_lucid_ids(cells, max_failures=5)
    assert report.capped and len(report.failures) == 5
    assert report.summary["count"].tolist() == [10, 50, 1] and report.n_failed_cells == 61
    assert report.failures["row"].tolist() == [0, 1, 2, 3, 4]
    assert (~report.valid_mask).sum() == 61  # the mask stays exact too
    assert "capped" in report.to_html() and report.to_dict()["capped"] is True
    full = lf.validate_lucid_ids(cells)
    assert not full.capped and full.summary.equals(report.summary)
    with pytest.raises(ValueError, match="max_failures"):
        lf.validate_lucid_ids(cells, max_failures=-1)


def test_reason_is_a_str_enum() -> None:
    report = lf.validate_lucid_ids([G1[:-1]])
    assert report.failures["reason"].iloc[0] == lf.Reason.WRONG_LENGTH == "wrong_length"
    assert type(report.failures["reason"].iloc[0]) is str  # cells stay plain strings
    assert [r.value for r in lf.Reason] == list(lf.lucidid.REASONS)


# ---------------------------------------------------------------------------------------------------- properties

_cells = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.text(alphabet=G1 + G2 + " \u200b/:.", min_size=18, max_size=24),
    st.sampled_from(
        [G1, G2, f" {G1}", f"https://qr.lcdg.io/{G2}", f"qr.lcdg.io/case/{UUID}", UUID, "oZEq7ovRbLq6UnGMPwc8B6"]
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_cells, min_size=1, max_size=15), st.booleans(), st.sampled_from([20, 22]), st.integers(1, 20))
def test_property_pandas_and_polars_agree(cells: list[Any], normalize: bool, length: int, cap: int) -> None:
    pl = pytest.importorskip("polars")
    cells = [c.replace("\x00", "") if isinstance(c, str) else c for c in cells]
    options: dict[str, Any] = {"normalize": normalize, "length": length, "max_failures": cap}
    expected = lf.validate_lucid_ids(pd.Series(cells, dtype=object, name="value"), **options)
    report = lf.validate_lucid_ids(pl.Series("value", cells, dtype=pl.String), **options)
    assert report.summary.equals(expected.summary)
    assert comparable(report).equals(comparable(expected))
    assert (
        expected.failures["reason"].value_counts().to_dict().items()
        <= dict(zip(expected.summary["reason"], expected.summary["count"], strict=True)).items()
        or expected.capped
    )
