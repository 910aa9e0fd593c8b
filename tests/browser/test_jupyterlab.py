"""The Explorer in a real browser: JupyterLab on 127.0.0.1, driven by Playwright in Debian's Chromium.

It opens notebooks/explorer.ipynb (a copy, in a temporary root with data/), runs all cells, waits for the widget
to render and fetch, checks that the preview rows and the progress bar are visible, clicks "Fetch all" in the
page (a round trip browser -> kernel -> background thread -> browser), then looks the case's ids up while the
sandbox answers 429 (the notebook's last cell sets that up): the label counts the wait down, the mode switch stays
usable, and Stop ends it keeping the ids answered. It saves screenshots (the countdown, the stopped look-up, ...)
whose paths it prints. Skipped, with the reason, when Chromium, Playwright or JupyterLab is missing.

    apt-get install -y chromium && pip install jupyterlab playwright    # `playwright install` is not needed
    python -m pytest -n0 -m browser -s tests/browser                  # or: python tests/browser/test_jupyterlab.py

``LUCIDFRAMES_SCREENSHOT`` chooses where the screenshot goes (default: the temp dir).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START = 90.0  # seconds
FETCHED = 120_000  # milliseconds: the notebook runs and the drain ends within this
DEFAULT_SHOT = Path(tempfile.gettempdir()) / "lucidframes-browser-check" / "explorer.png"


def missing() -> str | None:
    """Why the check cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    for module, package in (("playwright", "playwright"), ("jupyterlab", "jupyterlab"), ("ipykernel", "ipykernel")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install {package})"
    return None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_root(base: Path) -> Path:
    """A JupyterLab root with copies of notebooks/ and data/, and quiet settings (no news, no update checks)."""
    root = base / "root"
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "data", root / "data")
    quiet = {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"autoStartDefaultKernel": True},  # no "Select Kernel" dialog
    }
    for plugin, values in quiet.items():
        path = base / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    return root


@contextlib.contextmanager
def jupyterlab(base: Path, root: Path) -> Iterator[str]:
    """Run JupyterLab on 127.0.0.1 (a free port, a token, no browser); yield its URL with the token."""
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        "--allow-root",  # harmless when not root; CI containers often are
    ]  # fmt: skip
    log = (base / "jupyterlab.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start; see {base / 'jupyterlab.log'}")
            time.sleep(0.25)
        yield f"{url}/lab/tree/notebooks/explorer.ipynb?token={token}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started, by our own pid
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def check_explorer_in_jupyterlab(base: Path, screenshot: Path) -> dict[str, float]:
    """Run explorer.ipynb in JupyterLab in Chromium, check the widget, save a screenshot; return timings."""
    from playwright.sync_api import expect, sync_playwright

    timings: dict[str, float] = {}
    started = time.monotonic()
    root = make_root(base)
    with jupyterlab(base, root) as url, sync_playwright() as pw:
        timings["server_start"] = time.monotonic() - started
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            console_errors: list[str] = []
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.goto(url)
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            select_kernel = page.get_by_role("button", name="Select Kernel")
            with contextlib.suppress(AssertionError):  # older settings or versions may still ask
                expect(select_kernel).to_be_visible(timeout=3_000)
                select_kernel.click()
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
            timings["notebook_open"] = time.monotonic() - started

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            explorer = page.locator(".lucidframes-explorer").first
            expect(explorer).to_be_visible(timeout=FETCHED)
            preview, status = explorer.locator(".lucidframes-preview"), explorer.locator(".lucidframes-status")
            expect(page.locator(".jp-RenderedText", has_text="products-from-explorer.csv")).to_be_visible(
                timeout=FETCHED
            )
            # The last cell draws the run summary (HTML + inline SVG): every cell has run once it is there.
            summary = page.locator(".lucidframes-run-summary").first
            expect(summary).to_be_visible(timeout=FETCHED)
            expect(summary.locator("svg.lucidframes-timeline rect.page")).not_to_have_count(0)
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=FETCHED)
            summary.scroll_into_view_if_needed()
            summary.screenshot(path=str(screenshot.with_name(screenshot.stem + "-run-summary.png")))
            timings["run_all"] = time.monotonic() - started

            # Click in the page: the kernel runs the drain in its background thread and the widget follows.
            explorer.locator("button", has_text="Fetch all").click()
            expect(status).to_contain_text("Fetching every page of products", timeout=FETCHED)  # the click arrived
            expect(status).to_contain_text("Fetched products: 1,203 rows × 6 columns", timeout=FETCHED)
            expect(preview.locator("table.dataframe tbody tr")).to_have_count(5)
            expect(preview.locator("table.dataframe tbody tr").first).to_be_visible()
            bar = explorer.locator(".lucidframes-progress .progress-bar")
            expect(bar).to_be_visible()
            expect(explorer.locator(".lucidframes-progress-label")).to_contain_text("13 / 13 pages · 1,203 rows")
            width = bar.evaluate(
                "el => el.getBoundingClientRect().width / el.parentElement.getBoundingClientRect().width"
            )
            assert width > 0.99, f"the progress bar is {width:.0%} full"
            assert "Error" not in status.inner_text()
            timings["browser_fetch"] = time.monotonic() - started

            explorer.scroll_into_view_if_needed()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
            explorer.screenshot(path=str(screenshot.with_name(screenshot.stem + "-widget.png")))
            check_switch_mid_fetch(page, explorer, screenshot)
            timings["switch_mid_fetch"] = time.monotonic() - started
            check_lookup_with_a_wait(explorer, screenshot)
            timings["lookup_with_a_wait"] = time.monotonic() - started
            widget_errors = [e for e in console_errors if "widget" in e.lower() or "lucidframes" in e.lower()]
            assert not widget_errors, widget_errors
        finally:
            browser.close()
    timings["total"] = time.monotonic() - started
    return timings


