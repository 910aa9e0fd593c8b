"""Issue 9, defect 3: rows deleted before the current page and as many inserted after it are not lost silently."""

from __future__ import annotations

import warnings

import pytest

import lucidframes as lf

PRODUCTS = "/api/v1.5/products/"


def shifting(sandbox_factory, recorder):
    """50 products, 10 a page, one worker; after page 2, 3 rows of page 1 go and 3 new ones come at the end.

    Every row after the deleted ones moves 3 places up, so 3 rows of page 3 slide onto page 2 (already read):
    the count does not move and no row comes twice, yet those 3 rows, there before and after, are missed.
    """
    sb = sandbox_factory(sizes={"products": 50}, page_size=10)
    sb.mutate_after(2, "products", delete=3, position="start")
    sb.mutate_after(2, "products", insert=3, position="end")
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                       workers=1)  # fmt: skip
    return sb, client


def uuids(sb):
    return [r["uuid"] for r in sb.list_rows("products")]


def test_lost_rows_are_refetched_by_default(sandbox_factory, recorder):
    sb, client = shifting(sandbox_factory, recorder)
    before = uuids(sb)
    df = client.load("products")
    after = uuids(sb)
    assert len(after) == len(before) == 50 and before != after  # the mutation did happen, count unchanged
    assert df["uuid"].tolist() == after  # exactly the current data: nothing lost, nothing stale
    assert df.attrs["lucidframes"]["drift"]["detected"] is True


def test_lost_rows_warn(sandbox_factory, recorder):
    sb, client = shifting(sandbox_factory, recorder)
    before = uuids(sb)
    with pytest.warns(lf.DriftWarning):
        df = client.load("products", on_drift="warn")
    missed = set(before) & set(uuids(sb)) - set(df["uuid"])
    assert len(missed) == 3  # the warning is about these: rows that existed all along


def test_lost_rows_raise(sandbox_factory, recorder):
    _sb, client = shifting(sandbox_factory, recorder)
    with pytest.raises(lf.PaginationError):
        client.load("products", on_drift="raise")


def test_the_check_costs_at_most_one_request(sandbox_factory, recorder):
    sb = sandbox_factory(sizes={"products": 50}, page_size=10)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                   workers=4) as client, warnings.catch_warnings():  # fmt: skip
        warnings.simplefilter("error")
        df = client.load("products")
    assert df["uuid"].tolist() == uuids(sb)
    requests = [e for e in sb.log if e.path == PRODUCTS]
    assert 5 <= len(requests) <= 6  # 5 pages, and at most one re-read of page 1
