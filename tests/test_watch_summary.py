"""Issue 22, items 4 and 5: the sandbox says what it is in one line, and ``lf.run_summary`` of a look-up shows its
rows and a timeline of its requests and waits (it said "rows 0" and "No page timings")."""

from __future__ import annotations

import re
import time

import lucidframes as lf
from lucidframes.loaders import timeline


def item_ids(sb, n: int) -> list[str]:
    return [item["uuid"] for item in sb.data["items"][:n]]


def test_run_summary_of_a_lookup_shows_its_rows_requests_and_waits(sandbox, recorder):
    ids = [*item_ids(sandbox, 9), "ZZZZZZZZZZZZZZZZZZZZ"]
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, progress=False,
                   rate_limits={"source": (4, 30.0)}, workers=2) as client:  # fmt: skip
        looked = client.lookup("items", ids)
    summary = lf.run_summary(looked)
    facts = dict(summary.facts())
    assert facts["rows"] == "10" and facts["ids"] == "10 (not_found 1, ok 9)" and facts["requests"] == "10"
    assert "drift" not in facts and "duplicates dropped" not in facts  # a drain's checks, not a look-up's
    assert facts["waited"].endswith("s rate limit)")
    html = summary._repr_html_()
    assert html.count("<rect class='page'") == 10 and html.count("class='wait throttle'") >= 6
    assert "ids over wall-clock time" in html and re.search(r"id \d+: [\d.]+ s", html)
    assert len(summary.pages()) == 10 and {p["page"] for p in summary.pages()} == set(range(1, 11))
    text = repr(summary)
    assert "rows:               10" in text and "slowest id:" in text


def test_a_partial_lookup_is_summarised_too(sandbox):
    ids = item_ids(sandbox, 12)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, progress=False,
                   rate_limits={"source": (10, 30.0)}) as client:  # fmt: skip
        job = client.lookup("items", ids, background=True)
        deadline = time.monotonic() + 10
        while "next request in" not in job.status and time.monotonic() < deadline:
            time.sleep(0.02)
        job.stop()
    facts = dict(lf.run_summary(job.partial).facts())
    assert facts["rows"] == "12" and facts["ids"] == "12 (ok 10, pending 2)"


def test_a_long_lookup_keeps_a_small_timeline(sandbox, client, monkeypatch):
    monkeypatch.setattr(timeline, "MAX_SPANS", 4)  # 5,000 ids would keep 2,000 spans; here 12 keep 4
    looked = client.lookup("items", item_ids(sandbox, 12))
    kept = looked.attrs["lucidframes"]["timeline"]
    assert len(kept["pages"]) == 4 and kept["spans"] == 12 and kept["unit"] == "id"


def test_the_sandbox_says_what_it_is_in_one_line(sandbox_factory):
    sb = sandbox_factory(seed=7, rate_limits={"source": (10, 4.0)})
    with lf.Client(sb.url, sb.client_id, sb.client_secret, rate_limits=None, progress=False) as client:
        client.load("brands")
    shown = repr(sb)
    assert shown == f"<Sandbox {sb.url} · seed 7 · rate limits source 10/4s · 2 requests served>"
    assert "\n" not in shown and sb.client_secret not in shown
    sb.close()
    assert repr(sb).startswith("<Sandbox stopped · seed 7")
