"""Remove catalogue boilerplate (e.g. the LoC "1 print (poster) : silkscreen, color. |") before parsing.

The physical description is not about who is shown, and parsing it wastes time and can only add
false mentions. Rules are regexes in text/data/boilerplate.toml plus any the caller adds.
Mention offsets refer to the cleaned text, which `clean` returns so callers can store it.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Boilerplate:
    patterns: tuple[str, ...]

    @classmethod
    def load(cls, extra: Iterable[str] = ()) -> Boilerplate:
        data = tomllib.loads(resources.files("postercensus.text").joinpath("data/boilerplate.toml").read_text("utf-8"))
        patterns = tuple(data["patterns"]) + tuple(extra)
        for pattern in patterns:
            re.compile(pattern)  # a bad researcher pattern fails at load, not mid-run
        return cls(patterns)

    def clean(self, text: str | None) -> str:
        """`text` with every rule's matches removed (in order) and outer whitespace stripped."""
        cleaned = text or ""
        for pattern in self.patterns:
            cleaned = re.sub(pattern, "", cleaned, flags=re.IGNORECASE)
        return cleaned.strip()

    def version(self) -> str:
        return hashlib.sha256("\n".join(self.patterns).encode()).hexdigest()[:16]


def clean(text: str | None, extra: Iterable[str] = ()) -> str:
    """Clean `text` with the packaged rules plus `extra` patterns."""
    return Boilerplate.load(extra).clean(text)
