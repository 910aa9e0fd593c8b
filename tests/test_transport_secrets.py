"""Issue 9, defect 5: no frame local of ours holds the access token or the client secret."""

from __future__ import annotations

import pickle
import traceback
from pathlib import Path

import pytest

import lucidframes as lf

PACKAGE = Path(lf.__file__).resolve().parent


def leaks(err, secrets):
    """(filename, function, local name) of every frame of ours whose captured locals show a secret."""
    found = []
    seen = set()
    todo = [traceback.TracebackException.from_exception(err, capture_locals=True)]
    while todo:
        tb = todo.pop()
        if tb is None or id(tb) in seen:
            continue
        seen.add(id(tb))
        for frame in tb.stack:
            if not Path(frame.filename).resolve().is_relative_to(PACKAGE):
                continue
            for name, value in (frame.locals or {}).items():
                if any(s in value for s in secrets):
                    found.append((Path(frame.filename).name, frame.name, name))
        todo += [tb.__cause__, tb.__context__]
    return found


def frames_of_ours(err):
    tb = traceback.TracebackException.from_exception(err, capture_locals=True)
    return [f for f in tb.stack if Path(f.filename).resolve().is_relative_to(PACKAGE)]


def client_for(sb, recorder, secret=None):
    return lf.Client(sb.url, sb.client_id, secret or sb.client_secret, sleep=recorder, rate_limits=None,
                     progress=False, workers=1)  # fmt: skip


def token_of(client):
    """The client's cached access token (``header()`` gives "Bearer <token>"; the old provider had ``token()``)."""
    auth = client.auth
    return auth.header().removeprefix("Bearer ") if hasattr(auth, "header") else auth.token()


def test_a_404_shows_no_token_or_secret(sandbox, recorder):
    client = client_for(sandbox, recorder)
    with pytest.raises(lf.NotFoundError) as info:
        client.get_json("products/00000000-0000-0000-0000-000000000000/")
    token = token_of(client)
    assert frames_of_ours(info.value)  # the walk does see our frames
    assert leaks(info.value, [token, sandbox.client_secret]) == []
    assert token not in str(info.value) and sandbox.client_secret not in pickle.dumps(info.value).decode("latin-1")


def test_a_refused_token_request_shows_no_secret(sandbox, recorder):
    secret = "wrong-secret-123"
    client = client_for(sandbox, recorder, secret)
    with pytest.raises(lf.AuthenticationError) as info:
        client.get_json("products/")
    assert frames_of_ours(info.value)
    assert leaks(info.value, [secret, sandbox.client_secret]) == []
    assert secret not in str(info.value)


def test_a_give_up_shows_no_token_or_secret(sandbox, recorder):
    sandbox.fault("/api/v1.5/products/", status=503, times=6)
    client = client_for(sandbox, recorder)
    with pytest.raises(lf.ServerError) as info:
        client.load("products")
    token = token_of(client)
    assert recorder.waits == [1, 2, 4, 8, 16]
    assert frames_of_ours(info.value)
    assert leaks(info.value, [token, sandbox.client_secret]) == []


def test_a_fixed_token_is_not_in_the_locals_either(sandbox, recorder):
    token = sandbox.issue_token()
    client = lf.Client(sandbox.url, token=token, sleep=recorder, rate_limits=None, progress=False)
    with pytest.raises(lf.NotFoundError) as info:
        client.get_json("products/00000000-0000-0000-0000-000000000000/")
    assert leaks(info.value, [token]) == []
