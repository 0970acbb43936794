"""Years from free-text dates; keyword normalisation."""
from __future__ import annotations

import pytest

from postercensus.catalog.keywords import normalise_keywords
from postercensus.harvest.dates import date_problem, parse_year


@pytest.mark.parametrize(
    "text, year",
    [
        ("1941-01-01", 1941),
        ("1936", 1936),
        ("[ca. 1938]", 1938),
        ("Spring 1940", 1940),
        ("1936-1943", None),
        ("", None),
        (None, None),
        ("undated", None),
        ("12345", None),
    ],
)
def test_parse_year(text, year):
    assert parse_year(text) == year


@pytest.mark.parametrize("text", ["", "n.d.", "[n.d.]", "undated", "s.d.", "o. J.", "circa ?", "Spring",
                                  "[19--]", "194-?", "19xx", "ca. 194u"])
def test_no_date_or_only_a_century_or_decade_is_no_year_and_no_problem(text):
    assert date_problem(text) is None and parse_year(text) is None


@pytest.mark.parametrize("text", ["2050-13-45", "19455", "undated 12345", "1941-04-31", "20XX", "2999"])
def test_a_text_that_cannot_be_a_date_is_a_date_problem(text):
    assert date_problem(text) is not None and parse_year(text) is None


def test_keywords_are_normalised_once():
    assert normalise_keywords(["  War Posters ", "war posters", "Civil  defense.", "", "WPA"]) == [
        "war posters", "civil defense", "wpa",
    ]
