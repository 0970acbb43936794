"""Turning a source's date text into a year a table can group by.

Catalogue dates are free text ("1941-01-01", "[ca. 1938]", "1936-1943", "Spring 1940").
The date is always kept as given; the year is set only when the text names exactly one year,
so ranges stay unassigned instead of being silently pinned to one end.
"""
from __future__ import annotations

import re

_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")


def parse_year(date_text: str | None) -> int | None:
    """The single year named by `date_text`, else None (empty, no year, or a range of years)."""
    if not date_text:
        return None
    years = {int(match) for match in _YEAR.findall(date_text)}
    if len(years) != 1:
        return None
    return years.pop()
