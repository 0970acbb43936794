"""Turning a source's date text into a year a table can group by.

Catalogue dates are free text ("1941-01-01", "[ca. 1938]", "1936-1943", "Spring 1940").
The date is always kept as given; the year is set only when the text names exactly one year,
so ranges stay unassigned instead of being silently pinned to one end. A text that cannot be a
date (no year at all, an impossible day such as 2050-13-45, a year still to come) gets no year
either, and `date_problem` says why, so the harvest can report it.
"""
from __future__ import annotations

import re
from datetime import date

_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
MAX_DATE_CHARS = 200  # the catalogue's items.date column
# What cataloguers write for "no date": as unremarkable as an empty field, so never reported
_NO_DATE = re.compile(r"^\W*(n\.?\s?d|s\.?\s?d|o\.?\s?j|undated|unknown|no date|sans date|date unknown)\W*$",
                      re.IGNORECASE)


def parse_year(date_text: str | None) -> int | None:
    """The single year named by `date_text`, else None (empty, no year, or a range of years)."""
    if not date_text or date_problem(date_text):
        return None
    years = {int(match) for match in _YEAR.findall(date_text)}
    if len(years) != 1:
        return None
    return years.pop()


def date_problem(date_text: str | None) -> str | None:
    """Why `date_text` cannot be a date, or None when it can (empty, "n.d." and ranges of years included).

    The reason completes "date '…' …" in a report line.
    """
    if not date_text or _NO_DATE.match(date_text):
        return None
    if len(date_text) > MAX_DATE_CHARS:
        return f"is {len(date_text):,} characters long, more than a date can be ({MAX_DATE_CHARS})"
    for year, month, day in _DAY.findall(date_text):
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            return f"names a day that does not exist ({year}-{month}-{day})"
    years = sorted({int(match) for match in _YEAR.findall(date_text)})
    if not years:
        return "names no year"
    if years[-1] > date.today().year:
        return f"names the year {years[-1]}, which has not come yet"
    return None
