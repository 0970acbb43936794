"""The analysis API in one import: load the catalogue once, then ask for tables.

    tables = load_tables(home)
    by_year(tables, Filters(year_from=1935, min_probability=0.7))

Each table function takes (tables, filters) and returns a tidy DataFrame; the implementations
live in small modules by what they count (faces, mentions), re-exported here so callers such as
the dashboards depend on one stable module.
"""
from __future__ import annotations

from postercensus.analysis.face_tables import (
    FaceBase,
    by_decade,
    by_gender,
    by_keyword,
    by_year,
    composition,
    face_base,
    items_for,
)
from postercensus.analysis.compare import compare, quotable
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import Tables, load_tables
from postercensus.analysis.prominence import prominence, size_ratio
from postercensus.analysis.text_tables import (
    agreement,
    agreement_summary,
    mentions_by_gender,
    mentions_by_keyword,
    mentions_by_role,
    mentions_by_year,
)

__all__ = [
    "Filters", "Tables", "load_tables", "by_gender", "composition", "by_year", "by_decade", "by_keyword",
    "items_for", "FaceBase", "face_base", "mentions_by_gender", "mentions_by_role", "mentions_by_year",
    "mentions_by_keyword", "agreement", "agreement_summary", "prominence", "size_ratio", "compare", "quotable",
]
