"""Issue 19, defect 7: a page past the end gets one message, from Python and from the command line alike, naming the
page asked for and the range there is, with the page's query in the URL it shows."""

from __future__ import annotations

import pytest

import lucidframes as lf
from lucidframes.cli import main
from lucidframes.notebook.display import error_block


def test_a_page_past_the_end_names_the_page_and_the_range(sandbox, client):
    with pytest.raises(lf.NotFoundError) as caught:
        client.load("products", page=999)
    err = caught.value
    text = str(err)
    assert "page 999" in text and "products has 13 pages (1,203 rows, 100 per page)" in text
    assert "choose pages from 1 to 13" in text and "Verify the resource UUID" not in text
    assert err.url.endswith("/api/v1.5/products/?page=999") and "?page=999" in text
    assert err.status_code == 404 and err.detail == "Invalid page."
    assert "  Request:    GET /api/v1.5/products/?page=999 · status 404 · 1 attempt" in error_block(err, color=False)


def test_the_one_call_says_it_too():
    try:
        with pytest.raises(lf.NotFoundError, match=r"page 999 is past the end; choose pages from 1 to 13") as caught:
            lf.load("products", page=999, sandbox=True, progress=False)
        assert "?page=999" in str(caught.value)
    finally:
        lf.close_shared_sandbox()


def test_pages_partly_past_the_end_keep_the_ones_that_exist(sandbox, client):
    with pytest.raises(lf.NotFoundError) as caught:
        client.load("products", pages="12-15")
    assert "pages 14-15 are past the end" in str(caught.value) and "choose pages from 1 to 13" in str(caught.value)
    assert len(caught.value.partial) == 103  # pages 12 (100 rows) and 13 (3 rows)


def test_the_command_line_says_the_same(sandbox, client, monkeypatch, capsys):
    with pytest.raises(lf.NotFoundError) as caught:
        client.load("products", page=999)
    monkeypatch.setenv("LUCID_BASE_URL", sandbox.url)
    monkeypatch.setenv("LUCID_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LUCID_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.delenv("LUCID_TOKEN", raising=False)
    assert main(["fetch", "products", "--page", "999", "-o", "-"]) == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert line == f"error: {caught.value}"
