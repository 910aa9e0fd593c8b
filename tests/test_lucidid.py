"""LucidID validation: every reason code, hints, normalisation, the report, the accessor, the guard, properties."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lucidframes.errors import ConfigError, LucidError, LucidIDValidationError
from lucidframes.io.read import read_table
from lucidframes.lucidid import (
    ALPHABET,
    REASONS,
    UUID_MAX,
    ValidationReport,
    check_ids_before_send,
    format_mask,
    normalize_lucid_ids,
    validate_lucid_ids,
)
from lucidframes.lucidid.cells import normalize_value

DATA = Path(__file__).resolve().parent.parent / "data"
GOOD = "23456789ABCDEFGHJKLM"
GOOD2 = "abcdefghijkmnopqrstu"
GOOD3 = "NPQRSTUVWXYZvwxyz234"
UUID = "EHzzEQny77sJrcw9ENJq2t"


def only_failure(values: object, **options: object) -> pd.Series:
    """The single failure row of a report over ``values`` (asserting there is exactly one)."""
    report = validate_lucid_ids(values, **options)  # type: ignore[arg-type]
    assert len(report.failures) == 1, report.failures
    return report.failures.iloc[0]


# ---------------------------------------------------------------------------------------------------- reason codes


@pytest.mark.parametrize("cell", [None, float("nan"), np.nan, pd.NA, pd.NaT, "", "   ", "\u200b"])
def test_missing(cell: object) -> None:
    assert only_failure([GOOD, cell]).reason == "missing"


@pytest.mark.parametrize("cell", [123, 1.5, b"23456789ABCDEFGHJKLM", [GOOD], {"id": GOOD}, True, (1, 2)])
def test_not_a_string(cell: object) -> None:
    failure = only_failure([GOOD, cell])
    assert failure.reason == "not_a_string"
    assert failure.value is cell or failure.value == cell


def test_not_a_string_hints_say_what_to_do() -> None:
    assert "dtype=str" in only_failure([23456789234567892345]).hint
    assert "decode" in only_failure([b"abc"]).hint


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        (f" {GOOD}", "leading '·' (SPACE)"),
        (f"{GOOD}  ", "trailing '·' (SPACE)"),
        (f"\t{GOOD}", "leading '⟨U+0009⟩'"),
        (f"{GOOD}\u00a0", "trailing '⟨U+00A0⟩' (NO-BREAK SPACE)"),
        (f"{GOOD}\u200b", "trailing '⟨U+200B⟩' (ZERO WIDTH SPACE)"),
        (f"{GOOD[:5]}\u200b{GOOD[5:]}", "'⟨U+200B⟩' (ZERO WIDTH SPACE) at index 5"),
        (f"\ufeff{GOOD}", "leading '⟨U+FEFF⟩'"),
    ],
)
def test_whitespace(cell: str, shown: str) -> None:
    failure = only_failure([cell])
    assert failure.reason == "whitespace"
    assert shown in failure.detail
    assert "normalize=True" in failure.hint


def test_whitespace_around_a_bad_id_says_what_remains() -> None:
    failure = only_failure([f" {GOOD[:-1]} "])
    assert failure.reason == "whitespace"
    assert "still wrong_length: 19 characters" in failure.detail


@pytest.mark.parametrize(
    "cell",
    [
        f"https://qr.lcdg.io/{GOOD}",
        f"http://qr.lcdg.io/{GOOD}/",
        f"qr.lcdg.io/{GOOD}",
        f"https://dev-qr.lcdg.io/{GOOD}?utm_source=label",
        f"  HTTPS://QR.LCDG.IO/{GOOD}\u200b",
    ],
)
def test_url_wrapped(cell: str) -> None:
    failure = only_failure([cell])
    assert failure.reason == "url_wrapped"
    assert repr(GOOD) in failure.detail


@pytest.mark.parametrize("prefix", ["case", "c", "collection"])
def test_case_id_url_in_a_lucid_id_column(prefix: str) -> None:
    failure = only_failure([f"https://qr.lcdg.io/{prefix}/{UUID}"])
    assert failure.reason == "case_id"
    assert UUID in failure.detail


def test_case_url_in_a_uuid_column_is_only_wrapped() -> None:
    assert only_failure([f"https://qr.lcdg.io/case/{UUID}"], kind="uuid").reason == "url_wrapped"


@pytest.mark.parametrize("cell", [GOOD[:-1], GOOD + "a", "abc", "23456789ABCDEFGHJKLM23456789"])
def test_wrong_length_names_the_length(cell: str) -> None:
    failure = only_failure([cell])
    assert failure.reason == "wrong_length"
    assert f"{len(cell)} characters, expected 20" in failure.detail


def test_foreign_url_is_named_in_the_hint() -> None:
    failure = only_failure([f"https://example.com/{GOOD}"])
    assert failure.reason == "wrong_length"
    assert "example.com" in failure.hint


@pytest.mark.parametrize(
    ("cell", "position", "candidates"),
    [
        (GOOD[:7] + "0" + GOOD[8:], 7, "'0' is probably 'o'"),
        ("O" + GOOD[1:], 0, "'O' is probably 'o'"),
        (GOOD[:19] + "1", 19, "'1' is probably 'i' or 'L'"),
        (GOOD[:3] + "l" + GOOD[4:], 3, "'l' is probably 'i' or 'L'"),
        (GOOD[:3] + "I" + GOOD[4:], 3, "'I' is probably 'i' or 'L'"),
        (GOOD[:3] + "Ａ" + GOOD[4:], 3, "'Ａ' is probably 'A'"),  # full-width A
        (GOOD[:3] + "С" + GOOD[4:], 3, "'С' is probably 'C'"),  # Cyrillic Es
        (GOOD[:3] + "-" + GOOD[4:], 3, "'-' does not belong in an id"),
    ],
)
def test_bad_character_names_position_and_candidates(cell: str, position: int, candidates: str) -> None:
    failure = only_failure([cell])
    assert failure.reason == "bad_character"
    assert f"at index {position}" in failure.detail
    assert candidates in failure.hint


def test_bad_characters_are_all_listed() -> None:
    failure = only_failure(["0" + GOOD[1:10] + "O" + GOOD[11:]])
    assert "2 character(s)" in failure.detail
    assert "at index 0" in failure.detail and "at index 10" in failure.detail


def test_not_decodable() -> None:
    report = validate_lucid_ids([UUID_MAX, "oZEq7ovRbLq6UnGMPwc8B6", "zZEq7ovRbLq6UnGMPwc8B5"], kind="uuid")
    assert report.failures["row"].tolist() == [1, 2]
    assert set(report.failures["reason"]) == {"not_decodable"}
    assert UUID_MAX in report.failures["detail"].iloc[0]


def test_duplicate_within_a_column_names_the_first_occurrence() -> None:
    frame = pd.DataFrame({"lucid_id": [GOOD, GOOD2, GOOD, GOOD]}, index=["a", "b", "c", "d"])
    report = validate_lucid_ids(frame, "lucid_id")
    assert report.failures["row"].tolist() == ["c", "d"]
    assert set(report.failures["reason"]) == {"duplicate"}
    assert "same id as row 'a'" in report.failures["detail"].iloc[0]
    assert report.valid_mask.tolist() == [True, True, False, False]
    assert validate_lucid_ids(frame, "lucid_id", unique=False).ok


def test_duplicate_across_columns() -> None:
    frame = pd.DataFrame({"first": [GOOD, GOOD2], "second": [GOOD3, GOOD]})
    failure = only_failure(frame, columns=["first", "second"])
    assert (failure.row, failure.column, failure.reason) == (1, "second", "duplicate")
    assert "row 0, column 'first'" in failure.detail


def test_unknown_with_known_ids_and_closest_hints() -> None:
    known = [GOOD, GOOD2]
    report = validate_lucid_ids([GOOD, GOOD[:-1] + "N", GOOD[:5] + "0" + GOOD[6:]], known_ids=known)
    reasons = dict(zip(report.failures["row"], report.failures["reason"], strict=True))
    assert reasons == {1: "unknown", 2: "bad_character"}
    assert f"closest known id: {GOOD!r} (1 differing: index 19)" in report.failures["hint"].iloc[0]
    assert f"{GOOD!r} (1 differing: index 5)" in report.failures["hint"].iloc[1]
    lowered = only_failure(["23456789abcdefghjkLM"], known_ids=known)  # well-formed: only known_ids can tell
    assert lowered.reason == "unknown"
    assert "differs only in letter case" in lowered.hint


def test_every_reason_code_is_covered_above() -> None:
    assert set(REASONS) == {
        "missing", "not_a_string", "whitespace", "url_wrapped", "case_id", "wrong_length", "bad_character",
        "not_decodable", "unknown", "duplicate",
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------- length


def test_length_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not validate_lucid_ids([UUID]).ok
    assert validate_lucid_ids([UUID], length=22).ok
    monkeypatch.setenv("LUCID_ID_LENGTH", "22")
    assert validate_lucid_ids([UUID]).ok
    assert not validate_lucid_ids([UUID], length=20).ok
    monkeypatch.setenv("LUCID_ID_LENGTH", "twenty")
    with pytest.raises(ConfigError, match="LUCID_ID_LENGTH"):
        validate_lucid_ids([GOOD])


def test_consistent_other_length_is_noted() -> None:
    report = validate_lucid_ids(pd.DataFrame({"item": [UUID, "2" * 22, None, f" {UUID} "]}), "item")
    assert set(report.failures["reason"]) == {"wrong_length", "missing", "whitespace"}
    assert len(report.notes) == 1
    assert "length=22" in report.notes[0] and "'item'" in report.notes[0]
    assert "length=22" in report.message()
    # One value of the right length is enough to say the column is not simply of another length.
    assert not validate_lucid_ids([UUID, "2" * 22, GOOD]).notes


@pytest.mark.parametrize("bad", [0, -1, "20", 2.5, True])
def test_bad_arguments_are_usage_errors(bad: object) -> None:
    with pytest.raises(ValueError, match="length"):
        validate_lucid_ids([GOOD], length=bad)  # type: ignore[arg-type]


def test_usage_errors() -> None:
    frame = pd.DataFrame({"a": [GOOD], "b": [GOOD2]})
    with pytest.raises(ConfigError, match="columns="):
        validate_lucid_ids(frame)
    with pytest.raises(ConfigError, match="no column 'c'"):
        validate_lucid_ids(frame, ["c"])
    with pytest.raises(ValueError, match="kind"):
        validate_lucid_ids([GOOD], kind="item")
    with pytest.raises(TypeError, match="single string"):
        validate_lucid_ids(GOOD)
    with pytest.raises(TypeError):
        validate_lucid_ids(42)


# ---------------------------------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "make",
    [
        list,
        tuple,
        lambda v: iter(v),
        np.array,
        pd.Index,
        lambda v: pd.Series(v, dtype="str"),
        lambda v: pd.Series(v, dtype="string"),
        lambda v: pd.Series(v, dtype="string[python]"),
        lambda v: pd.Series(v, dtype=object),
        lambda v: pd.Series(v, dtype="category"),
        lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.string())),
    ],
)
def test_input_forms(make: object) -> None:
    report = validate_lucid_ids(make([GOOD, "bad", GOOD2]))  # type: ignore[operator]
    assert report.failures["row"].tolist() == [1]
    assert report.valid_mask.tolist() == [True, False, True]


def test_non_string_columns() -> None:
    report = validate_lucid_ids(pd.DataFrame({"n": [1, 2, None]}), "n")
    assert report.failures["reason"].tolist() == ["not_a_string", "not_a_string", "missing"]


def test_rows_are_index_labels_and_mask_is_aligned() -> None:
    frame = pd.DataFrame({"id": [GOOD, "x", GOOD2, None]}, index=pd.Index([10, 10, 30, 40], name="line"))
    report = validate_lucid_ids(frame, "id")
    assert report.failures["row"].tolist() == [10, 40]
    assert report.valid_mask.index.equals(frame.index)
    assert report.valid_mask.tolist() == [True, False, True, False]
    assert frame.lucid.valid("id")["id"].tolist() == [GOOD, GOOD2]


def test_surrogates_and_huge_strings() -> None:
    report = validate_lucid_ids(["a\ud800b", "x" * 2**20, GOOD])
    assert report.failures["reason"].tolist() == ["wrong_length", "wrong_length"]
    assert "1048576 characters" in report.failures["detail"].iloc[1]
    assert len(report.failures["detail"].iloc[1]) < 500  # details do not repeat a huge value
    wrapped = validate_lucid_ids([f" {'x' * 2**20} ", "https://qr.lcdg.io/" + "y" * 2**20], normalize=True)
    assert wrapped.failures["detail"].str.len().max() < 500
    json.loads(report.to_json())
    assert validate_lucid_ids([" a\ud800 "], normalize=True).changes["after"].tolist() == ["a\ud800"]


# ---------------------------------------------------------------------------------------------------- the report


def test_report_api() -> None:
    frame = pd.DataFrame({"id": [GOOD, " " + GOOD2, None, GOOD + "\u200b", "<script>"]})
    report = validate_lucid_ids(frame, "id")
    assert isinstance(report, ValidationReport) and not report.ok
    assert list(report.failures.columns) == ["row", "column", "value", "reason", "detail", "hint"]
    assert report.summary.to_dict("records") == [
        {"column": "id", "reason": "missing", "count": 1},
        {"column": "id", "reason": "whitespace", "count": 2},
        {"column": "id", "reason": "wrong_length", "count": 1},
    ]
    assert report.to_frame().equals(report.failures) and report.to_frame() is not report.failures
    data = json.loads(report.to_json())
    assert data["failed_cells"] == 4 and data["rows"] == 5 and data["failures"][1]["value"] is None
    assert data["failures"][2]["value"] == GOOD + "\u200b"
    page = report._repr_html_()
    assert 'title="ZERO WIDTH SPACE">⟨U+200B⟩</mark>' in page and 'title="SPACE">·</mark>' + GOOD2 in page
    assert "<script>" not in page and '&lt;</mark>script<mark title="GREATER-THAN SIGN">&gt;</mark>' in page
    assert "4 failing cell(s)" in repr(report)
    assert validate_lucid_ids([GOOD]).ok
    assert (
        "PASS" in validate_lucid_ids([GOOD])._repr_html_()
        and "all cells pass (1 rows)" in validate_lucid_ids([GOOD])._repr_html_()
    )


def test_raise_for_errors() -> None:
    ok = validate_lucid_ids([GOOD])
    assert ok.raise_for_errors() is ok
    report = validate_lucid_ids([GOOD, "x", None] + ["y"] * 10)
    with pytest.raises(LucidIDValidationError) as caught:
        report.raise_for_errors()
    assert caught.value.report is report
    assert isinstance(caught.value, LucidError)
    message = str(caught.value)
    assert "row 1 column 'value': wrong_length ('x'" in message
    assert "and 7 more" in message


# ---------------------------------------------------------------------------------------------------- normalisation


def test_normalize_lucid_ids() -> None:
    values = [f"  {GOOD} ", f"https://qr.lcdg.io/{GOOD2}", GOOD3, None, 7, f"{GOOD}\u200b", "0" + GOOD[1:]]
    normalized, changes = normalize_lucid_ids(values)
    assert normalized.tolist() == [GOOD, GOOD2, GOOD3, None, 7, GOOD, "0" + GOOD[1:]]  # no lookalike "fixes"
    assert changes["row"].tolist() == [0, 1, 5]
    assert changes["after"].tolist() == [GOOD, GOOD2, GOOD]
    assert "stripped surrounding whitespace" in changes["action"].iloc[0]
    assert "scan URL" in changes["action"].iloc[1]
    assert "ZERO WIDTH SPACE" in changes["action"].iloc[2]


def test_normalize_a_frame_with_the_accessor() -> None:
    frame = pd.DataFrame({"id": [f" {GOOD}", GOOD2], "other": [" x ", " y "]})
    result = frame.lucid.normalize("id")
    assert result.values["id"].tolist() == [GOOD, GOOD2]
    assert result.values["other"].tolist() == [" x ", " y "]
    assert frame["id"].iloc[0] == f" {GOOD}"  # the input is not modified
    assert pd.Series([f"{GOOD} "]).lucid.normalize().values.tolist() == [GOOD]


def test_normalize_a_categorical_column() -> None:
    normalized, changes = normalize_lucid_ids(pd.Series([f" {GOOD}", GOOD2, None], dtype="category"))
    assert normalized.tolist()[:2] == [GOOD, GOOD2] and len(changes) == 1


def test_validate_with_normalize_reports_both() -> None:
    values = [f" {GOOD}", f"https://qr.lcdg.io/{GOOD2}", f"https://qr.lcdg.io/case/{UUID}", f" {GOOD[:-1]}", GOOD]
    report = validate_lucid_ids(values, normalize=True)
    assert report.failures["reason"].tolist() == ["case_id", "wrong_length", "duplicate"]
    assert report.failures["value"].tolist()[1] == f" {GOOD[:-1]}"  # the original cell ...
    assert "normalised to" in report.failures["detail"].iloc[1]  # ... and what was checked
    assert report.changes["row"].tolist() == [0, 1, 3]
    assert report.normalized is not None
    assert report.normalized.tolist()[:2] == [GOOD, GOOD2]
    assert report.normalized.tolist()[2] == values[2]  # a case URL is not turned into a "LucidID"


# ---------------------------------------------------------------------------------------------------- accessor, guard


def test_accessors() -> None:
    frame = pd.DataFrame({"id": [GOOD, "bad"], "n": [1, 2]})
    assert frame.lucid.validate("id").failures["row"].tolist() == [1]
    assert frame.lucid.valid("id")["n"].tolist() == [1]
    series = frame["id"]
    assert series.lucid.validate().failures["column"].tolist() == ["id"]
    assert series.lucid.valid().tolist() == [GOOD]
    assert frame.lucid.validate("id", unique=False, length=3).failures["row"].tolist() == [0]


def test_format_mask() -> None:
    mask = format_mask(pd.Series([GOOD, None, "x", 5], index=list("abcd")))
    assert mask.tolist() == [True, False, False, False] and list(mask.index) == list("abcd")
    assert format_mask([UUID_MAX, "zZEq7ovRbLq6UnGMPwc8B5"], kind="uuid").tolist() == [True, False]


def test_check_ids_before_send() -> None:
    ids = (i for i in [GOOD, GOOD2, GOOD])
    assert check_ids_before_send(ids) == [GOOD, GOOD2, GOOD]  # repeats are the server's business
    with pytest.raises(LucidIDValidationError, match=r"Nothing was sent: 2 of 3 LucidID") as caught:
        check_ids_before_send([GOOD, "bad", f"https://qr.lcdg.io/{GOOD}"])
    assert caught.value.report.failures["value"].tolist() == ["bad", f"https://qr.lcdg.io/{GOOD}"]
    assert check_ids_before_send([UUID], kind="uuid") == [UUID]
    assert check_ids_before_send([UUID], length=22) == [UUID]
    with pytest.raises(TypeError):
        check_ids_before_send(GOOD)


@pytest.mark.parametrize("size", [1, 5_000])
@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        (GOOD + "\n", "lucid_id"),  # a final newline: `$` would match before it
        (GOOD[:-1], "lucid_id"),
        (None, "lucid_id"),
        (float("nan"), "lucid_id"),
        (12, "lucid_id"),
        (b"23456789ABCDEFGHJKLM", "lucid_id"),
        ("zZEq7ovRbLq6UnGMPwc8B5", "uuid"),  # right length and alphabet, above UUID_MAX
        (f" {GOOD}", "lucid_id"),
        ("\ud800" + GOOD[1:], "lucid_id"),
    ],
)
def test_the_send_guard_refuses_what_the_report_fails(bad: Any, kind: str, size: int) -> None:
    good = GOOD if kind == "lucid_id" else UUID
    assert check_ids_before_send([good] * size, kind=kind) == [good] * size
    with pytest.raises(LucidIDValidationError, match="Nothing was sent: 1 of") as caught:
        check_ids_before_send([good] * size + [bad], kind=kind)
    assert caught.value.report.failures["row"].tolist() == [size]


# ---------------------------------------------------------------------------------------------------- the sample sheet


def test_sample_sheet_reports_exactly_its_planted_mistakes() -> None:
    sheet = read_table(DATA / "submission_sheet.csv")
    with (DATA / "submission_sheet_expected.csv").open(encoding="utf-8") as f:
        expected = {(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(f)}
    ids = validate_lucid_ids(sheet, "lucid_id")
    products = validate_lucid_ids(sheet, "product_uuid", kind="uuid", unique=False)
    found = {
        (int(row), column, reason)
        for report in (ids, products)
        for row, column, reason in report.failures[["row", "column", "reason"]].itertuples(index=False)
    }
    assert found == expected
    assert len(expected) >= 15 and {r for _, _, r in expected} >= set(REASONS) - {"unknown", "not_a_string"}


def test_sample_sheet_ids_are_real_sandbox_ids() -> None:
    data = pytest.importorskip("lucidframes.sandbox.data")
    items = data.generate(seed=0)["items"]
    sheet = read_table(DATA / "submission_sheet.csv")
    with_known = validate_lucid_ids(sheet, "lucid_id", known_ids=[i["uuid"] for i in items])
    assert "unknown" not in set(with_known.failures["reason"])
    assert len(with_known.failures) == len(validate_lucid_ids(sheet, "lucid_id").failures)


def test_sample_sheet_matches_its_generator() -> None:
    pytest.importorskip("lucidframes.sandbox.data")
    spec = importlib.util.spec_from_file_location("make_submission_sheet", DATA / "make_submission_sheet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows, expected = module.build()
    assert (DATA / "submission_sheet.csv").read_bytes() == module._csv(rows).encode("utf-8-sig")
    assert (DATA / "submission_sheet_expected.csv").read_text(encoding="utf-8") == module._csv(expected).replace(
        "\r\n", "\n"
    )


# ---------------------------------------------------------------------------------------------------- properties

_not_in_alphabet = st.characters(
    exclude_categories=("Cs",),  # lone surrogates are tested by hand above
    exclude_characters=ALPHABET,
).filter(lambda ch: not ch.isspace() and normalize_value(f"a{ch}a")[0] == f"a{ch}a")
_valid_ids = st.text(alphabet=ALPHABET, min_size=20, max_size=20)
_cells = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet=ALPHABET, min_size=18, max_size=23),
    st.binary(max_size=30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just("x" * 2**16),  # far beyond every length the code shows or checks; the 1 MiB cell is an @example below
    st.just(pd.NA),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_valid_ids, min_size=1, max_size=30, unique=True))
def test_property_valid_ids_pass(ids: list[str]) -> None:
    report = validate_lucid_ids(ids)
    assert report.ok and report.valid_mask.all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**128 - 1), min_size=1, max_size=20))
def test_property_every_128_bit_uuid_passes(numbers: list[int]) -> None:
    def encode(number: int) -> str:
        digits = []
        for _ in range(22):
            number, digit = divmod(number, 57)
            digits.append(ALPHABET[digit])
        return "".join(reversed(digits))

    assert validate_lucid_ids([encode(n) for n in numbers], kind="uuid", unique=False).ok


@settings(max_examples=100, deadline=None)
@given(_valid_ids, st.integers(min_value=0, max_value=19), _not_in_alphabet)
def test_property_one_foreign_character_is_reported_at_its_position(valid: str, position: int, ch: str) -> None:
    spoiled = valid[:position] + ch + valid[position + 1 :]
    failure = only_failure([spoiled])
    assert failure.reason == "bad_character"
    assert f"at index {position}" in failure.detail


@pytest.mark.parametrize("normalize", [False, True])  # two tests, so that two workers can share the examples
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_cells, max_size=12))
@example(cells=[None, "x" * 2**20, GOOD, 3])  # a 1 MiB cell in every run (it costs seconds with normalize=True)
def test_property_arbitrary_input_never_raises(normalize: bool, cells: list[object]) -> None:
    report = validate_lucid_ids(cells, normalize=normalize)
    assert len(report.failures) == int((~report.valid_mask).sum())  # one row per bad cell of the column
    assert set(report.failures["reason"]) <= set(REASONS)
    assert report.failures["row"].is_unique
    json.loads(report.to_json())
    report._repr_html_()
    repr(report)
    normalize_lucid_ids(cells)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([GOOD, GOOD2, GOOD3, "x", None]), max_size=40), st.sampled_from(["str", object]))
def test_property_duplicates_match_pandas(cells: list[object], dtype: object) -> None:
    series = pd.Series(cells, dtype=dtype)  # type: ignore[call-overload]
    report = validate_lucid_ids(series)
    flagged = set(report.failures.loc[report.failures["reason"] == "duplicate", "row"])
    ok = series.isin([GOOD, GOOD2, GOOD3])
    assert flagged == set(series.index[ok & series.duplicated(keep="first")])


def test_duplicates_first_occurrence_is_by_row_then_column() -> None:
    frame = pd.DataFrame({"a": [GOOD2, GOOD, GOOD3], "b": [GOOD, GOOD2, GOOD]})
    report = validate_lucid_ids(frame, ["b", "a"])  # the order of columns= decides within a row
    got = report.failures[["row", "column", "reason"]].values.tolist()
    assert got == [[1, "b", "duplicate"], [1, "a", "duplicate"], [2, "b", "duplicate"]]
    assert "same id as row 0, column 'a'" in report.failures["detail"].iloc[0]
    assert "same id as row 0, column 'b'" in report.failures["detail"].iloc[1]
