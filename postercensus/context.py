"""What every command needs: the home, its config and the opened catalogue."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from postercensus.catalog.database import display_url, open_engine
from postercensus.catalog.imagefiles import ImageFiles
from postercensus.catalog.store import Catalog
from postercensus.config import HomeConfig


class CommandError(Exception):
    """A failure the CLI reports as one line ("Error: what went wrong, what to do"), exit code 1."""


@dataclass
class AppContext:
    home: Path
    db_option: str | None = None
    config: HomeConfig = field(init=False)

    def __post_init__(self) -> None:
        try:
            self.config = HomeConfig.load(self.home)
        except ValueError as error:
            raise CommandError(str(error)) from error

    @property
    def database_url(self) -> str:
        return self.config.database_url(self.db_option, self.home)

    @property
    def database_display(self) -> str:
        return display_url(self.database_url)

    @cached_property
    def catalog(self) -> Catalog:
        """The catalogue, created and migrated on first use."""
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            engine = open_engine(self.database_url)
        except Exception as error:  # any driver's connection error: report, don't trace
            raise CommandError(f"cannot open the catalogue at {self.database_display}: {error}") from error
        try:
            return Catalog(engine, keyword_synonyms=self.config.keyword_synonyms)
        except ValueError as error:
            raise CommandError(str(error)) from error

    @cached_property
    def image_files(self) -> ImageFiles:
        return ImageFiles(self.home)
