"""The interactive dashboard: the page's panels under filters, and a drill-down to the posters.

It only reads: the catalogue is loaded into frames by `analysis.load.load_tables` (one short
connection) and reloaded when older than `max_age` seconds, so a refresh writing at the same
time neither blocks the app nor sees "database is locked" from it. Everything the browser
needs (Dash's JS, plotly.js, images) comes from this server; it listens on 127.0.0.1 only.
"""
from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

import dash
from dash import Input, Output, State, dcc, html
from werkzeug.serving import BaseWSGIServer, make_server

from postercensus.analysis.compare import GROUPINGS, compare, group_values, quotable
from postercensus.analysis.filters import FilterError, Filters
from postercensus.analysis.load import Tables, load_tables
from postercensus.analysis.selection import matched
from postercensus.analysis.tables import by_keyword, items_for
from postercensus.catalog.home import Home
from postercensus.dashboards.citation import citation
from postercensus.dashboards.drilldown import drilldown, register_image_route
from postercensus.dashboards.figures import no_data
from postercensus.dashboards.panels import FACES_BY_YEAR, KEYWORDS, PANELS, SHARE_OVER_TIME, build_figures, methods

HOST = "127.0.0.1"
DEFAULT_PORT = 8050
TABLES_MAX_AGE_S = 30.0
KEYWORD_OPTIONS = 500
GRAPH_CONFIG = {"displaylogo": False}
CLICKABLE = (SHARE_OVER_TIME, FACES_BY_YEAR, KEYWORDS)
DEMO_BANNER_STYLE = {"position": "sticky", "top": 0, "zIndex": 10, "background": "#fff3c4", "color": "#7a1500",
                     "fontWeight": 700, "fontSize": "1.4rem", "textAlign": "center", "padding": "0.5rem",
                     "border": "3px solid #c2185b"}  # as the offline page's .demo-banner
NO_MATCH = "no poster matches these filters"
CITATION_STYLE = {"marginTop": "1.5rem", "paddingTop": "0.5rem", "borderTop": "1px solid #ccc", "color": "#444",
                  "fontSize": "0.85rem"}  # as the offline page's #citation
COMPARE_PROMPT = "choose two groups to compare"
COMPARE_HEADERS = ("group", "", "faces", "corrected share", "95 % interval")
CITATION_LIST_STYLE = {"display": "grid", "gridTemplateColumns": "max-content 1fr", "gap": "0.2rem 1rem", "margin": 0}


class TablesCache:
    """The home's tables (its active result sets), reloaded when older than `max_age` seconds (one loader at a time).

    Loaded tables live until the next reload, so they are frozen out of the cyclic garbage
    collector's view (`gc.freeze`): at 100,000 items a full collection otherwise walks their
    200,000 lists and stops whichever filter change it falls in for a quarter to half a second.
    They are unfrozen before a reload, so the old tables can be collected.
    """

    def __init__(self, home: Home, max_age: float) -> None:
        self.home, self.max_age = home, max_age
        self._lock = threading.Lock()
        self._tables: Tables | None = None
        self._loaded_at = 0.0

    def get(self) -> Tables:
        with self._lock:
            if self._tables is None or time.monotonic() - self._loaded_at > self.max_age:
                gc.unfreeze()
                self._tables = load_tables(self.home)
                gc.collect()  # the loading's garbage (and the old tables') before the rest is frozen
                gc.freeze()
                self._loaded_at = time.monotonic()
            return self._tables


def _filter_controls(tables: Tables) -> html.Div:
    years = tables.items["year"].dropna().astype(int)
    low, high = (int(years.min()), int(years.max())) if not years.empty else (0, 0)
    keywords = by_keyword(tables, Filters(), top_n=KEYWORD_OPTIONS)["keyword"] if not tables.items.empty else []
    sources = sorted(tables.items["source"].dropna().unique())
    return html.Div(className="filters", style={"display": "grid", "gap": "0.8rem 2rem",
                                                "gridTemplateColumns": "1fr 1fr"}, children=[
        html.Label(["Years", dcc.RangeSlider(id="filter-years", min=low, max=high, step=1, value=[low, high],
                                             disabled=years.empty, tooltip={"placement": "bottom"},
                                             marks=None)]),
        html.Label(["Keywords", dcc.Dropdown(id="filter-keywords", options=list(dict.fromkeys(keywords)),
                                             multi=True, placeholder="any keyword")]),
        html.Label(["Source", dcc.Dropdown(id="filter-source", options=sources, placeholder="all sources")]),
        html.Label(["Faces below this probability count as uncertain (starts at the [classify] threshold)",
                    dcc.Slider(id="filter-probability", min=0, max=1, step=0.05, value=tables.threshold,
                               marks={0: "0", 0.5: "0.5", 1: "1"}, tooltip={"placement": "bottom"})]),
    ])


