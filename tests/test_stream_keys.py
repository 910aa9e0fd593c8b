"""``iter_pages(keep_rows=False)``: the state keeps one flat list of keys a page, and every check still holds.

The rows of a page handed to the consumer are dropped from the drain's state (``DrainState.keys`` keeps their
keys, in row order): duplicates across pages, a count change, rows against the count and the page-1 re-read are
all checked from those keys; a failed drain's ``.resume`` continues from them and ``.partial`` holds the rows
fetched but never yielded; a checkpoint still keeps whole pages.
"""

from __future__ import annotations

import json
import warnings

import pytest
from helpers import PRODUCTS, pages_requested

import lucidframes as lf


def uuids(sb, name="products"):
    return [r["uuid"] for r in sb.list_rows(name)]


def drain(client, name="products", **kwargs):
    """Iterate a keep_rows=False drain; (the stream, the rows the consumer got, the pages' numbers)."""
    stream = client.iter_pages(name, keep_rows=False, **kwargs)
    rows, numbers = [], []
    for page in stream:
        rows.extend(page.rows)
        numbers.append(page.number)
    return stream, rows, numbers


def test_the_state_keeps_flat_keys_and_no_rows(sandbox, client):
    stream, rows, numbers = drain(client)
    assert [r["uuid"] for r in rows] == uuids(sandbox) and numbers == list(range(1, 14))
    state = stream.state
    assert state.pages == {} and state.records() == []  # the consumer has the rows, the drain does not
    assert sorted(state.keys) == numbers and all(isinstance(k, str) for k in state.keys[1])
    assert [k for n in numbers for k in state.keys[n]] == uuids(sandbox)
    assert state.numbers() == numbers and state.rows == 1203 and state.page_size == 100
    assert stream.info["complete"] and stream.info["rows"] == stream.info["count"] == 1203
    assert stream.info["drift"]["detected"] is False


def test_keep_rows_true_still_keeps_every_row(sandbox, client):
    stream = client.iter_pages("products")
    for _page in stream:
        pass
    assert stream.state.keys == {} and [r["uuid"] for r in stream.state.records()] == uuids(sandbox)


def test_a_row_twice_across_pages_is_detected_from_the_keys(sandbox, client):
    # page 2 of batches repeats page 1 (every time): 100 rows come twice, 200 rows for a count of 300
    page1 = client.get_json("batches/")
    sandbox.fault("/api/v1.5/batches/?page=2", status=200, times=None, body={**page1, "next": page1["next"][:-1] + "3"})
    with pytest.raises(lf.PaginationError, match="100 rows came twice"):
        drain(client, "batches", on_drift="raise")
    with pytest.warns(lf.DriftWarning, match="came twice"):
        stream, rows, _ = drain(client, "batches", on_drift="warn")
    assert len(rows) == 300 and stream.info["duplicates_dropped"] == 100 and stream.info["rows"] == 200
    assert stream.state.pages == {}


def test_a_count_change_is_detected(sandbox_client):
    sb, client = sandbox_client(workers=1)
    sb.mutate_after(3, "products", insert=5, position="start")
    with pytest.raises(lf.PaginationError, match="count changed from 1203 to 1208"):
        drain(client, on_drift="raise")


def test_a_count_change_is_refetched_and_the_new_pass_is_yielded(sandbox_client):
    sb, client = sandbox_client(workers=1)
    sb.mutate_after(3, "products", insert=5, position="start")
    stream = client.iter_pages("products", keep_rows=False)
    passes: dict[int, list[str]] = {}
    for page in stream:
        passes.setdefault(page.drain_pass, []).extend(r["uuid"] for r in page.rows)
    assert max(passes) == 2 and passes[2] == uuids(sb)
    assert stream.info["drift"] == {"detected": True, "refetches": 1, "unresolved": None}


def test_rows_that_do_not_add_up_to_the_count_are_detected(sandbox, client):
    last = client.get_json("products/", params={"page": "13"})
    sandbox.fault(PRODUCTS + "?page=13", status=200, times=None, body={**last, "results": last["results"][:1]})
    with pytest.raises(lf.PaginationError, match="1201 rows for a count of 1203"):
        drain(client, on_drift="raise")


def test_a_moved_page_1_is_detected_by_the_re_read(sandbox_factory, recorder):
    # after page 2, 3 rows of page 1 go and 3 come at the end: count, duplicates and rows all look right
    sb = sandbox_factory(sizes={"products": 50}, page_size=10)
    sb.mutate_after(2, "products", delete=3, position="start")
    sb.mutate_after(2, "products", insert=3, position="end")
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                   workers=1) as client, pytest.raises(lf.PaginationError, match="page 1 changed"):  # fmt: skip
        drain(client, on_drift="raise")


