"""The face stage's parameters, and the hash that names a result set.

Every face row carries the hash of the settings *and* the model versions that produced it, so
a second run with other settings adds a second, separately addressable result set instead of
overwriting the first, and an upgraded dlib is never silently mixed with old detections.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Collection

from postercensus.catalog.imagefiles import DEFAULT_MAX_PIXELS
from postercensus.faces import models
from postercensus.faces.align import ALIGNED_SIZE
from postercensus.faces.detectors import (
    CnnDetector,
    Detector,
    EnsembleDetector,
    HaarDetector,
    HogDetector,
    Resized,
    Tiled,
)
from postercensus.faces.mtcnn_detector import DEFAULT_THRESHOLD as MTCNN_DEFAULT_THRESHOLD
from postercensus.faces.mtcnn_detector import MtcnnDetector
from postercensus.faces.yunet import YunetDetector

DETECTOR_NAMES = ("hog", "cnn", "haar", "yunet", "mtcnn", "ensemble")
MEMBER_NAMES = ("hog", "cnn", "haar", "yunet", "mtcnn")
# The detectors with a score threshold, and the setting that holds it: each scores on its own
# scale (HOG an SVM margin offset around 0, YuNet and MTCNN a face probability in 0–1).
THRESHOLD_FIELDS = {"hog": "threshold", "yunet": "yunet_threshold", "mtcnn": "mtcnn_threshold"}
NEUTRAL_BOX_SCALE = 1.0  # the detector's own box; left out of the hash, so older result sets keep their names


@dataclass(frozen=True)
class FaceSettings:
    """What decides which faces are found and how they are cropped (defaults: see docs/methodology-faces.md, by measurement).

    The `[faces]` table of postercensus.toml names the active face set (`catalog.settings`)."""

    section: ClassVar[str] = "faces"

    # The default is YuNet at score 0.7, chosen by cross-validation that held out whole painters
    # and People-Art styles (benchmarks/faces_default_choice.py, docs/methodology-faces.md): of
    # the settings at ≤ half the seed's time per image, the best paintings F1 among those with
    # ≥ 2× the seed's People-Art hits at precision proxy ≥ 0.9. It replaced the HOG + Haar vote,
    # which found no more faces than the seed at half its speed.
    detector: str = "yunet"
    upsample: int = 1
    resize: float = 1.0
    tile: int = 0  # 0: no tiling; else the tile edge in pixels
    threshold: float = -0.6  # HOG's adjust_threshold: below 0 finds more, weaker faces
    yunet_threshold: float = 0.7  # YuNet's score cut (the cross-validated choice, see above)
    mtcnn_threshold: float = MTCNN_DEFAULT_THRESHOLD  # MTCNN's O-net probability cut
    members: tuple[str, ...] = ("hog", "haar")  # ensemble only
    min_votes: int = 2  # ensemble only: members that must agree on a face
    # The stored/reported box is the detector's box enlarged this much about its centre (clipped
    # to the image); landmarks, alignment and the descriptor always use the detector's own box.
    # 1.4: every painter-grouped fold chose it for the default YuNet setting (hand-drawn face
    # boxes take in forehead and hair: paintings F1 at IoU ≥ 0.3 of YuNet 0.7 goes from 0.849 at
    # its own box to 0.913 out-of-fold;
    # People-Art's centre-based proxies unchanged). One factor for all detectors: it is applied
    # to the final box, after an ensemble merged its members' boxes.
    box_scale: float = 1.4
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
        if not 0.5 <= self.box_scale <= 3:
            raise ValueError("--box-scale must be between 0.5 and 3 (1: the detector's own box)")
        for name in ("yunet", "mtcnn"):
            if not 0 < getattr(self, THRESHOLD_FIELDS[name]) < 1:
                raise ValueError(f"--threshold for {name} must be a probability between 0 and 1 (exclusive)")

    @classmethod
    def from_config(cls, table: dict[str, Any]) -> FaceSettings:
        """The `[faces]` table of postercensus.toml (the active face set; keys as the fields here,
        absent keys at their defaults). Raises ValueError naming an unknown key or a bad value."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"unknown [faces] setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = dict(table)
        if "members" in values:
            values["members"] = tuple(values["members"])
        return cls(**values)

    def to_config(self) -> dict[str, Any]:
        """The settings that differ from the defaults, as `[faces]` holds them (`from_config` inverts it)."""
        defaults = asdict(DEFAULT_SETTINGS)
        table = {name: value for name, value in asdict(self).items() if value != defaults[name]}
        if "members" in table:
            table["members"] = list(table["members"])
        return table

    def detectors_used(self) -> tuple[str, ...]:
        """The detectors that run: the ensemble's members, or the one detector."""
        return tuple(self.members) if self.detector == "ensemble" else (self.detector,)

    def parameters(self) -> dict[str, Any]:
        """The settings that matter for this detector (unused ones, and a neutral box scale, are left out of the hash)."""
        values = asdict(self)
        values["members"] = list(self.members)
        if self.detector != "ensemble":
            values.pop("members")
            values.pop("min_votes")
        uses = set(self.detectors_used())
        for name, field in THRESHOLD_FIELDS.items():
            if name not in uses:
                values.pop(field)
        if not uses & {"hog", "cnn"}:
            values.pop("upsample")
        if self.box_scale == NEUTRAL_BOX_SCALE:
            values.pop("box_scale")
        return values

    def model_versions(self) -> dict[str, str]:
        """The versions of the code and weights these detectors use (ModelMissing if one is not installed)."""
        return {**models.model_versions(), **models.detector_versions(self.detectors_used())}

    def identity(self) -> str:
        """16 hex digits naming (parameters, model versions): the key of a face set (stored as
        `parameter_hash`, the column name kept so existing catalogues and exports still read)."""
        payload = json.dumps({"parameters": self.parameters(), "models": self.model_versions()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


DEFAULT_SETTINGS = FaceSettings()


def threshold_settings(option: str, detectors: Collection[str]) -> dict[str, float]:
    """The settings a `--threshold` option gives, for the detectors that will run.

    A plain number is the threshold of the one detector used that has one (HOG in the default
    HOG + Haar ensemble); when several have one (e.g. hog,yunet) each must be named, as
    `hog=-0.4,yunet=0.7`, since their scores are on different scales. Raises ValueError.
    """
    option = option.strip()
    scored = [name for name in detectors if name in THRESHOLD_FIELDS]
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", option):
        if not scored:
            raise ValueError(f"--threshold {option}: none of {', '.join(detectors)} has a score threshold")
        if len(scored) > 1:
            example = ",".join(f"{name}={getattr(DEFAULT_SETTINGS, THRESHOLD_FIELDS[name])}" for name in scored)
            raise ValueError(f"--threshold {option}: {' and '.join(scored)} score on different scales; "
                             f"name each, e.g. --threshold {example}")
        return {THRESHOLD_FIELDS[scored[0]]: float(option)}
    values: dict[str, float] = {}
    for part in option.split(","):
        name, _, number = part.partition("=")
        name = name.strip()
        if name not in THRESHOLD_FIELDS:
            raise ValueError(f"--threshold {option}: expected a number or NAME=NUMBER pairs with NAME one of "
                             f"{', '.join(THRESHOLD_FIELDS)}")
        if name not in scored:
            raise ValueError(f"--threshold {option}: {name} is not among the detectors used ({', '.join(detectors)})")
        try:
            values[THRESHOLD_FIELDS[name]] = float(number)
        except ValueError:
            raise ValueError(f"--threshold {option}: {number.strip()!r} is not a number") from None
    return values


def _member(name: str, settings: FaceSettings) -> Detector:
    if name == "hog":
        return HogDetector(settings.upsample, settings.threshold)
    if name == "cnn":
        return CnnDetector(settings.upsample)
    if name == "yunet":
        return YunetDetector(settings.yunet_threshold)
    if name == "mtcnn":
        return MtcnnDetector(settings.mtcnn_threshold)
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
