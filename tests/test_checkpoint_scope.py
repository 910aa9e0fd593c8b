"""Checkpoints are keyed by the cache's scope, read defensively, and a resumed run says so (issue 18, defect 9).

A checkpoint (a drain's pages, a look-up's answers) is written by one server for one account; resumed against
another server or another brand it would pass their answers off as this server's. Each test makes a real
checkpoint with a run that gives up on the sandbox, then resumes it against another sandbox or account.
"""

from __future__ import annotations

import json
import logging

import pytest

import lucidframes as lf
from lucidframes.cli import main

ITEMS = "/api/v1.5/items/"
PRODUCTS = "/api/v1.5/products/"


def api_calls(sb):
    return [e for e in sb.log if e.path.startswith("/api/")]


def make_client(sb, recorder, **kwargs):
    kwargs.setdefault("client_id", sb.client_id)
    kwargs.setdefault("client_secret", sb.client_secret)
    return lf.Client(sb.url, sleep=recorder, progress=False, rate_limits=None, **kwargs)


def lookup_checkpoint(sb, recorder, path, ids, **kwargs):
    """A look-up on ``sb`` that gives up at the fifth id, leaving its checkpoint with four answers."""
    sb.fault(f"{ITEMS}{ids[4]}/", status=503, times=6)
    with pytest.raises(lf.ServerError):
        make_client(sb, recorder, **kwargs).lookup("items", ids, workers=1, checkpoint=path)
    assert path.exists()


def drain_checkpoint(sb, recorder, path):
    """A drain of products on ``sb`` that gives up at page 5, leaving pages 1 to 4 in its checkpoint."""
    sb.fault(f"{PRODUCTS}?page=5", status=403, times=1)
    with pytest.raises(lf.ForbiddenError):
        make_client(sb, recorder, workers=1).load("products", checkpoint=path)
    assert path.exists()


# -- another server, another brand: refused before anything is sent ----------------------------------------------


def test_a_lookup_checkpoint_of_another_server_is_refused(sandbox_factory, recorder, tmp_path):
    here, there = sandbox_factory(), sandbox_factory(seed=7)
    ids = [r["uuid"] for r in there.data["items"][:12]]  # ids `here` does not know: it answers not_found
    path = tmp_path / "items.lookup.jsonl"
    lookup_checkpoint(here, recorder, path, ids)
    there.clear_log()
    with pytest.raises(lf.ConfigError, match="another server or account") as info:
        make_client(there, recorder).lookup("items", ids, checkpoint=path)
    assert str(path) in str(info.value) and here.url in str(info.value) and there.url in str(info.value)
    assert api_calls(there) == []
    with pytest.raises(lf.ConfigError, match="another server or account"):
        make_client(there, recorder).plan("items", ids, checkpoint=path)
    df = make_client(here, recorder).lookup("items", ids, checkpoint=path)  # its own server resumes it
    assert df.attrs["lucidframes"]["resumed"] == 4


def test_a_lookup_checkpoint_of_another_account_is_refused(sandbox, recorder, tmp_path):
    ids = [r["uuid"] for r in sandbox.data["items"][:12]]
    path = tmp_path / "items.lookup.jsonl"
    lookup_checkpoint(sandbox, recorder, path, ids)
    token = sandbox.issue_token()
    with pytest.raises(lf.ConfigError, match="another server or account"):
        make_client(sandbox, recorder, client_id=None, client_secret=None, token=token).lookup(
            "items", ids, checkpoint=path
        )
    text = path.read_text(encoding="utf-8")
    assert sandbox.client_secret not in text and token not in text  # the scope names the account, never a secret


def test_a_drain_checkpoint_of_another_server_is_refused(sandbox_factory, recorder, tmp_path):
    here, there = sandbox_factory(), sandbox_factory(seed=7)
    path = tmp_path / "products.ckpt"
    drain_checkpoint(here, recorder, path)
    there.clear_log()
    with pytest.raises(lf.ConfigError, match="another server or account"):
        make_client(there, recorder).load("products", checkpoint=path)
    assert api_calls(there) == []
    df = make_client(here, recorder).load("products", checkpoint=path)
    assert df["uuid"].tolist() == [r["uuid"] for r in here.list_rows("products")]


