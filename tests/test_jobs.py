"""Issue 22, item 2: background jobs. ``background=True`` returns an ``lf.Job`` at once; its status counts a wait
down, ``stop()`` ends it within a second keeping the rows, ``result()`` is what the blocking call returns (or its
typed error), it can be awaited, it shows its own bar in Jupyter, and two jobs of one client share its limiter.

Some of these make real waits on purpose (a countdown needs time to pass): each is short, and ended by a Stop.
"""

from __future__ import annotations

import _thread
import asyncio
import re
import threading
import time

import pandas as pd
import pytest

import lucidframes as lf

ITEMS = "/api/v1.5/items/"
JITTER = 0.1  # seconds between a request leaving the client and the sandbox logging it, at worst, under load


def item_ids(sb, n: int) -> list[str]:
    return [item["uuid"] for item in sb.data["items"][:n]]


def item_requests(sb) -> list:
    return [e for e in sb.log if e.path.startswith(ITEMS)]


def wait_for(job: lf.Job, text: str, seconds: float = 10.0) -> str:
    """The job's status once it says ``text`` (fails after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = job.status
        if text in status:
            return status
        time.sleep(0.02)
    raise AssertionError(f"the status never said {text!r}: {job.status}")


def seconds_left(status: str) -> int:
    match = re.search(r"next request in (\d+) s", status)
    assert match, status
    return int(match[1])


def test_a_background_lookup_counts_down_and_stops_within_a_second_keeping_the_rows(sandbox):
    ids = item_ids(sandbox, 15)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, rate_limits={"source": (10, 4.0)}) as c:
        started = time.monotonic()
        job = c.lookup("items", ids, background=True)
        assert time.monotonic() - started < 0.5 and isinstance(job, lf.Job)  # at once: the kernel stays free
        first = wait_for(job, "items: 10/15 ids, rows=10, wait=rate limited · next request in")
        time.sleep(1.1)
        assert seconds_left(job.status) < seconds_left(first)  # it counts down
        assert not job.done and job.state == "running"
        asked = time.monotonic()
        job.stop()
        assert time.monotonic() - asked < 1.0 and job.done and job.state == "stopped"
        assert job.status.endswith(" · stopped") and "next request" not in job.status
        assert job.partial["_status"].value_counts().to_dict() == {"ok": 10, "pending": 5}
        with pytest.raises(lf.DrainStopped) as info:
            job.result()
        assert info.value.partial["_id"].tolist() == ids and isinstance(info.value.resume, lf.LookupState)
        assert sandbox.client_secret not in job.status + repr(job)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, rate_limits=None, progress=False) as c:
        done = c.lookup("items", ids, resume=info.value.resume)
    assert (done["_status"] == "ok").all() and len(item_requests(sandbox)) == 15  # each id asked once overall


def test_the_result_is_what_the_blocking_call_returns(sandbox, client):
    ids = [*item_ids(sandbox, 5), "ZZZZZZZZZZZZZZZZZZZZ"]
    job = client.lookup("items", ids, background=True)
    pd.testing.assert_frame_equal(job.result(timeout=30), client.lookup("items", ids))
    assert job.done and job.state == "done" and job.status.endswith(" · done")
    pd.testing.assert_frame_equal(job.partial, job.result())
    loaded = client.load("products", background=True)
    pd.testing.assert_frame_equal(loaded.result(timeout=30), client.load("products"))
    assert loaded.status.startswith("products: 13/13 pages, rows=1203")


def test_two_jobs_never_exceed_the_limit_together(sandbox_factory):
    limit, window = 5, 1.0
    # The server enforces nearly the same limit (a violation would show as 429s and retries), and its clock sees a
    # request a little after the client sent it: on a loaded machine, tens of milliseconds (JITTER).
    sb = sandbox_factory(rate_limits={"source": (limit, window - 0.15)})
    ids = item_ids(sb, 16)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, rate_limits={"source": (limit, window)}) as c:
        jobs = [c.lookup("items", ids[:8], background=True), c.lookup("items", ids[8:], background=True)]
        frames = [job.result(timeout=30) for job in jobs]
    assert all((df["_status"] == "ok").all() for df in frames)
    answered = sorted(e.time for e in item_requests(sb))
    assert len(answered) == 16 and not [e for e in sb.log if e.status == 429]
    closest = min(answered[i + limit] - answered[i] for i in range(len(answered) - limit))
    assert closest >= window - JITTER, closest  # never more than `limit` in any window, both jobs together


def test_arguments_are_checked_before_the_job_starts(sandbox, client, tmp_path):
    with pytest.raises(lf.LucidIDValidationError):
        client.lookup("items", ["not-a-lucid-id"], background=True)
    with pytest.raises(lf.UnknownEndpointError, match="Did you mean: products"):
        client.load("prodcuts", background=True)
    with pytest.raises(lf.ConfigError, match="background takes True or False"):
        client.lookup("items", item_ids(sandbox, 1), background="yes")
    with pytest.raises(lf.ConfigError, match=r"stop= takes a threading\.Event \(got bool\)"):
        client.lookup("items", item_ids(sandbox, 1), stop=True)  # it failed deep inside, in a worker
    with pytest.raises(lf.ConfigError, match="does not exist"):
        lf.snapshot(client, tmp_path / "missing" / "snap", background=True)
    assert item_requests(sandbox) == []


def test_a_job_can_be_awaited(sandbox, client):
    ids = item_ids(sandbox, 3)

    async def cell() -> pd.DataFrame:
        return await client.lookup("items", ids, background=True)

    df = asyncio.run(cell())
    assert df["_id"].tolist() == ids and (df["_status"] == "ok").all()


def test_ctrl_c_while_waiting_for_the_result_stops_the_job_and_keeps_the_rows(sandbox):
    ids = item_ids(sandbox, 15)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, rate_limits={"source": (10, 30.0)}) as c:
        job = c.lookup("items", ids, background=True)
        wait_for(job, "next request in")
        timer = threading.Timer(0.2, _thread.interrupt_main)  # a simulated Ctrl-C while result() waits
        started = time.monotonic()
        with pytest.raises(lf.LookupInterrupted) as info:
            timer.start()
            try:
                job.result()
            finally:
                timer.cancel()
        assert time.monotonic() - started < 1.5 and job.done
    assert info.value.partial["_status"].value_counts().to_dict() == {"ok": 10, "pending": 5}
    assert isinstance(info.value.resume, lf.LookupState)


def test_a_job_shows_its_own_bar_with_a_stop(sandbox):
    ids = item_ids(sandbox, 12)
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, rate_limits={"source": (10, 30.0)}) as c:
        job = c.lookup("items", ids, background=True)
        bundle = job._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["text/plain"].startswith("<Job items")
        shown = job._widget
        wait_for(job, "next request in")
        time.sleep(0.6)  # the widget's own thread moves it
        assert (shown.bar.value, shown.bar.max) == (10, 12) and "next request in" in shown.text.value
        shown.stop_button.click()  # the Stop in the widget
        assert job.wait(2) and job.state == "stopped"
        time.sleep(0.1)
        assert shown.bar.bar_style == "warning" and shown.stop_button.disabled and "stopped" in shown.text.value


def test_background_on_the_shared_sandbox_and_a_snapshot(tmp_path):
    job = lf.load("products", sandbox=True, background=True)
    pd.testing.assert_frame_equal(job.result(timeout=60), lf.load("products", sandbox=True))
    sb = lf.shared_sandbox()
    ids = item_ids(sb, 3)
    looked = lf.lookup("items", ids, sandbox=True, background=True).result(timeout=60)
    assert looked["_id"].tolist() == ids
    snap = lf.snapshot(lf.shared_client(), tmp_path / "snap", ["brands"], format="csv", background=True)
    manifest = snap.result(timeout=60)
    assert manifest["endpoints"]["brands"]["status"] == "complete" and (tmp_path / "snap" / "brands.csv").exists()
    assert snap.status.startswith("brands: ") and snap.status.endswith(" · done")


def test_a_stopped_snapshot_writes_its_manifest(sandbox_factory, tmp_path):
    sb = sandbox_factory(latency=0.1)
    with lf.Client(sb.url, sb.client_id, sb.client_secret, rate_limits=None, progress=False, workers=1) as c:
        job = lf.snapshot(c, tmp_path / "snap", ["products"], format="csv", background=True)
        wait_for(job, "products: 2/13 pages")
        job.stop()
        assert job.state == "stopped"
        with pytest.raises(lf.DrainStopped) as info:
            job.result()
    assert info.value.manifest["endpoints"]["products"]["status"] == "partial"
    assert not (tmp_path / "snap" / "products.csv").exists()  # no half file under the final name
