"""Dashboards: figure builders, the offline page (offline, renders in chromium) and the Dash app.

The catalogue is the hand-made one of tests.support.dashboarddb, so every bar is known; the
browser tests drive Debian's chromium through tests.support.browser and fail on console errors.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from analysis.filters import FilterError, Filters
from analysis.load import Tables, load_tables
from dashboards import figures
from dashboards.panels import KEYWORDS, PANELS, SHARE_OVER_TIME
from postercensus.context import AppContext
from postercensus.dashboard_commands import dashboard_app
from tests.support.browser import chromium_page
from tests.support.dashboarddb import MODEL_ID, build_catalogue

EXTERNAL_LINK = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
INLINE_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>).*?(</script>)", re.IGNORECASE | re.DOTALL)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> tuple[Path, object]:
    home = tmp_path_factory.mktemp("dashboards") / "home"
    return home, build_catalogue(home)


@pytest.fixture(scope="module")
def tables(catalogue) -> Tables:
    home, engine = catalogue
    return load_tables(engine, home=home)


@pytest.fixture(scope="module")
def page_path(tables, tmp_path_factory) -> Path:
    from dashboards.page import build_page

    return build_page(tables, tmp_path_factory.mktemp("page") / "dashboard.html")


def _by_year(rows: list[tuple]) -> pd.DataFrame:
    columns = ["year", "label", "faces", "raw_share", "corrected_share", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns).assign(decade=1940, items=1, items_with_faces=1, model_id=MODEL_ID)


def _is_no_data(figure) -> bool:
    return [annotation.text for annotation in figure.layout.annotations] == [figures.NO_DATA] and not figure.data


@pytest.mark.parametrize("builder, columns", [
    (figures.share_over_time, ["year", "label", "faces", "raw_share", "corrected_share", "ci_low", "ci_high"]),
    (figures.faces_by_year, ["year", "label", "faces"]),
    (figures.composition, ["composition", "items", "share"]),
    (figures.keywords_by_gender, ["keyword", "label", "faces", "corrected_share", "ci_low", "ci_high"]),
    (figures.text_roles, ["gender", "role_lemma", "category", "mentions"]),
    (figures.agreement, ["agreement", "items", "share"]),
])
def test_empty_tables_give_a_no_data_figure(builder, columns):
    assert _is_no_data(builder(pd.DataFrame(columns=columns)))


def test_share_over_time_leaves_gap_years_as_gaps_in_line_and_band():
    nan = np.nan
    figure = figures.share_over_time(_by_year([
        (1940, "female", 4, 0.5, 0.55, 0.3, 0.8), (1940, "male", 4, 0.5, 0.45, 0.2, 0.7),
        (1941, "female", 0, nan, nan, nan, nan), (1942, "female", 2, 0.4, 0.35, 0.1, 0.6),
        (1943, "female", 3, 0.2, 0.25, 0.05, 0.5),
    ]))
    band, line, _raw = figure.data
    assert list(line.x) == [1940, 1941, 1942, 1943] and np.isnan(line.y[1]) and not line.connectgaps
    assert band.fill == "toself"
    assert list(band.x) == [1940, 1940, 1940, None, 1942, 1943, 1943, 1942, 1942, None]  # no band over 1941
    assert [list(point) for point in line.customdata] == [[1940, "female"], [1941, "female"], [1942, "female"],
                                                          [1943, "female"]]


def test_keyword_bars_carry_their_interval_as_error_bars():
    frame = pd.DataFrame({"keyword": ["war", "war"], "label": ["female", "male"], "faces": [4, 6],
                          "corrected_share": [0.4, 0.6], "ci_low": [0.1, 0.35], "ci_high": [0.65, 0.9]})
    female, male = figures.keywords_by_gender(frame).data
    assert (female.name, male.name) == ("female", "male")
    assert list(female.error_y.array) == pytest.approx([0.25]) and list(female.error_y.arrayminus) == pytest.approx([0.3])
    assert female.marker.color == figures.label_colour("female") != male.marker.color


def test_text_roles_keep_the_top_roles_by_all_mentions():
    frame = pd.DataFrame({"gender": ["female", "male", "male", "female"], "role_lemma": ["nurse", "soldier", None, "a"],
                          "category": None, "mentions": [5, 9, 3, 1]})
    figure = figures.text_roles(frame, top_n=2)
    assert {role for trace in figure.data for role in trace.y} == {"soldier", "nurse"}


def test_methods_text_names_the_model_its_accuracy_and_what_perceived_gender_means(tables):
    text = " ".join(f"{heading}: {paragraph}" for heading, paragraph in
                    figures.methods_text(tables.models[MODEL_ID], 0.6, [0.0]))
    assert MODEL_ID in text and "Accuracy 90.0%" in text and "balanced accuracy 90.0%" in text
    assert "0.60" in text and "not the identity" in text and "drawings" in text and "95 %" in text
    assert "no classifier registered" in figures.methods_text(None)[0][1]


def test_page_has_every_panel_and_nothing_external(page_path):
    html = page_path.read_text(encoding="utf-8")
    for panel in PANELS:
        assert f'id="{panel.id}"' in html
    assert 'id="methods"' in html and MODEL_ID in html
    markup = INLINE_SCRIPT_BODY.sub(r"\1\2", html)  # plotly.js's own source holds link strings; tags do not
    assert EXTERNAL_LINK.findall(markup) == []
    assert "mathjax" not in markup.lower() and html.count("plotly.js v") == 1  # inlined once


def _screenshot_is_not_blank(png: bytes) -> bool:
    from io import BytesIO

    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(png)).convert("L"), dtype=float)
    return pixels.std() > 5


def test_page_renders_every_figure_in_chromium(page_path):
    with chromium_page() as browser:
        requests: list[str] = []
        browser.page.on("request", lambda request: requests.append(request.url))
        browser.page.goto(page_path.as_uri())
        for panel in PANELS:
            browser.page.wait_for_selector(f"#{panel.id} .main-svg", timeout=15000)
        traces = browser.page.evaluate(f"document.getElementById('{SHARE_OVER_TIME}').data.length")
        assert traces == 3
        assert _screenshot_is_not_blank(browser.page.screenshot(full_page=True))
        assert browser.errors == []
    assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []


@pytest.fixture
def served(catalogue) -> Iterator[str]:
    """The Dash app on a free 127.0.0.1 port, in a background thread, stopped after the test."""
    from dashboards.app import make_app, make_local_server

    home, engine = catalogue
    server = make_local_server(make_app(home, engine), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _trace_x(page, panel_id: str, trace: int) -> list:
    return page.evaluate(f"document.querySelector('#{panel_id} .js-plotly-plot').data[{trace}].x")


def test_app_filters_update_figures_and_a_click_shows_the_posters(served):
    with chromium_page() as browser:
        page = browser.page
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(served + "/")
        for panel in PANELS:
            page.wait_for_selector(f"#{panel.id} .main-svg", timeout=20000)
        assert _trace_x(page, SHARE_OVER_TIME, 1) == [1940, 1941, 1942, 1943, 1944, 1945]

        page.fill("#filter-years .dash-range-slider-min-input", "1943")
        page.press("#filter-years .dash-range-slider-min-input", "Tab")  # the input commits on blur
        page.wait_for_function(f"document.querySelector('#{SHARE_OVER_TIME} .js-plotly-plot').data[1].x.length == 3",
                               timeout=15000)
        assert _trace_x(page, SHARE_OVER_TIME, 1) == [1943, 1944, 1945]

        bar = page.locator(f"#{KEYWORDS} .barlayer .trace .point path").first  # a keyword's female bar
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 1  # bottom: a zero-share bar is a line
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.wait_for_selector("#drilldown img", timeout=15000)
        sources = page.eval_on_selector_all("#drilldown img", "images => images.map(image => image.getAttribute('src'))")
        assert sources and all(source.startswith("/poster-images/images/") for source in sources)
        assert page.locator("#drilldown .face-box").count() >= 1
        assert page.eval_on_selector_all("#drilldown a.thumbnail", "links => links.map(link => link.href)")[0] \
            .startswith("https://example.org/poster")
        loaded = page.eval_on_selector_all("#drilldown img", "images => images.every(image => image.naturalWidth > 0)")
        assert loaded
        assert browser.errors == []
    assert [url for url in requests if not url.startswith(served)] == []


def test_image_route_serves_only_files_under_home_images(catalogue, tables):
    from dashboards.app import make_app

    home, engine = catalogue
    client = make_app(home, engine).server.test_client()
    image = tables.items["image_path"].iloc[0]
    assert client.get(f"/poster-images/{image}").status_code == 200
    for outside in ("catalog.sqlite", "images/../catalog.sqlite", "images/%2e%2e/catalog.sqlite", "images/missing.png"):
        assert client.get(f"/poster-images/{outside}").status_code == 404


def test_cli_build_writes_the_page(catalogue, tmp_path):
    home, _engine = catalogue
    cli = typer.Typer()

    @cli.callback()
    def options(ctx: typer.Context) -> None:
        ctx.obj = AppContext(home)

    cli.add_typer(dashboard_app, name="dashboard")
    out = tmp_path / "out" / "page.html"
    result = CliRunner().invoke(cli, ["dashboard", "build", str(out), "--year-from", "1941", "--keyword", "war"])
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.output.replace("\n", "")
    assert "years 1941–…; keywords war" in out.read_text(encoding="utf-8")


def test_a_page_is_never_drawn_for_an_empty_selection(tables):
    from dashboards.page import render_page

    with pytest.raises(FilterError, match="no item matches years 1990–…"):
        render_page(tables, Filters(year_from=1990))


def _update_figures(client, years: list[int], keywords: list[str] | None) -> dict:
    """POST the filter controls' values to the figures callback, as the browser does (no server runs)."""
    outputs = [*(f"{panel.id}.figure" for panel in PANELS), "methods.children", "filter-summary.children"]
    inputs = [{"id": "filter-years", "property": "value", "value": years},
              {"id": "filter-keywords", "property": "value", "value": keywords},
              {"id": "filter-source", "property": "value", "value": None},
              {"id": "filter-probability", "property": "value", "value": 0}]
    response = client.post("/_dash-update-component", json={
        "output": ".." + "...".join(outputs) + "..",
        "outputs": [dict(zip(("id", "property"), output.split("."))) for output in outputs],
        "inputs": inputs, "changedPropIds": ["filter-keywords.value"], "state": []})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def test_app_says_how_much_its_filters_match_and_when_they_match_nothing(catalogue):
    from dashboards.app import NO_MATCH, make_app

    home, engine = catalogue
    client = make_app(home, engine).server.test_client()
    found = _update_figures(client, [1940, 1945], ["war"])  # 1940 (2 faces) and 1941 (1 face)
    assert found["filter-summary"]["children"] == "2 items, 2 images and 3 faces matched."
    assert found[SHARE_OVER_TIME]["figure"]["data"]

    nothing = _update_figures(client, [1940, 1941], ["food"])  # food posters are from 1945
    assert nothing["filter-summary"]["children"].startswith("no item matches years 1940–1941; keywords food")
    for panel in PANELS:
        figure = nothing[panel.id]["figure"]
        assert not figure["data"] and figure["layout"]["title"]["text"] == NO_MATCH
