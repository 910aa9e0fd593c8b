"""The validator where analysts work: the report as a workbook, mostly= and severities, fixes applied with a change
log (and checked against the API), messages a person reads (the send guard, uuid repeats, the Explorer's words)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import lucidframes as lf
from lucidframes.cli import main

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("xlsxwriter")
pytest.importorskip("fastexcel")

DATA = Path(__file__).resolve().parent.parent / "data"
SHEET = DATA / "submission_sheet.csv"
GOOD = "23456789ABCDEFGHJKLM"
GOOD2 = "oGzzNWTkzAPNrTBzZzkb"
UUID = "EHzzEQny77sJrcw9ENJq2t"


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order": ["1", "2", "3", "4", "5", "6"],
            "lucid_id": [GOOD, f" {GOOD2}", "x", f"https://qr.lcdg.io/{GOOD[:-1]}N", "89mEDYZDGfXVM8rgcR0P", "=cmd|x"],
        }
    )


# -- the report as a workbook -------------------------------------------------------------------------------------


def test_the_report_workbook_marks_the_bad_cells_and_sums_them_up(tmp_path):
    report = lf.validate_lucid_ids(frame(), "lucid_id", severity={"whitespace": "warning"})
    path = report.to_excel(tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "data", "Failures"]
    data = book["data"]
    assert [c.value for c in data[1]] == ["order", "lucid_id"] and data.freeze_panes == "A2"
    fills = {r: data.cell(r, 2).fill.fgColor.rgb for r in range(2, 8) if data.cell(r, 2).fill.fill_type}
    assert fills == {3: "FFFFEB9C", 4: "FFFFC7CE", 5: "FFFFC7CE", 6: "FFFFC7CE", 7: "FFFFC7CE"}  # yellow: warning
    assert data.cell(2, 2).comment is None and data.cell(7, 2).data_type == "s"  # "=cmd|x" is text
    assert data.cell(3, 2).comment.text.startswith("whitespace (warning): leading")
    assert "hint: '0' is probably 'o'" in data.cell(6, 2).comment.text
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["Result"] == "FAIL; 1 warning(s)" and summary["Failing cells"] == 5 and summary["Errors"] == 4
    counts = [row for row in book["Summary"].iter_rows(values_only=True) if row[2] in ("error", "warning")]
    assert counts == [
        ("lucid_id", "url_wrapped", "error", 1), ("lucid_id", "whitespace", "warning", 1),
        ("lucid_id", "wrong_length", "error", 2), ("lucid_id", "bad_character", "error", 1),
    ]  # fmt: skip
    failures = list(book["Failures"].iter_rows(values_only=True))
    assert failures[0] == ("row", "column", "value", "reason", "severity", "detail", "hint")
    assert [r[3] for r in failures[1:]] == report.failures["reason"].tolist()


def test_a_sheets_report_keeps_its_excel_rows_and_opens_in_libreoffice(tmp_path):
    xlsxwriter = pytest.importorskip("xlsxwriter")
    book = xlsxwriter.Workbook(str(tmp_path / "march.xlsx"))
    sheet = book.add_worksheet("March")
    sheet.write_string(0, 0, "Title")
    sheet.write_string(2, 0, "lucid_id")
    for r, value in enumerate([GOOD, "bad", GOOD2], start=3):
        sheet.write_string(r, 0, value)
    book.close()
    out = tmp_path / "report.xlsx"
    assert (
        main(["validate", str(tmp_path / "march.xlsx"), "-c", "lucid_id", "--header-row", "3", "--report", str(out)])
        == 1
    )
    back = openpyxl.load_workbook(out)
    assert back.sheetnames == ["Summary", "March", "Failures"]
    assert back["March"]["A3"].value == "lucid_id" and back["March"]["A5"].value == "bad"  # row 5, as in March
    assert back["March"]["A5"].fill.fill_type == "solid" and back["March"]["A4"].fill.fill_type is None
    assert next(r for r in back["Failures"].iter_rows(values_only=True) if r[0] == 1)[1] == 5  # line 5
    soffice = pytest.importorskip("shutil").which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed: the workbook was read back with openpyxl only")
    import subprocess

    done = subprocess.run(
        [soffice, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path / "lo"), str(out)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lo" / "report.csv").read_text(encoding="utf-8").startswith("Result,FAIL")


# -- thresholds and severities ------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb"])
def test_mostly_and_severities_are_the_same_on_every_engine(engine):
    data = frame()
    if engine == "polars":
        data = pytest.importorskip("polars").from_pandas(data)
    elif engine == "duckdb":
        data = pytest.importorskip("duckdb").from_df(data)
    strict = lf.validate_lucid_ids(data, "lucid_id")
    assert not strict.ok and strict.share_valid == pytest.approx(1 / 6)
    loose = lf.validate_lucid_ids(data, "lucid_id", mostly=0.1)
    assert loose.ok and loose.verdict() == "PASS: 16.7% of 6 cells valid (mostly=0.1)"
    assert not lf.validate_lucid_ids(data, "lucid_id", mostly=0.2).ok
    warned = lf.validate_lucid_ids(data, "lucid_id", severity={"whitespace": "warning", "url_wrapped": "warning"})
    assert (warned.n_errors, warned.n_warnings, warned.share_valid) == (3, 2, 0.5)
    assert lf.validate_lucid_ids(
        data, "lucid_id", mostly=0.5, severity={"whitespace": "warning", "url_wrapped": "warning"}
    ).ok
    assert warned.to_dict()["summary"][0] == {
        "column": "lucid_id",
        "reason": "url_wrapped",
        "count": 1,
        "severity": "warning",
    }
    assert "mostly=0.1" in repr(loose) and "16.7%" in loose._repr_html_()


def test_mostly_and_severity_are_checked():
    with pytest.raises(ValueError, match="mostly= is the share"):
        lf.validate_lucid_ids([GOOD], mostly=1.5)
    with pytest.raises(ValueError, match="severity= names reasons"):
        lf.validate_lucid_ids([GOOD], severity={"spaces": "warning"})
    with pytest.raises(ValueError, match="'error' or 'warning'"):
        lf.validate_lucid_ids([GOOD], severity={"whitespace": "info"})


def test_the_cli_passes_on_a_threshold_and_warnings(tmp_path, capsys):
    assert main(["validate", str(SHEET), "-c", "lucid_id", "--mostly", "0.6"]) == 0  # 26 of 40 valid: 65%
    assert main(["validate", str(SHEET), "-c", "lucid_id", "--mostly", "0.7"]) == 1
    path = tmp_path / "ids.csv"
    path.write_text(f"lucid_id\n {GOOD}\n{GOOD2}\n", encoding="utf-8")
    assert main(["validate", str(path), "-c", "lucid_id"]) == 1
    assert main(["validate", str(path), "-c", "lucid_id", "--warn", "whitespace"]) == 0


# -- fixes applied ------------------------------------------------------------------------------------------------


def test_apply_fixes_returns_the_fixed_frame_and_a_change_log():
    data = frame()
    fixed, changes = lf.validate_lucid_ids(data, "lucid_id").apply_fixes()
    assert fixed["lucid_id"].tolist() == [GOOD, GOOD2, "x", f"{GOOD[:-1]}N", "89mEDYZDGfXVM8rgcRoP", "=cmd|x"]
    assert data["lucid_id"].tolist() == frame()["lucid_id"].tolist()  # the input is left alone
    assert list(changes.columns) == ["row", "column", "before", "after", "why", "applied"]
    assert changes["row"].tolist() == [1, 3, 4] and changes["applied"].all()
    assert changes["why"].tolist() == [
        "stripped surrounding whitespace", "extracted the id from a scan URL", "'0' (DIGIT ZERO) -> 'o'",
    ]  # fmt: skip
    assert lf.validate_lucid_ids(fixed, "lucid_id").failures["reason"].tolist() == ["wrong_length", "wrong_length"]
    ambiguous = lf.validate_lucid_ids(["3rACVXWH1KSALWuKzQU5"]).apply_fixes()
    assert ambiguous.frame.tolist() == ["3rACVXWH1KSALWuKzQU5"] and not ambiguous.changes["applied"].any()
    assert "could be '3rACVXWHiKSALWuKzQU5' or '3rACVXWHLKSALWuKzQU5'" in ambiguous.changes["why"][0]


@pytest.mark.parametrize("engine", ["polars", "arrow", "duckdb"])
def test_apply_fixes_on_other_engines(engine):
    data = frame()
    expected = lf.validate_lucid_ids(data, "lucid_id").apply_fixes()
    if engine == "polars":
        native = pytest.importorskip("polars").from_pandas(data)
    elif engine == "arrow":
        native = pytest.importorskip("pyarrow").Table.from_pandas(data)
    else:
        native = pytest.importorskip("duckdb").from_df(data)
        with pytest.raises(lf.ConfigError, match="lazy: collect it"):
            lf.validate_lucid_ids(native, "lucid_id").apply_fixes()
        return
    fixed, changes = lf.validate_lucid_ids(native, "lucid_id").apply_fixes()
    assert changes.drop(columns="row").equals(expected.changes.drop(columns="row"))
    assert (
        list(fixed["lucid_id"].to_pylist() if engine == "arrow" else fixed["lucid_id"])
        == expected.frame["lucid_id"].tolist()
    )


def test_with_a_client_only_fixes_the_api_knows_are_applied(sandbox, client):
    known = next(r["uuid"] for r in sandbox.data["items"] if "i" in r["uuid"])  # items are looked up by LucidID
    typo = known.replace("i", "1", 1)  # '1' is 'i' or 'L': the API knows one of them
    spaced = f" {GOOD} "  # well-formed once stripped, but no such item
    report = lf.validate_lucid_ids([typo, spaced])
    fixed, changes = report.apply_fixes(client=client)
    assert fixed.tolist() == [known, spaced]
    assert changes["applied"].tolist() == [True, False]
    assert changes["why"][0].endswith("the API knows it") and "the API knows no such id" in changes["why"][1]


def test_validate_fix_writes_the_fixed_sheet_and_a_change_log(tmp_path, capsys):
    out = tmp_path / "fixed.xlsx"
    assert main(["validate", str(SHEET), "-c", "lucid_id", "--fix", "-o", str(out)]) == 1  # 8 cells still fail
    err = capsys.readouterr().err
    assert "fixed 6 cell(s); 3 not applied" in err and "after the fixes: FAIL, 8 failing cell(s) left" in err
    fixed = lf.read_table(out)
    log = lf.read_table(tmp_path / "fixed.changes.xlsx")
    assert len(fixed) == 40 and fixed["order_id"].tolist()[:1] == ["000007"]  # the rest of the sheet as it was
    assert log["line"].tolist()[:2] == ["4", "6"] and log["applied"].tolist().count("TRUE") == 6
    assert fixed["lucid_id"][2] == "vpuLAvAtujkpZTTgJEbz"
    clean = tmp_path / "clean.csv"
    clean.write_text(f"lucid_id\n {GOOD}\n", encoding="utf-8")
    assert main(["validate", str(clean), "-c", "lucid_id", "--fix", "-o", str(tmp_path / "ok.csv")]) == 0
    assert (tmp_path / "ok.csv").read_text(encoding="utf-8") == f"lucid_id\n{GOOD}\n"
    assert main(["validate", str(clean), "-c", "lucid_id", "--fix"]) == 2  # where to?


# -- messages a person reads --------------------------------------------------------------------------------------


def test_the_guard_says_one_line_then_the_first_cells_with_validates_counts(client):
    ids = [GOOD, " " + GOOD2, None, "x0", GOOD, f"https://qr.lcdg.io/{GOOD}"]
    with pytest.raises(lf.LucidIDValidationError) as caught:
        client.lookup("items", ids)
    lines = str(caught.value).splitlines()
    report = lf.validate_lucid_ids(ids, unique=False)
    assert lines[0] == (
        f"Nothing was sent: {report.n_failed_cells} of 6 LucidIDs failed the local check "
        "(missing 1, url_wrapped 1, whitespace 1, wrong_length 1)."
    )
    assert lines[1].startswith("  id 2: '·oGzzNWTkzAPNrTBzZzkb': whitespace: ")
    assert lines[2].startswith("  id 3: None: missing")  # None is missing, not the text 'None'
    assert "column 'value'" not in str(caught.value) and len(lines) == 5


def test_lookup_of_a_sheet_counts_as_validate_and_names_its_lines(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    assert main(["lookup", "items", str(SHEET), "-c", "lucid_id", "-o", "-"]) == 1
    err = capsys.readouterr().err
    assert "12 of 40 ids in lucid_id failed the local check (bad_character 5, url_wrapped 2, whitespace 2, " in err
    assert "1 empty cell(s) skipped" in err and "line 4: 'https://qr.lcdg.io/" in err
    assert "--normalize extracts the id" in err and "--fix -o FIXED" in err
    assert not [e for e in sandbox.log if e.path.startswith("/api/")]
    validate = lf.validate_lucid_ids(lf.read_table(SHEET), "lucid_id").summary.set_index("reason")["count"]
    assert (validate["bad_character"], validate["url_wrapped"], validate["whitespace"]) == (5, 2, 2)


def test_uuid_repeats_are_errors_only_where_the_column_is_unique():
    sheet = pd.DataFrame({"uuid": [UUID, UUID], "brand_uuid": [UUID, UUID]})
    assert lf.validate_lucid_ids(sheet, "brand_uuid", kind="uuid").ok  # a reference: many rows, one brand
    assert lf.validate_lucid_ids(sheet, "uuid", kind="uuid").failures["reason"].tolist() == ["duplicate"]
    assert lf.validate_lucid_ids(sheet, "brand_uuid", kind="uuid", unique=True).failures["reason"].tolist() == [
        "duplicate"
    ]
    assert lf.validate_lucid_ids([GOOD, GOOD]).failures["reason"].tolist() == ["duplicate"]  # LucidIDs: always


def test_the_cli_kind_uuid_reports_no_repeats_of_a_reference(tmp_path):
    path = tmp_path / "batches.csv"
    path.write_text(f"brand_uuid\n{UUID}\n{UUID}\n", encoding="utf-8")
    assert main(["validate", str(path), "-c", "brand_uuid", "--kind", "uuid"]) == 0
    assert main(["validate", str(path), "-c", "brand_uuid", "--kind", "uuid", "--unique"]) == 1


def test_report_bars_are_scaled_to_the_cells_checked():
    report = lf.validate_lucid_ids([GOOD] * 98 + ["x", "y"])
    page = report._repr_html_()
    assert 'style="width:2.0%"' in page and "2 of 100" in page  # not a full bar for the largest reason


def test_the_explorer_words_hints_for_the_widget(client):
    from lucidframes.widgets import Explorer

    explorer = Explorer(client)
    try:
        explorer.view.show(pd.DataFrame({"lucid_id": [f" {GOOD}", UUID, GOOD2]}), key=explorer.view._selection())
        explorer.view.validate_column.value = "lucid_id"
        explorer.view.validate_kind.value = "lucid_id"
        explorer.view._on_validate()
        page = explorer.view.report.value
        assert "lf.normalize_lucid_ids (in a notebook cell)" in page and "normalize=True" not in page
        assert "set LUCID_ID_LENGTH=22 before starting the Explorer" in page and "length=22" not in page
    finally:
        explorer.close()