def test_no_drift_no_warning_and_one_re_read(sandbox_factory, recorder):
    sb = sandbox_factory(sizes={"products": 50}, page_size=10)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                   workers=4) as client, warnings.catch_warnings():  # fmt: skip
        warnings.simplefilter("error")
        _stream, rows, _ = drain(client)
    assert [r["uuid"] for r in rows] == uuids(sb)
    assert sorted(pages_requested(sb)) == [1, 1, 2, 3, 4, 5]  # page 1 once more: the re-read, from the keys


def test_resume_yields_only_the_pages_not_yielded_before(sandbox_client, recorder):
    sb, client = sandbox_client(workers=1)
    sb.fault(PRODUCTS + "?page=4", status=503, times=6)
    got = []
    stream = client.iter_pages("products", keep_rows=False)
    with pytest.raises(lf.ServerError) as info:
        for page in stream:
            got.extend(page.rows)
    err = info.value
    assert len(got) == 300 and len(err.partial) == 0  # pages 1-3 are the consumer's; nothing else was fetched
    assert sorted(err.resume.keys) == [1, 2, 3] and err.resume.pages == {}
    before = len(pages_requested(sb))
    stream, rows, numbers = drain(client, resume=err.resume)
    assert numbers == list(range(4, 14))
    assert [r["uuid"] for r in got + rows] == uuids(sb)
    assert stream.info["complete"] and stream.info["rows"] == stream.info["count"] == 1203
    assert sorted(pages_requested(sb)[before:]) == [1, *range(4, 14)]  # 1: the re-read


def test_partial_holds_the_pages_fetched_but_not_yielded(sandbox_client, recorder):
    sb, client = sandbox_client(workers=4, latency=0.02)
    sb.fault(PRODUCTS + "?page=3", status=500, times=6)
    yielded = []
    with pytest.raises(lf.ServerError) as info:
        for page in client.iter_pages("products", keep_rows=False):
            yielded.append(page.number)
    err = info.value
    assert yielded == [1, 2] and sorted(err.resume.keys) == [1, 2]
    held = sorted(err.resume.pages)
    assert {4, 5} <= set(held) and 3 not in held
    want = [u for n in held for u in uuids(sb)[(n - 1) * 100 : n * 100]]
    assert err.partial["uuid"].tolist() == want  # whole rows, never a key-only stub
    assert err.partial.attrs["lucidframes"]["pages"] == sorted([1, 2, *held])


def test_a_checkpoint_keeps_whole_pages_and_a_rerun_continues(sandbox_client, tmp_path):
    sb, client = sandbox_client(workers=2)
    ckpt = tmp_path / "products.ckpt"
    sb.fault(PRODUCTS + "?page=6", status=500, times=6)
    with pytest.raises(lf.ServerError):
        drain(client, checkpoint=ckpt)
    saved = [json.loads(line) for line in ckpt.read_text(encoding="utf-8").splitlines()]
    scope = f"{sb.url}/api/v1.5/ as client:{sb.client_id}"  # format 3 (issue 18): the server and account it holds
    assert saved[0] == {"lucidframes_checkpoint": 3, "endpoint": "products", "params": {}, "scope": scope}
    by_page = {p["page"]: p["results"] for p in saved[1:]}
    assert by_page and all(len(r) == 100 and "name" in r[0] for r in by_page.values())
    before = len(pages_requested(sb))
    stream, rows, numbers = drain(client, checkpoint=ckpt)
    assert numbers == list(range(1, 14)) and [r["uuid"] for r in rows] == uuids(sb)  # a new process needs them all
    again = pages_requested(sb)[before:]
    assert again.count(1) == 1 and not (set(again) - {1}) & set(by_page)
    assert stream.state.pages == {} and not ckpt.exists()


def test_repeats_counts_rows_without_a_key_and_keys_of_mixed_types():
    state = lf.DrainState("products", {})
    state.add(1, ([{"uuid": "b"}, {"uuid": None}, {"uuid": "a"}], 6, 2))
    state.add(2, ([{"uuid": "a"}, {}, {"uuid": "b"}], 6, None))
    state.release(2, "uuid")
    assert state.keys == {2: ["a", None, "b"]} and state.repeats("uuid") == (2, 2)
    state.add(3, ([{"uuid": 7}, {"uuid": 7}], 6, None))  # str and int keys cannot be sorted together
    assert state.repeats("uuid") == (2, 3)
