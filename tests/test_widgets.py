"""The Explorer widget driven without a browser (set values, click buttons, wait) against the sandbox.

ipywidgets' Button swallows callback exceptions (it logs them); the autouse fixture below makes every callback
exception raise in the test instead, fails the test on any warning ipywidgets or the Explorer logs, and turns an
exception escaping the Explorer's background thread into a test error.
"""

from __future__ import annotations

import logging

import ipywidgets as widgets
import pandas as pd
import pytest
import requests
from helpers import PRODUCTS, expected, pages_requested
from ipywidgets.widgets.widget import CallbackDispatcher

import lucidframes as lf
from lucidframes.endpoints import ASSET_TYPES
from lucidframes.widgets import Explorer, explore, listable_endpoints

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

WAIT = 60  # seconds: generous; a fetch against the local sandbox takes well under one


def _raise_from_callbacks(self: CallbackDispatcher, *args, **kwargs):
    """CallbackDispatcher.__call__ without the try/except that logs and swallows exceptions."""
    value = None
    for callback in self.callbacks:
        local = callback(*args, **kwargs)
        value = local if local is not None else value
    return value


@pytest.fixture(autouse=True)
def callbacks_fail_loudly(monkeypatch, caplog):
    """Make a failing button callback fail the test; fail on anything ipywidgets or the Explorer logs."""
    monkeypatch.setattr(CallbackDispatcher, "__call__", _raise_from_callbacks)
    caplog.set_level(logging.WARNING)
    yield
    noisy = [r for r in caplog.records if r.name.split(".")[0] in ("traitlets", "ipywidgets", "lucidframes")]
    assert not noisy, [r.getMessage() for r in noisy]


def texts(ex: Explorer) -> str:
    """Everything the Explorer shows as text."""
    parts = [ex.status, ex.preview, ex.report, ex.page_info, ex.progress_label, ex.endpoint_info, ex.validate_note,
             ex.export_note]  # fmt: skip
    return "\n".join(w.value for w in parts)


@pytest.fixture
def explorer(client, sandbox):
    """An Explorer on the sandbox client (no waits, no client-side rate limit); the secret never shows."""
    ex = Explorer(client)
    yield ex
    ex.close()
    assert sandbox.client_secret not in texts(ex)
    assert "Bearer" not in texts(ex)


def run(ex: Explorer, button: widgets.Button) -> Explorer:
    """Click a button and wait for the background fetch it started."""
    button.click()
    assert ex.wait(WAIT), "the fetch did not finish"
    return ex


# -- the picker --------------------------------------------------------------------------------------------------


def test_endpoint_picker_offers_the_registrys_lists(explorer):
    assert [value for _, value in explorer.endpoint.options] == [ep.name for ep in listable_endpoints()]
    assert {"products", "batches", "assets", "brands"} <= {v for _, v in explorer.endpoint.options}
    assert "items" not in {v for _, v in explorer.endpoint.options}  # look-up only: no list to fetch
    assert isinstance(explorer.asset_type, widgets.Dropdown)
    assert tuple(explorer.asset_type.options) == ASSET_TYPES
    assert explorer.asset_type.layout.display == "none"  # products take no path parameter
    explorer.endpoint.value = "assets"
    assert explorer.asset_type.layout.display is None
    assert explorer.export_name.value == "assets-texts"
    assert explorer.page.max > 1000  # not bounded before the page count is known
    assert "after the first fetch" in explorer.page_info.value


# -- fetching ------------------------------------------------------------------------------------------------------


