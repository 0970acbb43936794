"""The text stage: descriptions → cleaned text + gendered mentions, batched through spaCy.

The pipeline loads the model, lexicon, category map and boilerplate rules once; `version()`
names all of them so the catalogue can tell results of different configurations apart.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from postercensus.text.boilerplate import Boilerplate
from postercensus.text.categories import CategoryMap
from postercensus.text.extract import EXTRACTOR_VERSION, Mention, extract
from postercensus.text.lexicon import Lexicon
from postercensus.text.nlp import load_model, looks_english
from postercensus.text.settings import TextSettings

NOT_ENGLISH = "description does not look English; no mentions extracted"


@dataclass
class TextResult:
    cleaned: str
    mentions: list[Mention]
    warning: str | None   # e.g. "description truncated from 123456 to 100000 characters"


class TextPipeline:
    def __init__(self, settings: TextSettings) -> None:
        """Load everything once (ModelNotInstalled when no spaCy model is available)."""
        self.settings = settings
        self.nlp = load_model(settings.model)
        self.lexicon = Lexicon.load(settings.lexicon)
        self.categories = CategoryMap.load(settings.categories)
        self.boilerplate = Boilerplate.load(settings.boilerplate)

    def version(self) -> dict[str, str]:
        meta = self.nlp.meta
        return {
            "model": f"{meta.get('lang', 'xx')}_{meta.get('name', '?')}-{meta.get('version', '?')}",
            "lexicon": self.lexicon.version(),
            "categories": self.categories.version(),
            "boilerplate": self.boilerplate.version(),
            "extractor": EXTRACTOR_VERSION,
        }

    def version_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.version(), sort_keys=True).encode()).hexdigest()[:16]

    def process(self, texts: Iterable[str | None], batch_size: int = 64) -> Iterator[TextResult]:
        """One result per input, in input order; texts are parsed in batches of `batch_size`."""
        iterator = iter(texts)
        while batch := list(islice(iterator, batch_size)):
            prepared = [self._prepare(text) for text in batch]
            docs = self.nlp.pipe([parse for _, parse, _ in prepared], batch_size=batch_size)
            for (cleaned, _, warning), doc in zip(prepared, docs):
                yield TextResult(cleaned, extract(doc, self.lexicon, self.categories), warning)

    def _prepare(self, text: str | None) -> tuple[str, str, str | None]:
        """(cleaned text, text to parse, warning): non-English text is kept but not parsed."""
        cleaned = self.boilerplate.clean(text)
        warning = None
        if len(cleaned) > self.settings.max_chars:
            warning = f"description truncated from {len(cleaned)} to {self.settings.max_chars} characters"
            cleaned = cleaned[: self.settings.max_chars]
        if not looks_english(cleaned):
            return cleaned, "", NOT_ENGLISH
        return cleaned, cleaned, warning
