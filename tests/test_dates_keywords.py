"""Years from free-text dates; keyword normalisation."""
from __future__ import annotations

import pytest

from catalog.keywords import normalise_keywords
from harvest.dates import date_problem, parse_year


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


@pytest.mark.parametrize("text", ["", "n.d.", "[n.d.]", "undated", "Unknown", "s.d.", "o. J."])
def test_a_no_date_marker_is_not_a_date_problem(text):
    assert date_problem(text) is None and parse_year(text) is None


@pytest.mark.parametrize("text", ["2050-13-45", "Spring", "undated 12345", "1941-04-31"])
def test_a_text_that_cannot_be_a_date_is_a_date_problem(text):
    assert date_problem(text) is not None and parse_year(text) is None


def test_keywords_are_normalised_once():
    assert normalise_keywords(["  War Posters ", "war posters", "Civil  defense.", "", "WPA"]) == [
        "war posters", "civil defense", "wpa",
    ]
