"""Dashboards: figure builders, the offline page (offline, renders in chromium) and the Dash app.

The catalogue is the hand-made one of tests.support.dashboarddb, so every bar is known; the
browser tests drive Debian's chromium through tests.support.browser and fail on console errors.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from postercensus.analysis.filters import FilterError, Filters
from postercensus.analysis.load import Tables, load_tables
from postercensus.dashboards import figures
from postercensus.dashboards.names import display_name
from postercensus.dashboards.panels import (AGREEMENT, COMPOSITION, FACE_PANELS, KEYWORDS, PANELS, SHARE_BY_DECADE,
                               SHARE_OVER_TIME, build_figures)
from postercensus.catalog.config import DEMO_BANNER, HomeConfig
from postercensus.catalog.home import Home
from postercensus.cli.dashboard import dashboard_app
from tests.support.browser import serving_app
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
    from postercensus.dashboards.page import build_page

    return build_page(tables, tmp_path_factory.mktemp("page") / "dashboard.html")


def _by_year(rows: list[tuple]) -> pd.DataFrame:
    columns = ["year", "label", "faces", "raw_share", "corrected_share", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns).assign(decade=1940, items=1, items_with_faces=1, model_id=MODEL_ID)


def _is_no_data(figure) -> bool:
    return [annotation.text for annotation in figure.layout.annotations] == [figures.NO_DATA] and not figure.data


@pytest.mark.parametrize("builder, columns", [
    (figures.share_over_time, ["year", "label", "faces", "raw_share", "corrected_share", "ci_low", "ci_high"]),
    (figures.share_by_decade, ["decade", "label", "items", "faces", "raw_share", "corrected_share", "ci_low",
                               "ci_high"]),
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


def test_keyword_figure_draws_one_female_share_bar_per_keyword_with_its_interval_and_counts_off_the_bars():
    frame = pd.DataFrame({"keyword": ["war", "war", "food", "food"], "label": ["female", "male"] * 2,
                          "faces": [4, 6, 1, 0], "corrected_share": [0.4, 0.6, 1.0, 0.0],
                          "ci_low": [0.1, 0.35, 0.2, 0.0], "ci_high": [0.65, 0.9, 1.0, 0.8]})
    figure = figures.keywords_by_gender(frame)
    (female,) = figure.data  # no complementary male bar: it would repeat the same share
    assert female.name == "female (corrected)" and female.marker.color == figures.label_colour("female")
    assert female.orientation == "h" and list(female.y) == ["war", "food"]
    assert list(female.x) == pytest.approx([0.4, 1.0])
    assert list(female.error_x.array) == pytest.approx([0.25, 0.0])
    assert list(female.error_x.arrayminus) == pytest.approx([0.3, 0.8])
    assert female.text is None, "no count printed on (or rotated under) the bars"
    assert female.hovertext[0] == "4 female of 10 faces, interval 10%–65%"
    assert [list(point) for point in female.customdata] == [["war", None], ["food", None]], \
        "a click asks for every poster of the keyword"
    assert figure.layout.xaxis.title.text == "corrected female share of the keyword's faces"
    assert list(figure.layout.yaxis.ticktext) == ["war (10 faces)", "food (1 face)"]
    assert list(figure.layout.yaxis.categoryarray) == ["food", "war"], "the most common keyword on top"


def test_share_by_decade_shows_each_decade_with_its_interval_and_keeps_empty_decades():
    nan = np.nan
    by_decade = pd.DataFrame(
        [(1930, "female", 3, 2, 0.5, 0.45, 0.2, 0.7), (1940, "female", 0, 0, nan, nan, nan, nan),
         (1950, "female", 5, 4, 0.25, 0.3, 0.1, 0.5), (1950, "male", 5, 12, 0.75, 0.7, 0.5, 0.9)],
        columns=["decade", "label", "items", "faces", "raw_share", "corrected_share", "ci_low", "ci_high"])
    corrected, raw = figures.share_by_decade(by_decade).data
    assert list(corrected.x) == ["1930s", "1940s", "1950s"] and np.isnan(corrected.y[1])
    assert list(corrected.error_y.array) == pytest.approx([0.25, nan, 0.2], nan_ok=True)
    assert list(raw.y) == pytest.approx([0.5, nan, 0.25], nan_ok=True)
    assert corrected.hovertext[2] == "4 female of 16 faces on 5 posters"
    assert list(figures.share_by_decade(by_decade).layout.xaxis.ticktext) == ["1930s<br>2 faces", "1940s<br>0 faces",
                                                                             "1950s<br>16 faces"]


def test_display_names_say_categories_as_people_do():
    assert [display_name(kind) for kind in ("no_face", "only_female", "only_male", "only_uncertain", "text_only",
                                            "faces_only", "agree")] == \
        ["no face", "only female faces", "only male faces", "only uncertain faces", "text only", "faces only",
         "text and faces agree"]
    assert display_name("not_scanned") == "not scanned yet" and display_name("no_image") == "no image"
    assert display_name("some_new_kind") == "some new kind", "a category without an entry still reads as words"


def _axes(figure) -> list:
    return [figure.layout[name] for name in figure.layout if name.startswith(("xaxis", "yaxis"))]


def test_every_axis_of_every_panel_has_a_title_and_categories_have_human_names(tables):
    built = build_figures(tables, Filters())
    for panel_id, figure in built.items():
        axes = _axes(figure)
        assert len(axes) >= 2, panel_id
        assert all(axis.title.text for axis in axes), panel_id
    assert set(built[COMPOSITION].data[0].x) >= {"no face", "only female faces", "only male faces"}
    assert "text only" in built[AGREEMENT].data[0].x and "text_only" not in built[AGREEMENT].data[0].x
    assert list(built[SHARE_BY_DECADE].data[0].x) == ["1940s"]


def test_text_roles_keep_the_top_roles_by_all_mentions():
    frame = pd.DataFrame({"gender": ["female", "male", "male", "female"], "role_lemma": ["nurse", "soldier", None, "a"],
                          "category": None, "mentions": [5, 9, 3, 1]})
    figure = figures.text_roles(frame, top_n=2)
    assert {role for trace in figure.data for role in trace.y} == {"soldier", "nurse"}


def test_methods_text_names_the_model_its_accuracy_and_what_perceived_gender_means(tables):
    text = " ".join(f"{heading}: {paragraph}" for heading, paragraph in
                    figures.methods_text(tables.models[MODEL_ID], 0.6, 0.0))
    assert MODEL_ID in text and "Accuracy 90.0%" in text and "balanced accuracy 90.0%" in text
    assert "0.60" in text and "not the identity" in text and "drawings" in text and "95 %" in text
    assert "no classifier registered" in figures.methods_text(None)[0][1]


def test_methods_say_how_faces_are_counted_and_whether_that_is_the_collections_threshold():
    default = dict(figures.methods_text(None, 0.0, 0.0))["Thresholds"]
    assert "every face counted by its most probable label" in default and "below" not in default
    assert "This is the threshold set for this collection." in default
    own = dict(figures.methods_text(None, 0.0, 0.7))["Thresholds"]
    assert "every face counted by its most probable label" in own
    assert "The threshold set for this collection is 0.70; this view chose its own." in own
    at_home = dict(figures.methods_text(None, 0.6, 0.6))["Thresholds"]
    assert "below 0.60" in at_home and "This is the threshold set for this collection." in at_home


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


def _tick_texts(page, panel_id: str, ticks: str) -> list[str]:
    return page.eval_on_selector_all(f"#{panel_id} .{ticks} text", "ticks => ticks.map(tick => tick.textContent)")


def test_page_renders_every_figure_in_chromium(page_path, browser):
    requests: list[str] = []
    browser.page.on("request", lambda request: requests.append(request.url))
    browser.page.goto(page_path.as_uri())
    for panel in PANELS:
        browser.page.wait_for_selector(f"#{panel.id} .main-svg", timeout=15000)
    traces = browser.page.evaluate(f"document.getElementById('{SHARE_OVER_TIME}').data.length")
    assert traces == 3
    for panel in PANELS:  # every drawn axis carries its title
        for axis in ("xtitle", "ytitle"):
            assert browser.page.text_content(f"#{panel.id} .g-{axis}").strip(), (panel.id, axis)
    composition = _tick_texts(browser.page, COMPOSITION, "xtick")
    assert "no face" in composition and "only female faces" in composition
    keywords = _tick_texts(browser.page, KEYWORDS, "ytick")
    assert "war (3 faces)" in keywords and "industry (4 faces)" in keywords
    assert browser.page.locator(f"#{KEYWORDS} .bartext").count() == 0, "no counts printed on the bars"
    assert browser.page.locator(f"#{SHARE_BY_DECADE} .errorbar").count() >= 1
    assert _screenshot_is_not_blank(browser.page.screenshot(full_page=True))
    assert browser.page.locator(".demo-banner").count() == 0, "a real collection carries no demo banner"
    assert browser.errors == []
    assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []


@pytest.fixture(scope="module")
def demo_tables(catalogue, tmp_path_factory) -> Tables:
    """The test catalogue read as the tables of a home marked `demo = true`."""
    _home, engine = catalogue
    home = tmp_path_factory.mktemp("demo-home")
    HomeConfig.load(home).mark_demo()
    return load_tables(engine, home=home)


def test_a_demo_page_keeps_its_banner_in_view_and_marks_every_figure(demo_tables, tmp_path, browser):
    from postercensus.dashboards.page import build_page

    page_path = build_page(demo_tables, tmp_path / "dashboard.html")
    html = page_path.read_text(encoding="utf-8")
    assert f'<div class="demo-banner" role="note">{DEMO_BANNER}</div>' in html
    assert all(any(annotation.text == "DEMO" for annotation in figure.layout.annotations)
               for figure in build_figures(demo_tables, Filters()).values())
    browser.page.goto(page_path.as_uri())
    browser.page.wait_for_selector(f"#{PANELS[-1].id} .main-svg", timeout=15000)
    assert browser.page.title().startswith(DEMO_BANNER)
    browser.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    banner = browser.page.locator(".demo-banner")
    assert banner.is_visible() and banner.inner_text() == DEMO_BANNER
    assert banner.bounding_box()["y"] < 5, "the banner stays at the top of the window while scrolling"
    assert browser.errors == []


@pytest.fixture
def served(catalogue) -> Iterator[str]:
    """The Dash app of the test catalogue, stopped after the test."""
    with serving_app(catalogue[0]) as url:
        yield url


def _trace_x(page, panel_id: str, trace: int) -> list:
    return page.evaluate(f"document.querySelector('#{panel_id} .js-plotly-plot').data[{trace}].x")


def test_app_filters_update_figures_and_a_click_shows_the_posters(served, browser):
    page = browser.page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(served + "/")
    for panel in PANELS:
        page.wait_for_selector(f"#{panel.id} .main-svg", timeout=20000)
    assert _trace_x(page, SHARE_OVER_TIME, 1) == [1940, 1941, 1942, 1943, 1944, 1945]
    assert "text only" in _tick_texts(page, AGREEMENT, "xtick") and page.locator("#demo-banner").count() == 0

    page.fill("#filter-years .dash-range-slider-min-input", "1943")
    page.press("#filter-years .dash-range-slider-min-input", "Tab")  # the input commits on blur
    page.wait_for_function(f"document.querySelector('#{SHARE_OVER_TIME} .js-plotly-plot').data[1].x.length == 3",
                           timeout=15000)
    assert _trace_x(page, SHARE_OVER_TIME, 1) == [1943, 1944, 1945]

    bar = page.locator(f"#{KEYWORDS} .barlayer .trace .point path").first  # a keyword's female bar
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    x, y = box["x"] + 1, box["y"] + box["height"] / 2  # left end: a zero-share bar is a line
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


def test_the_app_of_a_demo_home_shows_the_banner_and_a_real_one_does_not(catalogue, demo_tables):
    from postercensus.dashboards.app import make_app

    _home, engine = catalogue
    demo = make_app(Home(demo_tables.home, db_url=str(engine.url))).server.test_client()
    first = demo.get("/_dash-layout").get_json()["props"]["children"][0]["props"]
    assert (first["id"], first["children"]) == ("demo-banner", DEMO_BANNER)
    assert f"<title>{DEMO_BANNER}: postercensus</title>" in demo.get("/").get_data(as_text=True)
    real = make_app(Home(catalogue[0])).server.test_client()
    assert "DEMO" not in real.get("/_dash-layout").get_data(as_text=True)


def test_image_route_serves_only_files_under_home_images(catalogue, tables):
    from postercensus.dashboards.app import make_app

    home, _engine = catalogue
    client = make_app(Home(home)).server.test_client()
    image = tables.items["image_path"].iloc[0]
    assert client.get(f"/poster-images/{image}").status_code == 200
    for outside in ("catalog.sqlite", "images/../catalog.sqlite", "images/%2e%2e/catalog.sqlite", "images/missing.png"):
        assert client.get(f"/poster-images/{outside}").status_code == 404


def test_cli_build_writes_the_page(catalogue, tmp_path):
    home, _engine = catalogue
    cli = typer.Typer()

    @cli.callback()
    def options(ctx: typer.Context) -> None:
        ctx.obj = Home(home)

    cli.add_typer(dashboard_app, name="dashboard")
    out = tmp_path / "out" / "page.html"
    result = CliRunner().invoke(cli, ["dashboard", "build", str(out), "--year-from", "1941", "--keyword", "war"])
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.output.replace("\n", "")
    assert "years 1941–…; keywords war" in out.read_text(encoding="utf-8")


def test_a_page_is_never_drawn_for_an_empty_selection(tables):
    from postercensus.dashboards.page import render_page

    with pytest.raises(FilterError, match="no item matches years 1990–…"):
        render_page(tables, Filters(year_from=1990))


BASE = "Faces found on 4 of 5 posters with a scanned image (5 posters in this view)"  # poster 5 shows none
UNSCANNED = "No poster in this view has a scanned image (5 posters: 5 not scanned yet)"


@pytest.fixture(scope="module")
def unscanned_catalogue(tmp_path_factory) -> tuple[Path, object]:
    """The same posters, images stored but not scanned by the faces stage yet."""
    home = tmp_path_factory.mktemp("unscanned") / "home"
    return home, build_catalogue(home, scanned=False)


def test_every_face_figure_states_its_base(tables):
    figures_ = build_figures(tables, Filters())
    assert {panel: figures_[panel].layout.title.subtitle.text for panel in FACE_PANELS} == dict.fromkeys(FACE_PANELS,
                                                                                                         BASE)
    assert figures_[AGREEMENT].layout.title.subtitle.text == "Text and faces compared on 4 posters with a scanned image"
    one_year = build_figures(tables, Filters(year_from=1945, year_to=1945))  # posters 4 (a face) and 5 (none)
    assert one_year[SHARE_OVER_TIME].layout.title.subtitle.text == \
        "Faces found on 1 of 2 posters with a scanned image (2 posters in this view)"


def test_a_collection_without_a_scanned_image_says_so_instead_of_empty_axes(unscanned_catalogue):
    from postercensus.dashboards.page import render_page

    home, engine = unscanned_catalogue
    tables = load_tables(engine, home=home)
    assert set(tables.items["face_status"]) == {"not_scanned"}
    figures_ = build_figures(tables, Filters())
    for panel in FACE_PANELS:
        assert [annotation.text for annotation in figures_[panel].layout.annotations] == [UNSCANNED], panel
        assert not figures_[panel].data and not figures_[panel].layout.xaxis.visible
    assert render_page(tables).count(UNSCANNED) == len(FACE_PANELS)
    # the agreement figure still counts the posters whose text mentions someone, apart from any share
    agreement = figures_[AGREEMENT]
    assert agreement.layout.title.subtitle.text == ("Text and faces compared on 0 posters with a scanned image; with "
                                                    "mentions but no scanned image, counted apart: 4 not scanned yet")
    bars = dict(zip(agreement.data[0].x, agreement.data[0].text))
    assert bars["not scanned yet"] == "not in shares" and "text only" in bars


def _subtitle(page, panel_id: str) -> str:
    return page.evaluate(f"document.querySelector('#{panel_id} .js-plotly-plot').layout.title.subtitle.text")


def test_app_states_the_base_and_says_when_nothing_was_scanned(catalogue, unscanned_catalogue, browser):
    with serving_app(catalogue[0]) as scanned, serving_app(unscanned_catalogue[0]) as unscanned:
        page = browser.page
        page.goto(scanned + "/")
        for panel in FACE_PANELS:
            page.wait_for_selector(f"#{panel} .main-svg", timeout=20000)
            assert _subtitle(page, panel) == BASE
        page.goto(unscanned + "/")
        for panel in FACE_PANELS:
            page.wait_for_selector(f"#{panel} .main-svg", timeout=20000)
        page.wait_for_function(f"document.getElementById('{FACE_PANELS[0]}').textContent"
                               f".includes('No poster in this view')", timeout=15000)
        for panel in FACE_PANELS:
            assert UNSCANNED in page.locator(f"#{panel}").text_content()
        assert browser.errors == []


def _update_figures(client, years: list[int], keywords: list[str] | None) -> dict:
    """POST the filter controls' values to the figures callback, as the browser does (no server runs)."""
    outputs = [*(f"{panel.id}.figure" for panel in PANELS), "methods.children", "filter-summary.children",
               "citation.children"]
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
    from postercensus.dashboards.app import NO_MATCH, make_app

    home, _engine = catalogue
    client = make_app(Home(home)).server.test_client()
    found = _update_figures(client, [1940, 1945], ["war"])  # 1940 (2 faces) and 1941 (1 face)
    assert found["filter-summary"]["children"] == "2 items, 2 images and 3 faces matched."
    assert found[SHARE_OVER_TIME]["figure"]["data"]

    nothing = _update_figures(client, [1940, 1941], ["food"])  # food posters are from 1945
    assert nothing["filter-summary"]["children"].startswith("no item matches years 1940–1941; keywords food")
    for panel in PANELS:
        figure = nothing[panel.id]["figure"]
        assert not figure["data"] and figure["layout"]["title"]["text"] == NO_MATCH
