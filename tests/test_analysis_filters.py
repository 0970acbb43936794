"""Filters that select nothing are refused the same way by the Python API, `export`, `dashboard
build` (here) and `dashboard serve` (tests/test_dashboards.py); a filter set that selects something
reports the items, images and faces it matched.

The hand-built catalogue of test_analysis_tables: items 1–6 from 1936–1939 (6 has no year),
keywords war, women, health; item 4 has no image; faces f1–f8 on the other items, f5 labelled
`other` by a person. The WPA export (real data) gives the issue's near-miss keyword.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from postercensus.analysis.export import export
from postercensus.analysis.filters import FilterError, Filters
from postercensus.analysis.load import load_tables
from postercensus.analysis.selection import matched
from postercensus.analysis.tables import by_gender, by_year
from tests.support.cli import run_cli
from tests.test_analysis_tables import build_catalogue
from tests.test_harvest_csv import WPA_CSV

# (arguments, what the one-line error says): each is refused before anything is written
BAD_FILTERS = [
    (["--year-from", "1950", "--year-to", "1940"], "the years are reversed: from 1950 is after to 1940"),
    (["--min-probability", "1.5"], "min probability 1.5 is outside 0–1"),
    (["--min-probability", "-0.1"], "min probability -0.1 is outside 0–1"),
    (["--keyword", "wars"], "no item has the keyword 'wars'; close matches: 'war'"),
    (["--keyword", "war", "--keyword", "zzzz"], "no item has the keyword 'zzzz'; no close match"),
    (["--source", "elsewhere"], "no item comes from source 'elsewhere'; sources: test"),
    (["--year-from", "1950"], "no item matches years 1950–… (of 6 items; items span 1936–1939)"),
    (["--keyword", "health", "--year-from", "1938"], "no item matches years 1938–…; keywords health"),
    (["--model", "missing"], "model 'missing' has no predictions"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return build_catalogue(tmp_path_factory.mktemp("filters") / "home")


@pytest.fixture(scope="module")
def tables(home):
    return load_tables(home)


@pytest.mark.parametrize("values, message", [
    ({"year_from": 1950, "year_to": 1940}, "years are reversed"),
    ({"min_probability": 1.5}, "outside 0–1"),
    ({"min_probability": float("nan")}, "outside 0–1"),
])
def test_filters_that_no_selection_can_honour_fail_when_made(values, message):
    with pytest.raises(FilterError, match=message):
        Filters(**values)
    assert issubclass(FilterError, ValueError)  # callers catching ValueError keep working


def test_the_python_api_refuses_unknown_keywords_sources_and_empty_selections(tables):
    with pytest.raises(FilterError, match=r"no item has the keyword 'wars'; close matches: 'war'"):
        by_gender(tables, Filters(keywords=("wars",)))
    with pytest.raises(FilterError, match="no item comes from source 'elsewhere'; sources: test"):
        by_year(tables, Filters(source="elsewhere"))
    with pytest.raises(FilterError, match="no item matches years 1937–1937; keywords women"):
        by_gender(tables, Filters(year_from=1937, year_to=1937, keywords=("women",)))


def test_keyword_close_matches_are_at_most_five(tables):
    import postercensus.analysis.filters as filters_module
    items = tables.items.assign(keywords=[[f"poster {n}" for n in range(10)]] * len(tables.items))
    with pytest.raises(FilterError) as raised:
        filters_module.select_items(items, Filters(keywords=("posters",)))
    assert len(re.findall(r"'poster \d'", str(raised.value))) == filters_module.CLOSE_MATCHES == 5


def test_the_whole_of_an_empty_catalogue_is_not_a_filter_error(tmp_path):
    from postercensus.catalog.database import default_url, open_engine

    home = tmp_path / "empty"
    home.mkdir()
    open_engine(default_url(home)).dispose()
    tables = load_tables(home)
    assert by_gender(tables, Filters())["faces"].sum() == 0  # nothing was narrowed: no error
    with pytest.raises(FilterError, match="no item matches years 1940–…"):
        by_gender(tables, Filters(year_from=1940))


def test_export_writes_nothing_for_filters_that_select_nothing(tables, tmp_path):
    with pytest.raises(FilterError):
        export(tables, tmp_path / "out", Filters(keywords=("wars",)))
    assert not (tmp_path / "out").exists()


def test_matched_counts_items_their_stored_images_and_their_faces(tables):
    everything = matched(tables, Filters())
    # six items; item 4 has no image; faces f1–f8 less f5 (a person said other)
    assert (everything.items, everything.images, everything.faces) == (6, 5, 7)
    women = matched(tables, Filters(keywords=("Women",)))  # items 1 and 5: f1 f2, f6 f7
    assert (women.items, women.images, women.faces) == (2, 2, 4)
    war = matched(tables, Filters(keywords=("war",), year_from=1937))  # item 4 only, no image
    assert (war.items, war.images, war.faces) == (1, 0, 0)
    assert str(women) == "2 items, 2 images and 4 faces matched"


@pytest.mark.parametrize("command", ["export", "dashboard"])
@pytest.mark.parametrize("arguments, message", BAD_FILTERS)
def test_cli_refuses_filters_that_select_nothing_in_one_line_and_writes_nothing(home, tmp_path, command,
                                                                               arguments, message):
    target = tmp_path / ("out" if command == "export" else "page.html")
    words = ["export", str(target)] if command == "export" else ["dashboard", "build", str(target)]
    result = run_cli(home, *words, *arguments)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert not target.exists()


@pytest.mark.parametrize("command", ["export", "dashboard"])
def test_cli_reports_how_many_items_images_and_faces_matched(home, tmp_path, command):
    target = tmp_path / ("out" if command == "export" else "page.html")
    words = ["export", str(target)] if command == "export" else ["dashboard", "build", str(target)]
    result = run_cli(home, *words, "--keyword", "women", "--min-probability", "0.9")
    assert result.exit_code == 0, result.output
    assert "2 items, 2 images and 4 faces matched" in result.stdout


def test_wpa_near_miss_keyword_names_the_real_one_and_the_real_one_reports_its_base(shared_data, tmp_path):
    home = tmp_path / "wpa"
    harvest = run_cli(home, "harvest", "csv", str(shared_data / WPA_CSV),
                      "--images", str(shared_data / "wpa-posters/images"))
    assert harvest.exit_code == 0, harvest.output

    near_miss = run_cli(home, "export", str(tmp_path / "near"), "--keyword", "theater posters")
    assert near_miss.exit_code == 1
    assert "no item has the keyword 'theater posters'; close matches: 'theatrical posters'" in near_miss.stderr
    assert not (tmp_path / "near").exists()
    reversed_years = run_cli(home, "export", str(tmp_path / "reversed"), "--year-from", "1950", "--year-to", "1940")
    assert reversed_years.exit_code == 1 and not (tmp_path / "reversed").exists()

    found = run_cli(home, "export", str(tmp_path / "out"), "--keyword", "theatrical posters")
    assert found.exit_code == 0, found.output
    items, images, faces = map(int, re.search(r"([\d,]+) items, ([\d,]+) images and ([\d,]+) faces matched",
                                              found.stdout).groups())
    with (tmp_path / "out" / "items.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert items == len(rows) > 0
    assert all("theatrical posters" in row["keywords"].split("; ") for row in rows)
    assert images == sum(bool(row["image_path"]) for row in rows)  # WPA items have at most one image
    assert faces == 0  # no faces stage has run
