"""Issue 19, defect 8: odd arguments and odd cells get typed errors naming what is wrong, never a raw exception from
deep inside (InvalidOperation, OverflowError, TypeError); the send guard's error pickles; a non-ASCII byte in a
Basic header is a bad credential to the sandbox, not a 500."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pandas as pd
import pytest
import requests

import lucidframes as lf

GOOD = "23456789ABCDEFGHJKLM"


@pytest.mark.parametrize("cell", [Decimal("sNaN"), Decimal("-sNaN")])
def test_a_signalling_nan_cell_is_a_typed_error(cell):
    for data in (pd.DataFrame({"id": [GOOD, cell]}), [GOOD, cell]):
        with pytest.raises(lf.ConfigError, match="signalling NaN"):
            lf.validate_lucid_ids(data, columns="id" if isinstance(data, pd.DataFrame) else None)


def test_a_signalling_nan_in_a_submission_is_refused_before_sending(sandbox, client):
    with pytest.raises(lf.ConfigError, match="signalling NaN"):
        client.submit("transactions_complete", {"items": [Decimal("sNaN")], "order_id": "1", "performed_at": "x"})
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []


@pytest.mark.parametrize("cell", [1 + 2j, complex("nan+1j"), Decimal("NaN")])
def test_complex_and_quiet_nan_cells_are_reported_not_raised(cell):
    report = lf.validate_lucid_ids(pd.DataFrame({"id": [GOOD, cell]}), columns="id")
    assert not report.ok and report.failures["reason"].tolist()[0] in ("not_a_string", "missing")
    assert repr(report) and report.to_html()


def test_the_send_guards_error_pickles(sandbox, client):
    with pytest.raises(lf.LucidIDValidationError) as caught:
        client.submit("transactions_complete", {"items": ["bad", GOOD], "order_id": "1", "performed_at": "x"})
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value)
    pd.testing.assert_frame_equal(again.report.failures, caught.value.report.failures)
    with pytest.raises(ValueError, match="valid_rows"):  # the way back to the input stays behind, and says so
        again.report.valid_rows()


def test_a_huge_max_age_is_a_config_error(sandbox_factory, tmp_path):
    sb = sandbox_factory()
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, progress=False, rate_limits=None, cache=tmp_path)
    with pytest.raises(lf.ConfigError, match="max_age"):
        client.load("brands", max_age=10**400)
    with pytest.raises(lf.ConfigError, match="max_age"):
        client.lookup("products", ["3kTMd7ZxQ9pWvR5yHn2Jcs"], max_age=-(10**400))


@pytest.mark.parametrize("option", ["timeout", "deadline"])
def test_a_huge_number_of_seconds_is_a_config_error(option):
    with pytest.raises(lf.ConfigError, match=option):
        lf.Client("http://127.0.0.1:9", "cid", "csecret-huge", progress=False, **{option: 10**400})
    with pytest.raises(lf.ConfigError, match="window"):
        lf.Client("http://127.0.0.1:9", "cid", "csecret-huge", progress=False, rate_limits={"source": (5, 10**400)})


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda df, tmp: lf.export(df, 123), "path"),
        (lambda df, tmp: lf.export(df, tmp / "out.duckdb", table=5), "table"),
        (lambda df, tmp: lf.export(df, tmp / "out.csv", format=7), "format"),
        (lambda df, tmp: lf.export([1, 2], tmp / "out.csv"), "DataFrame"),
    ],
)
def test_export_names_the_argument_of_the_wrong_type(tmp_path, call, named):
    with pytest.raises(lf.ConfigError, match=named):
        call(pd.DataFrame({"a": [1]}), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("how", ["load", "lookup", "iter_pages", "plan"])
def test_a_checkpoint_that_is_not_a_path_is_a_config_error(sandbox, client, how):
    calls = {
        "load": lambda: client.load("products", checkpoint=123),
        "lookup": lambda: client.lookup("products", ["3kTMd7ZxQ9pWvR5yHn2Jcs"], checkpoint=123),
        "iter_pages": lambda: client.iter_pages("products", checkpoint=123),
        "plan": lambda: client.plan("products", ids=["3kTMd7ZxQ9pWvR5yHn2Jcs"], checkpoint=123),
    }
    with pytest.raises(lf.ConfigError, match="checkpoint"):
        calls[how]()
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []


@pytest.mark.parametrize("value", [None, "", 20241201])
def test_an_export_date_that_is_not_text_is_refused_not_sent(sandbox, client, value):
    with pytest.raises(lf.ConfigError, match="export_date"):
        client.load("package_uids_export", export_date=value)
    assert [e for e in sandbox.log if e.path.startswith("/api/")] == []  # never ?export_date=None


def test_an_export_date_may_be_a_date(sandbox, client):
    import datetime as dt

    df = client.load("package_uids_export", export_date=dt.date(2024, 6, 1))
    assert len(df) > 0
    assert any("export_date=2024-06-01" in e.query for e in sandbox.log)


@pytest.mark.parametrize("header", [b"Basic \xe9\xe9\xe9", b"Basic Y2lk\xff", b"Basic \x80"])
def test_the_sandbox_answers_a_non_ascii_basic_header_with_401(sandbox, header):
    reply = requests.post(f"{sandbox.url}/o/token/", data={"grant_type": "client_credentials"},
                          headers={"Authorization": header}, timeout=5)  # fmt: skip
    assert reply.status_code == 401 and reply.json() == {"error": "invalid_client"}