# Records every state of the preview (its text, and whether it holds a table) from now on.
RECORD_PREVIEW = """el => {
    window.__previews = [];
    const note = () => window.__previews.push({text: el.innerText, table: !!el.querySelector('table')});
    new MutationObserver(note).observe(el, {childList: true, subtree: true, characterData: true});
}"""


def check_switch_mid_fetch(page, explorer, screenshot: Path) -> None:
    """Switch the endpoint: the preview goes stale (greyed, Export off); Fetch all clears it until the new data."""
    from playwright.sync_api import expect

    preview = explorer.locator(".lucidframes-preview")
    export = explorer.locator("button", has_text="Export")
    explorer.locator("select").first.select_option(label="batches (source)")
    expect(preview).to_contain_text("Stale: this is products, not the selection")
    expect(explorer.locator(".lucidframes-preview.lucidframes-stale")).to_be_visible()
    expect(export).to_be_disabled()
    explorer.screenshot(path=str(screenshot.with_name(screenshot.stem + "-stale.png")))
    preview.evaluate(RECORD_PREVIEW)
    explorer.locator("button", has_text="Fetch all").click()
    explorer.screenshot(path=str(screenshot.with_name(screenshot.stem + "-mid-fetch.png")))
    expect(preview).to_contain_text("From batches: pages 1-3 (every page)", timeout=FETCHED)
    expect(export).to_be_enabled()
    states = page.evaluate("window.__previews")
    assert states, "the preview never changed"
    fetching = [s for s in states if "Fetching batches" in s["text"]]
    assert fetching and not any(s["table"] for s in fetching), states[:3]
    tables = [s for s in states if s["table"]]
    assert tables and all("From batches" in s["text"] and "Stale" not in s["text"] for s in tables), states[:3]
    explorer.screenshot(path=str(screenshot.with_name(screenshot.stem + "-after-switch.png")))


# The 429's pause is said as the server's word ("429 ... retry 1/5 in 29 s") or, once the limiter has taken the
# pause over for the next request, as "rate limited · next request in 24 s": either is the wait counting down.
WAITING = re.compile(
    r"^3 / (\d+) ids · 3 rows · (?:429 Too Many Requests · retry \d/5 in|rate limited · next request in) (\d+) s$"
)


def check_lookup_with_a_wait(explorer, screenshot: Path) -> None:
    """Look up while the sandbox says 429: the wait counts down in the page; Stop keeps the 3 ids answered."""
    from playwright.sync_api import expect

    label, status = explorer.locator(".lucidframes-progress-label"), explorer.locator(".lucidframes-status")
    explorer.locator(".widget-toggle-buttons button", has_text="Look up").click()
    explorer.locator(".lucidframes-lookup button", has_text="Look up").click()
    expect(label).to_have_text(WAITING, timeout=FETCHED)
    first = WAITING.match(label.inner_text())
    assert first is not None
    explorer.scroll_into_view_if_needed()
    explorer.screenshot(path=str(screenshot.with_name(screenshot.stem + "-lookup-countdown.png")))
    time.sleep(2.2)  # the page itself must show the seconds going down
    later = WAITING.match(label.inner_text())
    assert later is not None and int(later[2]) < int(first[2]), (first[0], label.inner_text())
    fetch_mode = explorer.locator(".widget-toggle-buttons button", has_text="Fetch")
    expect(fetch_mode).to_be_enabled()  # the mode switch stays usable while the look-up waits
    stop = explorer.locator("button", has_text="Stop")
    expect(stop).to_be_enabled()
    asked = time.monotonic()
    stop.click()
    expect(label).to_contain_text(f"stopped at 3 / {first[1]} ids", timeout=5_000)
    assert time.monotonic() - asked < 3.0  # within a second in the kernel; the rest is the round trip
    expect(status).to_contain_text("Stopped: explorer.df holds the 3 ids answered so far")
    expect(explorer.locator(".lucidframes-preview")).to_contain_text("(partial)")
    explorer.screenshot(path=str(screenshot.with_name(screenshot.stem + "-lookup-stopped.png")))


def test_explorer_in_jupyterlab(tmp_path):
    reason = missing()
    if reason:
        pytest.skip(reason)
    # Screenshots are the test's artefacts: kept under its tmp dir (pytest keeps the last runs), or where asked.
    screenshot = Path(os.environ.get("LUCIDFRAMES_SCREENSHOT", tmp_path / "screenshots" / "explorer.png"))
    timings = check_explorer_in_jupyterlab(tmp_path, screenshot)
    print(
        f"\nscreenshot: {screenshot}\ntimings (s, cumulative): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    )


if __name__ == "__main__":
    why = missing()
    if why:
        raise SystemExit(f"skipped: {why}")
    with tempfile.TemporaryDirectory() as workdir:
        shot = Path(os.environ.get("LUCIDFRAMES_SCREENSHOT", DEFAULT_SHOT))
        result = check_explorer_in_jupyterlab(Path(workdir), shot)
        print(f"screenshot: {shot}")
        print("timings (s, cumulative): " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()))
