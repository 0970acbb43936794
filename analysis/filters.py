"""Which part of the catalogue a table describes, and how its faces are decided.

One frozen value shared by the tables, the export and the dashboards, so a figure and the CSV
behind it are always computed from the same selection.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from catalog.keywords import normalise_keywords


@dataclass(frozen=True)
class Filters:
    year_from: int | None = None
    year_to: int | None = None
    keywords: tuple[str, ...] = ()  # items having any of these (normalised) keywords
    source: str | None = None  # sources.key
    min_probability: float = 0.0  # faces whose top probability is below → "uncertain"
    model_id: str | None = None  # default: the most recently registered model that has predictions


def select_items(items: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The items the filters keep; a year bound drops items without a year (they lie outside any range)."""
    keep = pd.Series(True, index=items.index)
    if filters.year_from is not None:
        keep &= items["year"].ge(filters.year_from).fillna(False).astype(bool)
    if filters.year_to is not None:
        keep &= items["year"].le(filters.year_to).fillna(False).astype(bool)
    if filters.source is not None:
        keep &= items["source"].eq(filters.source)
    if filters.keywords:
        wanted = set(normalise_keywords(filters.keywords))
        keep &= items["keywords"].map(lambda keywords: bool(wanted.intersection(keywords)))
    return items[keep]