def test_fetch_page_shows_rows_and_learns_the_page_count(explorer, sandbox, client):
    run(explorer, explorer.fetch_page_button)
    df = explorer.df
    pd.testing.assert_frame_equal(df, client.load("products", page=1))
    assert len(df) == 100
    assert "100 rows × 6 columns" in explorer.preview.value
    assert df["uuid"].iloc[0] in explorer.preview.value
    assert (explorer.page_count, explorer.page_size, explorer.page.max) == (13, 100, 13)
    assert "1,203 rows" in explorer.page_info.value and "13 pages" in explorer.page_info.value
    assert "100 per page" in explorer.page_info.value
    assert (explorer.progress.value, explorer.progress.max) == (1, 1)
    assert "Fetched page 1 of products: 100 rows" in explorer.status.value
    assert list(explorer.validate_column.options) == list(df.columns)
    assert (explorer.validate_column.value, explorer.validate_kind.value) == ("uuid", "uuid")
    assert not explorer.fetch_page_button.disabled and explorer.stop_button.disabled

    explorer.page.value = 40
    assert explorer.page.value == 13  # bounded by the page count
    run(explorer, explorer.fetch_page_button)
    pd.testing.assert_frame_equal(explorer.df, client.load("products", page=13))
    assert len(explorer.df) == 3


def test_fetch_all_drains_every_page_with_the_progress_bar(explorer, sandbox):
    run(explorer, explorer.fetch_all_button)
    pd.testing.assert_frame_equal(explorer.df, expected(sandbox))
    assert explorer.df.attrs["lucidframes"]["complete"] is True
    assert (explorer.progress.value, explorer.progress.max) == (13, 13)
    assert explorer.progress.bar_style == "success"
    assert "13 / 13 pages · 1,203 rows" in explorer.progress_label.value
    assert "1,203 rows × 6 columns" in explorer.preview.value
    assert explorer.page.max == 13 and explorer.page_size == 100
    assert sorted(pages_requested(sandbox)) == [1, *range(1, 14)]  # page 1 again: the final consistency re-read


def test_path_parameters_and_an_unpaginated_list(explorer, sandbox):
    explorer.endpoint.value = "assets"
    explorer.asset_type.value = "images"
    run(explorer, explorer.fetch_all_button)
    pd.testing.assert_frame_equal(explorer.df, expected(sandbox, "assets", asset_type="images"))
    assert "assets (asset_type=images)" in explorer.status.value
    assert any(e.path == "/api/v1.5/assets/images/" for e in sandbox.log)

    explorer.endpoint.value = "brands"  # a bare JSON array: no pages to pick
    assert explorer.page.disabled
    run(explorer, explorer.fetch_page_button)
    pd.testing.assert_frame_equal(explorer.df, expected(sandbox, "brands"))
    assert explorer.page_count == 1 and explorer.page.disabled


def test_stop_mid_drain_keeps_the_partial_result_and_fetch_all_continues(sandbox_factory, recorder):
    sb = sandbox_factory(latency=0.05)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False)
    ex = Explorer(client)

    def stop_after_first_page(change):
        if change["new"] >= 1:
            ex.stop_button.click()  # in the drain thread, from its progress callback

    ex.progress.observe(stop_after_first_page, names="value")
    run(ex, ex.fetch_all_button)
    ex.progress.unobserve(stop_after_first_page, names="value")
    assert isinstance(ex.last_error, lf.DrainStopped)
    assert len(ex.df) == 100 and ex.df.attrs["lucidframes"]["complete"] is False
    assert "Stopped" in ex.status.value and "partial result (100 rows so far)" in ex.status.value
    assert "(partial)" in ex.preview.value
    assert ex.progress.bar_style == "warning"
    assert not ex.fetch_all_button.disabled and ex.stop_button.disabled

    run(ex, ex.fetch_all_button)  # continues from the stopped drain: page 1 is not fetched again...
    pd.testing.assert_frame_equal(ex.df, expected(sb))
    assert pages_requested(sb).count(1) == 2  # ...except for the final consistency re-read
    assert "(continuing)" not in ex.status.value and "Fetched products: 1,203 rows" in ex.status.value
    ex.close()
    client.close()


def test_a_second_click_while_fetching_is_refused_politely(sandbox_factory, recorder):
    sb = sandbox_factory(latency=0.2)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None) as client:
        ex = Explorer(client)
        ex.fetch_page_button.click()
        assert ex.busy and ex.fetch_all_button.disabled and not ex.stop_button.disabled
        ex.fetch_all_button.click()
        assert "Still fetching" in ex.status.value
        assert ex.wait(WAIT)
        assert len(ex.df) == 100
        ex.close()


