"""``lucidframes validate``: exit codes, the stderr summary, and the report files (in-process and as a command)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lucidframes.cli.validate import add_validate_arguments, run_validate

DATA = Path(__file__).resolve().parent.parent / "data"
SHEET = DATA / "submission_sheet.csv"
GOOD = "23456789ABCDEFGHJKLM"
UUID = "EHzzEQny77sJrcw9ENJq2t"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="lucidframes validate")
    add_validate_arguments(parser)
    return run_validate(parser.parse_args([str(a) for a in argv]))


def sheet(tmp_path: Path, text: str, name: str = "ids.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(sheet(tmp_path, f"lucid_id\n{GOOD}\n"), "--column", "lucid_id") == 0
    captured = capsys.readouterr()
    assert "every lucid_id passed" in captured.err and captured.out == ""


def test_failing_cells_exit_1_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(SHEET, "-c", "lucid_id") == 1
    err = capsys.readouterr().err
    assert "14 failing cell(s) in 14 of 40 rows" in err
    assert "lucid_id: bad_character 5" in err
    assert "⟨U+200B⟩" in err  # invisible characters are shown


def test_report_files(tmp_path: Path) -> None:
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    assert run(SHEET, "-c", "lucid_id", "--report", out_csv) == 1
    assert run(SHEET, "-c", "lucid_id", "--report", out_json) == 1
    with out_csv.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 14 and list(rows[0]) == ["row", "line", "column", "value", "reason", "detail", "hint"]
    assert all(int(r["line"]) == int(r["row"]) + 2 for r in rows)  # the header is line 1 in a spreadsheet
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["failed_cells"] == 14 and not data["ok"]
    assert [r["reason"] for r in data["failures"]] == [r["reason"] for r in rows]


def test_report_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(SHEET, "-c", "product_uuid", "--kind", "uuid", "--allow-duplicates", "--report", "-") == 1
    out = capsys.readouterr().out
    assert out.startswith("row,line,column,value,reason,detail,hint")
    assert "not_decodable" in out


def test_normalize_and_length(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sheet(tmp_path, f"lucid_id\n https://qr.lcdg.io/{GOOD}\n{UUID}\n")
    assert run(path, "-c", "lucid_id") == 1
    assert run(path, "-c", "lucid_id", "--normalize", "--length", "20") == 1
    capsys.readouterr()
    path = sheet(tmp_path, f"item\n{UUID}\n{'2' * 22}\n")
    assert run(path, "-c", "item") == 1
    err = capsys.readouterr().err
    assert "pass --length 22" in err and "length=22" not in err  # worded for the command line: flags
    assert run(path, "-c", "item", "--length", "22") == 0
    assert run(path, "-c", "item", "--kind", "uuid") == 0


def test_several_columns_and_duplicates(tmp_path: Path) -> None:
    path = sheet(tmp_path, f"a,b\n{GOOD},{UUID[:20]}\n{UUID[2:]},{GOOD}\n")
    assert run(path, "-c", "a", "-c", "b") == 1
    assert run(path, "-c", "a", "-c", "b", "--allow-duplicates") == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.csv", "-c", "lucid_id"], "no such file"),
        ([SHEET, "-c", "nope"], "no column 'nope'; the frame has 'order_id'"),
        ([SHEET, "-c", "lucid_id", "--report", "out.txt"], "--report writes .csv, .json or .html"),
        ([SHEET, "-c", "lucid_id", "--output", "fixed.csv"], "add --normalize"),
    ],
)
def test_usage_errors_exit_2(argv: list[object], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*map(str, argv)) == 2
    assert message in capsys.readouterr().err


def test_bad_environment_length_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LUCID_ID_LENGTH", "0")
    assert run(SHEET, "-c", "lucid_id") == 2
    assert "LUCID_ID_LENGTH" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [[str(SHEET)], [str(SHEET), "-c", "x", "--kind", "item"], [str(SHEET), "-c", "x", "--length", "0"]]
)
def test_argparse_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run(*argv)
    assert caught.value.code == 2


def test_the_command(tmp_path: Path) -> None:
    """The installed command, through the lead's cli.main: the same exit codes."""
    clean = sheet(tmp_path, f"lucid_id\n{GOOD}\n")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for argv, code in [
        ([clean, "-c", "lucid_id"], 0),
        ([SHEET, "-c", "lucid_id"], 1),
        ([tmp_path / "no.csv", "-c", "x"], 2),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "lucidframes", "validate", *map(str, argv)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == code, done.stderr
        assert done.stdout == ""


def test_hints_name_flags_not_python_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sheet(tmp_path, f"lucid_id\n {GOOD}\n{GOOD}\n")
    out = tmp_path / "out.csv"
    assert run(path, "-c", "lucid_id", "--report", out) == 1
    err = capsys.readouterr().err
    assert "--normalize removes them" in err and "normalize=True" not in err
    assert "--allow-duplicates" in out.read_text(encoding="utf-8") or "duplicate" not in out.read_text(encoding="utf-8")
    assert "line 2 (row 0)" in err


def test_normalize_output_writes_the_fixed_sheet(tmp_path: Path) -> None:
    path = sheet(tmp_path, f"lucid_id,n\n https://qr.lcdg.io/{GOOD}\n\u200b{UUID[:20]},2\nbad,3\n")
    fixed = tmp_path / "fixed.csv"
    assert run(path, "-c", "lucid_id", "--normalize", "--output", fixed) == 1  # "bad" still fails
    with fixed.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["lucid_id"] for r in rows] == [GOOD, UUID[:20], "bad"] and [r["n"] for r in rows] == ["", "2", "3"]


def test_html_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert run(SHEET, "-c", "lucid_id", "--report", out) == 1
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "FAIL" in page and "<script" not in page
    assert "--normalize" in page  # the CLI's wording reaches the HTML too


@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb"])
def test_engines_give_the_same_failures(engine: str, tmp_path: Path) -> None:
    pytest.importorskip(engine)
    out = tmp_path / f"{engine}.csv"
    assert run(SHEET, "-c", "lucid_id", "--engine", engine, "--report", out) == 1
    reference = tmp_path / "ref.csv"
    run(SHEET, "-c", "lucid_id", "--engine", "pandas", "--report", reference)
    assert out.read_text(encoding="utf-8") == reference.read_text(encoding="utf-8")
