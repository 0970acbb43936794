"""Role → category (agriculture, industry, military, family, politics, culture, other).

A data file (text/data/categories.toml) so the coding scheme can be read, cited and extended
without touching the extractor; the version hash ties counts to the scheme that made them.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from importlib import resources

OTHER = "other"


@dataclass(frozen=True)
class CategoryMap:
    by_lemma: dict[str, str]  # role lemma (lower case) → category

    @classmethod
    def load(cls, extra: dict[str, str] | None = None) -> CategoryMap:
        """The packaged map with `extra` role lemma → category merged in (extra wins)."""
        data = tomllib.loads(resources.files("postercensus.text").joinpath("data/categories.toml").read_text("utf-8"))
        by_lemma = {
            lemma.lower(): category
            for category, lemmas in data["categories"].items()
            for lemma in lemmas
        }
        by_lemma.update({lemma.lower(): category for lemma, category in (extra or {}).items()})
        return cls(by_lemma)

    def category(self, role_lemma: str | None) -> str | None:
        """The role's category: its whole lemma, else its head noun (the last word), else "other".

        The head-noun fallback lets "steel worker" or "young farm worker" share "worker"'s
        category without listing every compound; None when there is no role at all.
        """
        if role_lemma is None:
            return None
        return self._mapped(role_lemma) or OTHER

    def knows(self, role_lemma: str) -> bool:
        """Whether the role's whole lemma or its head noun is mapped: the extractor accepts a noun
        said of a person ("the woman is a welder") as a role only then ("… is a symbol" is none)."""
        return self._mapped(role_lemma) is not None

    def _mapped(self, role_lemma: str) -> str | None:
        lemma = role_lemma.lower()
        head = lemma.replace("-", " ").split()[-1] if lemma.strip() else lemma
        return self.by_lemma.get(lemma) or self.by_lemma.get(head)

    def version(self) -> str:
        payload = json.dumps(sorted(self.by_lemma.items()))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
