"""Issue 22, item 3: an Explorer you can trust while it waits. Look up counts ids and counts each wait down, one Stop
works in both modes (keeping the rows), the mode switch stays usable, a report or message goes with the data it was
made from and sits next to the control that made it, "partial" is said only of a partial result, the page count
shows once known, a typo from code is one line, and wide text columns keep their headers in view.

Driven without a browser (tests/browser/ drives Chromium); the look-up under a limit makes a short real wait.
"""

from __future__ import annotations

import re
import time

import pytest
from test_widgets import WAIT, callbacks_fail_loudly, run, texts  # noqa: F401  (the autouse fixture)

import lucidframes as lf
from lucidframes.widgets import Explorer

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

PAGE_ONE = re.compile(r"^/api/v1\.5/products/$")  # page 1 (and its final re-read): no query


@pytest.fixture
def explorer(client, sandbox):
    ex = Explorer(client)
    yield ex
    ex.close()
    assert sandbox.client_secret not in texts(ex) and "Bearer" not in texts(ex)


def item_ids(sb, n: int) -> list[str]:
    return [item["uuid"] for item in sb.data["items"][:n]]


def until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.02)


def seconds_left(label: str) -> int:
    match = re.search(r"next request in (\d+) s", label)
    assert match, label
    return int(match[1])


def test_lookup_counts_ids_and_the_wait_down_and_stop_works_in_both_modes(sandbox):
    ids = item_ids(sandbox, 15)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, progress=False,
                   rate_limits={"source": (10, 4.0)}) as client:  # fmt: skip
        ex = Explorer(client)
        assert ex.stop_button not in ex.fetch_box.children[1].children  # one Stop, beside the bar, for both modes
        ex.mode.value = "Look up"
        ex.lookup.ids.value = "\n".join(ids)
        ex.lookup.button.click()
        until(lambda: ex.progress_label.value.startswith("10 / 15 ids · 10 rows · rate limited · next request in"))
        label = ex.progress_label.value
        assert (ex.progress.value, ex.progress.max) == (10, 15)
        assert not ex.stop_button.disabled and not ex.mode.disabled and ex.lookup.button.disabled
        ex.lookup.button.click()  # a second click: refused, and the Stop it names is there
        assert "press Stop" in ex.status.value
        ex.mode.value = "Fetch"  # the switch stays usable while it runs; the work keeps its line and its Stop
        assert ex.fetch_all_button.disabled and not ex.stop_button.disabled and "press Stop" in ex.status.value
        ex.mode.value = "Look up"
        time.sleep(1.1)
        assert seconds_left(ex.progress_label.value) < seconds_left(label)  # it counts down
        asked = time.monotonic()
        ex.stop_button.click()
        assert ex.wait(1.0) and time.monotonic() - asked < 1.0  # stopped within a second
        assert isinstance(ex.last_error, lf.DrainStopped)
        assert ex.df["_id"].tolist() == ids and ex.df["_status"].value_counts().to_dict() == {"ok": 10, "pending": 5}
        assert "(partial)" in ex.preview.value and "stopped at 10 / 15 ids" in ex.progress_label.value
        assert "Stopped: explorer.df holds the 10 ids answered so far (5 pending)" in ex.status.value
        assert ex.stop_button.disabled and not ex.lookup.button.disabled and ex.progress.bar_style == "warning"
        ex.close()


def test_look_up_again_continues_a_stopped_look_up(sandbox_factory, recorder):
    sb = sandbox_factory(latency=0.05)
    ids = item_ids(sb, 6)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                   workers=1) as client:  # fmt: skip
        ex = Explorer(client)
        ex.mode.value = "Look up"
        ex.lookup.ids.value = " ".join(ids)

        def stop_after_two(change):
            if change["new"] >= 2:
                ex.stop_button.click()

        ex.progress.observe(stop_after_two, names="value")
        run(ex, ex.lookup.button)
        ex.progress.unobserve(stop_after_two, names="value")
        answered = int((ex.df["_status"] == "ok").sum())
        assert 2 <= answered < 6 and "(partial)" in ex.preview.value
        run(ex, ex.lookup.button)  # the same ids: it continues
        assert (ex.df["_status"] == "ok").all() and "(partial)" not in ex.preview.value
        assert len([e for e in sb.log if e.path.startswith("/api/v1.5/items/")]) == 6  # each id asked once
        ex.close()


