"""``--plan`` / ``--dry-run`` (lucidframes/cli_plan.py, wired into the commands by the CLI's owner)."""

from __future__ import annotations

import argparse
import io
import json

import lucidframes as lf
from lucidframes.cli_plan import add_plan_flag, print_plan


def test_the_flag_has_two_spellings():
    parser = argparse.ArgumentParser()
    add_plan_flag(parser)
    assert parser.parse_args(["--dry-run"]).plan is True
    assert parser.parse_args(["--plan"]).plan is True
    assert parser.parse_args([]).plan is False


def test_print_plan_of_a_load_and_of_a_lookup(sandbox, recorder):
    with lf.Client(sandbox.url, sandbox.client_id, sandbox.client_secret, sleep=recorder, progress=False) as client:
        out = io.StringIO()
        assert print_plan(client, "assets", params={"asset_type": "texts"}, stream=out) == 0
        assert out.getvalue().startswith("assets: 40 rows in 1 page, 0 cached, 1 request ≈ ")
        assert [e.path for e in sandbox.log if e.path.startswith("/api/")] == ["/api/v1.5/assets/texts/"]
        ids = [r["uuid"] for r in sandbox.data["items"][:3]]
        out = io.StringIO()
        print_plan(client, "items", ids=ids, log_format="json", stream=out)
        record = json.loads(out.getvalue())
        assert record["event"] == "plan" and record["requests"] == 3 and record["limit"] == [60, 60.0]
        assert record["message"].startswith("items: 3 look-ups, 0 cached, 3 requests")
        assert len([e for e in sandbox.log if e.path.startswith("/api/")]) == 1  # the look-up plan sent nothing
