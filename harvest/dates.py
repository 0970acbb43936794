"""Turning a source's date text into a year a table can group by.

Catalogue dates are free text ("1941-01-01", "[ca. 1938]", "1936-1943", "Spring 1940").
The date is always kept as given; the year is set only when the text names exactly one year,
so ranges stay unassigned instead of being silently pinned to one end. A text that cannot be a
date (numbers that name no year such as 19455, an impossible day such as 2050-13-45, a year
still to come) gets no year either, and `date_problem` says why, so the harvest can report it.
What cataloguers write on purpose is not reported: no date ("n.d.", "undated", "circa ?") or
only a century or decade ("[19--]", "194-?").
"""
from __future__ import annotations

import re
from datetime import date

_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
MAX_DATE_CHARS = 200  # the catalogue's items.date column
# A century or decade with its unknown digits marked: "19--", "194-?", "19xx", "194u" (MARC style)
_CENTURY_OR_DECADE = re.compile(r"(?<!\d)1[0-9]{1,2}[-?xu]+(?![0-9])", re.IGNORECASE)


def parse_year(date_text: str | None) -> int | None:
    """The single year named by `date_text`, else None (empty, no year, or a range of years)."""
    if not date_text or date_problem(date_text):
        return None
    years = {int(match) for match in _YEAR.findall(date_text)}
    if len(years) != 1:
        return None
    return years.pop()


def date_problem(date_text: str | None) -> str | None:
    """Why `date_text` cannot be a date, or None when it can (no date, a century, a range of years included).

    The reason completes "date '…' …" in a report line.
    """
    if not date_text:
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
        deliberate = not any(character.isdigit() for character in date_text) or _CENTURY_OR_DECADE.search(date_text)
        return None if deliberate else "names numbers but no year"
    if years[-1] > date.today().year:
        return f"names the year {years[-1]}, which has not come yet"
    return None