def test_a_report_and_its_messages_go_with_their_data_and_sit_by_their_buttons(explorer, tmp_path):
    run(explorer, explorer.fetch_page_button)
    explorer.validate_column.value = "name"
    explorer.validate_button.click()
    assert "failing cell" in explorer.report.value and "failing cell(s)" in explorer.validate_note.value
    explorer.export_name.value = str(tmp_path / "missing" / "x.csv")
    explorer.export_button.click()
    assert "does not exist" in explorer.export_note.value and "does not exist" not in explorer.status.value
    explorer.mode.value = "Look up"  # the mode changed: what was said about the Fetch's data goes
    assert explorer.report.value == explorer.validate_note.value == explorer.export_note.value == ""
    assert "Paste ids" in explorer.status.value
    explorer.mode.value = "Fetch"
    explorer.validate_button.click()
    assert explorer.report.value
    run(explorer, explorer.fetch_all_button)  # new data: the old report is not its report
    assert explorer.report.value == "" and explorer.validate_note.value == ""


def test_a_stop_after_the_last_page_is_not_called_partial(sandbox_factory, recorder):
    sb = sandbox_factory(latency=0.02)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                   workers=2) as client:  # fmt: skip
        ex = Explorer(client)

        def stop_at_the_last_page(change):
            if change["new"] == 13 and not ex._stop.is_set():
                sb.fault(PAGE_ONE, kind="slow", delay=5, times=1)  # the final re-read of page 1 is slow...
                ex.stop_button.click()  # ...and the Stop comes while it is on its way

        ex.progress.observe(stop_at_the_last_page, names="value")
        asked = time.monotonic()
        run(ex, ex.fetch_all_button)
        ex.progress.unobserve(stop_at_the_last_page, names="value")
        assert time.monotonic() - asked < 4  # the slow re-read was abandoned, not waited for
        assert isinstance(ex.last_error, lf.DrainStopped) and len(ex.df) == 1203
        assert "(partial)" not in ex.preview.value and "partial result" not in ex.status.value
        assert "Stopped after every page was fetched: explorer.df holds all 1,203 rows" in ex.status.value
        assert "stopped at 13 / 13 pages · 1,203 rows" in ex.progress_label.value
        ex.close()


def test_a_stop_before_the_page_count_is_known_says_so(sandbox_factory, recorder):
    sb = sandbox_factory()
    sb.fault(PAGE_ONE, kind="slow", delay=5, times=1)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False) as c:
        ex = Explorer(c)
        ex.fetch_all_button.click()
        ex.stop_button.click()
        assert ex.wait(1.5)
        assert "stopped at 0 / ? pages" in ex.progress_label.value, ex.progress_label.value  # not "/ 1 pages"
        ex.close()


def test_the_page_count_shows_as_soon_as_it_is_known(sandbox_factory, recorder):
    sb = sandbox_factory(latency=0.02)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                   workers=1) as client:  # fmt: skip
        ex = Explorer(client)
        seen: list[tuple[str, int]] = []
        ex.page_info.observe(lambda change: seen.append((change["new"], ex.progress.value)), names="value")
        run(ex, ex.fetch_all_button)
        first = next((done for info, done in seen if "13 pages" in info), None)
        assert first is not None and first < 13, seen  # shown while the drain ran, not only at its end
        ex.close()


def test_a_typo_from_code_is_one_line_that_says_did_you_mean(explorer):
    with pytest.raises(lf.UnknownEndpointError) as info:
        explorer.endpoint.value = "prodcuts"
    assert "Did you mean: products" in str(info.value) and "\n" not in str(info.value)
    assert not isinstance(info.value, __import__("traitlets").TraitError)
    assert explorer.endpoint.value == "products"
    with pytest.raises(lf.UnknownEndpointError, match="Did you mean: items"):
        explorer.lookup.endpoint.value = "itmes"
    with pytest.raises(lf.ConfigError, match="'items' is not offered here"):
        explorer.endpoint.value = "items"  # a look-up endpoint, not a list to fetch


def test_wide_text_columns_keep_their_headers_in_view(explorer, sandbox):
    explorer.endpoint.value = "batches"
    run(explorer, explorer.fetch_page_button)
    html = explorer.preview.value
    headers = re.findall(r"<th>([^<]*)</th>", html)
    assert "regulatory_id" in headers and "name" in headers
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert cells and max(len(c) for c in cells) <= 40 and any(c.endswith("…") for c in cells)
    assert "text-align:left" in html
    assert any(len(str(v)) > 40 for v in explorer.df["regulatory_id"])  # the data itself is whole


def test_explore_sandbox_explores_the_shared_sandbox():
    sb = lf.shared_sandbox()
    ex = lf.explore(sandbox=True)
    try:
        assert ex.sandbox is sb and ex.client is lf.shared_client()
        sb.set_latency(0.3)  # the README's "One call first": the Explorer feels it
        started = time.monotonic()
        run(ex, ex.fetch_page_button)
        assert time.monotonic() - started >= 0.3 and len(ex.df) == 100
    finally:
        sb.set_latency(0)
        ex.close()
    assert lf.shared_sandbox() is sb  # still running after the Explorer closed
    assert repr(sb).startswith(f"<Sandbox {sb.url} · seed 0 · rate limits source 60/60s")
