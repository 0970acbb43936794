"""Face boxes and how boxes from several detectors, scales or tiles are merged.

Scores are each detector's own confidence (dlib's SVM margin for HOG, the MMOD confidence for
the CNN, the number of merged neighbours for Haar, the network's face probability for YuNet and
MTCNN): comparable within one detector only. YuNet and MTCNN also give five landmarks, which
travel with the box (through scaling, tiles and merges) so the face is aligned from them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

Point = tuple[float, float]
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")  # image-left/right


def _moved(points: tuple[Point, ...] | None, factor: float, dx: float, dy: float) -> tuple[Point, ...] | None:
    if points is None:
        return None
    return tuple((x * factor + dx, y * factor + dy) for x, y in points)


@dataclass(frozen=True)
class Box:
    """A face box in pixels of the upright image: [left, right) × [top, bottom).

    `landmarks`, when the detector gives them, are five points in the same pixels: the
    image-left eye, the image-right eye, the nose tip, the image-left and image-right mouth
    corners (LANDMARK_NAMES).
    """

    left: int
    top: int
    right: int
    bottom: int
    score: float
    detectors: tuple[str, ...]
    landmarks: tuple[Point, ...] | None = None

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2

    def scaled(self, factor: float) -> "Box":
        """The box in an image `factor` times the size of this one's."""
        return replace(
            self,
            left=round(self.left * factor),
            top=round(self.top * factor),
            right=round(self.right * factor),
            bottom=round(self.bottom * factor),
            landmarks=_moved(self.landmarks, factor, 0.0, 0.0),
        )

    def shifted(self, dx: int, dy: int) -> "Box":
        return replace(self, left=self.left + dx, right=self.right + dx, top=self.top + dy, bottom=self.bottom + dy,
                       landmarks=_moved(self.landmarks, 1.0, dx, dy))

    def enlarged(self, factor: float, width: int, height: int) -> "Box":
        """The box `factor` times as wide and as tall about the same centre, clipped to a width × height image.

        For the box a face is stored and reported with (`FaceSettings.box_scale`): the detectors
        box the inner face, brows to chin, where a reader (and a hand-drawn box) takes in the
        forehead and the hair. Score, finders and landmarks stay as they are.
        """
        if factor == 1.0:
            return self
        centre_x, centre_y = self.centre
        half_width, half_height = self.width * factor / 2, self.height * factor / 2
        return replace(
            self,
            left=round(centre_x - half_width),
            top=round(centre_y - half_height),
            right=round(centre_x + half_width),
            bottom=round(centre_y + half_height),
        ).clipped(width, height)

    def clipped(self, width: int, height: int) -> "Box":
        return replace(
            self,
            left=max(0, self.left),
            top=max(0, self.top),
            right=min(width, self.right),
            bottom=min(height, self.bottom),
        )


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area.

    Not IoU: a detector that boxes only the inner face and one that boxes the whole head find
    the same face, and their IoU can be well under 0.5 while one box lies inside the other.
    """
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min(a.area, b.area)
    return (width * height) / smaller if smaller else 0.0


def best_landmarks(boxes: Iterable[Box]) -> tuple[Point, ...] | None:
    """The landmarks of the highest-scoring box that has any (None if none has)."""
    with_points = [box for box in boxes if box.landmarks is not None]
    return max(with_points, key=lambda box: box.score).landmarks if with_points else None


def merge_boxes(boxes: Iterable[Box], threshold: float = 0.5, priority: Sequence[str] = ()) -> list[Box]:
    """Non-maximum suppression that keeps, on each surviving box, every detector that found it.

    Boxes are visited by detector priority (earlier names in `priority` first), then score; a
    box overlapping a kept one by more than `threshold` adds its detectors to that box. The kept
    box carries the landmarks of the highest-scoring merged box that has any: an ensemble of
    HOG and YuNet keeps HOG's box and YuNet's five points, one of YuNet and MTCNN the points of
    MTCNN (its probabilities run higher, and its points follow a tilted face more closely).
    """
    rank = {name: index for index, name in enumerate(priority)}

    def order(box: Box) -> tuple[int, float]:
        return min((rank.get(name, len(rank)) for name in box.detectors), default=len(rank)), -box.score

    kept: list[tuple[Box, list[Box]]] = []  # each surviving box with every box merged into it
    for box in sorted(boxes, key=order):
        for index, (survivor, merged) in enumerate(kept):
            if overlap(box, survivor) > threshold:
                names = survivor.detectors + tuple(n for n in box.detectors if n not in survivor.detectors)
                kept[index] = (replace(survivor, detectors=names), merged + [box])
                break
        else:
            kept.append((box, [box]))
    return sorted((replace(box, landmarks=best_landmarks(merged)) for box, merged in kept), key=lambda b: (b.top, b.left))
