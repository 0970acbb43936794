"""One threshold (issue 24, item 4): `[classify] threshold` is the default min_probability of the
tables, the export (library and CLI), the dashboards (page and app) and the notebook API alike.

On the hand-built catalogue of test_analysis_tables with `[classify] threshold = 0.7`: face f4
(male, 0.60) is the only counted face below 0.7 (f5 is marked `other` by a person), so every
default view has exactly one `uncertain` face, and a view that asks for 0 has none.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import postercensus as pc
from postercensus.analysis.cache import analyze, tables_current
from postercensus.analysis.export import export
from postercensus.analysis.filters import Filters
from postercensus.analysis.tables import by_gender, load_tables
from postercensus.catalog.home import Home
from postercensus.dashboards.app import make_app
from postercensus.dashboards.page import render_page
from tests.support.cli import run_cli
from tests.test_analysis_tables import build_catalogue

THRESHOLD = 0.7
DEFAULT_ROWS = [("female", "4"), ("male", "2"), ("uncertain", "1")]  # f1 f3 f6 f7; f2 f8; f4 below 0.7


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = build_catalogue(tmp_path_factory.mktemp("threshold") / "home")
    Home(home).activate("classify", {"threshold": THRESHOLD})
    return home


def _by_gender_csv(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["label"], row["faces"]) for row in csv.DictReader(handle)]


def test_the_tables_decide_at_the_classify_threshold_unless_the_filters_name_one(home):
    tables = load_tables(home)
    assert tables.threshold == THRESHOLD
    default = by_gender(tables, Filters()).set_index("label")["faces"]
    assert default.to_dict() == {label: int(faces) for label, faces in DEFAULT_ROWS}
    assert "uncertain" not in set(by_gender(tables, Filters(min_probability=0.0))["label"])


def test_the_export_library_and_cli_default_to_the_classify_threshold(home, tmp_path):
    export(load_tables(home), tmp_path / "library")
    record = json.loads((tmp_path / "library" / "provenance.json").read_text(encoding="utf-8"))
    assert record["min_probability"] == THRESHOLD and record["filters"]["min_probability"] == THRESHOLD
    assert _by_gender_csv(tmp_path / "library" / "by_gender.csv") == DEFAULT_ROWS
    result = run_cli(home, "export", str(tmp_path / "cli"))
    assert result.exit_code == 0, result.output
    assert _by_gender_csv(tmp_path / "cli" / "by_gender.csv") == DEFAULT_ROWS
    argmax = run_cli(home, "export", str(tmp_path / "argmax"), "--min-probability", "0")
    assert argmax.exit_code == 0, argmax.output
    assert [label for label, _ in _by_gender_csv(tmp_path / "argmax" / "by_gender.csv")] == ["female", "male"]


def test_a_changed_classify_threshold_makes_the_cached_tables_stale(tmp_path):
    home = Home(build_catalogue(tmp_path / "home"))
    analyze(home)
    assert tables_current(home)
    home.activate("classify", {"threshold": THRESHOLD})
    assert not tables_current(Home(home.path)), "tables decided at 0 must not pass for tables at 0.7"


def test_the_dashboard_page_and_app_start_at_the_classify_threshold(home):
    page = render_page(load_tables(home))
    assert f"probability ≥ {THRESHOLD:.2f}" in page  # the page's filter line
    assert f"below {THRESHOLD:.2f} is counted as uncertain" in page
    assert "This is the threshold set for this collection." in page
    own = render_page(load_tables(home), Filters(min_probability=0.0))
    assert f"The threshold set for this collection is {THRESHOLD:.2f}; this view chose its own." in own
    app = make_app(Home(home))
    assert app.layout["filter-probability"].value == THRESHOLD


def test_the_dashboard_build_command_defaults_to_the_classify_threshold(home, tmp_path):
    result = run_cli(home, "dashboard", "build", str(tmp_path / "page.html"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert f"below {THRESHOLD:.2f} is counted as uncertain" in page
    chosen = run_cli(home, "dashboard", "build", str(tmp_path / "argmax.html"), "--min-probability", "0")
    assert chosen.exit_code == 0, chosen.output
    assert "this view chose its own" in (tmp_path / "argmax.html").read_text(encoding="utf-8")


def test_the_notebook_api_defaults_to_the_classify_threshold(home):
    view = pc.open(home).tables()
    table = view.by_gender().set_index("label")["faces"]
    assert table.to_dict() == {label: int(faces) for label, faces in DEFAULT_ROWS}
    assert "uncertain" not in set(pc.open(home).tables(min_probability=0.0).by_gender()["label"])
