"""Issue 9, defect 7: a token reply is checked before anything is sent with it; its lifetime is clamped."""

from __future__ import annotations

import logging

import pytest
from servers import api

import lucidframes as lf


def make_client(url, recorder):
    return lf.Client(url, "cid", "csecret-token-7", sleep=recorder, rate_limits=None, progress=False)


@pytest.mark.parametrize(
    "reply",
    [
        {"access_token": None, "expires_in": 3600},
        {"access_token": "", "expires_in": 3600},
        {"access_token": 123, "expires_in": 3600},
        {"access_token": "abc\ndef", "expires_in": 3600},
        {"access_token": "abc def", "expires_in": 3600},
        {"access_token": ["abc"], "expires_in": 3600},
        {"token_type": "Bearer", "expires_in": 3600},
        ["not", "an", "object"],
    ],
    ids=["null", "empty", "number", "newline", "space", "list", "missing", "array"],
)
def test_an_unusable_token_is_a_decode_error_and_nothing_is_sent(recorder, reply):
    with api(token=reply) as server:
        with make_client(server.url, recorder) as client, pytest.raises(lf.DecodeError):
            client.get_json("products/")
        assert server.api_requests() == []  # no API call with "None" (or anything else) as the token
        assert [r.path for r in server.requests] == ["/o/token/"]


@pytest.mark.parametrize("expires_in", [0, -5, None, "abc", 1, 0.5, "3600", float("nan")])
def test_an_odd_lifetime_still_keeps_the_token(recorder, caplog, expires_in):
    reply = {"access_token": "tok-0123456789", "token_type": "Bearer"}
    if expires_in is not None:
        reply["expires_in"] = expires_in if expires_in == expires_in else "NaN"
    with api(token=reply) as server, caplog.at_level(logging.WARNING, logger="lucidframes"):
        with make_client(server.url, recorder) as client:
            client.get_json("products/")
            client.get_json("products/")
        assert [r.path for r in server.requests].count("/o/token/") == 1  # not one token per request
        assert all(r.headers["authorization"] == "Bearer tok-0123456789" for r in server.api_requests())
    if expires_in in (0, -5, None, "abc") or expires_in != expires_in:
        # Not a silent guess: the lifetime chosen for a missing or unusable expires_in is said.
        assert any("expires_in" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [(None, 300), (0, 300), (-1, 300), ("abc", 300), (1, 30), (10, 30), (3600, 3600), (10**9, 86_400)],
)
def test_the_lifetime_rule(expires_in, lifetime):
    # The chosen rule (auth.py): missing/non-positive -> 300 s; otherwise clamped to [30 s, 86,400 s];
    # renewed a margin (min(60 s, 10 %)) before the end.
    from lucidframes._http.auth import ClientCredentials

    now = [0.0]
    replies = []

    def post(url, form):
        replies.append(url)
        return {"access_token": f"tok-{len(replies)}", "expires_in": expires_in}

    auth = ClientCredentials("http://127.0.0.1:9/o/token/", "cid", "secret", post, clock=lambda: now[0])
    assert auth.header() == "Bearer tok-1"
    margin = min(60.0, lifetime * 0.1)
    now[0] = lifetime - margin - 0.5
    assert auth.header() == "Bearer tok-1"
    now[0] = lifetime - margin + 0.5
    assert auth.header() == "Bearer tok-2"
