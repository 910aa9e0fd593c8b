"""The Explorer can be trusted: a preview says where it came from and never passes for another endpoint's data,
counts agree after a resume, Export does not overwrite silently, and the Look up mode sends nothing for a bad id."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import PRODUCTS, expected
from test_widgets import WAIT, callbacks_fail_loudly, run, texts  # noqa: F401  (the autouse fixture)

import lucidframes as lf
from lucidframes.widgets import Explorer
from lucidframes.widgets.lookup import PASTED, parse_ids, plan_text

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


@pytest.fixture
def explorer(client, sandbox):
    ex = Explorer(client)
    yield ex
    ex.close()
    assert sandbox.client_secret not in texts(ex) and "Bearer" not in texts(ex)


def test_the_preview_is_captioned_with_where_it_came_from(explorer):
    run(explorer, explorer.fetch_page_button)
    assert "From products: page 1, fetched " in explorer.preview.value
    run(explorer, explorer.fetch_all_button)
    assert "From products: pages 1-13 (every page)" in explorer.preview.value
    explorer.endpoint.value = "assets"
    explorer.asset_type.value = "images"
    run(explorer, explorer.fetch_all_button)
    assert "From assets (asset_type=images): page" in explorer.preview.value


def test_switching_the_endpoint_marks_the_preview_stale_and_disables_validate_and_export(explorer):
    run(explorer, explorer.fetch_all_button)
    assert not explorer.stale and not explorer.validate_button.disabled and not explorer.export_button.disabled
    explorer.endpoint.value = "batches"
    assert explorer.stale
    assert "Stale:" in explorer.preview.value and "this is products, not the selection" in explorer.preview.value
    assert "opacity:0.35" in explorer.preview.value and "lucidframes-stale" in explorer.preview._dom_classes
    assert explorer.validate_button.disabled and explorer.export_button.disabled
    explorer.export_button.click()  # a click from code is refused as well
    assert "Not exporting products while batches is selected" in explorer.export_note.value
    explorer.endpoint.value = "products"  # back to what the preview shows: current again
    assert not explorer.stale and "Stale:" not in explorer.preview.value and not explorer.export_button.disabled


def test_a_fetch_clears_the_preview_while_it_runs(sandbox_factory, recorder):
    sb = sandbox_factory(latency=0.05)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False) as c:
        ex = Explorer(c)
        ex.endpoint.value = "batches"
        run(ex, ex.fetch_page_button)
        ex.endpoint.value = "products"
        ex.fetch_all_button.click()
        assert ex.busy
        assert ex.df is None and "<table" not in ex.preview.value and "Fetching products" in ex.preview.value
        assert ex.validate_button.disabled and ex.export_button.disabled
        assert ex.wait(WAIT)
        assert "From products: pages 1-13" in ex.preview.value and len(ex.df) == 1203
        ex.close()


def test_a_failed_fetch_leaves_no_previous_table(explorer, sandbox):
    run(explorer, explorer.fetch_all_button)
    explorer.page.value = 5
    sandbox.fault(f"{PRODUCTS}?page=5", status=404, times=1)
    run(explorer, explorer.fetch_page_button)
    assert isinstance(explorer.last_error, lf.NotFoundError)
    assert explorer.df is None and "<table" not in explorer.preview.value and "failed" in explorer.preview.value
    assert explorer.export_button.disabled and explorer.validate_button.disabled


def test_counts_agree_after_stop_and_resume(sandbox_factory, recorder):
    sb = sandbox_factory(latency=0.05)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False)
    ex = Explorer(client)
    labels: list[str] = []

    def stop_after_first_page(change):
        if change["new"] >= 1:
            ex.stop_button.click()

    ex.progress.observe(stop_after_first_page, names="value")
    run(ex, ex.fetch_all_button)
    ex.progress.unobserve(stop_after_first_page, names="value")
    assert ex.progress.value <= ex.progress.max and "stopped at" in ex.progress_label.value
    stopped_rows = len(ex.df)
    assert f"{stopped_rows:,} rows" in ex.progress_label.value
    ex.progress_label.observe(lambda change: labels.append(change["new"]), names="value")
    run(ex, ex.fetch_all_button)
    assert "13 / 13 pages · 1,203 rows" in ex.progress_label.value and "1,203 rows × 6 columns" in ex.status.value
    during = [label for label in labels if " / 13 pages" in label]
    assert during and all(
        int(label.split("· ")[1].split(" rows")[0].replace(",", "")) >= stopped_rows for label in during
    )  # fmt: skip  (the resumed pages' rows count from the start)
    ex.close()
    client.close()


def test_export_asks_before_overwriting_and_writes_atomically(explorer, tmp_path, monkeypatch):
    run(explorer, explorer.fetch_page_button)
    target = tmp_path / "products.csv"
    target.write_text("keep me\n", encoding="utf-8")
    explorer.export_name.value = str(tmp_path / "products")
    explorer.export_button.click()
    assert target.read_text(encoding="utf-8") == "keep me\n"  # not overwritten...
    assert "exists: press Overwrite" in explorer.export_note.value and explorer.export_button.description == "Overwrite"
    explorer.export_button.click()  # ...until confirmed
    assert pd.read_csv(target)["uuid"].tolist() == explorer.df["uuid"].tolist()
    assert explorer.export_button.description == "Export"

    def broken(df, path, format=None):  # noqa: A002
        path.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr("lucidframes.widgets.view.export", broken)
    explorer.export_name.value = str(tmp_path / "other")
    explorer.export_button.click()
    assert "disk full" in explorer.export_note.value
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products.csv"]  # no half-written file anywhere


def test_lookup_mode_takes_pasted_ids_and_shows_the_plan(explorer, sandbox):
    explorer.mode.value = "Look up"
    assert explorer.fetch_box.layout.display == "none" and explorer.lookup.box.layout.display is None
    ids = [i["uuid"] for i in sandbox.data["items"][:3]]
    explorer.lookup.ids.value = "\n".join(ids) + "\nZZZZZZZZZZZZZZZZZZZZ"  # well-formed but unknown
    assert "Plan: 4 requests" in explorer.lookup.plan.value and not explorer.lookup.button.disabled
    run(explorer, explorer.lookup.button)
    assert explorer.df["_id"].tolist() == [*ids, "ZZZZZZZZZZZZZZZZZZZZ"]
    assert "Looked up 4 ids in items: 1 not_found, 3 ok." in explorer.status.value
    assert "From a look-up in items of 4 ids." in explorer.preview.value and not explorer.export_button.disabled
    assert explorer.export_name.value == "items-lookup"


def test_lookup_mode_sends_nothing_for_a_bad_id(explorer, sandbox):
    explorer.mode.value = "Look up"
    explorer.lookup.ids.value = f"{sandbox.data['items'][0]['uuid']}, not-a-lucid-id"
    assert explorer.lookup.button.disabled and "fail the LucidID check" in explorer.lookup.plan.value
    sandbox.clear_log()
    explorer.lookup.button.click()  # a click from code: refused, nothing sent
    assert explorer.wait(WAIT)
    assert "nothing will be sent" in explorer.status.value
    assert not any("/items/" in e.path for e in sandbox.log)


def test_lookup_mode_takes_ids_from_a_column_of_the_current_frame(explorer, sandbox):
    explorer.endpoint.value = "brands"
    run(explorer, explorer.fetch_page_button)
    explorer.mode.value = "Look up"
    assert explorer.stale  # the brands list is not a look-up's result
    explorer.lookup.endpoint.value = "brands"
    explorer.lookup.source.value = "uuid"
    assert f"Plan: {len(explorer.df)} requests" in explorer.lookup.plan.value
    brands = explorer.df["uuid"].tolist()
    run(explorer, explorer.lookup.button)
    assert explorer.df["_id"].tolist() == brands and (explorer.df["_status"] == "ok").all()
    assert explorer.lookup.source.value == "uuid"  # the new frame has the column too


def test_the_plan_follows_the_rate_limit(sandbox):
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, progress=False) as client:
        items = lf.get_endpoint("items")
        assert plan_text(client, items, 10) == "10 requests: within the rate limit (60 per 60 s)."
        assert plan_text(client, items, 150) == "150 requests at 60 per 60 s: about 120 s of rate-limit waits."
    assert parse_ids(" a, b;c\n\nd ") == ["a", "b", "c", "d"] and PASTED.startswith("(")


def test_explorer_sandbox_is_the_running_sandbox():
    ex = lf.explore(sandbox=True)
    try:
        assert ex.sandbox is not None and ex.sandbox.url == ex.client.base_url
        ex.sandbox.set_latency(0.01)
        run(ex, ex.fetch_page_button)
        assert ex.df.shape == (100, 6)
    finally:
        ex.close()


def test_an_explorer_on_a_client_has_no_sandbox(client):
    ex = Explorer(client)
    assert ex.sandbox is None
    ex.close()


def test_expected_is_what_a_fetch_all_shows(explorer, sandbox):
    run(explorer, explorer.fetch_all_button)
    pd.testing.assert_frame_equal(explorer.df, expected(sandbox))


def test_the_bar_is_indeterminate_until_the_total_is_known(explorer):
    explorer._on_progress(1, None, 100, 0.0)  # the drain's callback before page 1 told the count
    assert (explorer.progress.value, explorer.progress.max, explorer.progress.bar_style) == (1, 1, "info")
    assert "1 page · 100 rows (total after page 1)" in explorer.progress_label.value
    explorer._on_progress(3, 13, 300, 0.0)
    assert (explorer.progress.value, explorer.progress.max, explorer.progress.bar_style) == (3, 13, "")
    assert "3 / 13 pages · 300 rows" in explorer.progress_label.value
