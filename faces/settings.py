"""The face stage's parameters, and the hash that names a result set.

Every face row carries the hash of the settings *and* the model versions that produced it, so
a second run with other settings adds a second, separately addressable result set instead of
overwriting the first, and an upgraded dlib is never silently mixed with old detections.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from catalog.imagefiles import DEFAULT_MAX_PIXELS
from faces import models
from faces.align import ALIGNED_SIZE
from faces.detectors import (
    CnnDetector,
    Detector,
    EnsembleDetector,
    HaarDetector,
    HogDetector,
    Resized,
    Tiled,
)

DETECTOR_NAMES = ("hog", "cnn", "haar", "ensemble")
MEMBER_NAMES = ("hog", "cnn", "haar")


@dataclass(frozen=True)
class FaceSettings:
    """What decides which faces are found and how they are cropped (defaults: see README, by measurement)."""

    # The default is the People-Art winner (benchmarks/faces_peopleart.py, README Methodology):
    # weak HOG boxes (threshold -0.6) kept only where a Haar cascade agrees.
    detector: str = "ensemble"
    upsample: int = 1
    resize: float = 1.0
    tile: int = 0  # 0: no tiling; else the tile edge in pixels
    threshold: float = -0.6  # HOG's adjust_threshold: below 0 finds more, weaker faces
    members: tuple[str, ...] = ("hog", "haar")  # ensemble only
    min_votes: int = 2  # ensemble only: members that must agree on a face
    aligned_size: int = ALIGNED_SIZE
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if self.detector not in DETECTOR_NAMES:
            raise ValueError(f"unknown detector {self.detector!r}; choose one of {', '.join(DETECTOR_NAMES)}")
        unknown = [name for name in self.members if name not in MEMBER_NAMES]
        if unknown:
            raise ValueError(f"unknown ensemble member(s) {', '.join(unknown)}; choose from {', '.join(MEMBER_NAMES)}")
        if self.upsample < 0 or self.upsample > 4:
            raise ValueError("--upsample must be between 0 and 4 (each step doubles the image)")
        if not 0.1 <= self.resize <= 8:
            raise ValueError("--resize must be between 0.1 and 8")
        if self.tile and self.tile < 128:
            raise ValueError("--tile must be 0 (off) or at least 128 pixels")
        if self.min_votes < 1 or (self.detector == "ensemble" and self.min_votes > len(self.members)):
            raise ValueError("--min-votes must be between 1 and the number of ensemble members")

    def parameters(self) -> dict[str, Any]:
        """The settings that matter for this detector (unused ones are left out of the hash)."""
        values = asdict(self)
        values["members"] = list(self.members)
        if self.detector != "ensemble":
            values.pop("members")
            values.pop("min_votes")
        uses = set(self.members) if self.detector == "ensemble" else {self.detector}
        if "hog" not in uses:
            values.pop("threshold")
        if not uses & {"hog", "cnn"}:
            values.pop("upsample")
        return values

    def parameter_hash(self) -> str:
        """16 hex digits naming (parameters, model versions): the key of a result set."""
        payload = json.dumps({"parameters": self.parameters(), "models": models.model_versions()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _member(name: str, settings: FaceSettings) -> Detector:
    if name == "hog":
        return HogDetector(settings.upsample, settings.threshold)
    if name == "cnn":
        return CnnDetector(settings.upsample)
    return HaarDetector()


def build_detector(settings: FaceSettings) -> Detector:
    """The detector chain the settings describe: member(s) → ensemble → pre-resize → tiles."""
    if settings.detector == "ensemble":
        detector: Detector = EnsembleDetector(
            [_member(name, settings) for name in settings.members], min_votes=settings.min_votes
        )
    else:
        detector = _member(settings.detector, settings)
    if settings.resize != 1.0:
        detector = Resized(detector, settings.resize)
    if settings.tile:
        detector = Tiled(detector, settings.tile)
    return detector
