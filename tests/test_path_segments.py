"""Issue 19, defect 1: every path parameter and id is exactly one percent-encoded path segment, or refused before
anything is sent. Checked where it matters, on the server side: the sandbox's request log, or a recording server.
"""

from __future__ import annotations

import math
from urllib.parse import unquote

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from servers import TOKEN, Reply, Seen, scripted

import lucidframes as lf

DISPENSARY = "3kTMd7ZxQ9pWvR5yHn2Jcs"  # a well-formed shortuuid
CASE_BODY = {"case_uuid": "x", "lucid_ids": ["23456789ABCDEFGHJKLM"]}


def api_log(sb) -> list:
    return [e for e in sb.log if e.path.startswith("/api/")]


@pytest.mark.parametrize(
    "value",
    ["../../transactions/complete/#", "a/b", "x?y=1", "../x", "", ".", "..", None, float("nan"), 7, "no-uuid"],
)
def test_a_dispensary_that_is_not_a_uuid_is_refused_before_sending(sandbox, client, value):
    with pytest.raises(lf.ConfigError, match="dispensary_uuid"):
        client.submit("add_items", CASE_BODY, dispensary_uuid=value)
    assert api_log(sandbox) == []  # nothing left for the transactions endpoint, or any other


@pytest.mark.parametrize("value", ["..", ".", "", None, float("nan"), pd.NA, 5])
def test_look_up_ids_that_cannot_be_one_segment_are_refused(sandbox, client, value):
    with pytest.raises(lf.ConfigError, match=r"ids\[1\]"):
        client.lookup("products", ["3kTMd7ZxQ9pWvR5yHn2Jcs", value])
    assert api_log(sandbox) == []  # not products/nan/, not the list endpoint


def test_a_series_with_missing_ids_sends_nothing(sandbox, client):
    ids = pd.Series(["3kTMd7ZxQ9pWvR5yHn2Jcs", None, math.nan], dtype=object)
    with pytest.raises(lf.ConfigError, match=r"ids\[1\] must be text, not NoneType"):
        client.lookup("collections", ids)
    assert api_log(sandbox) == []


@pytest.mark.parametrize("value", ["..", ".", "", None, "x/../y"])
def test_a_delete_id_that_is_not_a_uuid_is_refused(sandbox, client, value):
    with pytest.raises(lf.ConfigError):
        client.delete("text_asset_delete", value)
    assert api_log(sandbox) == []  # never DELETE /api/v1.5/assets/delete/


def test_a_free_text_id_is_one_encoded_segment(sandbox, client):
    found = client.lookup("collections", ["a/b?c#d%2F.."])
    assert found["_status"].tolist() == ["not_found"]
    (entry,) = api_log(sandbox)
    assert entry.path == "/api/v1.5/collections/a%2Fb%3Fc%23d%252F../" and entry.query == ""


# -- the property: any text lands in exactly one segment of the registry's path, or is refused before sending ------


def _answer(seen: Seen) -> Reply:
    if seen.path == "/o/token/":
        return Reply(200, TOKEN)
    if seen.method == "DELETE":
        return Reply(204)
    if seen.method == "POST":
        return Reply(200, {"inventory_collection_identifier": "INV-1"})
    return Reply(200, {"uuid": "3kTMd7ZxQ9pWvR5yHn2Jcs", "identifier": "x"})


@pytest.fixture(scope="module")
def recording():
    with scripted(_answer) as server:
        client = lf.Client(server.url, "cid", "csecret-segments", sleep=lambda s: None, rate_limits=None,
                           progress=False, retry=lf.RetryPolicy(max_retries=0))  # fmt: skip
        yield server, client
        client.close()


SURFACES = {
    # how the text is given -> (the call, the registry's path around the one segment)
    "lookup id": (lambda c, t: c.lookup("collections", [t], progress=False), "/api/v1.5/collections/{}/"),
    "path parameter": (
        lambda c, t: c.submit("add_items", CASE_BODY, dispensary_uuid=t),
        "/api/v1.2/collections/inventory-pos/{}/add-items/",
    ),
    "delete id": (lambda c, t: c.delete("text_asset_delete", t), "/api/v1.5/assets/text/{}/delete/"),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(), surface=st.sampled_from(sorted(SURFACES)))
@example(text="../../transactions/complete/#", surface="path parameter")
@example(text="%2E%2E", surface="lookup id")
@example(text="a" * 3000, surface="lookup id")
@example(text="\ud800", surface="lookup id")
@example(text="3kTMd7ZxQ9pWvR5yHn2Jcs", surface="path parameter")
@example(text="3kTMd7ZxQ9pWvR5yHn2Jcs", surface="delete id")
def test_any_text_is_one_segment_or_refused_before_sending(recording, text, surface):
    server, client = recording
    call, template = SURFACES[surface]
    before = len(server.requests)
    try:
        call(client, text)
    except lf.ConfigError:
        assert [r for r in server.requests[before:] if r.path.startswith("/api/")] == []
        return
    (seen,) = [r for r in server.requests[before:] if r.path.startswith("/api/")]
    head, tail = template.split("{}")
    assert seen.path.startswith(head) and seen.path.endswith(tail) and seen.query == ""
    segment = seen.path[len(head) : len(seen.path) - len(tail)]
    assert "/" not in segment and unquote(segment, errors="strict") == text