def _filters(years: list[int] | None, keywords: list[str] | None, source: str | None, probability: float | None,
             full_range: tuple[int, int]) -> Filters:
    """The controls' values as Filters; the full year range means no year bound (keeps undated items),
    and a slider without a value leaves the threshold to the home's `[classify] threshold`."""
    low, high = years or full_range
    bounded = (low, high) != full_range
    return Filters(year_from=low if bounded else None, year_to=high if bounded else None,
                   keywords=tuple(keywords or ()), source=source or None,
                   min_probability=None if probability is None else float(probability))


def _clicked(trigger: str, click: dict) -> tuple[dict, str]:
    """The items_for arguments a click names, and the same in words."""
    point = click["points"][0]
    data = point.get("customdata") or [point.get("x")]
    if trigger == KEYWORDS:  # a keyword's share bar: every poster of the keyword, the share's base
        keyword = data[0]
        return {"keyword": keyword}, f"keyword “{keyword}”"
    year = int(data[0])
    if trigger == FACES_BY_YEAR:
        return {"year": year, "label": data[1]}, f"{year}, {data[1]} faces"
    return {"year": year}, str(year)


def _citation(tables: Tables, filters: Filters) -> list:
    """The footer's children for this view (`dashboards.citation`), as on the offline page."""
    pairs = [child for what, value in citation(tables, filters)
             for child in (html.Dt(what, style={"fontWeight": 600}), html.Dd(value, style={"margin": 0}))]
    return [html.H2("Cite this view", style={"fontSize": "1rem"}), html.Dl(pairs, style=CITATION_LIST_STYLE)]


def _compare_controls() -> html.Section:
    """Two selectors (group A, group B) of one kind (keyword, source, decade), and where the three
    rows of `analysis.compare` (A, B and B − A) and the line to quote appear."""
    return html.Section(id="compare", children=[
        html.H2("Compare two groups"),
        html.Div(style={"display": "grid", "gap": "0.8rem 2rem", "gridTemplateColumns": "auto 1fr 1fr"}, children=[
            html.Label(["Group by", dcc.RadioItems(id="compare-by", options=list(GROUPINGS), value=GROUPINGS[0],
                                                   inline=True)]),
            html.Label(["Group A", dcc.Dropdown(id="compare-a", placeholder="group A")]),
            html.Label(["Group B", dcc.Dropdown(id="compare-b", placeholder="group B")]),
        ]),
        html.P(id="compare-line", role="status", style={"fontWeight": "bold"}),
        html.Table(id="compare-table", style={"borderSpacing": "1.2rem 0.2rem", "marginLeft": "-1.2rem"}),
        html.P("B − A: the difference of the corrected shares, its 95 % interval from one draw of the "
               "classifier's error rates for both groups (a joint bootstrap)."),
    ])


def _compare_rows(table) -> list:
    """The first label's three rows (A, B, B − A) as table rows, the header first."""
    label = table["label"].iloc[0]
    rows = [html.Tr([html.Th(header) for header in COMPARE_HEADERS])]
    for row in table[table["label"] == label].itertuples():
        known = row.corrected_share == row.corrected_share  # NaN: no share
        rows.append(html.Tr([html.Td(row.group), html.Td(row.value), html.Td(f"{row.faces:,}"),
                             html.Td(f"{row.corrected_share:+.2f}" if row.group == "B-A" and known
                                     else f"{row.corrected_share:.2f}" if known else "unknown"),
                             html.Td(f"{row.ci_low:.2f} to {row.ci_high:.2f}" if known else "")]))
    return rows


