"""The home folder and `<home>/postercensus.toml`: where the catalogue lives, which sources to refresh,
and which result set of each stage the tables read.

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
from postercensus.catalog.layout import CONFIG_FILENAME

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

    def section(self, name: str) -> dict[str, Any]:
        """A table of the file (empty when absent): `[faces]`, `[classify]` and `[text]` hold the
        settings of each stage's active result set; the stage that reads one checks its keys."""
        table = self.data.get(name, {})
        if not isinstance(table, dict):
            raise ValueError(f"{self.path}: {name} must be a table ([{name}])")
        return dict(table)

    def set_section(self, name: str, table: dict[str, Any]) -> None:
        """Replace a table (dropped when empty), then write the file."""
        if table:
            self.data[name] = table
        else:
            self.data.pop(name, None)
        self.write()

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
        self.write()

    @property
    def sources(self) -> list[dict[str, Any]]:
        return list(self.data.get("sources", []))

    def register_source(self, key: str, kind: str, params: dict[str, Any]) -> None:
        """Add or update the source with this key, then write the file."""
        entry = {"key": key, "kind": kind, "params": {k: v for k, v in params.items() if v is not None}}
        sources = [source for source in self.sources if source.get("key") != key]
        sources.append(entry)
        self.data["sources"] = sources
        self.write()

    def write(self) -> None:
        """Write the file as it is now (`init` writes an empty one: the mark of a home)."""
        write_atomically(self.path, tomli_w.dumps(self.data).encode("utf-8"))
