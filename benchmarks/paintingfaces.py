"""The hand-drawn face boxes on paintings (../shared/data/painting-faces) and how detections are scored on them.

A detection matches a hand box when their intersection over union is at least 0.3 (hand boxes
are looser than any detector's); matching is greedy and one-to-one, the detection with the
highest score first taking the unmatched hand box it overlaps most. Recall, precision and F1
are pooled over images (true positives, false positives and missed faces summed first).

Painters are the grouping unit for cross-validation, so a detector setting is never judged on
a painter it was chosen on. The painter comes from the file name (see `painter_of`).
"""
from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "painting-faces"
MATCH_IOU = 0.3

# Keys the rules below get wrong, checked by hand over all 463 names: three slugs that spell
# one painter two ways, and one `_-_` name that puts the given names first.
PAINTER_ALIASES = {
    "arthur-timotheo-da-costa": "arthur-timoteo-da-costa",
    "decio-vilares": "decio-villares",
    "julio-vila-y-prades": "julio-vila-prades",
    "emil-jean-horace": "vernet",
}
PARTICLES = {"van", "von", "de", "da", "di", "del", "della", "le", "la"}

HandBox = tuple[float, float, float, float]
Detection = tuple[float, float, float, float, float]  # left, top, right, bottom, score


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def painter_of(file_name: str) -> str:
    """The painter's key in the three naming schemes the set uses.

    * `Given_Surname_12.jpg` (WikiArt style: `Diego_Velazquez_25`, `El_Greco_3`, `Titian_7`):
      the last word before the number, lower-cased (`velazquez`, `greco`, `titian`);
    * `Surname_Given_-_Title.jpg` (`Renoir_Pierre-Auguste_-_Boy_with_a_Whip`,
      `Titian_(Tiziano_Vecellio)_-_…`): the first word, so both schemes give one key per
      painter (`renoir`, `titian`, `caravaggio`, `rembrandt`, `rubens`, `gauguin`, `picasso`;
      a leading particle keeps its noun: `Van_Dongen_Kees` → `van-dongen`);
    * `painter-slug_title-slug.jpg` (the Brazilian collection: `jose-correia-de-lima_retrato-…`):
      the slug before the first underscore. `anonimo` (six unattributed works) is one group.

    PAINTER_ALIASES then fixes the four keys these rules get wrong. Result: 133 painters.
    """
    original = Path(file_name).stem
    stem = _plain(original)
    numbered = re.fullmatch(r"(.+)_\d+", stem)
    if "_-_" in stem:
        words = re.split(r"[_(]", stem.split("_-_")[0])
        key = "-".join(words[:2]) if words[0] in PARTICLES else words[0]
    elif numbered and original[:1].isupper():
        key = numbered.group(1).split("_")[-1]
    else:
        key = stem.split("_")[0]
    return PAINTER_ALIASES.get(key, key)

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


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


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
