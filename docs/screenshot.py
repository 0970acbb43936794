"""Take the README's picture of the demo dashboard: `python docs/screenshot.py DEMO_HOME`.

Why a script: the picture must show what the code draws today, so it is retaken from a fresh
`postercensus demo` rather than edited by hand. It drives Debian's /usr/bin/chromium through
Playwright (never a downloaded browser, as the tests do) and writes a palette PNG, which keeps
the flat-coloured Plotly page small in the repository.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).parent / "images" / "dashboard-demo.png"


def screenshot(page_html: Path, out: Path = OUT, width: int = 1200, height: int = 680) -> Path:
    """The top of the offline dashboard page (banner, base line, first figures) as a 256-colour PNG."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(page_html.resolve().as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            page.wait_for_timeout(1500)  # Plotly draws its traces after the first SVG appears
            shot = page.screenshot(full_page=False)
        finally:
            browser.close()
    image = Image.open(io.BytesIO(shot)).convert("RGB").quantize(colors=256)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("Error: usage: python docs/screenshot.py DEMO_HOME — run `postercensus demo --home DEMO_HOME` first")
    dashboard = Path(sys.argv[1]).expanduser() / "dashboard.html"
    if not dashboard.is_file():
        sys.exit(f"Error: no dashboard at {dashboard} — run `postercensus demo --home {sys.argv[1]}` first")
    print(screenshot(dashboard))
