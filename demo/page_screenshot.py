"""Make docs/page-telegram-23256.jpg, the README's picture of a reader's page (run by hand, not by make).

Usage: .venv/bin/python demo/page_screenshot.py PAGE.html  (needs Debian's chromium and playwright)
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(Path(sys.argv[1]).resolve().as_uri())
    page.locator("button.marker").nth(0).click()  # one note open, as a reader would see it
    out = Path(__file__).parent.parent / "docs" / "page-telegram-23256.jpg"
    page.screenshot(path=str(out), type="jpeg", quality=40)
    browser.close()
    print(out, out.stat().st_size, "bytes")
