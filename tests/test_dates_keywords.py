"""Years from free-text dates; keyword normalisation."""
from __future__ import annotations

import pytest

from catalog.keywords import normalise_keywords
from harvest.dates import parse_year


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


def test_keywords_are_normalised_once():
    assert normalise_keywords(["  War Posters ", "war posters", "Civil  defense.", "", "WPA"]) == [
        "war posters", "civil defense", "wpa",
    ]
