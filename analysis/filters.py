"""Which part of the catalogue a table describes, and how its faces are decided.

One frozen value shared by the tables, the export and the dashboards, so a figure and the CSV
behind it are always computed from the same selection. It is also the one place filters are
checked: a value no selection can honour (reversed years, a probability outside 0–1) fails when
the filters are made, and a keyword or source the catalogue lacks, or a set that keeps no item,
fails when they select. An empty selection would otherwise publish tables of zeros that read as
findings ("no poster of 1950–1940 shows a face"); callers print the one-line FilterError instead.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

import pandas as pd

from postercensus.analysis.item_keywords import ItemKeywords
from postercensus.catalog.keywords import normalise_keywords
from postercensus.catalog.stage import StageError

CLOSE_MATCHES = 5


class FilterError(StageError, ValueError):
    """Filters that describe no part of the catalogue: one line saying why and what would match."""


@dataclass(frozen=True)
class Filters:
    year_from: int | None = None
    year_to: int | None = None
    keywords: tuple[str, ...] = ()  # items having any of these (normalised) keywords
    source: str | None = None  # sources.key
    # faces whose top probability is below → "uncertain"; None: the home's `[classify] threshold`
    # (`Tables.threshold`), so tables, export, dashboards and the notebook API decide alike by default
    min_probability: float | None = None
    model_id: str | None = None  # default: the active model when it has predictions, else the latest registered one

    def __post_init__(self) -> None:
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise FilterError(f"the years are reversed: from {self.year_from} is after to {self.year_to}")
        if self.min_probability is not None and not 0.0 <= self.min_probability <= 1.0:  # NaN fails too
            raise FilterError(f"min probability {self.min_probability} is outside 0–1")

    @property
    def narrows(self) -> bool:
        """Whether these filters drop items (min_probability and model_id only decide faces)."""
        return (self.year_from is not None or self.year_to is not None or bool(self.keywords)
                or self.source is not None)


def at_threshold(filters: Filters, threshold: float) -> Filters:
    """`filters` with the decision threshold filled in: the one given, else `threshold` (the home's
    `[classify] threshold`). Every reader of min_probability takes it from here, so one home has one
    default rule wherever its faces are decided."""
    return filters if filters.min_probability is not None else replace(filters, min_probability=threshold)


def describe(filters: Filters) -> str:
    """The filters in words, so a saved page or an error says which slice of the catalogue it means."""
    parts = []
    if filters.year_from is not None or filters.year_to is not None:
        parts.append(f"years {filters.year_from or '…'}–{filters.year_to or '…'}")
    if filters.keywords:
        parts.append("keywords " + ", ".join(filters.keywords))
    if filters.source:
        parts.append(f"source {filters.source}")
    if filters.min_probability:  # None (not yet `at_threshold`) names no rule of its own
        parts.append(f"probability ≥ {filters.min_probability:.2f}")
    if filters.model_id:
        parts.append(f"model {filters.model_id}")
    return "; ".join(parts) or "whole catalogue"


def _check_known(items: pd.DataFrame, filters: Filters, keywords: ItemKeywords) -> None:
    """A source or keyword no item has is a typo far more often than a question, so it is named."""
    if filters.source is not None and not items["source"].eq(filters.source).any():
        known = ", ".join(sorted(items["source"].dropna().unique())) or "none"
        raise FilterError(f"no item comes from source {filters.source!r}; sources: {known}")
    if filters.keywords:
        for keyword in normalise_keywords(filters.keywords):
            if keyword not in keywords.known:
                close = difflib.get_close_matches(keyword, sorted(keywords.known), n=CLOSE_MATCHES)
                hint = f"close matches: {', '.join(repr(match) for match in close)}" if close else "no close match"
                raise FilterError(f"no item has the keyword {keyword!r}; {hint}")


def select_items(items: pd.DataFrame, filters: Filters, keywords: ItemKeywords | None = None) -> pd.DataFrame:
    """The items the filters keep; a year bound drops items without a year (they lie outside any range).

    `keywords` are the items' pairs when the caller keeps them (`analysis.item_keywords`), else
    they are made here when a keyword filter needs them. Raises FilterError for an unknown source
    or keyword, and when narrowing filters keep no item (an empty catalogue under no filters is not
    an error: there is nothing to narrow).
    """
    if filters.keywords and keywords is None:
        keywords = ItemKeywords.of(items)
    _check_known(items, filters, keywords)
    keep = pd.Series(True, index=items.index)
    if filters.year_from is not None:
        keep &= items["year"].ge(filters.year_from).fillna(False).astype(bool)
    if filters.year_to is not None:
        keep &= items["year"].le(filters.year_to).fillna(False).astype(bool)
    if filters.source is not None:
        keep &= items["source"].eq(filters.source)
    if filters.keywords:
        keep &= keywords.carrying_any(normalise_keywords(filters.keywords))
    if filters.narrows and not keep.any():
        years = items["year"].dropna()
        span = f"items span {years.min()}–{years.max()}" if not years.empty else "no item has a year"
        raise FilterError(f"no item matches {describe(filters)} (of {len(items):,} items; {span})")
    return items[keep]
