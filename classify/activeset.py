"""Which predictions a setting of `[classify]` names: model, threshold and domain → model id and version.

Read from the model card and folder alone (TensorFlow is not loaded), so analysis can find the
active predictions and the classify stage can tell whether any face still lacks one. The home's
active settings are `catalog.settings.active_settings(home, ClassifySettings)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from postercensus.classify.models import modelfolder

from postercensus.classify.train import domains
from postercensus.classify.models.modelcard import ModelCard


@dataclass(frozen=True)
class ClassifySettings:
    """Which model labels the faces, with which threshold, calibrated for which domain: the
    `[classify]` table of postercensus.toml (the active predictions) or a command's options."""

    section: ClassVar[str] = "classify"
    model: str = "default"  # a model folder, or `default`: the shipped model
    threshold: float = 0.0
    domain: str = domains.DEFAULT_DOMAIN

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must lie between 0 and 1 (got {self.threshold})")
        try:
            domains.check_domain(self.domain)
        except ValueError as error:
            raise ValueError(f"domain: {error}") from error

    @classmethod
    def from_config(cls, table: dict[str, Any]) -> ClassifySettings:
        unknown = sorted(set(table) - {"model", "threshold", "domain"})
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: model, threshold, domain")
        defaults = cls()
        return cls(str(table.get("model", defaults.model)), float(table.get("threshold", defaults.threshold)),
                   str(table.get("domain", defaults.domain)))

    def to_config(self) -> dict[str, Any]:
        """The `[classify]` table (`from_config` inverts it)."""
        return {"model": self.model, "threshold": self.threshold, "domain": self.domain}

    def identity(self) -> str:
        """The prediction version these settings name: the model folder's version and the domain
        (stored as `model_version`). Reads the card and hashes the folder; TensorFlow is not loaded.
        The threshold is not part of it: it relabels the same predictions."""
        return predictions_named(self).version


@dataclass(frozen=True)
class ActivePredictions:
    """What a setting of `[classify]` names, read from the model card alone (TensorFlow not loaded)."""

    model_id: str
    version: str  # the prediction version: the model's version and the domain
    folder: Path
    card: ModelCard


def predictions_named(settings: ClassifySettings) -> ActivePredictions:
    folder = modelfolder.resolve(settings.model)
    card = modelfolder.read_card(folder)
    version = domains.prediction_version(card, modelfolder.model_version(folder), settings.domain)
    return ActivePredictions(card.name, version, folder, card)
