"""Issue 9, defect 6: a 2xx that is not JSON, or not a page, is retried like a 5xx, then DecodeError."""

from __future__ import annotations

import pytest

import lucidframes as lf

PRODUCTS = "/api/v1.5/products/"


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "not_json"},
        {"status": 200, "body": {"results": "nope"}},
        {"status": 200, "body": {"count": 3, "next": None, "results": {"a": 1}}},
        {"status": 200, "body": ["not", "a", "page"]},
    ],
    ids=["html", "results-not-a-list", "results-an-object", "an-array"],
)
def test_a_bad_200_is_retried_then_decode_error(client, sandbox, recorder, fault):
    sandbox.fault(PRODUCTS, times=None, **fault)
    with pytest.raises(lf.DecodeError):
        client.load("products")
    assert recorder.waits == [1, 2, 4, 8, 16]
    assert len([e for e in sandbox.log if e.path == PRODUCTS]) == 6


@pytest.mark.parametrize("fault", [{"kind": "not_json"}, {"status": 200, "body": {"results": "nope"}}])
def test_a_bad_200_that_passes_is_survived(client, sandbox, recorder, fault):
    sandbox.fault(PRODUCTS, times=2, **fault)
    df = client.load("products")
    assert df["uuid"].tolist() == [r["uuid"] for r in sandbox.list_rows("products")]
    assert recorder.waits == [1, 2]


def test_get_json_retries_a_body_that_is_not_json(client, sandbox, recorder):
    sandbox.fault("/api/v1.5/products/", kind="not_json", times=1)
    assert isinstance(client.get_json("products/"), dict)
    assert recorder.waits == [1]
