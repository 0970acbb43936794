"""`Home`: one postercensus home folder, opened — the bottom of the spine every stage stands on.

It holds the config (`postercensus.toml`), the folder layout, the catalogue (engine and store),
and the **active result set of each stage**: the `[faces]`, `[classify]` and `[text]` tables of
the config hold the settings whose results analysis, export and both dashboards read, and which
`refresh` keeps up to date. Only the user changes them (`faces detect … --activate`,
`classify predict … --activate`, or editing the file); a refresh never does, so tables made from
a researcher's chosen face set stay on it after every nightly run. Each stage package turns its
table into settings (and checks its keys); the Home only stores them, as catalog may not import
the stages.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from postercensus.catalog.config import HomeConfig
from postercensus.catalog.database import display_url, open_engine
from postercensus.catalog.imagefiles import ImageFiles
from postercensus.catalog.layout import HomeLayout
from postercensus.catalog.stage import StageError
from postercensus.catalog.store import Catalog

ACTIVE_SECTIONS = ("faces", "classify", "text")


class HomeError(StageError):
    """The home cannot be opened: a broken postercensus.toml, an unreachable database."""


class Home:
    """An opened home folder (created with its catalogue on first use)."""

    def __init__(self, path: Path | str, db_url: str | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.db_option = db_url
        self.layout = HomeLayout(self.path)
        try:
            self.config = HomeConfig.load(self.path)
        except ValueError as error:
            raise HomeError(str(error)) from error

    def __repr__(self) -> str:
        return f"Home({str(self.path)!r})"

    @property
    def database_url(self) -> str:
        """--db (or `db_url`), else [catalog] url in postercensus.toml, else SQLite in the home."""
        return self.config.database_url(self.db_option, self.path)

    @property
    def database_display(self) -> str:
        return display_url(self.database_url)

    @cached_property
    def catalog(self) -> Catalog:
        """The catalogue, created and migrated on first use."""
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            engine = open_engine(self.database_url)
        except Exception as error:  # any driver's connection error: report, don't trace
            raise HomeError(f"cannot open the catalogue at {self.database_display}: {error}") from error
        try:
            return Catalog(engine, keyword_synonyms=self.config.keyword_synonyms)
        except ValueError as error:
            raise HomeError(str(error)) from error

    @property
    def engine(self) -> Engine:
        return self.catalog.engine

    @cached_property
    def image_files(self) -> ImageFiles:
        return ImageFiles(self.path)

    def active(self, stage: str) -> dict[str, Any]:
        """The settings table of `stage`'s active result set (empty: the stage's defaults)."""
        if stage not in ACTIVE_SECTIONS:
            raise ValueError(f"no active result set for {stage!r}; one of {', '.join(ACTIVE_SECTIONS)}")
        try:
            return self.config.section(stage)
        except ValueError as error:
            raise HomeError(str(error)) from error

    def activate(self, stage: str, settings: dict[str, Any]) -> None:
        """Make `settings` the active result set of `stage` (written to postercensus.toml at once)."""
        self.active(stage)
        self.config.set_section(stage, settings)
