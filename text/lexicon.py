"""The gender lexicon: which words mark a mention, its gender, and how its role is found.

Kept in text/data/lexicon.toml rather than code so researchers can read, cite and extend it;
`version` hashes the effective content so stored results say which lexicon produced them.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Kind = Literal["person", "modifier", "role", "kin"]
KINDS: tuple[Kind, ...] = ("person", "modifier", "role", "kin")
GENDERS = ("female", "male")


@dataclass(frozen=True)
class Entry:
    gender: str
    kind: Kind
    lemma: str  # the singular, so "policewomen" counts as "policewoman" whatever the tagger says


@dataclass(frozen=True)
class Lexicon:
    entries: dict[str, Entry]  # lower-case word form → entry

    @classmethod
    def load(cls, extra: dict[str, str] | None = None) -> Lexicon:
        """The packaged lexicon with `extra` word → gender merged in.

        An extra word already known keeps its kind and plural but takes the new gender; a new one
        is a role noun (researchers add words such as "kolkhoznitsa" that say what a person is).
        """
        data = tomllib.loads(resources.files("postercensus.text").joinpath("data/lexicon.toml").read_text("utf-8"))
        entries: dict[str, Entry] = {}
        for kind in KINDS:
            for gender in GENDERS:
                for singular, plural in data.get(kind, {}).get(gender, {}).items():
                    entry = Entry(gender, kind, singular.lower())
                    entries[singular.lower()] = entry
                    if plural:
                        entries[plural.lower()] = entry
        for word, gender in (extra or {}).items():
            if gender not in GENDERS:
                raise ValueError(f"lexicon entry {word!r}: gender must be one of {GENDERS}, not {gender!r}")
            known = entries.get(word.lower())
            forms = [form for form, entry in entries.items() if known and entry == known] or [word.lower()]
            replacement = Entry(gender, known.kind, known.lemma) if known else Entry(gender, "role", word.lower())
            for form in forms:
                entries[form] = replacement
        return cls(entries)

    def get(self, word: str) -> Entry | None:
        return self.entries.get(word.lower())

    def version(self) -> str:
        """16 hex characters over the effective entries (changes whenever a count could change)."""
        payload = json.dumps(
            {form: [e.gender, e.kind, e.lemma] for form, e in sorted(self.entries.items())}, sort_keys=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
