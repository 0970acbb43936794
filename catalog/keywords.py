"""Keyword normalisation, done once when an item is stored so every stage groups alike."""
from __future__ import annotations

import re
from typing import Iterable

_SPACES = re.compile(r"\s+")


def normalise_keywords(values: Iterable[str]) -> list[str]:
    """Lower-case, trim, collapse whitespace and trailing dots; drop empties and repeats."""
    seen: dict[str, None] = {}
    for value in values:
        keyword = _SPACES.sub(" ", value).strip().rstrip(".").strip().lower()
        if keyword:
            seen.setdefault(keyword, None)
    return list(seen)
