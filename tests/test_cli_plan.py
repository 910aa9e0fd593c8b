"""``--plan`` / ``--dry-run`` (lucidframes/cli/plan.py, wired into the commands by the CLI's owner)."""

from __future__ import annotations

import argparse
import io
import json

import lucidframes as lf
from lucidframes.cli.plan import add_plan_flag, print_plan


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


def test_fetch_and_lookup_take_plan_and_send_nothing_more(sandbox, monkeypatch, tmp_path, capsys):
    from lucidframes.cli import main

    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    out = tmp_path / "p.csv"
    assert main(["fetch", "products", "-o", str(out), "--plan"]) == 0
    assert not out.exists()  # a plan writes no data
    assert "products:" in capsys.readouterr().err
    pages = [e for e in sandbox.log if e.path == "/api/v1.5/products/"]
    assert len(pages) == 1  # one request for the count
    sheet = tmp_path / "ids.csv"
    sheet.write_text("product_uuid\n" + "\n".join(p["uuid"] for p in sandbox.data["products"][:3]) + "\n")
    before = len(sandbox.log)
    assert main(["lookup", "products", str(sheet), "--column", "product_uuid", "-o", str(out), "--dry-run"]) == 0
    assert len(sandbox.log) == before and not out.exists()  # a look-up's plan sends nothing
