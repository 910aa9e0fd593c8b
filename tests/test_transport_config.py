"""Issue 9, defect 12: configuration mistakes are named before any request is made."""

from __future__ import annotations

import warnings

import pytest

import lucidframes as lf

VARIABLES = ("LUCID_BASE_URL", "LUCID_CLIENT_ID", "LUCID_CLIENT_SECRET", "LUCID_TOKEN")


@pytest.fixture
def clean_env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def says_missing(err, missing):
    """The message names the missing half, not "no credentials" (which names both and says neither is set)."""
    text = str(err)
    assert missing in text and "No credentials" not in text, text


def test_only_the_client_id_in_the_environment(clean_env, sandbox):
    clean_env.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    with pytest.raises(lf.ConfigError) as info:
        lf.Client(sandbox.url)
    says_missing(info.value, "LUCID_CLIENT_SECRET")
    assert sandbox.log == []


def test_only_the_client_secret_in_the_environment(clean_env, sandbox):
    clean_env.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    with pytest.raises(lf.ConfigError) as info:
        lf.Client(sandbox.url)
    says_missing(info.value, "LUCID_CLIENT_ID")
    assert sandbox.client_secret not in str(info.value)


def test_only_the_client_id_as_an_argument(clean_env, sandbox):
    with pytest.raises(lf.ConfigError) as info:
        lf.Client(sandbox.url, client_id=sandbox.client_id)
    says_missing(info.value, "LUCID_CLIENT_SECRET")


def test_only_the_client_secret_as_an_argument(clean_env, sandbox):
    with pytest.raises(lf.ConfigError) as info:
        lf.Client(sandbox.url, client_secret=sandbox.client_secret)
    says_missing(info.value, "LUCID_CLIENT_ID")
    assert sandbox.client_secret not in str(info.value)


@pytest.mark.parametrize(
    "base", ["https://source.lucidgreen.io/api/v1.5/", "https://source.lucidgreen.io/api/v1.5/products/"]
)
def test_a_base_url_with_the_api_path_says_host_only(clean_env, base):
    with pytest.raises(lf.ConfigError, match="host only"):
        lf.Client(base, "cid", "csecret-config-1")


def test_a_base_url_with_the_api_path_in_the_environment_says_host_only(clean_env):
    clean_env.setenv("LUCID_BASE_URL", "https://source.lucidgreen.io/api/v1.5/")
    with pytest.raises(lf.ConfigError, match="host only"):
        lf.Client(None, "cid", "csecret-config-1")


@pytest.mark.parametrize("placeholder", ["...", "<client-id>", "your-client-id", "<your secret>", "xxx", "changeme"])
@pytest.mark.parametrize("which", ["client_id", "client_secret", "token"])
def test_a_placeholder_is_refused_before_any_request(clean_env, sandbox, placeholder, which):
    given = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    if which == "token":
        given = {"token": placeholder}
    else:
        given[which] = placeholder
    with pytest.raises(lf.ConfigError, match="placeholder"):
        client = lf.Client(sandbox.url, **given, progress=False, rate_limits=None)
        client.get_json("products/")  # old code: only here would it fail (a 401 from the sandbox)
    assert sandbox.log == []


def test_a_placeholder_in_the_environment_is_refused(clean_env, sandbox):
    clean_env.setenv("LUCID_CLIENT_ID", "...")
    clean_env.setenv("LUCID_CLIENT_SECRET", "<client-secret>")
    with pytest.raises(lf.ConfigError, match="LUCID_CLIENT_ID"):
        lf.Client(sandbox.url, progress=False).get_json("products/")
    assert sandbox.log == []


def test_a_token_beside_client_credentials_is_said_once(clean_env, sandbox, recorder):
    clean_env.setenv("LUCID_TOKEN", sandbox.issue_token())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, progress=False,
                           rate_limits=None)  # fmt: skip
        client.get_json("products/")
        client.get_json("products/")
    config = [w for w in caught if w.category.__name__ == "ConfigWarning"]
    assert len(config) == 1
    assert "LUCID_TOKEN" in str(config[0].message)
    assert client.auth.renewable  # the client credentials win