def test_a_checkpoint_without_a_scope_is_refused(sandbox, recorder, tmp_path):
    path = tmp_path / "items.lookup.jsonl"  # as an earlier release wrote it: no scope in the header
    ids = [r["uuid"] for r in sandbox.data["items"][:3]]
    header = {"lucidframes_lookup_checkpoint": 1, "endpoint": "items", "params": {}}
    line = {"id": ids[0], "row": {"_status": "not_found", "_error": "404"}}
    path.write_text(json.dumps(header) + "\n" + json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(lf.ConfigError, match=str(path)):
        make_client(sandbox, recorder).lookup("items", ids, checkpoint=path)


# -- a damaged drain checkpoint is a typed error ------------------------------------------------------------------


@pytest.mark.parametrize(
    "results",
    ["a string", [1, 2, 3], [["uuid", "x"]], {"uuid": "x"}, None],
    ids=["string", "numbers", "lists", "object", "null"],
)
def test_a_damaged_drain_checkpoint_is_a_config_error(sandbox, recorder, tmp_path, results):
    path = tmp_path / "products.ckpt"
    drain_checkpoint(sandbox, recorder, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    page = json.loads(lines[2])
    page["results"] = results
    lines[2] = json.dumps(page)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sandbox.clear_log()
    with pytest.raises(lf.ConfigError, match="not readable") as info:
        make_client(sandbox, recorder).load("products", checkpoint=path)
    assert str(path) in str(info.value) and "line 3" in str(info.value)
    assert api_calls(sandbox) == []


@pytest.mark.parametrize("field,value", [("page", "two"), ("page", 0), ("count", "many"), ("next", [3])])
def test_a_damaged_page_number_or_count_is_a_config_error(sandbox, recorder, tmp_path, field, value):
    path = tmp_path / "products.ckpt"
    drain_checkpoint(sandbox, recorder, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    page = json.loads(lines[1])
    page[field] = value
    lines[1] = json.dumps(page)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(lf.ConfigError, match="not readable"):
        make_client(sandbox, recorder).load("products", checkpoint=path)


def test_a_damaged_lookup_checkpoint_is_a_config_error(sandbox, recorder, tmp_path):
    ids = [r["uuid"] for r in sandbox.data["items"][:12]]
    path = tmp_path / "items.lookup.jsonl"
    lookup_checkpoint(sandbox, recorder, path, ids)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = json.dumps({"id": ids[0], "row": "ok"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(lf.ConfigError, match="not readable"):
        make_client(sandbox, recorder).lookup("items", ids, checkpoint=path)


# -- a resumed run says so ---------------------------------------------------------------------------------------


def resumed_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if getattr(r, "event", None) == "resumed"]


def test_a_resumed_drain_says_how_many_pages_came_from_the_checkpoint(sandbox, recorder, tmp_path, caplog):
    path = tmp_path / "products.ckpt"
    drain_checkpoint(sandbox, recorder, path)
    kept = len(path.read_text(encoding="utf-8").splitlines()) - 1  # pages 1-4, and any on their way at the give-up
    with caplog.at_level(logging.INFO, logger="lucidframes"):
        make_client(sandbox, recorder).load("products", checkpoint=path)
    (line,) = resumed_lines(caplog)
    assert str(path) in line and f"{kept} pages taken from it" in line and f"{13 - kept} left" in line


def test_a_resumed_lookup_says_how_many_ids_came_from_the_checkpoint(sandbox, recorder, tmp_path, caplog):
    ids = [r["uuid"] for r in sandbox.data["items"][:12]]
    path = tmp_path / "items.lookup.jsonl"
    lookup_checkpoint(sandbox, recorder, path, ids)
    with caplog.at_level(logging.INFO, logger="lucidframes"):
        make_client(sandbox, recorder).lookup("items", ids, checkpoint=path)
    (line,) = resumed_lines(caplog)
    assert str(path) in line and "4 ids taken from it" in line and "8 left" in line


def test_fetch_says_it_resumed(sandbox, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    monkeypatch.setattr("time.sleep", lambda s: None)
    sandbox.fault(f"{PRODUCTS}?page=7", status=403, times=1)
    args = ["fetch", "products", "-o", str(tmp_path / "p.csv"), "--checkpoint", str(tmp_path / "p.ckpt"),
            "--workers", "1"]  # fmt: skip
    assert main(args) == 3
    kept = len((tmp_path / "p.ckpt").read_text(encoding="utf-8").splitlines()) - 1
    capsys.readouterr()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"{kept} pages taken from it" in err and f"{13 - kept} left" in err


def test_no_credential_in_a_drain_checkpoint_of_a_fixed_token(sandbox, recorder, tmp_path):
    token = sandbox.issue_token()
    path = tmp_path / "products.ckpt"
    sandbox.fault(f"{PRODUCTS}?page=3", status=403, times=1)
    client = make_client(sandbox, recorder, client_id=None, client_secret=None, token=token, workers=1)
    with pytest.raises(lf.ForbiddenError):
        client.load("products", checkpoint=path)
    text = path.read_text(encoding="utf-8")
    header = json.loads(text.splitlines()[0])
    assert token not in text and sandbox.client_secret not in text
    prefix = f"{sandbox.url}/api/v1.5/ as token:"
    assert header["scope"].startswith(prefix) and len(header["scope"][len(prefix) :]) == 12  # a digest, not it
    assert client.load("products", checkpoint=path)["uuid"].is_unique  # the same token resumes it