# -- validating and exporting --------------------------------------------------------------------------------------


def test_validate_shows_the_report(explorer):
    explorer.validate_button.click()
    assert "Nothing to validate yet" in explorer.validate_note.value  # next to the button (issue 22)
    run(explorer, explorer.fetch_page_button)
    explorer.validate_button.click()
    assert "all cells pass" in explorer.report.value
    assert "uuid: all 100 rows pass the uuid check" in explorer.validate_note.value

    explorer.validate_column.value = "name"
    assert explorer.validate_kind.value == "lucid_id"
    explorer.validate_button.click()
    report = explorer.last_report
    assert not report.ok and len(report.failures) == 100
    assert explorer.report.value == report._repr_html_()
    assert "failing cell" in explorer.report.value
    assert "100 failing cell(s) in 100 of 100 rows" in explorer.validate_note.value


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_the_file_and_shows_its_path(explorer, tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    explorer.export_button.click()
    assert "Nothing to export yet" in explorer.export_note.value  # next to the button (issue 22)
    run(explorer, explorer.fetch_all_button)
    explorer.export_name.value = str(tmp_path / "products")
    explorer.export_format.value = fmt
    explorer.export_button.click()
    path = tmp_path / f"products.{fmt}"
    assert explorer.last_export == path.resolve()
    assert f"Wrote 1,203 rows to {path.resolve()}" in explorer.export_note.value
    back = pd.read_csv(path, dtype=str) if fmt == "csv" else pd.read_parquet(path)
    assert back["uuid"].tolist() == explorer.df["uuid"].tolist()
    if fmt == "parquet":
        assert str(back["is_published"].dtype) == "boolean"


def test_export_errors_show_in_the_status(explorer, tmp_path):
    run(explorer, explorer.fetch_page_button)
    explorer.export_name.value = str(tmp_path / "missing" / "out.csv")
    explorer.export_button.click()
    note = explorer.export_note  # beside Export, not in the status line (issue 22)
    assert "Error while exporting" in note.value and "does not exist" in note.value
    explorer.export_name.value = "  "
    explorer.export_button.click()
    assert "Type a file name" in note.value


# -- errors appear in the widget -------------------------------------------------------------------------------


def test_auth_failure_is_shown_without_the_secret(sandbox, recorder):
    wrong = "not-the-secret-" + "x" * 12
    with lf.Client(sandbox.url, sandbox.client_id, wrong, sleep=recorder, rate_limits=None) as client:
        ex = Explorer(client)
        run(ex, ex.fetch_page_button)
        assert isinstance(ex.last_error, lf.AuthenticationError)
        assert "Error while fetching products" in ex.status.value
        assert "refused (HTTP 401" in ex.status.value
        assert wrong not in texts(ex) and sandbox.client_secret not in texts(ex)
        assert ex.df is None and ex.progress.bar_style == "danger"
        ex.close()


def test_a_page_beyond_the_end_shows_the_404(explorer):
    explorer.page.value = 99  # the page count is not known yet, so the picker allows it
    run(explorer, explorer.fetch_page_button)
    assert isinstance(explorer.last_error, lf.NotFoundError)
    assert "404 Not Found: Invalid page" in explorer.status.value
    assert explorer.df is None


def test_an_unknown_asset_type_is_refused_before_anything_is_sent(explorer, sandbox):
    explorer.endpoint.value = "assets"
    explorer.asset_type.options = [*ASSET_TYPES, "image"]  # a value the library refuses (say, a stale list)
    explorer.asset_type.value = "image"
    run(explorer, explorer.fetch_all_button)
    assert isinstance(explorer.last_error, lf.ConfigError)
    assert "asset_type='image' is not one of texts, images, videos, files. Did you mean 'images'?" in (
        explorer.status.value
    )
    assert not any("/assets/" in e.path for e in sandbox.log)


def test_a_rate_limit_keeps_the_partial_result(explorer, sandbox):
    sandbox.fault(f"{PRODUCTS}?page=5", status=429, retry_after=1000)  # above the ceiling: fails fast
    run(explorer, explorer.fetch_all_button)
    assert isinstance(explorer.last_error, lf.RateLimitError)
    assert "429 Too Many Requests" in explorer.status.value
    assert "Kept the" in explorer.status.value and "(partial)" in explorer.preview.value
    assert 0 < len(explorer.df) < 1203
    run(explorer, explorer.fetch_all_button)  # the fault is used up: Fetch all continues and completes
    pd.testing.assert_frame_equal(explorer.df, expected(sandbox))


def test_a_network_failure_is_shown(sandbox_factory, recorder):
    sb = sandbox_factory()
    url = sb.url
    sb.close()  # nothing listens there any more
    with lf.Client(url, "id", "secret-never-shown", sleep=recorder, rate_limits=None) as client:
        ex = Explorer(client)
        run(ex, ex.fetch_page_button)
        assert isinstance(ex.last_error, lf.ConnectError)
        assert "the connection was refused" in ex.status.value and "127.0.0.1" in ex.status.value
        assert "secret-never-shown" not in texts(ex)
        ex.close()


def test_a_validation_error_is_shown(explorer):
    run(explorer, explorer.fetch_page_button)
    explorer.df = explorer.df.drop(columns="uuid")  # the next cell changed the data under the widget
    explorer.validate_button.click()
    assert isinstance(explorer.last_error, KeyError)
    assert "Error while validating: no column 'uuid'" in explorer.validate_note.value


def test_an_unexpected_failure_is_shown_and_logged(explorer, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("preview broke")

    monkeypatch.setattr(explorer, "_show", broken)
    run(explorer, explorer.fetch_page_button)
    assert "Unexpected RuntimeError while fetching products: preview broke" in explorer.status.value
    assert explorer.progress.bar_style == "danger" and not explorer.fetch_page_button.disabled
    assert [r.getMessage() for r in caplog.records if r.name == "lucidframes.widgets"] == [
        "Unexpected error while fetching products"
    ]
    caplog.clear()  # expected here: the autouse fixture fails on any other


def test_a_failing_callback_fails_the_test():
    """The safety net itself: with the fixture, a callback's exception reaches the test."""
    button = widgets.Button()
    button.on_click(lambda _: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        button.click()


# -- lf.explore ------------------------------------------------------------------------------------------------


def test_explore_on_the_sandbox_displays_and_closes_it():
    ex = lf.explore(sandbox=True)
    try:
        bundle = ex._repr_mimebundle_()
        assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.box.model_id
        assert bundle["text/plain"].startswith("<Explorer 'products' on http://127.0.0.1:")
        run(ex, ex.fetch_page_button)
        assert ex.df.shape == (100, 6)
        url = ex.client.base_url
    finally:
        ex.close()
    assert "Closed" in ex.status.value and ex.fetch_page_button.disabled
    # Issue 22: it explores lf.shared_sandbox(), which runs on after the Explorer closes, until exit or until
    # lf.close_shared_sandbox() (which stops it).
    assert ex.sandbox is lf.shared_sandbox() and requests.get(url, timeout=5).status_code
    lf.close_shared_sandbox()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    ex.fetch_page_button.click()  # a click after close says so
    assert "closed" in ex.status.value


def test_explore_from_the_environment(monkeypatch, sandbox):
    for name in ("LUCID_BASE_URL", "LUCID_CLIENT_ID", "LUCID_CLIENT_SECRET", "LUCID_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(lf.ConfigError, match=r"lf\.explore\(sandbox=True\)"):
        explore()
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    with explore() as ex:
        run(ex, ex.fetch_page_button)
        assert len(ex.df) == 100
    with pytest.raises(lf.ConfigError, match="not both"):
        explore(ex.client, sandbox=True)
