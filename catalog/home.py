"""`Home`: one postercensus home folder, opened — the bottom of the spine every stage stands on.

It holds the config (`postercensus.toml`), the folder layout, the catalogue (engine and store),
and the **active result set of each stage**: the `[faces]`, `[classify]` and `[text]` tables of
the config hold the settings whose results analysis, export and both dashboards read, and which
`refresh` keeps up to date. Only the user changes them (`faces detect … --activate`,
`classify predict … --activate`, or editing the file); a refresh never does, so tables made from
a researcher's chosen face set stay on it after every nightly run. Each stage package turns its
table into settings (and checks its keys); the Home only stores them, as catalog may not import
the stages.

**A home exists** when its folder holds `postercensus.toml` or the default `catalog.sqlite`.
`init`, every harvest and `demo` write the config file, so a home whose catalogue lives in
PostgreSQL (`--db`) is recognised by its folder too. Every other command, and `pc.open`, reads
only an existing home (`Home(..., create=False)`): a mistyped `--home` is refused with
`NoHome` instead of becoming a new, empty catalogue that a nightly job reports as a success.
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


class NoHome(HomeError):
    """A command that reads a home was pointed at a folder that holds none (exit code 2 on the CLI)."""

    exit_code = 2

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"no postercensus home at {path}",
            f"check the path (--home, $POSTERCENSUS_HOME); to start one there run "
            f"`postercensus init {path}` or `postercensus --home {path} harvest …`",
        )
        self.path = path


def home_exists(path: Path) -> bool:
    """Whether `path` holds a home: its postercensus.toml, or the default SQLite catalogue."""
    layout = HomeLayout(path)
    return layout.config.is_file() or layout.sqlite.is_file()


class Home:
    """An opened home folder. With `create` (the default for stages, tests and benchmarks that
    build one) the folder and its catalogue are made on first use; without it (the CLI's reading
    commands, `pc.open`) the catalogue of a folder that holds no home raises `NoHome`."""

    def __init__(self, path: Path | str, db_url: str | None = None, *, create: bool = True) -> None:
        self.path = Path(path).expanduser().resolve()
        self.db_option = db_url
        self.creates = create
        self.layout = HomeLayout(self.path)
        try:
            self.config = HomeConfig.load(self.path)
        except ValueError as error:
            raise HomeError(str(error)) from error

    def __repr__(self) -> str:
        return f"Home({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return home_exists(self.path)

    def require(self) -> "Home":
        """This home, or `NoHome` when its folder holds none (checked before any work starts)."""
        if not self.exists:
            raise NoHome(self.path)
        return self

    def elsewhere(self, path: Path | None, db_url: str | None) -> "Home":
        """The home a command's own --home/--db name instead (typed after the command), opened
        the same way; what is not given stays as before."""
        return type(self)(path if path is not None else self.path, db_url or self.db_option, create=self.creates)

    def initialise(self) -> bool:
        """Make the folder, its postercensus.toml and the catalogue (migrated); False when the
        home existed already (nothing is changed then but a catalogue migration)."""
        created = not self.exists
        self._make_folder()
        if created:
            self.config.write()
        self.creates = True
        _ = self.catalog
        return created

    def _make_folder(self) -> None:
        """The home folder, made if missing; a path under a file or without permission is a HomeError."""
        if self.path.exists() and not self.path.is_dir():
            raise HomeError(f"{self.path} is a file, not a folder", "choose another folder for the home (--home)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise HomeError(f"cannot create the home folder {self.path}: {error.strerror or error}",
                            "choose a folder you can write to (--home)") from error

    @property
    def database_url(self) -> str:
        """--db (or `db_url`), else [catalog] url in postercensus.toml, else SQLite in the home."""
        return self.config.database_url(self.db_option, self.path)

    @property
    def database_display(self) -> str:
        return display_url(self.database_url)

    @cached_property
    def catalog(self) -> Catalog:
        """The catalogue, migrated on first use; created only by a home that may create (`NoHome` else)."""
        if not self.creates:
            self.require()
        self._make_folder()
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
