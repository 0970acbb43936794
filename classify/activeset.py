"""Which predictions a setting of `[classify]` names: model, threshold and domain → model id and version.

Read from the model card and folder alone (TensorFlow is not loaded), so analysis can find the
active predictions and the classify stage can tell whether any face still lacks one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from postercensus.catalog.home import Home
from postercensus.catalog.stage import StageError
from postercensus.classify import domains, modelfolder


@dataclass(frozen=True)
class ClassifySettings:
    """Which model labels the faces, with which threshold, calibrated for which domain: the
    `[classify]` table of postercensus.toml (the active predictions) or a command's options."""

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
    def from_table(cls, table: dict) -> ClassifySettings:
        unknown = sorted(set(table) - {"model", "threshold", "domain"})
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: model, threshold, domain")
        defaults = cls()
        return cls(str(table.get("model", defaults.model)), float(table.get("threshold", defaults.threshold)),
                   str(table.get("domain", defaults.domain)))

    def to_table(self) -> dict:
        return {"model": self.model, "threshold": self.threshold, "domain": self.domain}


def active_classify_settings(home: Home) -> ClassifySettings:
    """The home's active predictions: its `[classify]` table (default: the shipped model, threshold 0, posters)."""
    try:
        return ClassifySettings.from_table(home.active("classify"))
    except (TypeError, ValueError) as error:
        raise StageError(f"{home.layout.config}: [classify] {error}", "fix or remove that setting") from error


@dataclass(frozen=True)
class ActivePredictions:
    """What a setting of `[classify]` names, read from the model card alone (TensorFlow not loaded)."""

    model_id: str
    version: str  # the prediction version: the model's version and the domain
    folder: Path
    card: dict
    temperature: float


def predictions_named(settings: ClassifySettings) -> ActivePredictions:
    folder = modelfolder.resolve(settings.model)
    card = modelfolder.read_card(folder)
    version = domains.prediction_version(card, modelfolder.model_version(folder), settings.domain)
    return ActivePredictions(card["model_id"], version, folder, card, domains.temperature(card, settings.domain))
