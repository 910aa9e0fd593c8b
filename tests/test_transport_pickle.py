"""Issue 9, defect 8: every error round-trips through pickle with its fields, and never with a credential."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

import lucidframes as lf

ERRORS = sorted(
    name for name in lf.__all__ if isinstance(getattr(lf, name), type) and issubclass(getattr(lf, name), BaseException)
)
HISTORY = [lf.Attempt(503, None, 1.0), lf.Attempt(None, "ConnectionError", 2.0), lf.Attempt(200, None, 0.0)]
PARTIAL = pd.DataFrame({"uuid": ["a", "b"], "n": [1, 2]})


def example(cls):
    """An instance of ``cls`` with every field it has set to something recognisable."""
    # Compared by name, so that one class missing (in an older version) does not break the others' examples.
    name = cls.__name__
    status = {"RedirectError": 302, "RateLimitError": 429, "NotFoundError": 404, "AuthenticationError": 401}
    if issubclass(cls, lf.HTTPStatusError):
        kwargs = {"status_code": status.get(cls.__name__, 400), "body": {"detail": "Nope.", "lucid_ids": ["bad"]},
                  "method": "POST", "url": "http://127.0.0.1:9/api/v1.5/x/", "history": HISTORY}  # fmt: skip
        if name == "RedirectError":
            kwargs["location"] = "http://elsewhere.example/x"
        if name == "RateLimitError":
            kwargs["retry_after"] = 30.0
        if name == "UnknownLucidIDError":
            kwargs["unknown_ids"] = ["ABCDEFGHJKLMNPQRSTUV"]
        err = cls(f"{cls.__name__} happened", **kwargs)
    elif issubclass(cls, lf.APIError):
        err = cls(f"{cls.__name__} happened", method="GET", url="http://127.0.0.1:9/api/", history=HISTORY)
        err.partial, err.resume = PARTIAL, {"pages": [1, 2]}
    elif name == "DrainInterrupted":
        err = cls("interrupted", partial=PARTIAL, resume={"pages": [1]})
    elif name == "UnknownEndpointError":
        err = cls("prodcts", ["products"])
    elif name == "LucidIDValidationError":
        err = cls("bad ids", report={"bad": 1})
    else:
        err = cls(f"{cls.__name__} happened")
    return err


def same(a, b):
    assert type(a) is type(b)
    assert str(a) == str(b) and a.args == b.args
    assert set(vars(a)) == set(vars(b))
    for key, value in vars(a).items():
        other = vars(b)[key]
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, other)
        else:
            assert other == value, key


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_class_round_trips(name):
    err = example(getattr(lf, name))
    back = pickle.loads(pickle.dumps(err))
    same(err, back)


def test_the_fields_survive():
    assert pickle.loads(pickle.dumps(example(lf.RateLimitError))).retry_after == 30.0
    err = pickle.loads(pickle.dumps(example(lf.RedirectError)))
    assert (err.status_code, err.location, err.history, err.detail) == (
        302, "http://elsewhere.example/x", HISTORY, "Nope.")  # fmt: skip
    assert pickle.loads(pickle.dumps(example(lf.UnknownLucidIDError))).unknown_ids == ["ABCDEFGHJKLMNPQRSTUV"]
    bad = example(lf.BadRequestError)
    assert bad.reasons["lucid_ids"] == ["bad"]
    assert pickle.loads(pickle.dumps(bad)).reasons == bad.reasons
    stopped = pickle.loads(pickle.dumps(example(lf.DrainStopped)))
    pd.testing.assert_frame_equal(stopped.partial, PARTIAL)
    assert stopped.resume == {"pages": [1, 2]}
    interrupted = pickle.loads(pickle.dumps(example(lf.DrainInterrupted)))
    assert isinstance(interrupted, KeyboardInterrupt) and interrupted.resume == {"pages": [1]}


def test_a_real_give_up_round_trips_and_resumes(sandbox_factory, recorder):
    sb = sandbox_factory(sizes={"products": 30}, page_size=10)
    sb.fault("/api/v1.5/products/?page=3", status=503, times=6)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                       workers=1)  # fmt: skip
    with pytest.raises(lf.ServerError) as info:
        client.load("products")
    auth = client.auth
    token = auth.header().removeprefix("Bearer ") if hasattr(auth, "header") else auth.token()
    data = pickle.dumps(info.value)
    assert token.encode() not in data and sb.client_secret.encode() not in data
    back = pickle.loads(data)
    same(info.value, back)
    assert back.status_code == 503 and len(back.history) == 6
    assert len(back.partial) == 20  # pages 1 and 2
    df = client.load("products", resume=back.resume)  # the unpickled state still resumes
    assert df["uuid"].tolist() == [r["uuid"] for r in sb.list_rows("products")]
    assert [e.query for e in sb.log if e.path == "/api/v1.5/products/"][-1:] in (["page=3"], [""])


def test_a_real_auth_error_holds_no_secret(sandbox, recorder):
    client = lf.Client(sandbox.url, sandbox.client_id, "wrong-secret-123", sleep=recorder, rate_limits=None,
                       progress=False)  # fmt: skip
    with pytest.raises(lf.AuthenticationError) as info:
        client.get_json("products/")
    data = pickle.dumps(info.value)
    assert b"wrong-secret-123" not in data
    same(info.value, pickle.loads(data))
