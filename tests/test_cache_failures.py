"""The result cache never costs the data (issue 18, defects 7 and 8): a full disk, a locked file, a damaged file,
private permissions, Ctrl-C in a cached look-up, and drains that did not reconcile.

A full disk is a child process under ``RLIMIT_FSIZE``; a locked file is a second connection holding
``BEGIN EXCLUSIVE``; Ctrl-C is SIGINT to a child started with SIGINT at its default.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
from helpers import default_sigint

import lucidframes as lf
from lucidframes import config
from lucidframes.loaders import cache as cache_module

ITEMS = "/api/v1.5/items/"


def api_calls(sb, prefix="/api/"):
    return [e for e in sb.log if e.path.startswith(prefix)]


def cached_client(sb, folder, recorder=None, **kwargs):
    return lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, progress=False, rate_limits=None,
                     cache=folder, **kwargs)  # fmt: skip


def cache_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, lf.CacheWarning)]


# -- a full disk: the rows come back, one warning ----------------------------------------------------------------

_FULL_DISK = textwrap.dedent(
    """
    import json, resource, sys, warnings
    import lucidframes as lf

    url, cid, secret, folder, limit, when, ids = sys.argv[1:]
    def full():
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), resource.RLIM_INFINITY))
    if when == "before":  # the disk is full before the cache file exists
        full()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = lf.Client(url, cid, secret, progress=False, rate_limits=None, cache=folder)
        if when == "after":
            full()
        products = client.load("products")
        again = client.load("products", max_age="1h")
        items = client.lookup("items", json.loads(ids))
    print(json.dumps({
        "products": len(products), "again": len(again), "items": items["_status"].value_counts().to_dict(),
        "warnings": [(w.category.__name__, str(w.message)) for w in caught],
    }))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize(("when", "limit"), [("after", 40_000), ("before", 0)])
