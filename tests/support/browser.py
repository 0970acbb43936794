"""Driving Debian's /usr/bin/chromium headless through Playwright, for tests of the HTML pages.

Playwright's own browser download is never used: tests must run offline, and the system
chromium is what the project's machines have. Console errors and uncaught page exceptions are
collected, because a page that "works" while logging errors is still broken.
"""
from __future__ import annotations

import importlib.util
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class BrowserPage:
    """An open page and what it reported: `errors` holds console errors and page exceptions."""

    page: "Page"
    errors: list[str] = field(default_factory=list)


def _skip_without_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"browser test needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("browser test needs the playwright package (pip install 'postercensus[test]')")


@contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator[BrowserPage]:
    """A fresh headless chromium page; skips the calling test when no browser can be driven."""
    _skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            opened = BrowserPage(page)
            page.on("console", lambda message: opened.errors.append(f"console: {message.text}")
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
            yield opened
        finally:
            browser.close()


@contextmanager
def serving_app(home: Path) -> Iterator[str]:
    """The Dash app of the home on a free 127.0.0.1 port, in a background thread, stopped on leaving."""
    from postercensus.catalog.home import Home
    from postercensus.dashboards.app import make_app, make_local_server

    server = make_local_server(make_app(Home(home)), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
