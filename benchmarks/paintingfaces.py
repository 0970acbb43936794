"""The hand-drawn face boxes on paintings (../shared/data/painting-faces) and how detections are scored on them.

A detection matches a hand box when their intersection over union is at least 0.3 (hand boxes
are looser than any detector's); matching is greedy and one-to-one, the detection with the
highest score first taking the unmatched hand box it overlaps most. Recall, precision and F1
are pooled over images (true positives, false positives and missed faces summed first).

Painters are the grouping unit for cross-validation, so a detector setting is never judged on
a painter it was chosen on. The painter comes from the file name (`classify.recipes.paintings.painter_of`, which the
default model's recipe keys its scene faces by too).
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from postercensus.classify.recipes.paintings import MATCH_IOU, PAINTINGS, iou, painter_of

DATA = PAINTINGS

HandBox = tuple[float, float, float, float]
Detection = tuple[float, float, float, float, float]  # left, top, right, bottom, score


@dataclass
class Painting:
    path: Path
    painter: str
    faces: list[HandBox] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.path.name


def load_paintings(root: Path = DATA) -> list[Painting]:
    """Every image in images/ (sorted by name) with its hand boxes from boxes.csv."""
    boxes: dict[str, list[HandBox]] = defaultdict(list)
    with (root / "boxes.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            boxes[row["file"]].append(tuple(float(row[k]) for k in ("left", "top", "right", "bottom")))
    return [
        Painting(path, painter_of(path.name), boxes.get(path.name, []))
        for path in sorted((root / "images").iterdir())
        if path.is_file()
    ]


@dataclass
class Counts:
    """Matched faces (tp), unmatched detections (fp) and missed hand boxes (fn), summable."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def f1(self) -> float:
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else 0.0


def match(detections: list[Detection], faces: list[HandBox]) -> Counts:
    """Greedy one-to-one matching at IoU ≥ MATCH_IOU, highest-scoring detection first."""
    free = list(range(len(faces)))
    tp = fp = 0
    for detection in sorted(detections, key=lambda d: -d[4]):
        best = max(free, key=lambda index: iou(detection, faces[index]), default=None)
        if best is not None and iou(detection, faces[best]) >= MATCH_IOU:
            free.remove(best)
            tp += 1
        else:
            fp += 1
    return Counts(tp, fp, len(free))
