"""The one-call start and what it returns: ``lf.load(..., sandbox=True)``, ``pages=`` text, the package export's
rows (downloaded without credentials), ``lf.run_summary`` and the short error block (outside a kernel)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from typing import ClassVar

import pandas as pd
import pytest
from helpers import expected, pages_requested

import lucidframes as lf
from lucidframes.notebook.display import error_block, warning_line

# -- pages= -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pages", "wanted"),
    [("2-5", [2, 3, 4, 5]), ("2,4,6", [2, 4, 6]), (" 3 ", [3]), ("1,3-4", [1, 3, 4]), (range(2, 4), [2, 3]),
     ([6, 2, 2], [2, 6])],
)  # fmt: skip
def test_pages_take_text_ranges_and_lists(sandbox, client, pages, wanted):
    df = client.load("products", pages=pages)
    assert df.attrs["lucidframes"]["pages"] == wanted
    assert sorted(set(pages_requested(sandbox))) == wanted
    full = expected(sandbox)
    rows = [r for p in wanted for r in range((p - 1) * 100, min(p * 100, len(full)))]
    assert df["uuid"].tolist() == full["uuid"].iloc[rows].tolist()


@pytest.mark.parametrize("bad", ["2-", "5-2", "two", "2;4", "", "0", "-3", "2,,4"])
def test_a_bad_pages_string_is_a_clear_config_error(sandbox, client, bad):
    with pytest.raises(lf.ConfigError, match=r"(?i)pages"):
        client.load("products", pages=bad)
    assert sandbox.log == []  # nothing was sent


# -- lf.load(sandbox=True) ----------------------------------------------------------------------------------------

ONE_CALL = textwrap.dedent(
    """
    import atexit, json, socket, threading

    state = {}

    def report():  # registered first, so it runs last: after lucidframes' own exit hook
        threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        with socket.socket() as s:
            s.settimeout(2)
            port_open = s.connect_ex(("127.0.0.1", state["port"])) == 0
        print(json.dumps({"threads": threads, "port_open": port_open, **state}), flush=True)

    atexit.register(report)

    import lucidframes as lf

    first = lf.load("products", sandbox=True, progress=False)
    sb = lf.shared_sandbox()
    second = lf.load("brands", sandbox=True, progress=False)
    looked = lf.lookup("products", first["uuid"].head(3).tolist(), sandbox=True, progress=False)
    state.update(
        port=int(sb.url.rsplit(":", 1)[1]),
        same=lf.shared_sandbox() is sb,
        tokens=sum(1 for e in sb.log if e.path == "/o/token/"),
        rows=[len(first), len(second), int((looked["_status"] == "ok").sum())],
        alive_before_exit=sum(1 for t in threading.enumerate() if t is not threading.main_thread()) > 0,
    )
    """
)


def test_load_with_sandbox_true_reuses_one_sandbox_and_leaves_nothing_at_exit(tmp_path):
    script = tmp_path / "one_call.py"
    script.write_text(ONE_CALL, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["same"] is True and result["tokens"] == 1  # one sandbox, one client, one token
    assert result["rows"][0] == 1203 and result["rows"][2] == 3
    assert result["alive_before_exit"] is True  # the server threads ran...
    assert result["threads"] == [] and result["port_open"] is False  # ...and were stopped at exit


def test_import_does_not_start_a_sandbox():
    code = "import sys, lucidframes; print('lucidframes.sandbox' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]


# -- the package export --------------------------------------------------------------------------------------------


def test_package_export_returns_the_rows_of_the_linked_file(sandbox, client):
    df = client.load("package_uids_export", export_date="2024-12-01")
    regulator = [c for c in sandbox.data["collections"] if c["collection_type"] == "regulator"]
    wanted = [(c["identifier"], m["lucid_id"]) for c in regulator if c["added_on"][:10] <= "2024-12-01"
              for m in c["items"]]  # fmt: skip
    assert list(zip(df["package_uid"], df["lucid_id"], strict=True)) == wanted
    assert str(df["added_on"].dtype).startswith("datetime64")
    download = [e for e in sandbox.log if e.path.startswith("/media/exports/")]
    assert len(download) == 1 and download[0].status == 200
    assert download[0].token_valid is False  # the file was fetched without the bearer token


def test_the_readme_export_example_works_on_the_sandbox():
    readme = (pytest.importorskip("pathlib").Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    line = next(line for line in readme.splitlines() if '"package_uids_export"' in line)
    date = line.split('export_date="')[1].split('"')[0]
    try:
        df = lf.load("package_uids_export", sandbox=True, export_date=date, progress=False)
    finally:
        lf.close_shared_sandbox()
    assert len(df) > 0 and "lucid_id" in df.columns


class _Recording(http.server.BaseHTTPRequestHandler):
    """A file host on another port of 127.0.0.1 that records the headers it was sent."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = b"package_uid,lucid_id\nTAG-1,23456789ABCDEFGHJKLM\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_host() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recording.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_export_on_another_host_is_fetched_without_credentials(client, file_host):
    from lucidframes.loaders.stream import linked_rows

    rows = linked_rows(client.transport, {"export_url": f"{file_host}/signed/export.csv?X-Signature=s3cr3t"})
    assert rows == [{"package_uid": "TAG-1", "lucid_id": "23456789ABCDEFGHJKLM"}]
    headers = {k.lower() for k in _Recording.seen[0]}
    assert "authorization" not in headers and "cookie" not in headers


