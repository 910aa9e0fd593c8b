"""Issue 9, defect 9: workers is checked at every entry, and the pool is as large as the concurrency."""

from __future__ import annotations

import logging

import pytest

import lucidframes as lf

BAD = [0, -1, 65, True, "8", 2.5, None]


@pytest.mark.parametrize("workers", BAD, ids=repr)
def test_bad_workers_at_load(client, sandbox, workers):
    with pytest.raises(lf.ConfigError, match="workers"):
        client.load("products", workers=workers)
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []


@pytest.mark.parametrize("workers", BAD, ids=repr)
def test_bad_workers_at_iter_pages(client, sandbox, workers):
    with pytest.raises(lf.ConfigError, match="workers"):
        list(client.iter_pages("products", workers=workers))
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []


@pytest.mark.parametrize("workers", BAD, ids=repr)
def test_bad_workers_at_lookup(client, sandbox, workers):
    ids = [r["uuid"] for r in sandbox.list_rows("products")[:2]]
    with pytest.raises(lf.ConfigError, match="workers"):
        client.lookup("products", ids, workers=workers)
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []


@pytest.mark.parametrize("workers", [w for w in BAD if w is not None], ids=repr)
def test_bad_workers_at_the_client(sandbox, workers):
    with pytest.raises(lf.ConfigError, match="workers"):
        lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, workers=workers)


def test_many_workers_never_discard_connections(sandbox_factory, recorder, caplog):
    sb = sandbox_factory(sizes={"products": 400}, page_size=10, latency=0.03)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False)
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        df = client.load("products", workers=32)
    assert len(df) == 400
    assert "Connection pool is full" not in caplog.text