def test_a_full_disk_warns_once_and_returns_the_rows(sandbox, tmp_path, when, limit):
    ids = [r["uuid"] for r in sandbox.data["items"][:200]]
    args = [sandbox.url, sandbox.client_id, sandbox.client_secret, str(tmp_path / "cache"), str(limit), when]
    proc = subprocess.run([sys.executable, "-c", _FULL_DISK, *args, json.dumps(ids)], capture_output=True,
                          text=True, timeout=240, env={**os.environ, "TQDM_DISABLE": "1"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["products"] == out["again"] == 1203 and out["items"] == {"ok": 200}
    caught = [message for category, message in out["warnings"] if category == "CacheWarning"]
    assert len(caught) == 1, out["warnings"]  # once, however many writes failed after it
    assert "cache" in caught[0] and str(tmp_path / "cache") in caught[0]
    assert "Traceback" not in proc.stderr


# -- a locked file: past its timeout, carry on without the cache --------------------------------------------------


def test_a_cache_locked_past_its_timeout_warns_and_returns_the_rows(sandbox, recorder, tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT", 0.2)  # a real SQLite wait, kept short
    client = cached_client(sandbox, tmp_path, recorder)
    holder = sqlite3.connect(tmp_path / config.DEFAULT_CACHE_FILE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process's long write
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = client.load("products")
            items = client.lookup("items", [r["uuid"] for r in sandbox.data["items"][:30]])
            late = cached_client(sandbox, tmp_path, recorder)  # a client made while the file is locked
            brands = late.load("brands")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(df) == 1203 and (items["_status"] == "ok").all() and len(brands) == 25
    messages = cache_warnings(caught)
    assert len(messages) == 2 and all("locked" in m for m in messages), messages  # once per client
    sandbox.clear_log()
    fresh = cached_client(sandbox, tmp_path, recorder)  # the lock is gone: the cache works again
    fresh.load("brands")
    fresh.load("brands", max_age="1h")
    assert len([e for e in api_calls(sandbox) if e.path.endswith("/brands/")]) == 1


# -- a damaged file: moved aside, named, rebuilt -------------------------------------------------------------------


def damage_garbage(path):
    path.write_bytes(os.urandom(8192))


def damage_truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damage_not_ours(path):
    path.unlink()
    with sqlite3.connect(path) as db:  # a SQLite file of another program (or version) under our name
        db.execute("CREATE TABLE entries (x)")
        db.execute("INSERT INTO entries VALUES (1)")


def damage_future_version(path):
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")


@pytest.mark.parametrize("damage", [damage_garbage, damage_truncated, damage_not_ours, damage_future_version])
def test_a_damaged_cache_is_moved_aside_and_rebuilt(sandbox, recorder, tmp_path, damage):
    first = cached_client(sandbox, tmp_path, recorder)
    first.load("products")
    first.close()
    path = tmp_path / config.DEFAULT_CACHE_FILE
    for extra in tmp_path.glob(config.DEFAULT_CACHE_FILE + "-*"):
        extra.unlink()  # the write-ahead log: the damaged file alone
    damage(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = cached_client(sandbox, tmp_path, recorder)
        df = client.load("products", max_age="1h")
    assert len(df) == 1203
    messages = cache_warnings(caught)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith(config.DEFAULT_CACHE_FILE + ".damaged")]
    assert len(messages) == 1 and len(aside) == 1, (messages, sorted(p.name for p in tmp_path.iterdir()))
    assert str(aside[0]) in messages[0] and "rebuilt" in messages[0]
    sandbox.clear_log()
    assert client.load("products", max_age="1h").attrs["lucidframes"]["cache"]["hit"] is True  # a working cache
    assert api_calls(sandbox) == []


def test_a_cache_path_that_is_a_folder_is_a_config_error(sandbox, tmp_path):
    (tmp_path / config.DEFAULT_CACHE_FILE).mkdir()
    with pytest.raises(lf.ConfigError, match=config.DEFAULT_CACHE_FILE):
        cached_client(sandbox, tmp_path)


# -- private to the user ----------------------------------------------------------------------------------------


def test_the_cache_folder_and_files_are_private(sandbox, recorder, tmp_path):
    folder = tmp_path / "made" / "cache"
    old = os.umask(0o022)
    try:
        client = cached_client(sandbox, folder, recorder)
        holder = sqlite3.connect(folder / config.DEFAULT_CACHE_FILE)  # keeps the write-ahead log files there
        holder.execute("SELECT * FROM meta").fetchall()
        client.load("brands")
        client.lookup("items", [r["uuid"] for r in sandbox.data["items"][:5]])
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert {p.name for p in files} >= {config.DEFAULT_CACHE_FILE, config.DEFAULT_CACHE_FILE + "-wal"}  # and its log
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    holder.close()


def test_an_existing_cache_file_is_made_private(sandbox, recorder, tmp_path):
    cached_client(sandbox, tmp_path, recorder).load("brands")
    path = tmp_path / config.DEFAULT_CACHE_FILE
    path.chmod(0o644)
    cached_client(sandbox, tmp_path, recorder)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- Ctrl-C in a cached look-up: the answers kept are in the cache, the file whole ------------------------------

_CHILD = textwrap.dedent(
    """
    import json, sys
    import lucidframes as lf

    url, cid, secret, folder, ids = sys.argv[1:]
    ids = json.loads(ids)
    with lf.Client(url, cid, secret, progress=False, rate_limits=None, cache=folder) as client:
        try:
            client.lookup("items", ids, workers=2)
            print(json.dumps({"outcome": "complete"}))
        except lf.LookupInterrupted as exc:
            print(json.dumps({"outcome": "LookupInterrupted", "done": len(exc.resume.rows)}))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_in_a_cached_lookup_keeps_what_the_cache_holds(sandbox_factory, recorder, tmp_path):
    sb = sandbox_factory(latency=0.05)
    ids = [r["uuid"] for r in sb.data["items"][:80]]
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, sb.url, sb.client_id, sb.client_secret, str(tmp_path), json.dumps(ids)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TQDM_DISABLE": "1"},
        preexec_fn=default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len([e for e in sb.log if e.path.startswith(ITEMS)]) < 12:
        time.sleep(0.02)  # polling the child's progress, not waiting out a retry
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    result = json.loads(out)
    assert result["outcome"] == "LookupInterrupted" and 10 <= result["done"] < len(ids)
    with sqlite3.connect(tmp_path / config.DEFAULT_CACHE_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    sb.clear_log()
    client = cached_client(sb, tmp_path, recorder)
    df = client.lookup("items", ids, max_age="1h")
    assert (df["_status"] == "ok").all() and df.attrs["lucidframes"]["cached"] == result["done"]
    assert len([e for e in sb.log if e.path.startswith(ITEMS)]) == len(ids) - result["done"]


# -- defect 8: a drain that did not reconcile is not stored, and never served as whole --------------------------


def unsettled_batches(sb, client):
    """Page 2 of batches repeats page 1, every time: the drain re-fetches twice and ends with unresolved drift."""
    page1 = client.get_json("batches/")
    sb.fault("/api/v1.5/batches/?page=2", status=200, times=None, body={**page1, "next": page1["next"][:-1] + "3"})


def test_an_unreconciled_drain_is_not_stored(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    unsettled_batches(sandbox, client)
    with pytest.warns(lf.DriftWarning):
        first = client.load("batches")
    assert first.attrs["lucidframes"]["drift"]["unresolved"]
    assert client.cache is not None and client.cache.info().endpoints.get("batches", {}).get("drains", 0) == 0
    sandbox.clear_faults()
    sandbox.clear_log()
    second = client.load("batches", max_age="1h")  # nothing stored: fetched again, and now whole
    assert second.attrs["lucidframes"]["cache"]["hit"] is False and len(second) == 300
    assert api_calls(sandbox)
    sandbox.clear_log()
    assert client.load("batches", max_age="1h").attrs["lucidframes"]["cache"]["hit"] is True
    assert api_calls(sandbox) == []


def test_a_drain_kept_with_on_drift_warn_is_not_stored(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder, workers=1)
    sandbox.mutate_after(3, "products", insert=5, position="start")
    with pytest.warns(lf.DriftWarning):
        client.load("products", on_drift="warn")
    sandbox.clear_log()
    df = client.load("products", max_age="1h")
    assert df.attrs["lucidframes"]["cache"]["hit"] is False and len(df) == 1208 and api_calls(sandbox)


def test_an_unreconciled_entry_left_by_an_older_version_is_not_served(sandbox, recorder, tmp_path):
    client = cached_client(sandbox, tmp_path, recorder)
    client.load("brands")
    with sqlite3.connect(client.cache.path) as db:  # as the cache of an earlier release stored such a drain
        (body,) = db.execute("SELECT body FROM entries WHERE kind = 'drain'").fetchone()
        entry = json.loads(body)
        entry["info"]["drift"] = {"detected": True, "refetches": 2, "unresolved": "12 rows came twice"}
        db.execute("UPDATE entries SET body = ? WHERE kind = 'drain'", (json.dumps(entry),))
    assert client.plan("brands", max_age="1h").cached == 0
    sandbox.clear_log()
    df = client.load("brands", max_age="1h")
    assert df.attrs["lucidframes"]["cache"]["hit"] is False and api_calls(sandbox)
