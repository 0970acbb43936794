"""Keyword normalisation, done once when an item is stored so every stage groups alike.

Two steps, kept apart on purpose. `normalise_keywords` turns what a source gave into terms:
case, whitespace, trailing dots, and packed subject strings split into separate terms
("War posters; Women" or LoC-style "World War, 1939-1945--Posters" → "world war, 1939-1945",
"posters"; every part is kept, subdivisions included, so nothing a source said is lost).
`apply_synonyms` then maps terms through the researcher's `[keywords] synonyms` table; the
item stores both, so a changed map can be applied to every stored item again without a harvest.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_SPACES = re.compile(r"\s+")
# ";" and "|" join terms; "--" joins a heading and its subdivisions, except between digits
# ("1939--1945" is a date range written with a double hyphen).
_SEPARATORS = re.compile(r"[;|]|--(?!\d)|(?<!\d)--")


def _term(value: str) -> str:
    return _SPACES.sub(" ", value).strip().rstrip(".").strip().lower()


def normalise_keywords(values: Iterable[str]) -> list[str]:
    """Split on separators; lower-case, trim, collapse whitespace and trailing dots; drop empties and repeats."""
    seen: dict[str, None] = {}
    for value in values:
        for part in _SEPARATORS.split(value):
            keyword = _term(part)
            if keyword:
                seen.setdefault(keyword, None)
    return list(seen)


def normalise_synonyms(synonyms: Mapping[str, str]) -> dict[str, str]:
    """The `[keywords] synonyms` table with both sides normalised like keywords (empties dropped)."""
    normalised = {_term(variant): _term(preferred) for variant, preferred in synonyms.items()}
    return {variant: preferred for variant, preferred in normalised.items() if variant and preferred}


def apply_synonyms(keywords: Iterable[str], synonyms: Mapping[str, str]) -> list[str]:
    """Replace each normalised keyword by its preferred form, keeping order and dropping repeats."""
    return list(dict.fromkeys(synonyms.get(keyword, keyword) for keyword in keywords))
