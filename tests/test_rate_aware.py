"""Rate-aware work (issue 13): the result cache, plans, and a rate-limit bucket per endpoint.

Every test talks to the sandbox over real sockets on 127.0.0.1; waits are recorded by the sleep hook, never slept.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import requests

import lucidframes as lf
from lucidframes import config
from lucidframes.loaders.plan import Plan, estimate_seconds, human_seconds

PRODUCTS = "/api/v1.5/products/"
ITEMS = "/api/v1.5/items/"
PUBLIC = "/api/v1.2/collections/inventory-pos/lucid-id/"


def api_calls(sb, prefix="/api/"):
    return [e for e in sb.log if e.path.startswith(prefix)]


def cached_client(sb, folder, recorder, **kwargs):
    kwargs.setdefault("rate_limits", None)
    return lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, progress=False, cache=folder, **kwargs)


def item_ids(sb, n, start=0):
    return [r["uuid"] for r in sb.data["items"][start : start + n]]


# -- the cache: zero requests when fresh, only what is missing or stale -------------------------------------------


def test_second_load_with_max_age_sends_no_request(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    first = client.load("products", max_age="1h")
    assert first.attrs["lucidframes"]["cache"] == {"hit": False, "age": 0.0}
    sandbox.clear_log()
    second = client.load("products", max_age="1h")
    assert api_calls(sandbox) == [] and sandbox.log == []  # not even a token request
    assert second.attrs["lucidframes"]["cache"]["hit"] is True
    assert second.equals(first)
    assert list(second.dtypes) == list(first.dtypes)


def test_second_lookup_with_max_age_sends_no_request(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    ids = [*item_ids(sandbox, 20), "4" * 20]  # one the server does not know: its 404 is cached too
    first = client.lookup("items", ids, max_age=3600)
    assert first["_status"].tolist() == ["ok"] * 20 + ["not_found"]
    sandbox.clear_log()
    second = client.lookup("items", ids, max_age="7d")
    assert api_calls(sandbox) == []
    assert second.equals(first)
    assert second.attrs["lucidframes"]["cached"] == 21 and second.attrs["lucidframes"]["requests"] == 0


def test_only_missing_ids_are_fetched(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    client.lookup("items", item_ids(sandbox, 10), max_age="1h")
    sandbox.clear_log()
    df = client.lookup("items", item_ids(sandbox, 15), max_age="1h")
    assert sorted(e.path for e in api_calls(sandbox)) == sorted(f"{ITEMS}{i}/" for i in item_ids(sandbox, 5, 10))
    assert (df["_status"] == "ok").all() and df["_id"].tolist() == item_ids(sandbox, 15)


def test_stale_entries_are_refetched(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    assert client.cache is not None
    client.load("products", max_age="1h")
    client.lookup("items", item_ids(sandbox, 3), max_age="1h")
    clock = client.cache.clock
    client.cache.clock = lambda: clock() + 2 * 3600  # two hours later
    sandbox.clear_log()
    df = client.load("products", max_age="1h")
    assert df.attrs["lucidframes"]["cache"]["hit"] is False
    assert PRODUCTS in {e.path for e in sandbox.log}
    looked = client.lookup("items", item_ids(sandbox, 3), max_age="1h")
    assert len([e for e in sandbox.log if e.path.startswith(ITEMS)]) == 3
    assert looked.attrs["lucidframes"]["cached"] == 0
    sandbox.clear_log()
    client.load("products", max_age="3h")  # ...but still fresh enough for a longer max_age
    assert api_calls(sandbox) == []


def test_no_max_age_fetches_and_refreshes_the_entry(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    client.load("products")
    sandbox.mutate("products", insert=2)
    sandbox.clear_log()
    assert len(client.load("products")) == 1205  # without max_age the cache is not read...
    assert api_calls(sandbox)
    sandbox.clear_log()
    assert len(client.load("products", max_age="1h")) == 1205  # ...but the fresh drain replaced the old one
    assert api_calls(sandbox) == []


def test_chosen_pages_are_not_cached_and_never_mixed_into_drains(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    client.load("products", page=2, max_age="1h")
    sandbox.clear_log()
    client.load("products", page=2, max_age="1h")
    assert len(api_calls(sandbox)) == 1  # a page is not a snapshot: fetched again
    assert client.cache is not None and client.cache.info().endpoints == {}


def test_cache_keys_keep_hosts_apart_and_hold_no_credentials(sandbox_factory, recorder, tmp_path):
    a, b = sandbox_factory(seed=0), sandbox_factory(seed=1)
    with cached_client(a, tmp_path, recorder) as ca, cached_client(b, tmp_path, recorder) as cb:
        assert len(ca.load("products", max_age="1h")) == len(a.list_rows("products"))
        b.clear_log()
        rows = cb.load("products", max_age="1h")  # another base URL: nothing of a's is served
        assert api_calls(b) and rows["uuid"].tolist() == [r["uuid"] for r in b.list_rows("products")]
        token = ca.auth.header().split()[-1]
        assert ca.cache is not None
        path = ca.cache.path
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for secret in (a.client_secret, b.client_secret, token):
        assert secret.encode() not in blob
    with sqlite3.connect(path) as db:
        scopes = {s for (s,) in db.execute("SELECT DISTINCT scope FROM entries")}
    assert scopes == {f"{a.url}/api/v1.5/ as client:{a.client_id}", f"{b.url}/api/v1.5/ as client:{b.client_id}"}


def test_cache_clear_and_info(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    assert client.cache is not None
    client.load("products")
    client.lookup("items", item_ids(sandbox, 4))
    info = client.cache.info()
    assert info.endpoints == {"products": {"ids": 0, "drains": 1}, "items": {"ids": 4, "drains": 0}}
    assert info.size_bytes > 0 and info.oldest is not None and info.newest is not None
    assert "items: 4 ids" in repr(info)
    assert client.cache.clear("items") == 4
    assert set(client.cache.info().endpoints) == {"products"}
    assert client.cache.clear() == 1
    assert client.cache.info().endpoints == {}


def test_cache_true_uses_the_user_cache_dir(sandbox, recorder, tmp_path, monkeypatch):
    monkeypatch.delenv(config.ENV_CACHE_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    client = cached_client(sandbox, True, recorder)
    assert (
        client.cache is not None and client.cache.path == tmp_path / "xdg" / "lucidframes" / config.DEFAULT_CACHE_FILE
    )
    monkeypatch.setenv(config.ENV_CACHE_DIR, str(tmp_path / "mine"))
    assert config.default_cache_dir() == str(tmp_path / "mine")


@pytest.mark.parametrize(
    ("given", "seconds"), [(90, 90.0), (0, 0.0), ("90", 90.0), ("15m", 900.0), ("1h", 3600.0), ("7d", 604800.0)]
)
def test_max_age_spellings(given, seconds):
    from lucidframes.loaders.cache import parse_max_age

    assert parse_max_age(given) == seconds


@pytest.mark.parametrize("bad", [-1, "soon", "1 fortnight", True, [1]])
def test_bad_max_age_is_a_config_error(sandbox, recorder, tmp_path, bad):
    client = cached_client(sandbox, tmp_path, recorder)
    with pytest.raises(lf.ConfigError, match="max_age"):
        client.load("products", max_age=bad)


def test_max_age_without_a_cache_says_how_to_get_one(client):
    with pytest.raises(lf.ConfigError, match="cache=True"):
        client.load("products", max_age="1h")


_WRITER = textwrap.dedent(
    """
    import json, sys
    import lucidframes as lf
    url, cid, secret, folder, ids = sys.argv[1:5] + [json.loads(sys.argv[5])]
    with lf.Client(url, cid, secret, progress=False, rate_limits=None, cache=folder, workers=8) as c:
        for round_ in range(3):
            c.lookup("items", ids, max_age=0)  # max_age=0: nothing is fresh enough, so every id is fetched again
            c.load("brands")
    print("ok")
    """
)


def test_two_processes_filling_one_cache(sandbox, recorder, tmp_path):
    ids = item_ids(sandbox, 300)
    halves = (ids[:200], ids[100:])  # 100 ids written by both
    env = {**os.environ, "TQDM_DISABLE": "1"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER,
                sandbox.url,
                sandbox.client_id,
                sandbox.client_secret,
                str(tmp_path),
                json.dumps(half),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for half in halves
    ]
    outcomes = [proc.communicate(timeout=240) for proc in procs]
    for proc, (out, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    client = cached_client(sandbox, tmp_path, recorder)
    assert client.cache is not None
    assert client.cache.info().endpoints == {"items": {"ids": 300, "drains": 0}, "brands": {"ids": 0, "drains": 1}}
    with sqlite3.connect(client.cache.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    sandbox.clear_log()
    df = client.lookup("items", ids, max_age="1h")
    assert api_calls(sandbox) == [] and (df["_status"] == "ok").all()


def test_an_http_cache_session_still_works(sandbox):
    requests_cache = pytest.importorskip("requests_cache")
    session = requests_cache.CachedSession(backend="memory", expire_after=60)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, progress=False, rate_limits=None,
                   session=session) as client:  # fmt: skip
        first = client.load("products")
        sandbox.clear_log()
        second = client.load("products")
    assert api_calls(sandbox) == []  # every page answered by requests-cache
    assert second.equals(first)


# -- plans ------------------------------------------------------------------------------------------------------


def test_plan_of_a_drain_costs_one_request(sandbox, recorder):
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, progress=False)
    plan = client.plan("products")
    assert [e.path for e in api_calls(sandbox)] == [PRODUCTS]
    assert (plan.items, plan.page_size, plan.pages, plan.requests) == (1203, 100, 13, 14)  # 13 pages, page 1 again
    assert (plan.bucket, plan.limit, plan.kind) == ("source", (60, 60.0), "drain")
    assert plan.seconds < 5  # 1 + 14 requests fit in the window: no wait
    assert repr(plan).startswith("products: 1,203 rows in 13 pages, 0 cached, 14 requests ≈ ")
    assert repr(plan).endswith(" at 60/min (source)")
    sandbox.clear_log()
    client.load("products")
    assert len(api_calls(sandbox, PRODUCTS)) == plan.requests


def test_plan_of_a_lookup_sends_nothing(sandbox, recorder):
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, progress=False)
    ids = item_ids(sandbox, 130)
    plan = client.plan("items", ids + ids[:5])  # duplicates are looked up once
    assert sandbox.log == []
    assert (plan.items, plan.cached, plan.requests, plan.kind) == (130, 0, 130, "lookup")
    # a fresh window of 60: 60 at once, 60 a minute later, the last 10 a minute after that
    assert 2 * 60 < plan.seconds < 2 * 60 + 3
    assert repr(plan) == "items: 130 look-ups, 0 cached, 130 requests ≈ 2 min at 60/min (source)"


def test_plan_counts_what_the_cache_holds(sandbox, recorder, tmp_path):
    sb = sandbox
    client = cached_client(sb, tmp_path, recorder)
    ids = item_ids(sb, 50)
    client.lookup("items", ids[:20])
    plan = client.plan("items", ids, max_age="1h")
    assert (plan.items, plan.cached, plan.requests, plan.limit) == (50, 20, 30, None)
    assert repr(plan).endswith("at no limit (source)")
    drained = client.load("brands")
    assert client.plan("brands", max_age="1h").requests == 0 and len(drained) == 25


def test_plan_of_the_public_lookup_names_its_bucket(sandbox, recorder):
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, progress=False)
    plan = client.plan("inventory_collection", item_ids(sandbox, 500))
    assert (plan.bucket, plan.limit) == ("retail_public", (60, 60.0))
    assert plan.seconds > 8 * 60  # 500 at 60/min: the public bucket binds, not Retail's 1,000/min


def test_plan_repr_of_the_issue():
    seconds = estimate_seconds([800], workers=8, round_trip=0.3, limit=(60, 60.0))
    plan = Plan("items", "lookup", 5000, 4200, 800, seconds, "source", (60, 60.0), 8, 0.3)
    assert repr(plan) == "items: 5,000 look-ups, 4,200 cached, 800 requests ≈ 13 min at 60/min (source)"


def test_estimates_follow_the_sliding_window():
    # no limit: the round trips, `workers` at a time
    assert estimate_seconds([100], workers=10, round_trip=0.5, limit=None) == pytest.approx(5.0)
    # the limit binds: 20 now, then 20 after each window (each window starts when its first answers arrived)
    seconds = estimate_seconds([100], workers=10, round_trip=0.1, limit=(20, 10.0), margin=0.0)
    assert seconds == pytest.approx(4 * 10.1 + 0.1 + 0.1, abs=0.3)
    # slots already used count against the window
    assert estimate_seconds([1], workers=1, round_trip=0.1, limit=(2, 10.0), history=[-1.0, -2.0], margin=0.0) == (
        pytest.approx(8.1)
    )
    assert [human_seconds(s) for s in (0.2, 45, 780, 7500)] == ["< 1 s", "45 s", "13 min", "2 h 5 min"]


# -- a bucket per endpoint ------------------------------------------------------------------------------------


def test_registry_names_the_bucket_of_every_endpoint():
    assert lf.ENDPOINTS["inventory_collection"].bucket == "retail_public"
    assert {e.bucket for e in lf.ENDPOINTS.values() if e.product == "source"} == {"source"}
    others = {e.bucket for e in lf.ENDPOINTS.values() if e.product == "retail" and e.name != "inventory_collection"}
    assert others == {"retail"}
    assert config.DEFAULT_RATE_LIMITS == {"source": (60, 60.0), "retail": (1000, 60.0), "retail_public": (60, 60.0)}


def test_rate_limits_accept_the_three_buckets(sandbox):
    make = lambda limits: lf.Client(sandbox.url, token="t" * 30, rate_limits=limits)  # noqa: E731
    assert set(make(True).transport.limiters) == {"source", "retail", "retail_public"}
    client = make({"source": (10, 1.0), "retail-public": (5, 60), "retail": None})
    assert {b: (lim.limit, lim.window) for b, lim in client.transport.limiters.items()} == {
        "source": (10, 1.0),
        "retail_public": (5, 60.0),
    }
    assert set(make({"source": (60, 60.0), "retail": (1000, 60.0)}).transport.limiters) == {"source", "retail"}
    with pytest.raises(lf.ConfigError, match="retail_public"):
        make({"public": (1, 1.0)})


def test_the_public_bucket_is_separate_client_side(sandbox, recorder):
    waits = []
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, progress=False,
                       rate_limits={"retail": (1000, 60.0), "retail_public": (3, 60.0)})  # fmt: skip
    case = next(c for c in sandbox.data["collections"] if c["collection_type"] == "case" and len(c["items"]) >= 5)
    ids = [i["lucid_id"] for i in case["items"]][:5]
    client.lookup("inventory_collection", ids, workers=1, on_wait=waits.append)
    assert [w.kind for w in waits] == ["throttle", "throttle"]  # ids 4 and 5 wait for the public window
    assert all(w.endpoint == "inventory_collection" and w.seconds > 55 for w in waits)
    waits.clear()
    batches = [b["uuid"] for b in sandbox.data["batches"][:10]]
    df = client.lookup("retail_batches", batches, on_wait=waits.append)
    assert waits == [] and (df["_status"] == "ok").all()  # Retail calls are not slowed by it


def test_the_public_bucket_is_separate_server_side(sandbox):
    sandbox.set_rate_limits({"retail": (1000, 60.0), "retail_public": (2, 60.0), "source": (60, 60.0)})
    lucid_id = sandbox.data["items"][0]["uuid"]
    with requests.Session() as anonymous:  # the public look-up needs no token: throttled per caller IP
        statuses = [anonymous.get(f"{sandbox.url}{PUBLIC}{lucid_id}/", timeout=5).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, progress=False)
    batch = sandbox.data["batches"][0]["uuid"]
    assert client.lookup("retail_batches", [batch])["_status"].tolist() == ["ok"]
    assert [e.status for e in sandbox.log if e.path.startswith("/api/v1.2/batches/")] == [200]
