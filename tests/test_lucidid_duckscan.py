"""DuckDB's two scans (``lucidid.duckscan``): the input is read twice, the rows kept are the ones that can fail, hash
collisions change nothing, the temporary tables go away, and ``validate_file`` over Parquet and CSV gives pandas'
report with duplicates, ``keep=``, ``normalize=``, ``known_ids=`` and a cap."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import lucidframes as lf
from lucidframes.lucidid import files
from lucidframes.lucidid.api import id_format
from lucidframes.lucidid.engine import duckdb_scan as duckscan
from lucidframes.lucidid.engine import run as tier
from lucidframes.lucidid.engine.internal_columns import ROW
from lucidframes.lucidid.engine.prepare import prepare

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (pip install 'lucidframes[duckdb]')")

from test_lucidid_engines import CASES, comparable, frame_of  # noqa: E402  # the parity suite's cases

G1 = "23456789ABCDEFGHJKLM"
G2 = "abcdefghijkmnopqrstu"
G3 = "NPQRSTUVWXYZvwxyz234"


def _tables(con: Any) -> list[str]:
    return [name for (name,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]


def _same(report: lf.ValidationReport, expected: lf.ValidationReport) -> None:
    assert report.summary.equals(expected.summary), (report.summary, expected.summary)
    assert comparable(report).equals(comparable(expected)), (report.failures, expected.failures)
    assert (report.capped, report.n_rows, report.notes) == (expected.capped, expected.n_rows, expected.notes)


def test_the_input_is_scanned_twice() -> None:
    con = duckdb.connect()
    seen: list[Any] = []

    def counted(value: str | None) -> str | None:
        seen.append(value)
        return value

    con.create_function("lf_seen", counted, ["VARCHAR"], "VARCHAR", side_effects=True, null_handling="special")
    con.sql(f"CREATE TABLE t AS SELECT * FROM (VALUES ('{G1}', 0), ('bad', 1), ('{G1}', 2), (NULL, 3)) v(id, k)")
    report = lf.validate_lucid_ids(con.sql("SELECT lf_seen(id) AS id, k FROM t"), "id", keep="k")
    assert report.summary["reason"].tolist() == ["missing", "wrong_length", "duplicate"]
    assert len(seen) == 2 * 4  # once for the repeated hashes, once for the rows that can fail; then only those


def test_the_small_table_holds_the_rows_that_can_fail() -> None:
    frame = pd.DataFrame(
        {
            "a": [G1, "bad", G2, G3, G2, f" {G3}", G1[:-1] + "N"],
            "b": [G1[:-1] + "P", G1[:-1] + "Q", G1[:-1] + "R", G1[:-1] + "S", G1[:-1] + "T", G1[:-1] + "U", G1],
        }
    )
    prep = prepare(duckdb.from_df(frame), ["a", "b"])
    fmt = id_format()
    with duckscan.narrowed(prep, fmt, normalize=False, unique=True, known=None) as (small, n_rows):
        rows = sorted(small.frame.select(ROW).to_native().fetchall())
    # Row 1 fails the format; G2 repeats (rows 2 and 4); G1 in a and b (rows 0 and 6); " G3" fails the format.
    assert (n_rows, rows) == (7, [(0,), (1,), (2,), (4,), (5,), (6,)])
    with duckscan.narrowed(prep, fmt, normalize=True, unique=True, known=frozenset([G1, G2])) as (small, n_rows):
        rows = sorted(small.frame.select(ROW).to_native().fetchall())
    # Normalised, " G3" is G3 again (rows 3 and 5); every b cell but row 6's is unknown.
    assert (n_rows, rows) == (7, [(r,) for r in range(7)])
    with duckscan.narrowed(prep, fmt, normalize=False, unique=False, known=None) as (small, n_rows):
        rows = sorted(small.frame.select(ROW).to_native().fetchall())
    assert (n_rows, rows) == (7, [(1,), (5,)])


@pytest.mark.parametrize("case", list(CASES))
def test_hash_collisions_change_nothing(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Three hash values for every id: most distinct ids collide, so most rows are kept although they do not repeat.
    weak = "CASE WHEN {0} IS NOT NULL THEN hash({0}) % 3 END"
    monkeypatch.setattr(duckscan, "_hashed", lambda j: weak.format(f'"__lf_k{j}"'))
    columns, options = CASES[case]
    base = frame_of(columns)
    names = list(columns)
    expected = lf.validate_lucid_ids(base, columns=names, keep="k", **options)
    arrow = base.astype({n: "str" for n in names})
    _same(lf.validate_lucid_ids(duckdb.from_df(arrow), columns=names, keep="k", **options), expected)


def test_temporary_tables_are_dropped_also_on_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect()
    con.sql(f"CREATE TABLE t AS SELECT * FROM (VALUES ('{G1}'), ('bad'), ('{G1}')) v(id)")
    assert not lf.validate_lucid_ids(con.table("t"), "id").ok
    assert _tables(con) == ["t"]

    def broken(prep: Any, check: Any) -> Any:
        assert len(_tables(con)) == 3  # t and the two of this call
        raise RuntimeError("the tier failed")

    monkeypatch.setattr(tier, "_run", broken)
    with pytest.raises(RuntimeError, match="the tier failed"):
        lf.validate_lucid_ids(con.table("t"), "id")
    assert _tables(con) == ["t"]


def _ids(n: int) -> list[str]:
    """``n`` distinct well-formed ids."""
    digits = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return [G1[:16] + "".join(digits[(i >> s) & 31] for s in (15, 10, 5, 0)) for i in range(n)]


@pytest.mark.parametrize("options", [{}, {"normalize": True}, {"known_ids": _ids(600)[::2]}, {"max_failures": 0}])
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_validate_file_on_duckdb_is_pandas_row_for_row(suffix: str, options: dict[str, Any], tmp_path: Path) -> None:
    ids = _ids(800)
    a = ids[:380] + ids[:20]  # the last 20 rows repeat the first 20
    b = ids[400:800]
    b[100], b[150], b[200] = ids[300], ids[150], f" {ids[210]}"  # across columns: later, same row, spaced
    b[220], b[240] = b[230], f" {b[250]}"  # within b: earlier, and spaced
    a[10], a[20], b[30] = None, "bad", "https://qr.lcdg.io/" + ids[5]
    frame = pd.DataFrame({"a": a, "b": b, "order": [f"o{i}" for i in range(400)]})
    path = tmp_path / f"ids{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    options = {"max_failures": 25, **options}
    expected = lf.validate_file(path, ["a", "b"], engine="pandas", keep="order", **options)
    report = lf.validate_file(path, ["a", "b"], engine="duckdb", keep="order", **options)
    _same(report, expected)
    assert expected.capped and report.engine == "duckdb"
    assert ("line" in report.failures) == (suffix == ".csv")


def test_duckdb_spills_to_a_directory_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    parquet = tmp_path / "ids.parquet"
    pd.DataFrame({"id": [G1, "bad"]}).to_parquet(parquet)
    relation, _ = files.scan(parquet, "duckdb")
    (spill,) = relation.query("t", "SELECT current_setting('temp_directory')").fetchall()[0]
    assert Path(spill).parent == tmp_path and Path(spill).name.startswith("lucidframes-duckdb-")
    (limit,) = relation.query("t", "SELECT current_setting('memory_limit')").fetchall()[0]
    assert limit.endswith("MiB") and float(limit.split()[0]) < 1024  # the process, not DuckDB alone, under 1 GB
    assert files._duckdb_config()["temp_directory"] != spill  # one directory per scan
    assert lf.validate_file(parquet, "id", engine="duckdb").summary["count"].tolist() == [1]