def make_app(home: Home, max_age: float = TABLES_MAX_AGE_S) -> dash.Dash:
    """The Dash app for a home: its tables through analysis (the same active result sets as the
    export), its images from its folder."""
    cache = TablesCache(home, max_age)
    tables = cache.get()
    years = tables.items["year"].dropna().astype(int)
    full_range = (int(years.min()), int(years.max())) if not years.empty else (0, 0)
    banner = tables.demo_banner
    app = dash.Dash(__name__, title=f"{banner}: postercensus" if banner else "postercensus", serve_locally=True,
                    external_stylesheets=[], external_scripts=[], update_title=None)
    register_image_route(app.server, home.path)
    app.layout = html.Div(style={"fontFamily": "system-ui, sans-serif", "maxWidth": "1200px", "margin": "0 auto",
                                 "padding": "1rem 2rem"}, children=[
        *([html.Div(banner, id="demo-banner", role="note", style=DEMO_BANNER_STYLE)] if banner else []),
        html.H1("postercensus"),
        html.P(f"Catalogue {home.path}. Click a year's point or bar, or a keyword's bar, to see its posters."),
        _filter_controls(tables),
        html.P(id="filter-summary", role="status", style={"fontWeight": "bold"}),
        *(html.Section([dcc.Graph(id=panel.id, config=GRAPH_CONFIG), html.P(panel.caption)]) for panel in PANELS),
        _compare_controls(),
        html.Section(id="drilldown"),
        html.Section(id="methods", style={"background": "#f6f6f6", "padding": "0.5rem 1.5rem"}),
        html.Footer(id="citation", style=CITATION_STYLE),
    ])
    controls = [Input("filter-years", "value"), Input("filter-keywords", "value"),
                Input("filter-source", "value"), Input("filter-probability", "value")]

    @app.callback([Output(panel.id, "figure") for panel in PANELS]
                  + [Output("methods", "children"), Output("filter-summary", "children"),
                     Output("citation", "children")], controls)
    def update_figures(years, keywords, source, probability):
        filters = _filters(years, keywords, source, probability, full_range)
        current = cache.get()
        notes = [html.H2("Methods")]
        for heading, text in methods(current, filters):
            notes += [html.H3(heading), html.P(text)]
        try:  # the same check as `export` and `dashboard build`: an empty selection is said, not drawn
            found = matched(current, filters)
        except FilterError as error:
            return [*(no_data(NO_MATCH) for _panel in PANELS), notes, str(error), []]
        return [*build_figures(current, filters).values(), notes, f"{found}.", _citation(current, filters)]

    @app.callback([Output("compare-a", "options"), Output("compare-b", "options")],
                  [Input("compare-by", "value"), *controls])
    def compare_options(by, years, keywords, source, probability):
        try:
            values = group_values(cache.get(), by, _filters(years, keywords, source, probability, full_range))
        except FilterError:
            values = []
        return values, values

    @app.callback([Output("compare-line", "children"), Output("compare-table", "children")],
                  [Input("compare-by", "value"), Input("compare-a", "value"), Input("compare-b", "value"), *controls])
    def compare_groups(by, a, b, years, keywords, source, probability):
        if not a or not b:
            return COMPARE_PROMPT, []
        try:
            table = compare(cache.get(), by, a, b, _filters(years, keywords, source, probability, full_range))
        except FilterError as error:  # a group the new filters leave out, or no model
            return str(error), []
        return quotable(table), _compare_rows(table)

    @app.callback(Output("drilldown", "children"), [Input(panel, "clickData") for panel in CLICKABLE],
                  [State(control.component_id, control.component_property) for control in controls],
                  prevent_initial_call=True)
    def show_posters(*values):
        trigger = dash.ctx.triggered_id
        click = values[CLICKABLE.index(trigger)]
        if not click:
            return []
        selection, what = _clicked(trigger, click)
        filters = _filters(*values[len(CLICKABLE):], full_range)
        try:
            items = items_for(cache.get(), filters, **selection)
        except FilterError:  # the catalogue was reloaded since the click's figure was drawn
            return []
        return drilldown(home.path, items.to_dict("records"), what)

    return app


def make_local_server(app: dash.Dash, port: int = DEFAULT_PORT) -> BaseWSGIServer:
    """A threaded WSGI server for the app on 127.0.0.1 (port 0: any free port, see `.server_port`)."""
    return make_server(HOST, port, app.server, threaded=True)


def serve(home: Home, port: int = DEFAULT_PORT, announce: Callable[[str], None] = print) -> None:
    """Serve the dashboard until interrupted; `announce` gets the URL once it listens."""
    server = make_local_server(make_app(home), port)
    announce(f"http://{HOST}:{server.server_port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
