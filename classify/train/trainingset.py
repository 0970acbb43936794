"""Labelled faces ready to train on, from a folder or from the catalogue (no TensorFlow here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from postercensus.classify.models.facesamples import FaceSample


@dataclass
class TrainingSet:
    """Faces with their label, group (never split) and a name to show in reports."""

    samples: list[FaceSample]
    labels: list[str]
    groups: list[str]
    names: list[str]
    source: dict[str, Any] = field(default_factory=dict)  # what the card says the data were
