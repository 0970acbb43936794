"""What every harvested item must pass before it is stored, whatever its source.

Sources are untrusted: an identifier may hold a NUL byte or run to megabytes, and a date may
name day 45 of month 13. The runner applies these checks to every source alike, so each such
input is reported once and the rest of the harvest goes on; nothing here builds a file path.
"""
from __future__ import annotations

import unicodedata

from postercensus.harvest.dates import MAX_DATE_CHARS, date_problem
from postercensus.harvest.records import HarvestedItem, RecordProblem

MAX_ID_CHARS = 1000  # the catalogue's items.source_item_id column
SHOWN_CHARS = 80


def shown(text: str) -> str:
    """`text` quoted for a report line: control characters escaped, long texts cut."""
    cut = text[:SHOWN_CHARS]
    return repr(cut) + (f"… ({len(text):,} characters)" if len(text) > SHOWN_CHARS else "")


def identifier_problem(item: HarvestedItem) -> RecordProblem | None:
    """A reason the catalogue cannot key `item` by its identifier (the record is then skipped)."""
    identifier = item.source_item_id
    where = f"record {shown(identifier)}"
    if len(identifier) > MAX_ID_CHARS:
        return RecordProblem(where, f"identifier longer than the catalogue's limit of {MAX_ID_CHARS:,} "
                                    "characters; record skipped (report it to the archive)")
    if any(unicodedata.category(character) == "Cc" for character in identifier):
        return RecordProblem(where, "identifier contains control characters (such as NUL or a line break); "
                                    "record skipped (report it to the archive)")
    return None


def date_warning(item: HarvestedItem) -> str | None:
    """Why `item`'s date gives no year, for the report; the item is still stored.

    An over-long date is dropped from the item's fields (the source's text stays in `raw`).
    """
    problem = None if item.deleted else date_problem(item.date)
    if problem is None:
        return None
    date_text = item.date or ""
    item.year = None
    if len(date_text) > MAX_DATE_CHARS:
        item.date = None
    return f"item {shown(item.source_item_id)}: date {shown(date_text)} {problem}; stored without a year"
