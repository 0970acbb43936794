"""Dashboards: the prominence figure (three measures side by side) and the app's compare panel (two
selectors, the rows A, B and B − A), on the catalogue of tests/test_analysis_compare.py, whose
shares are known: agriculture 0.8 female, industry 0.2, difference −0.6.
"""
from __future__ import annotations

import pandas as pd
import pytest

from postercensus.analysis.filters import Filters
from postercensus.analysis.load import load_tables
from postercensus.analysis.prominence import prominence
from postercensus.dashboards import figures
from postercensus.dashboards.panels import PROMINENCE, build_figures
from tests.support.browser import serving_app
from tests.support.sharesdb import build
from tests.test_analysis_compare import posters


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("compare-app") / "home"
    return build(home, posters(1930, "agriculture", "farms", 66) + posters(1950, "industry", "factories", 24))


def test_the_prominence_figure_shows_the_three_measures_with_their_intervals(home):
    table = prominence(load_tables(home), Filters(min_probability=0.0))
    figure = figures.prominence_measures(table)
    bars = figure.data[0]
    assert list(bars.x) == ["every face", "weighted by face area", "largest face only"]
    female = table[table["label"] == "female"]
    assert list(bars.y) == pytest.approx(list(female["corrected_share"]))
    assert list(bars.error_y.array) == pytest.approx(list(female["ci_high"] - female["corrected_share"]))
    assert "200 faces" in figure.layout.xaxis.ticktext[0] and "effective" in figure.layout.xaxis.ticktext[1]
    assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text
    assert figures.prominence_measures(pd.DataFrame()).layout.annotations[0].text == figures.NO_DATA


def test_the_panels_include_prominence_with_its_base(home):
    built = build_figures(load_tables(home), Filters(min_probability=0.0))
    assert built[PROMINENCE].layout.title.subtitle.text.startswith("Faces found on 20 of 20 posters")


def _choose(page, dropdown: str, value: str) -> None:
    """Pick `value` in a Dash dropdown as a user does: open it, search, click the option (waiting for
    the options, which a callback fills in after the page loads)."""
    page.click(f"#{dropdown}")
    page.locator(".dash-dropdown-search").fill(value)  # fill, not type: a key pressed before focus would be lost
    page.locator(".dash-dropdown-option", has_text=value).first.click(timeout=15000)
    page.keyboard.press("Escape")  # closed, so the next dropdown's click opens that one
    page.wait_for_function(f"document.getElementById('{dropdown}').textContent.includes('{value}')", timeout=15000)
    page.locator(".dash-dropdown-option").first.wait_for(state="detached", timeout=15000)


def test_the_compare_panel_answers_a_selection(home, browser):
    page = browser.page
    with serving_app(home) as url:
        page.goto(url + "/")
        page.wait_for_selector(f"#{PROMINENCE} .main-svg", timeout=20000)
        page.wait_for_function("document.getElementById('compare-line').textContent.includes('choose two groups')",
                               timeout=15000)
        _choose(page, "compare-a", "agriculture")
        _choose(page, "compare-b", "industry")
        page.wait_for_function("document.getElementById('compare-line').textContent.startsWith('female share')",
                               timeout=15000)
        line = page.text_content("#compare-line")
        rows = page.eval_on_selector_all("#compare-table tr", "rows => rows.map(row => row.innerText)")
    assert line.startswith("female share: agriculture 0.80 [") and "difference −0.60 [−" in line
    assert len(rows) == 4 and rows[1].split("\t")[:3] == ["A", "agriculture", "66"]
    assert rows[3].split("\t")[:4] == ["B-A", "industry − agriculture", "90", "-0.60"]
    assert browser.errors == []
