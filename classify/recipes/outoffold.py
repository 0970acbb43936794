"""The default model's out-of-fold predictions per domain, as the recipe recalibrates them.

A card stores each domain's out-of-fold faces; refitting a calibration needs them uncalibrated
and with their groups (a poster, an object, a file, a painter), which the card's order of files
rebuilds from the shared data. The scene paintings, which the model never trained on, are
predicted by the model itself (once per model version, then cached). `recalibrate_default` fits
with these; `benchmarks/classify_calibration_shift.py` measures every calibration on the same.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from postercensus.classify.models import modelfolder
from postercensus.classify.models.modelcard import DomainCalibration, ModelCard
from postercensus.classify.recipes.data import DATA, progress
from postercensus.classify.recipes.depicted import LABELS
from postercensus.classify.recipes.faces import DEFAULT_CACHE, metfaces_files, nk_files, utk_files
from postercensus.classify.train.splits import grouped_folds

FOLDS = 5
SCENES_CACHE = DEFAULT_CACHE / "scene-faces-probabilities.npz"
FILES = {"posters": nk_files, "paintings": metfaces_files, "photos": utk_files}


class Domain:
    """One domain's raw out-of-fold probabilities, labels (as indices), groups and folds."""

    def __init__(self, name: str, probabilities: np.ndarray, labels: list[str], groups: list[str]) -> None:
        self.name, self.probabilities, self.groups = name, probabilities, groups
        self.labels = labels
        self.y = np.array([LABELS.index(label) for label in labels])
        self.folds = grouped_folds(labels, groups, FOLDS, seed=0)


def raw_probabilities(entry: DomainCalibration) -> np.ndarray:
    """The ensemble's probabilities before calibration: stored as such by a card with shifts, else
    recovered from a temperature-only card as p ∝ p_cal^T."""
    stored = entry.held_out_predictions or {}
    if "uncalibrated" in stored:
        return np.asarray(stored["uncalibrated"], dtype=float)
    calibrated = np.asarray(stored["probabilities"], dtype=float)
    logs = (entry.temperature or 1.0) * np.log(np.clip(calibrated, 1e-7, 1.0))
    logs -= logs.max(axis=1, keepdims=True)
    raw = np.exp(logs)
    return raw / raw.sum(axis=1, keepdims=True)


def card_domains(card: ModelCard) -> dict[str, Domain]:
    """The card's photographs, posters and paintings, uncalibrated, with their groups rebuilt from the data."""
    domains = {}
    for name, files in FILES.items():
        entry = (card.domains or {})[name]
        rows = files(DATA)
        if [row[1] for row in rows] != (entry.held_out_predictions or {}).get("true"):
            sys.exit(f"{name}: the data's labels are not the card's (in order): the groups cannot be rebuilt")
        domains[name] = Domain(name, raw_probabilities(entry), [row[1] for row in rows], [row[2] for row in rows])
    posters = np.asarray((card.held_out_predictions or {})["probabilities"], dtype=float)
    drift = float(np.abs(posters - domains["posters"].probabilities).max())
    progress(f"posters: raw probabilities recovered from the calibrated ones within {drift:.1e} of the stored raw")
    return domains


def scene_domain(folder: Path) -> Domain:
    """The scene-painting faces predicted by the model in `folder`, uncalibrated (computed once per
    model version, then cached)."""
    version = modelfolder.model_version(folder)
    if not SCENES_CACHE.is_file() or str(np.load(SCENES_CACHE)["version"]) != version:
        from postercensus.classify.models.classifier import load_classifier
        from postercensus.classify.recipes.scenes import scene_faces

        progress("cutting the scene-painting faces as the face stage would, and predicting them")
        faces = scene_faces(progress=progress)
        classifier = load_classifier(folder)
        SCENES_CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(SCENES_CACHE, files=np.array([f.file for f in faces]), painters=np.array([f.painter for f in faces]),
                 labels=np.array([f.label for f in faces]), matched=np.array([f.matched for f in faces]),
                 probabilities=classifier.probabilities([f.sample for f in faces]), version=np.array(classifier.version))
    with np.load(SCENES_CACHE) as stored:
        domain = Domain("scenes", stored["probabilities"].astype(float), [str(x) for x in stored["labels"]],
                        [str(x) for x in stored["painters"]])
        domain.matched = stored["matched"]  # type: ignore[attr-defined]
    return domain
