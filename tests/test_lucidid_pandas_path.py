"""The pandas fast path (native full match, hashed duplicates) gives the report of the generic narwhals plan.

The reference is the same data as an Arrow table, which runs the narwhals plan over every row
(``lucidframes.lucidid.engine.run``); pandas inputs take ``lucidframes.lucidid.engine.pandas_path``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lucidframes as lf
from lucidframes.lucidid import ALPHABET
from lucidframes.lucidid.engine import pandas_path as pandas_tier

G1 = "23456789ABCDEFGHJKLM"
G2 = "abcdefghijkmnopqrstu"


def comparable(report: lf.ValidationReport) -> pd.DataFrame:
    """The failures with plain Python values (row labels as ints)."""
    out = report.failures.copy()
    out["row"] = [int(r) for r in out["row"]]
    return out.astype(object).reset_index(drop=True)


def assert_same(frame: pd.DataFrame, names: list[str], **options: Any) -> lf.ValidationReport:
    """Validate ``frame`` as pandas and as an Arrow table; the two reports must be identical."""
    cells = {c: [v if isinstance(v, str) else None for v in frame[c].tolist()] for c in frame}
    table = pa.table({c: pa.array(values, type=pa.string()) for c, values in cells.items()})
    expected = lf.validate_lucid_ids(table, columns=names, **options)
    report = lf.validate_lucid_ids(frame, columns=names, **options)
    assert report.summary.equals(expected.summary), (report.summary, expected.summary)
    assert comparable(report).equals(comparable(expected)), (report.failures, expected.failures)
    assert (report.ok, report.capped, report.n_rows) == (expected.ok, expected.capped, expected.n_rows)
    assert report.valid_mask is not None and expected.valid_mask is not None
    assert report.valid_mask.to_numpy().tolist() == expected.valid_mask.to_numpy().tolist()
    return report


def ids(n: int, length: int, seed: int) -> list[str]:
    """``n`` random ids of ``length`` characters, about a tenth of them repeated, a few spoiled."""
    rng = random.Random(seed)
    out = ["".join(rng.choice(ALPHABET) for _ in range(length)) for _ in range(n)]
    for i in rng.sample(range(n), n // 10):
        out[i] = out[rng.randrange(n)]
    for i in rng.sample(range(n), n // 20):
        out[i] = out[i][:-1] + "0"
    return out


@pytest.mark.parametrize("length", [1, 5, 7, 8, 9, 15, 16, 17, 20, 22, 40])
def test_duplicates_at_every_id_width(length: int) -> None:
    frame = pd.DataFrame({"a": ids(300, length, length), "b": ids(300, length, length + 1)}, dtype="str")
    report = assert_same(frame, ["a", "b"], length=length)
    assert (report.failures["reason"] == "duplicate").any()


def test_sliced_and_chunked_arrow_columns() -> None:
    values = ids(400, 20, 3)
    chunked = pa.chunked_array([pa.array(values[:150]), pa.array(values[150:])])
    series = pd.Series(pd.arrays.ArrowStringArray(chunked), name="id")  # two chunks behind one column
    assert_same(series.to_frame(), ["id"])
    sliced = pd.Series(values, dtype="str", name="id").iloc[37:].reset_index(drop=True)  # an Arrow slice: offset
    assert_same(sliced.to_frame(), ["id"])


def test_object_column_beside_a_string_column() -> None:
    # A lone surrogate cannot be UTF-8: that column stays object and Python's hash serves both columns.
    a = pd.Series([G1, G2, "\ud800" + G1[1:], G1, None, 12], dtype=object)
    b = pd.Series([G2, "x", G1, G2, G2, G1], dtype="str")
    report = lf.validate_lucid_ids(pd.DataFrame({"a": a, "b": b}), columns=["a", "b"])
    found = report.failures[["row", "column", "reason"]].values.tolist()
    assert found == [
        [1, "a", "duplicate"],
        [1, "b", "wrong_length"],
        [2, "a", "bad_character"],
        [2, "b", "duplicate"],
        [3, "a", "duplicate"],
        [3, "b", "duplicate"],
        [4, "a", "missing"],
        [4, "b", "duplicate"],
        [5, "a", "not_a_string"],
        [5, "b", "duplicate"],
    ]


def test_normalised_values_repeat_the_clean_ones() -> None:
    frame = pd.DataFrame({"id": [G1, f" {G1}", f"https://qr.lcdg.io/{G1}", G2, f"{G2}\u200b", "bad"]}, dtype="str")
    report = assert_same(frame, ["id"], normalize=True)
    assert report.failures["reason"].tolist() == ["duplicate", "duplicate", "duplicate", "wrong_length"]


def test_known_ids_and_duplicates_together() -> None:
    values = ids(500, 20, 11)
    assert_same(pd.DataFrame({"id": values}, dtype="str"), ["id"], known_ids=values[::3])
    assert_same(pd.DataFrame({"id": values}, dtype="str"), ["id"], known_ids=values[::3], max_failures=17)


def test_a_hash_decides_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every id hashed alike (a collision everywhere): the exact group-by must still find only the true repeats.
    def same(arr: pa.Array, positions: np.ndarray, width: int) -> np.ndarray:
        return np.zeros(len(positions), dtype=np.uint64)

    frame = pd.DataFrame({"id": ids(200, 20, 5)}, dtype="str")
    expected = lf.validate_lucid_ids(frame, columns="id")
    monkeypatch.setattr(pandas_tier, "_arrow_hash", same)
    report = lf.validate_lucid_ids(frame, columns="id")
    assert comparable(report).equals(comparable(expected))
    assert report.summary.equals(expected.summary)


_cells = st.one_of(
    st.none(),
    st.text(alphabet=ALPHABET[:6] + " 0\u200b", min_size=0, max_size=8),
    st.sampled_from([G1, G2, f" {G1}", G1[:8], G2[:8]]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_cells, min_size=1, max_size=20),
    st.lists(_cells, min_size=1, max_size=20),
    st.sampled_from([8, 20]),
    st.booleans(),
    st.integers(1, 30),
)
def test_property_pandas_and_arrow_agree(a: list[Any], b: list[Any], length: int, normalize: bool, cap: int) -> None:
    n = min(len(a), len(b))
    frame = pd.DataFrame({"a": a[:n], "b": b[:n]}, dtype="str")
    assert_same(frame, ["a", "b"], length=length, normalize=normalize, max_failures=cap)
