"""``lf.validate_file`` on every file engine, the HTML report, and ``lf.suggest_fixes`` against the sandbox."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest

import lucidframes as lf
from lucidframes.errors import ConfigError, ReadError
from lucidframes.lucidid import files
from lucidframes.lucidid.fixes import candidates

DATA = Path(__file__).resolve().parent.parent / "data"
SHEET = DATA / "submission_sheet.csv"
G1 = "23456789ABCDEFGHJKLM"
G2 = "abcdefghijkmnopqrstu"


def engines() -> list[str]:
    return ["pandas", *(e for e in ("polars", "duckdb") if importlib.util.find_spec(e) is not None)]


@pytest.mark.parametrize("engine", engines())
def test_validate_file_is_the_same_on_every_engine(engine: str) -> None:
    expected = lf.validate_lucid_ids(lf.read_table(SHEET), "lucid_id")
    report = lf.validate_file(SHEET, columns="lucid_id", engine=engine)
    assert report.summary.equals(expected.summary)
    got = report.failures.astype(object).reset_index(drop=True)
    assert got.drop(columns="row").equals(expected.failures.astype(object).drop(columns="row"))
    assert [int(r) for r in got["row"]] == [int(r) for r in expected.failures["row"]]
    assert (got["line"] == got["row"].astype(int) + 2).all()
    assert report.source == str(SHEET) and report.engine.startswith(engine)


@pytest.mark.parametrize("engine", engines())
def test_excel_sep_line_and_parquet(engine: str, tmp_path: Path) -> None:
    csv = tmp_path / "excel.csv"
    csv.write_text(f"sep=;\nid;n\n{G1};1\nbad;2\n", encoding="utf-8")
    report = lf.validate_file(csv, columns="id", engine=engine)
    assert report.failures[["row", "line"]].astype(int).values.tolist() == [[1, 4]]  # sep= is line 1, header 2
    parquet = tmp_path / "ids.parquet"
    pd.DataFrame({"id": [G1, "bad", G1, None]}).to_parquet(parquet)
    report = lf.validate_file(parquet, columns=["id"], engine=engine)
    assert report.failures["reason"].tolist() == ["wrong_length", "duplicate", "missing"]
    assert "line" not in report.failures  # Parquet has rows, not spreadsheet lines


def test_engine_choice_and_missing_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "small.csv"
    small.write_text(f"id\n{G1}\n", encoding="utf-8")
    assert files.choose_engine(small) == "pandas"
    monkeypatch.setattr(files, "AUTO_LAZY_BYTES", 1)
    assert files.choose_engine(small) in ("duckdb", "polars", "pandas")
    with pytest.raises(ConfigError, match="engine must be one of auto, pandas, polars, duckdb"):
        lf.validate_file(small, columns="id", engine="spark")
    monkeypatch.setattr(files, "_installed", lambda module: False)
    assert files.choose_engine(small) == "pandas"
    with pytest.raises(ConfigError, match=r"^engine='duckdb' needs duckdb: pip install 'lucidframes\[duckdb\]'$"):
        lf.validate_file(small, columns="id", engine="duckdb")
    with pytest.raises(ReadError, match="no such file"):
        lf.validate_file(tmp_path / "nope.csv", columns="id")


@pytest.mark.parametrize("engine", [e for e in engines() if e != "pandas"])
def test_damaged_files_are_read_errors(engine: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(ReadError, match="cannot read it"):
        lf.validate_file(broken, columns="id", engine=engine)


# ---------------------------------------------------------------------------------------------------- HTML


def test_html_report_is_standalone_and_marks_the_bad_characters(tmp_path: Path) -> None:
    report = lf.validate_lucid_ids(lf.read_table(SHEET), "lucid_id")
    page = report.to_html(tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == page
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'<]*[\"')]", _markup(page))  # no assets
    assert "<script" not in page and "@import" not in page and "url(" not in page
    assert 'class="lf-badge lf-fail">FAIL' in page
    assert page.count('class="lf-bar"') == report.summary["reason"].nunique()
    assert '89mEDYZDGfXVM8rgcR<mark title="DIGIT ZERO">0</mark>P' in page  # not "at index 18"
    assert "text-align:left !important" in page
    assert "<details><summary>" in page  # short hint, detail on demand
    ok = lf.validate_lucid_ids([G1, G2])
    assert 'lf-pass">PASS' in ok.to_html()


def _markup(page: str) -> str:
    """The page without the text of cells (a failing value may itself be a URL, which is data, not an asset)."""
    return re.sub(r"<td>.*?</td>", "", page, flags=re.S)


def test_html_lists_only_the_first_of_each_reason_when_there_are_thousands() -> None:
    cells = [f"bad{i}" for i in range(3000)] + [None] * 2000 + [G1]
    report = lf.validate_lucid_ids(cells)
    page = report._repr_html_()
    assert page.count("<tr>") == 1 + 2 * 10  # header row, then 10 of each reason
    assert "Showing 20 of 5,000 failing cells" in page


# ---------------------------------------------------------------------------------------------------- suggest_fixes


def test_candidates_follow_the_hints_most_likely_first() -> None:
    assert candidates(G1[:7] + "0" + G1[8:], 20) == [G1[:7] + "o" + G1[8:]]
    assert candidates("1" + G1[1:], 20) == ["i" + G1[1:], "L" + G1[1:]]
    two = candidates("1" + G1[1:-1] + "l", 20)
    assert two[0] == "i" + G1[1:-1] + "i" and len(two) == 4 and two[-1] == "L" + G1[1:-1] + "L"
    assert candidates(" С" + G1[1:] + " ", 20) == ["C" + G1[1:]]  # normalised first; Cyrillic Es
    assert candidates(G1[:-1], 20) == [] and candidates(None, 20) == [] and candidates(G1, 20) == []
    assert candidates("#" + G1[1:], 20) == []  # no lookalike for '#'


def test_suggest_fixes_without_a_client() -> None:
    report = lf.validate_lucid_ids(lf.read_table(SHEET), "lucid_id")
    fixes = lf.suggest_fixes(report)
    bad = report.failures[report.failures["reason"] == "bad_character"]
    assert set(fixes["row"]) == set(bad["row"])
    assert list(fixes.columns) == ["row", "column", "value", "candidate", "rank"]
    assert all(len(c) == 20 for c in fixes["candidate"])
    with pytest.raises(TypeError, match="ValidationReport"):
        lf.suggest_fixes(pd.DataFrame())


def test_suggest_fixes_keeps_what_the_api_knows(client: lf.Client, sandbox: object) -> None:
    report = lf.validate_lucid_ids(lf.read_table(SHEET), "lucid_id")
    fixes = lf.suggest_fixes(report, client=client)
    assert (fixes["status"] == "ok").all()
    bad_rows = set(report.failures.loc[report.failures["reason"] == "bad_character", "row"])
    assert set(fixes["row"]) == bad_rows  # the sample sheet's typos are all recoverable
    assert fixes.groupby("row").size().max() == 1  # exactly one known candidate each: safe fixes
    posts = [e for e in sandbox.log if e.method == "POST" and "token" not in e.path]  # type: ignore[attr-defined]
    assert posts == []  # read-only look-ups: nothing submitted
