"""Issue 17, item 5: ``lf.load``/``lf.lookup`` take ``max_age=`` as Client.load does (the shorthand uses the default
cache folder, or a folder of the process for the sandbox), and ``Client.load`` builds its drain once."""

from __future__ import annotations

import pytest

import lucidframes as lf
from lucidframes.loaders import state


def _api_requests(sb):
    return [e for e in sb.log if e.path.startswith("/api/")]


@pytest.fixture
def env_on(sandbox, monkeypatch, tmp_path):
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.setenv("LUCID_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    return tmp_path / "cache"


def test_lf_load_with_max_age_uses_the_default_cache_folder(sandbox, env_on):
    first = lf.load("products", max_age="1h")
    sent = len(_api_requests(sandbox))
    assert sent > 1 and env_on.is_dir()  # fetched, and stored in LUCID_CACHE_DIR
    again = lf.load("products", max_age="1h")
    assert len(_api_requests(sandbox)) == sent  # served from the cache: no request
    assert again.attrs["lucidframes"]["cache"]["hit"] is True
    assert again.equals(first)


def test_lf_load_without_max_age_writes_no_cache(sandbox, env_on):
    lf.load("products", page=1)
    assert not env_on.exists()  # nothing of a brand's data lands on disk unasked


def test_lf_lookup_with_max_age_asks_each_id_once(sandbox, env_on):
    ids = lf.load("products", page=1)["uuid"].head(3).tolist()
    before = len(_api_requests(sandbox))
    lf.lookup("products", ids, max_age="1h")
    lf.lookup("products", ids, max_age="1h")
    assert len(_api_requests(sandbox)) == before + 3


def test_lf_load_sandbox_true_with_max_age_is_served_from_cache():
    try:
        lf.load("products", sandbox=True, max_age="1h", progress=False)
        sb = lf.shared_sandbox()
        sent = len(_api_requests(sb))
        df = lf.load("products", sandbox=True, max_age="1h", progress=False)
        assert len(_api_requests(sb)) == sent
        assert df.attrs["lucidframes"]["cache"]["hit"] is True
    finally:
        lf.close_shared_sandbox()


def test_client_load_reads_a_checkpoint_once(client, tmp_path, monkeypatch):
    ckpt = tmp_path / "products.ckpt"
    reads = []
    original = state.Checkpoint.read

    def counting(self):
        reads.append(self.path)
        return original(self)

    monkeypatch.setattr(state.Checkpoint, "read", counting)
    client.load("products", checkpoint=ckpt)
    assert reads == [ckpt]  # one drain built, so the file is read once (it was read twice)