@pytest.mark.parametrize(
    "url", ["http://files.example.com/export.csv", "ftp://127.0.0.1/export.csv", "https://user@host/x.csv", "/x"]
)
def test_an_export_link_that_is_not_safe_is_refused_before_sending(client, url):
    from lucidframes.loaders.stream import linked_rows

    with pytest.raises(lf.PaginationError, match="Refusing to download"):
        linked_rows(client.transport, {"export_url": url})


def test_a_failed_download_names_no_signature(client, file_host, sandbox):
    from lucidframes.loaders.stream import linked_rows

    with pytest.raises(lf.NotFoundError) as caught:
        linked_rows(client.transport, {"export_url": f"{sandbox.url}/media/exports/nope.csv?sig=s3cr3t"})
    assert "s3cr3t" not in str(caught.value) and "/media/exports/nope.csv" in str(caught.value)


# -- lf.run_summary ------------------------------------------------------------------------------------------------


def test_run_summary_draws_the_drain(sandbox, client):
    sandbox.fault("/api/v1.5/products/?page=4", status=503, times=1)
    df = client.load("products", workers=4)
    summary = lf.run_summary(df)
    pages = summary.pages()
    assert sorted({p["page"] for p in pages}) == list(range(1, 14))  # (page 1 twice: the consistency re-read)
    assert all(0 <= p["start"] <= p["end"] for p in pages) and {p["worker"] for p in pages} <= set(range(8))
    assert next(p for p in pages if p["page"] == 4)["retries"] == 1
    html = summary._repr_html_()
    assert html.count("<rect class='page'") == len(pages) and "class='wait backoff'" in html
    assert "<svg" in html and "matplotlib" not in sys.modules
    text = repr(summary)
    assert text.startswith("Run of products") and "rows:               1,203" in text
    assert "retries:            1" in text
    assert len(json.dumps(df.attrs["lucidframes"]["timeline"])) < 2000  # a few numbers per page


def test_run_summary_of_a_lookup_and_of_a_plain_frame(sandbox, client):
    looked = client.lookup("products", [sandbox.data["products"][0]["uuid"]])
    summary = lf.run_summary(looked)
    # Issue 22: a look-up's summary draws its requests too (it said "No page timings" before).
    assert "<svg" in summary._repr_html_() and "ids:" in repr(summary)
    older = looked.copy()
    older.attrs["lucidframes"] = {k: v for k, v in looked.attrs["lucidframes"].items() if k != "timeline"}
    assert "No timings" in lf.run_summary(older)._repr_html_()
    with pytest.raises(lf.ConfigError, match="made by lucidframes"):
        lf.run_summary(pd.DataFrame({"a": [1]}))


# -- the error block (its kernel behaviour: tests/test_kernel.py) ---------------------------------------------------


def test_error_block_says_what_what_to_do_and_the_request(sandbox, client):
    with pytest.raises(lf.NotFoundError) as caught:
        client.load("products", page=999)
    lines = error_block(caught.value, color=False)
    assert lines[0].startswith("NotFoundError: GET ") and "Invalid page" in lines[0]
    assert lines[1].startswith("  What to do: check the name, id or page")
    assert lines[2] == "  Request:    GET /api/v1.5/products/?page=999 · status 404 · 1 attempt"  # issue 19: the query
    assert "%tb" in lines[-1] and len(lines) <= 6
    assert client.auth.header().split()[1] not in "".join(lines)


def test_warnings_of_lucidframes_are_one_line():
    assert warning_line("the data changed", lf.DriftWarning) == "DriftWarning: the data changed\n"
