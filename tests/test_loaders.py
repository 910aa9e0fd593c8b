"""Loaders (issue 4): drains that equal the sandbox's data exactly, with faults, drift, partial results and resume."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from helpers import PRODUCTS, expected, pages_requested

import lucidframes as lf
from lucidframes.endpoints import ASSET_TYPES, ENDPOINTS


def assert_exact(df, sb, name="products", **params):
    rows = sb.list_rows(name, **params)
    pd.testing.assert_frame_equal(df, expected(sb, name, **params))
    assert df[ENDPOINTS[name].key].tolist() == [r["uuid"] for r in rows]
    # Values against the server's raw JSON too, so the check does not rest on to_frame alone.
    for column in ("name", "sku", "is_published", "brand_uuid", "regulatory_id", "content"):
        if rows and column in rows[0]:
            got = [None if pd.isna(v) else v for v in df[column].tolist()]
            assert got == [r[column] for r in rows], column
    for column in ("produced_on", "updated_on"):
        if rows and column in rows[0]:
            raw = [None if r[column] is None else pd.Timestamp(r[column]) for r in rows]
            assert [None if pd.isna(v) else v for v in df[column].tolist()] == raw, column
    assert df.attrs["lucidframes"]["rows"] == len(rows) == df.attrs["lucidframes"]["count"]


# -- exact drains ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("products", "page_size"),
    [(1203, 100), (1203, 7), (300, 100), (0, 100), (1, 100), (50, 50), (51, 50)],
)
def test_full_drain_equals_the_data(sandbox_client, products, page_size):
    sb, client = sandbox_client(sizes={"products": products}, page_size=page_size)
    df = client.load("products")
    assert_exact(df, sb)
    pages = max(1, -(-products // page_size))
    # Every page once, none twice; page 1 once more after a multi-page pass (the check that nothing moved).
    assert sorted(pages_requested(sb)) == [1] * (pages > 1) + list(range(1, pages + 1))
    assert df.attrs["lucidframes"]["pages"] == list(range(1, pages + 1))
    assert df.attrs["lucidframes"]["page_size"] == (page_size if products > page_size else None)


def test_drain_types(sandbox, client):
    df = client.load("products")
    assert str(df["uuid"].dtype) == "str"
    assert str(df["is_published"].dtype) == "boolean"
    assert list(df.columns) == ["uuid", "name", "sku", "product_type", "is_published", "brand_uuid"]  # list rows
    detail = client.lookup("products", df["uuid"].head(3))
    assert isinstance(detail["published_on"].dtype, pd.DatetimeTZDtype)  # the detail's own columns, typed
    assert str(detail["servings"].dtype) == "Int64"
    batches = client.load("batches")
    assert isinstance(batches["produced_on"].dtype, pd.DatetimeTZDtype)
    assert batches["digital_coa_uuids"].map(type).eq(list).all()  # lists stay lists


def test_empty_result_has_the_columns(sandbox_client):
    _sb, client = sandbox_client(sizes={"products": 0})
    df = client.load("products")
    assert df.empty and list(df.columns[:6]) == ["uuid", "name", "sku", "product_type", "is_published", "brand_uuid"]
    assert str(df["is_published"].dtype) == "boolean"


@pytest.mark.parametrize("asset_type", ASSET_TYPES)
def test_assets_of_every_type(sandbox, client, asset_type):
    df = client.load("assets", asset_type=asset_type)
    assert_exact(df, sandbox, "assets", asset_type=asset_type)


def test_bare_array_list(sandbox, client):
    df = client.load("brands")
    assert df["uuid"].tolist() == [b["uuid"] for b in sandbox.data["brands"]]


def test_one_page_and_some_pages(sandbox, client):
    full = expected(sandbox)
    one = client.load("products", page=3)
    pd.testing.assert_frame_equal(one, full.iloc[200:300].reset_index(drop=True))
    some = client.load("products", pages=range(2, 5))
    pd.testing.assert_frame_equal(some, full.iloc[100:400].reset_index(drop=True))
    assert some.attrs["lucidframes"]["pages"] == [2, 3, 4]


def test_page_past_the_end_is_not_found(sandbox, client):
    with pytest.raises(lf.NotFoundError, match="Invalid page"):
        client.load("products", page=99)


def test_unknown_endpoint_lists_close_matches(client):
    with pytest.raises(lf.UnknownEndpointError) as info:
        client.load("prodcuts")
    assert "products" in info.value.suggestions
    assert "products" in str(info.value)


def test_path_parameter_checked(client):
    with pytest.raises(lf.ConfigError, match="asset_type"):
        client.load("assets")
    with pytest.raises(lf.ConfigError, match="images"):
        client.load("assets", asset_type="image")


# -- faults mid-drain -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "waits"),
    [
        ({"status": 503, "times": 2}, [1, 2]),
        ({"status": 502}, [1]),
        ({"status": 429, "retry_after": 5}, [5]),
        ({"status": 429, "retry_after": "date"}, None),
        ({"kind": "drop"}, [1]),
        ({"kind": "truncate"}, [1]),
        ({"kind": "not_json"}, [1]),
        ({"status": 401}, []),  # a refused token: renewed once, no wait
    ],
)
def test_exact_with_faults_mid_drain(sandbox, client, recorder, fault, waits):
    if fault.get("retry_after") == "date":
        fault["retry_after"] = datetime.now(UTC) + timedelta(seconds=20)
    sandbox.fault(PRODUCTS + "?page=5", **fault)
    df = client.load("products")
    assert_exact(df, sandbox)
    if waits is not None:
        assert recorder.waits == waits
        assert df.attrs["lucidframes"]["retries"] == len(waits)
        assert df.attrs["lucidframes"]["total_wait"] == sum(waits)
    else:
        assert len(recorder.waits) == 1 and 17 <= recorder.waits[0] <= 20


def test_expired_tokens_mid_drain(sandbox, client):
    client.load("products", page=1)
    sandbox.expire_tokens()
    df = client.load("products")
    assert_exact(df, sandbox)
    statuses = [e.status for e in sandbox.log if e.path == PRODUCTS]
    assert statuses.count(401) >= 1


# -- giving up, resuming, checkpoints ----------------------------------------------------------------------------


def test_give_up_returns_partial_and_resume_completes_exactly(sandbox_client, recorder):
    sb, client = sandbox_client(workers=1)
    sb.fault(PRODUCTS + "?page=4", status=503, times=6)
    with pytest.raises(lf.ServerError) as info:
        client.load("products")
    err = info.value
    full = expected(sb)
    pd.testing.assert_frame_equal(err.partial, full.iloc[:300].reset_index(drop=True))
    assert err.partial.attrs["lucidframes"]["complete"] is False
    assert recorder.waits == [1, 2, 4, 8, 16]
    before = len(pages_requested(sb))
    df = client.load("products", resume=err.resume)
    assert_exact(df, sb)
    again = pages_requested(sb)[before:]
    assert sorted(again) == [1, *range(4, 14)]  # pages 1-3 were not fetched again (page 1: the final re-read)


def test_resume_of_another_drain_is_refused(sandbox_client):
    sb, client = sandbox_client(workers=1)
    sb.fault(PRODUCTS + "?page=2", status=500, times=6)
    with pytest.raises(lf.ServerError) as info:
        client.load("products")
    with pytest.raises(lf.ConfigError, match="resume"):
        client.load("batches", resume=info.value.resume)


def test_checkpoint_lets_a_rerun_continue(sandbox_client, tmp_path):
    sb, client = sandbox_client(workers=2)
    ckpt = tmp_path / "products.ckpt"
    sb.fault(PRODUCTS + "?page=6", status=500, times=6)
    with pytest.raises(lf.ServerError):
        client.load("products", checkpoint=ckpt)
    assert ckpt.exists()
    saved = [json.loads(line) for line in ckpt.read_text(encoding="utf-8").splitlines()]
    assert saved[0]["endpoint"] == "products"
    fetched_before = {p["page"] for p in saved[1:]}
    before = len(pages_requested(sb))
    df = client.load("products", checkpoint=ckpt)
    assert_exact(df, sb)
    again = pages_requested(sb)[before:]
    assert again.count(1) == 1  # the final re-read of page 1, nothing else fetched twice
    assert not (set(again) - {1}) & fetched_before
    assert not ckpt.exists()  # a complete drain removes its checkpoint


def test_stop_event_returns_partial(sandbox_client):
    import threading

    sb, client = sandbox_client(workers=1)
    stop = threading.Event()
    stop.set()
    with pytest.raises(lf.DrainStopped) as info:
        client.load("products", stop=stop)
    assert len(info.value.partial) == 100  # page 1 only
    df = client.load("products", resume=info.value.resume)
    assert_exact(df, sb)


# -- drift ----------------------------------------------------------------------------------------------------


def test_drift_is_refetched_by_default(sandbox_client):
    sb, client = sandbox_client(workers=1)
    sb.mutate_after(3, "products", insert=5, position="start")
    df = client.load("products")
    assert_exact(df, sb)  # the final data, exactly
    drift = df.attrs["lucidframes"]["drift"]
    assert drift["detected"] is True and drift["refetches"] == 1 and drift["unresolved"] is None


def test_drift_warn_keeps_first_pass_without_duplicates(sandbox_client):
    sb, client = sandbox_client(workers=1)
    sb.mutate_after(3, "products", insert=5, position="start")
    with pytest.warns(lf.DriftWarning, match="changed"):
        df = client.load("products", on_drift="warn")
    assert df["uuid"].is_unique
    assert df.attrs["lucidframes"]["duplicates_dropped"] == 5


def test_drift_raise(sandbox_client):
    sb, client = sandbox_client(workers=1)
    sb.mutate_after(2, "products", delete=3)
    with pytest.raises(lf.PaginationError, match="changed") as info:
        client.load("products", on_drift="raise")
    assert info.value.partial is not None and len(info.value.partial) > 0


def test_no_drift_no_warning(sandbox, client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = client.load("products")
    assert df.attrs["lucidframes"]["drift"]["detected"] is False


# -- lookups and submissions ----------------------------------------------------------------------------------


def test_lookup_every_single_resource_endpoint(sandbox, client):
    data = sandbox.data
    cases = {
        "products": [r["uuid"] for r in data["products"][:3]],
        "batches": [r["uuid"] for r in data["batches"][:3]],
        "brands": [r["uuid"] for r in data["brands"][:3]],
        "digital_coas": [r["uuid"] for r in data["digital_coas"][:3]],
        "items": [r["uuid"] for r in data["items"][:3]],
        "collections": [data["collections"][0]["uuid"], data["collections"][1]["identifier"]],
        "retail_batches": [r["uuid"] for r in data["batches"][:2]],
    }
    for name, ids in cases.items():
        df = client.lookup(name, ids)
        assert df["_id"].tolist() == ids, name
        assert (df["_status"] == "ok").all(), (name, df["_error"].tolist())


def test_lookup_reports_not_found_per_id(sandbox, client):
    ids = [sandbox.data["items"][0]["uuid"], "2" * 20, sandbox.data["items"][0]["uuid"]]
    df = client.lookup("items", ids)
    assert df["_status"].tolist() == ["ok", "not_found", "ok"]
    assert len([e for e in sandbox.log if e.path.startswith("/api/v1.5/items/")]) == 2  # duplicates fetched once


def test_lookup_guard_sends_nothing_for_a_bad_lucid_id(sandbox, client):
    good = sandbox.data["items"][0]["uuid"]
    with pytest.raises(lf.LucidIDValidationError) as info:
        client.lookup("items", [good, "https://qr.lcdg.io/" + good, "O" * 20])
    assert "O" * 20 in str(info.value)
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []


def test_submit_guard_and_unknown_ids(sandbox, client):
    items = sandbox.data["items"]
    with pytest.raises(lf.LucidIDValidationError):
        client.submit("transactions_complete", {"items": ["bad id"], "order_id": "1", "performed_at": "x"})
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []
    unknown = "3" * 20
    body = {"case_uuid": "A" * 22, "lucid_ids": [items[0]["uuid"], unknown]}
    with pytest.raises(lf.UnknownLucidIDError) as info:
        client.submit("caseids_import", body)
    assert info.value.unknown_ids == [unknown]
    posts = [e for e in sandbox.log if e.method == "POST" and e.path.startswith("/api/")]
    assert len(posts) == 1  # the payload is never re-sent to find out


# -- export ---------------------------------------------------------------------------------------------------


def test_csv_round_trip(sandbox, client, tmp_path):
    df = client.load("batches")
    path = lf.export(df, tmp_path / "batches.csv")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back.columns) == list(df.columns)
    assert back["uuid"].tolist() == df["uuid"].tolist()
    produced = df["produced_on"].dropna().iloc[0]
    assert produced.isoformat() in set(back["produced_on"])  # ISO-8601 with the offset
    again = pd.to_datetime(back["produced_on"].replace("", None), utc=True, format="ISO8601")
    pd.testing.assert_series_equal(again.astype("datetime64[us, UTC]"), df["produced_on"], check_names=False)
    assert json.loads(back["digital_coa_uuids"].iloc[0]) == df["digital_coa_uuids"].iloc[0]


def test_parquet_round_trip(sandbox, client, tmp_path):
    pytest.importorskip("pyarrow")
    df = client.load("products")
    back = pd.read_parquet(lf.export(df, tmp_path / "products.parquet"))
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert str(back["is_published"].dtype) == "boolean"


def test_jsonl_export(sandbox, client, tmp_path):
    df = client.load("batches")
    lines = tmp_path / "b.jsonl"
    lf.export(df, lines)
    rows = [json.loads(x) for x in lines.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(df) and rows[0]["uuid"] == df["uuid"].iloc[0]
    assert isinstance(rows[0]["digital_coa_uuids"], list)


# -- progress -------------------------------------------------------------------------------------------------


def test_progress_bar_knows_the_total(sandbox, recorder, capsys, monkeypatch):
    from lucidframes.loaders import progress

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr(progress, "BAR_DELAY", 0.0)  # the sandbox drains in well under the delay
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, rate_limits=None)
    client.load("products")
    err = capsys.readouterr().err
    assert "13/13" in err and "rows=1203" in err
    assert sandbox.client_secret not in err and client.auth.header().split()[1] not in err


def test_no_bar_for_work_under_the_delay(sandbox, recorder, capsys, monkeypatch):
    from lucidframes.loaders import progress

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr(progress, "BAR_DELAY", 30.0)
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, rate_limits=None)
    client.lookup("products", [sandbox.data["products"][0]["uuid"]])
    client.load("products")
    assert capsys.readouterr().err == ""


def test_progress_off(sandbox, recorder, capsys, monkeypatch):
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, rate_limits=None)
    client.load("products", progress=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    client.load("products")
    assert capsys.readouterr().err == ""


def test_submissions_through_the_guard(sandbox, client):
    case = next(c for c in sandbox.data["collections"] if c["collection_type"] == "case" and c["items"])
    ids = [i["lucid_id"] for i in case["items"] if i["removed_on"] is None][:3]
    answer = client.submit("add_items", {"case_uuid": case["uuid"], "lucid_ids": ids}, dispensary_uuid="D" * 22)
    assert answer["inventory_collection_identifier"]
    looked = client.lookup("inventory_collection", ids)
    assert (looked["_status"] == "ok").all()
    assert client.submit("caseids_import", {"case_uuid": case["uuid"], "lucid_ids": ids})["status"] == "success"
    sale = {"performed_at": "2026-01-01T10:00:00Z", "items": ids, "order_id": "42"}
    assert client.submit("transactions_complete", sale)["status"] == "success"
    assert client.submit("transactions_void", {"order_id": "42"})["status"] == "success"


def test_transaction_with_unknown_ids_names_them_from_the_body(sandbox, client):
    known = sandbox.data["items"][0]["uuid"]
    unknown = "4" * 20
    sale = {"performed_at": "2026-01-01T10:00:00Z", "items": [known, unknown], "order_id": "7"}
    with pytest.raises(lf.UnknownLucidIDError) as info:
        client.submit("transactions_complete", sale)
    assert info.value.unknown_ids == [unknown]
    assert [e.path for e in sandbox.log if e.path.startswith("/api/v1.5/items/")] == []  # the body said it all


def test_ids_outside_the_case_are_explained(sandbox, client):
    case = next(c for c in sandbox.data["collections"] if c["collection_type"] == "case" and c["items"])
    members = {i["lucid_id"] for i in case["items"]}
    stranger = next(i["uuid"] for i in sandbox.data["items"] if i["uuid"] not in members)
    with pytest.raises(lf.UnknownLucidIDError) as info:
        client.submit("add_items", {"case_uuid": case["uuid"], "lucid_ids": [stranger]}, dispensary_uuid="D" * 22)
    assert info.value.unknown_ids == []
    assert "not in that case" in str(info.value)


def test_flattened_detail_columns(sandbox, client):
    ids = [p["uuid"] for p in sandbox.data["products"][:2]]
    df = client.lookup("products", ids)
    assert "brand.name" in df.columns and "package_size.unit" in df.columns
    assert df["brand.name"].tolist() == [p["brand"]["name"] for p in sandbox.data["products"][:2]]
    nested = client.lookup("products", ids, flatten=False)
    assert nested["brand"].tolist() == [p["brand"] for p in sandbox.data["products"][:2]]


def test_progress_callback_and_module_level_load(sandbox, monkeypatch):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    calls = []
    df = lf.load("products", progress=False, on_progress=lambda *a: calls.append(a))
    assert len(df) == 1203
    assert calls[-1][:3] == (13, 13, 1203)


def test_a_429_pauses_every_worker(sandbox_client, recorder):
    # Latency keeps the other workers busy while page 2 is throttled, so they ask the limiter after the pause.
    sb, client = sandbox_client(latency=0.1, workers=4, rate_limits={"source": (1000, 60.0)})
    sb.fault(PRODUCTS + "?page=2", status=429, retry_after=30)
    df = client.load("products")
    assert_exact(df, sb)
    paused = [w for w in recorder.waits if 29 < w <= 30]
    assert recorder.waits[0] == 30  # the worker that got the 429 waits exactly Retry-After
    assert len(paused) >= 2, recorder.waits  # ...and at least one other worker was held back too
    assert [e.status for e in sb.log].count(429) == 1


def test_package_export_waits_while_the_server_prepares_it(sandbox, client, recorder):
    df = client.load("package_uids_export", export_date="2024-12-01")
    assert list(df.columns) == ["package_uid", "lucid_id", "product_uuid", "batch_uuid", "added_on"] and len(df)
    assert recorder.waits == [1]  # the first ask answered 202 "processing": one backoff step, then 200
    with pytest.raises(lf.ConfigError, match="export_date"):
        client.load("package_uids_export")
    with pytest.raises(lf.BadRequestError, match="YYYY-MM-DD"):
        client.load("package_uids_export", export_date="June")
    with pytest.raises(lf.NotFoundError, match="No export exists for 1999-01-01"):
        client.load("package_uids_export", export_date="1999-01-01")


def test_asset_create_and_caseid_remove(sandbox, client):
    created = client.submit(
        "assets",
        {"name": "Terpenes", "content": "Myrcene-forward.", "description": "d", "usage": "description"},
        asset_type="texts",
    )
    assert created["name"] == "Terpenes"
    assert client.lookup("assets", [created["uuid"]], asset_type="texts")["_status"].tolist() == ["ok"]
    case = next(c for c in sandbox.data["collections"] if c["collection_type"] == "case" and c["items"])
    ids = [i["lucid_id"] for i in case["items"] if i["removed_on"] is None][:2]
    assert client.submit("caseids_remove", {"case_uuid": case["uuid"], "lucid_ids": ids})["status"] == "success"


def test_drift_by_deletion_is_refetched(sandbox_client):
    sb, client = sandbox_client(workers=4)
    sb.mutate_after(3, "products", delete=150)
    df = client.load("products")
    assert_exact(df, sb)
    assert df.attrs["lucidframes"]["drift"]["refetches"] >= 1


def test_pages_in_flight_when_one_fails_are_kept(sandbox_client, recorder):
    sb, client = sandbox_client(workers=4, latency=0.02)
    sb.fault(PRODUCTS + "?page=3", status=500, times=6)
    with pytest.raises(lf.ServerError) as info:
        client.load("products")
    kept = info.value.partial.attrs["lucidframes"]["pages"]
    assert {1, 2, 4, 5} <= set(kept) and 3 not in kept  # the other workers' pages were not thrown away
    before = len(pages_requested(sb))
    df = client.load("products", resume=info.value.resume)
    assert_exact(df, sb)
    assert not (set(pages_requested(sb)[before:]) - {1}) & set(kept)  # page 1 again only for the final re-read
