"""The HTML validation report in a real browser: Debian's Chromium, driven by Playwright, offline.

It writes the report of the sample sheet with ``report.to_html(path)``, opens it from a ``file://`` URL with every
network request refused (and recorded), checks the badge, one bar per reason and the marked characters, that the
text is left-aligned, that the detail opens without JavaScript, and saves a screenshot whose path it prints.
Skipped, with the reason, when Chromium or Playwright is missing.

    apt-get install -y chromium && pip install playwright     # `playwright install` is not needed
    python -m pytest -n0 -m browser -s tests/browser/test_report_html.py

``LUCIDFRAMES_REPORT_SCREENSHOT`` chooses where the screenshot goes (default: the test's own tmp dir, so that
parallel runs never write the same file).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

import lucidframes as lf

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def missing() -> str | None:
    """Why the check cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    return None


def test_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    reason = missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    report = lf.validate_lucid_ids(lf.read_table(ROOT / "data" / "submission_sheet.csv"), "lucid_id")
    page_file = tmp_path / "report.html"
    report.to_html(page_file)
    # The screenshot is the test's artefact: kept under its tmp dir (pytest keeps the last runs), or where asked.
    default = tmp_path / "screenshots" / "validation-report.png"
    screenshot = Path(os.environ.get("LUCIDFRAMES_REPORT_SCREENSHOT", default))
    requested: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 900})

            def refuse(route: Any) -> None:
                if not route.request.url.startswith("file://"):
                    requested.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            context.route("**/*", refuse)
            page = context.new_page()
            page.goto(page_file.as_uri())
            assert page.locator(".lf-badge").inner_text() == "FAIL"
            assert page.locator(".lf-bar").count() == report.summary["reason"].nunique()
            widths = page.locator(".lf-bar").evaluate_all("bars => bars.map(b => b.getBoundingClientRect().width)")
            assert max(widths) > 3 * min(widths) > 0  # the bars are drawn to scale (5 bad_character vs 1 missing)
            marked = page.locator("mark[title='DIGIT ZERO']")
            assert marked.count() >= 1 and marked.first.is_visible()
            align = page.locator("td").nth(3).evaluate("td => getComputedStyle(td).textAlign")
            assert align in ("left", "start")
            details = page.locator("details").first
            details.locator("summary").click()  # opens without JavaScript
            assert details.evaluate("d => d.open")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert requested == [], f"the report asked for external resources: {requested}"
    print(f"\nscreenshot: {screenshot}")
