"""The home folder and `<home>/postercensus.toml`: where the catalogue lives, which sources to refresh.

Each harvest registers its source here with the options it ran with, so `postercensus refresh`
can repeat every harvest unattended and a researcher can read (and edit) what is collected.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.database import default_url
from postercensus.classify.domains import DEFAULT_DOMAIN, check_domain

CONFIG_FILENAME = "postercensus.toml"
DEFAULT_HOME = "postercensus-home"
DEMO_BANNER = "DEMO — generated posters, not data"  # on every page, export and app of a demo home


def resolve_home(option: Path | None) -> Path:
    """--home, else $POSTERCENSUS_HOME, else ./postercensus-home."""
    if option is not None:
        return option.expanduser().resolve()
    from_env = os.environ.get("POSTERCENSUS_HOME")
    return Path(from_env or DEFAULT_HOME).expanduser().resolve()


@dataclass
class HomeConfig:
    """The parsed postercensus.toml of one home."""

    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, home: Path) -> "HomeConfig":
        path = home / CONFIG_FILENAME
        if not path.exists():
            return cls(path, {})
        try:
            return cls(path, tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path} is not valid TOML ({error}); fix or remove it") from error

    def database_url(self, option: str | None, home: Path) -> str:
        """--db, else [catalog] url in the file, else SQLite in the home."""
        return option or self.data.get("catalog", {}).get("url") or default_url(home)

    @property
    def keyword_synonyms(self) -> dict[str, str]:
        """[keywords] synonyms: variant term → preferred term, applied to every item's keywords."""
        synonyms = self.data.get("keywords", {}).get("synonyms", {})
        if not isinstance(synonyms, dict) or not all(isinstance(v, str) for v in synonyms.values()):
            raise ValueError(f"{self.path}: [keywords] synonyms must be a table of \"variant\" = \"preferred\" strings")
        return synonyms

    @property
    def text(self) -> dict[str, Any]:
        """The [text] table: spaCy model, lexicon and category additions, boilerplate patterns."""
        return dict(self.data.get("text", {}))

    @property
    def classify_domain(self) -> str:
        """[classify] domain: what the collection depicts (posters, paintings, photos), which picks the
        model card's calibration temperature and the held-out faces whose errors correct the shares."""
        domain = self.data.get("classify", {}).get("domain", DEFAULT_DOMAIN)
        try:
            return check_domain(domain)
        except ValueError as error:
            raise ValueError(f"{self.path}: [classify] domain: {error}") from error

    @property
    def demo(self) -> bool:
        """`demo = true`: the home was made by `postercensus demo`; its outputs carry DEMO_BANNER."""
        demo = self.data.get("demo", False)
        if not isinstance(demo, bool):
            raise ValueError(f"{self.path}: demo must be true or false")
        return demo

    def mark_demo(self) -> None:
        """Record that this home holds the generated demo collection, then write the file."""
        self.data["demo"] = True
        self._write()

    @property
    def sources(self) -> list[dict[str, Any]]:
        return list(self.data.get("sources", []))

    def register_source(self, key: str, kind: str, params: dict[str, Any]) -> None:
        """Add or update the source with this key, then write the file."""
        entry = {"key": key, "kind": kind, "params": {k: v for k, v in params.items() if v is not None}}
        sources = [source for source in self.sources if source.get("key") != key]
        sources.append(entry)
        self.data["sources"] = sources
        self._write()

    def _write(self) -> None:
        write_atomically(self.path, tomli_w.dumps(self.data).encode("utf-8"))
