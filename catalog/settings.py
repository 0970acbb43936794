"""The one settings interface of every stage with results, and the home's active settings of each.

A result set (a face set, a model's predictions, a text version) is named by its settings. Each
stage with results has a frozen settings dataclass that reads its table of postercensus.toml
(`from_config`), writes it back (`to_config`, which `from_config` inverts) and names the result
set those settings produce (`identity`). The catalogue keeps its older column names for the same
idea (`parameter_hash`, `version_hash`, `model_version`): renaming stored or exported columns
would break existing homes and readers of exports, so only the code has one name.

`active_settings` takes the settings class, not a stage name, so the catalogue never imports a
stage: each class says which table is its own (`section`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from postercensus.catalog.stage import StageError

if TYPE_CHECKING:
    from postercensus.catalog.config import HomeConfig
    from postercensus.catalog.home import Home


class StageSettings(Protocol):
    """What every stage's settings class offers (see the module docstring)."""

    section: ClassVar[str]  # its table in postercensus.toml: "faces", "classify", "text"

    @classmethod
    def from_config(cls, table: dict[str, Any]) -> Any:
        """The settings of a table (absent keys at their defaults); ValueError names a bad key or value."""

    def to_config(self) -> dict[str, Any]:
        """The table `from_config` reads back into equal settings."""

    def identity(self) -> str:
        """The name of the result set these settings produce (may read models: not free)."""


Settings = TypeVar("Settings", bound=StageSettings)


def settings_in(config: HomeConfig, settings_type: type[Settings]) -> Settings:
    """The settings a home's config names for a stage; a bad table is a StageError naming the file."""
    section = settings_type.section
    hint = f"fix or remove the [{section}] table"
    try:
        table = config.section(section)
    except ValueError as error:  # not a table at all: the message names the file already
        raise StageError(str(error), hint) from error
    try:
        return settings_type.from_config(table)
    except (TypeError, ValueError) as error:
        raise StageError(f"{config.path}: [{section}] {error}", hint) from error


def active_settings(home: Home, settings_type: type[Settings]) -> Settings:
    """The settings of the home's active result set of one stage (`settings_type`: `FaceSettings`,
    `ClassifySettings` or `TextSettings`); an empty or absent table gives that stage's defaults."""
    return settings_in(home.config, settings_type)
