"""The People-Art person boxes (../shared/data/peopleart) and the two face-detection scores on them.

People-Art labels people, not faces, so the scores are proxies: a Frontal person is "hit" when a
detected face centre lies in the upper half of its box; a detection is "plausible" when its
centre lies in any person box (negatives — images without people — count against precision).
"""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "peopleart"
LISTS = ("person_train.txt", "person_val.txt")


@dataclass
class Person:
    left: float
    top: float
    right: float
    bottom: float
    pose: str


@dataclass
class ArtImage:
    path: Path
    persons: list[Person] = field(default_factory=list)

    @property
    def style(self) -> str:
        """One of the four styles (the folder under JPEGImages): the grouping unit for cross-validation."""
        return self.path.parent.name

    @property
    def key(self) -> str:
        return f"{self.style}/{self.path.name}"


def load_images(root: Path = DATA) -> list[ArtImage]:
    images = []
    for list_name in LISTS:
        for line in (root / "Annotations" / list_name).read_text().splitlines():
            if not line.strip():
                continue
            relative, label = line.rsplit(maxsplit=1)
            image = ArtImage(root / "JPEGImages" / relative)
            annotation = root / "Annotations" / f"{relative}.xml"
            if label == "1" and annotation.exists():
                for node in ElementTree.parse(annotation).getroot().iter("object"):
                    if node.findtext("name") != "person":
                        continue
                    box = node.find("bndbox")
                    image.persons.append(Person(
                        *(float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")),
                        pose=(node.findtext("pose") or "").strip(),
                    ))
            images.append(image)
    return images


@dataclass
class Score:
    frontal_persons: int = 0
    persons_hit: int = 0
    detections: int = 0
    plausible: int = 0

    def __add__(self, other: "Score") -> "Score":
        return Score(
            self.frontal_persons + other.frontal_persons, self.persons_hit + other.persons_hit,
            self.detections + other.detections, self.plausible + other.plausible,
        )

    @property
    def hit_rate(self) -> float:
        return self.persons_hit / self.frontal_persons if self.frontal_persons else 0.0

    @property
    def precision(self) -> float:
        return self.plausible / self.detections if self.detections else 0.0

    def add(self, image: ArtImage, centres: list[tuple[float, float]]) -> None:
        for person in image.persons:
            if person.pose != "Frontal":
                continue
            self.frontal_persons += 1
            middle = (person.top + person.bottom) / 2
            if any(person.left <= x <= person.right and person.top <= y <= middle for x, y in centres):
                self.persons_hit += 1
        self.detections += len(centres)
        self.plausible += sum(
            any(p.left <= x <= p.right and p.top <= y <= p.bottom for p in image.persons) for x, y in centres
        )
