"""Face detectors behind one interface: `detect(rgb) -> list[Box]` in upright-image pixels.

`hog` (dlib's frontal HOG + its image pyramid), `cnn` (dlib's MMOD network), `haar` (OpenCV's
frontal and profile cascades, the profile run on the image and its mirror), `yunet` and `mtcnn`
(faces/yunet.py, faces/mtcnn_detector.py: networks that also give five landmarks) and
`ensemble` (the union of several, merged so each face keeps the names of the detectors that
found it, and the landmarks of one that gave them). Two
wrappers apply to any of them: `Resized` (a pre-resize, as the seed study's 2.5× poster
enlargement) and `Tiled` (overlapping tiles, so small faces on large scans are found without
enlarging the whole poster). Model objects are loaded once per process and cached, because
worker processes build their own detectors from plain settings.
"""
from __future__ import annotations

from functools import lru_cache
from dataclasses import replace
from typing import Any, Protocol, Sequence

import numpy as np

from postercensus.faces import models
from postercensus.faces.boxes import Box, best_landmarks, merge_boxes, overlap

HAAR_FRONTAL = "haarcascade_frontalface_default.xml"
HAAR_PROFILE = "haarcascade_profileface.xml"


class Detector(Protocol):
    name: str

    def detect(self, rgb: np.ndarray) -> list[Box]: ...


@lru_cache(maxsize=None)
def _hog_model():
    import dlib

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=None)
def _cnn_model():
    import dlib

    return dlib.cnn_face_detection_model_v1(str(models.dlib_model(models.CNN_DETECTOR_FILE)))


@lru_cache(maxsize=None)
def _cascade(file_name: str):
    import cv2

    cascade = cv2.CascadeClassifier(str(models.haar_cascade(file_name)))
    if cascade.empty():
        raise models.ModelMissing(f"OpenCV could not load the cascade {file_name}")
    return cascade


def _box_from_rect(rect: Any, score: float, name: str, width: int, height: int) -> Box:
    return Box(rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1, float(score), (name,)).clipped(width, height)


class HogDetector:
    """dlib's HOG + linear SVM; `upsample` doubles the image that many times (finds smaller faces).

    Runs on the colour image, unlike the seed's grayscale: dlib then takes the strongest gradient
    over the three channels, which keeps faces whose outline is a change of hue rather than of
    brightness (common in screen prints). ~20 % slower; on People-Art it found 27 instead of 24
    Frontal people at the ensemble default.
    """

    name = "hog"

    def __init__(self, upsample: int = 1, threshold: float = 0.0) -> None:
        self.upsample = upsample
        self.threshold = threshold

    def detect(self, rgb: np.ndarray) -> list[Box]:
        height, width = rgb.shape[:2]
        rects, scores, _ = _hog_model().run(rgb, self.upsample, self.threshold)
        return [_box_from_rect(r, s, self.name, width, height) for r, s in zip(rects, scores)]


class CnnDetector:
    """dlib's max-margin object detection CNN: slower, but finds drawn and turned faces HOG misses."""

    name = "cnn"

    def __init__(self, upsample: int = 0) -> None:
        self.upsample = upsample

    def detect(self, rgb: np.ndarray) -> list[Box]:
        height, width = rgb.shape[:2]
        found = _cnn_model()(rgb, self.upsample)
        return [_box_from_rect(d.rect, d.confidence, self.name, width, height) for d in found]


class HaarDetector:
    """OpenCV's Viola-Jones cascades: frontal, plus profile facing either way (image and mirror)."""

    name = "haar"

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 3, min_size: int = 20) -> None:
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size

    def _run(self, cascade_file: str, gray: np.ndarray) -> list[tuple[int, int, int, int, float]]:
        rects, neighbours = _cascade(cascade_file).detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
        )
        return [(int(x), int(y), int(w), int(h), float(n)) for (x, y, w, h), n in zip(rects, neighbours)]

    def detect(self, rgb: np.ndarray) -> list[Box]:
        import cv2

        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        width = gray.shape[1]
        found = [Box(x, y, x + w, y + h, n, (self.name,)) for x, y, w, h, n in self._run(HAAR_FRONTAL, gray)]
        found += [Box(x, y, x + w, y + h, n, (self.name,)) for x, y, w, h, n in self._run(HAAR_PROFILE, gray)]
        mirrored = np.ascontiguousarray(gray[:, ::-1])
        found += [
            Box(width - x - w, y, width - x, y + h, n, (self.name,))
            for x, y, w, h, n in self._run(HAAR_PROFILE, mirrored)
        ]
        return merge_boxes(found)


class EnsembleDetector:
    """The union of several detectors; overlapping boxes merge and keep every finder's name.

    With `min_votes` > 1 only faces found by at least that many members survive: on drawings,
    a weak HOG box that a Haar cascade also finds is far more often a face than either alone.
    When every member must agree, the later members only look at the neighbourhood of the
    first member's boxes (a face they would find elsewhere could not win all votes), which
    costs far less than searching the whole image with each.
    """

    name = "ensemble"

    def __init__(self, members: Sequence[Detector], overlap_threshold: float = 0.5, min_votes: int = 1) -> None:
        self.members = list(members)
        self.overlap_threshold = overlap_threshold
        self.min_votes = min_votes

    def detect(self, rgb: np.ndarray) -> list[Box]:
        if len(self.members) > 1 and self.min_votes >= len(self.members):
            return self._detect_unanimous(rgb)
        found = [box for member in self.members for box in member.detect(rgb)]
        priority = [member.name for member in self.members]
        merged = merge_boxes(found, self.overlap_threshold, priority)
        return [box for box in merged if len(box.detectors) >= self.min_votes]

    def _detect_unanimous(self, rgb: np.ndarray) -> list[Box]:
        # each candidate with the boxes that confirmed it so far: the landmarks come from the
        # highest-scoring of them that has any, as merge_boxes chooses
        candidates = [(box, [box]) for box in self.members[0].detect(rgb)]
        for member in self.members[1:]:
            confirmed = []
            for box, supporters in candidates:
                confirmation = self._confirmation(member, rgb, box)
                if confirmation is not None:
                    confirmed.append((replace(box, detectors=box.detectors + (member.name,)), supporters + [confirmation]))
            candidates = confirmed
        return [replace(box, landmarks=best_landmarks(supporters)) for box, supporters in candidates]

    def _confirmation(self, member: Detector, rgb: np.ndarray, box: Box) -> Box | None:
        """`member`'s best box overlapping `box` in a window five times the box's size around it, if any.

        The window is generous because cascades merge neighbouring hits: cut too tight, a face
        the whole-image pass finds loses its neighbours (People-Art: 22 confirmed people at a
        half-box margin, 26 at two boxes, 27 on the whole image, at a fraction of the time).
        """
        height, width = rgb.shape[:2]
        margin = 2 * max(box.width, box.height)
        left, top = max(0, box.left - margin), max(0, box.top - margin)
        right, bottom = min(width, box.right + margin), min(height, box.bottom + margin)
        window = np.ascontiguousarray(rgb[top:bottom, left:right])
        agreeing = [found.shifted(left, top) for found in member.detect(window)]
        agreeing = [found for found in agreeing if overlap(found, box) > self.overlap_threshold]
        return max(agreeing, key=lambda found: found.score, default=None)


class Resized:
    """Run `inner` on the image scaled by `factor`; boxes come back in original pixels."""

    def __init__(self, inner: Detector, factor: float) -> None:
        self.inner = inner
        self.factor = factor
        self.name = inner.name

    def detect(self, rgb: np.ndarray) -> list[Box]:
        import cv2

        if self.factor == 1.0:
            return self.inner.detect(rgb)
        height, width = rgb.shape[:2]
        size = (max(1, round(width * self.factor)), max(1, round(height * self.factor)))
        interpolation = cv2.INTER_AREA if self.factor < 1 else cv2.INTER_LINEAR
        scaled = cv2.resize(rgb, size, interpolation=interpolation)
        return [box.scaled(1 / self.factor).clipped(width, height) for box in self.inner.detect(scaled)]


def tile_origins(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering [0, length) with tiles of `tile` px overlapping by `overlap` px."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


class Tiled:
    """Run `inner` on overlapping tiles of a large image and merge the boxes back.

    The overlap is a quarter of the tile, so a face up to that size lies whole in some tile;
    faces larger than the overlap that a tile edge cuts are also found on the downscaled whole
    image, which is searched too.
    """

    def __init__(self, inner: Detector, tile: int) -> None:
        self.inner = inner
        self.tile = tile
        self.overlap = tile // 4
        self.name = inner.name

    def detect(self, rgb: np.ndarray) -> list[Box]:
        height, width = rgb.shape[:2]
        if max(height, width) <= self.tile:
            return self.inner.detect(rgb)
        found: list[Box] = []
        for top in tile_origins(height, self.tile, self.overlap):
            for left in tile_origins(width, self.tile, self.overlap):
                window = np.ascontiguousarray(rgb[top:top + self.tile, left:left + self.tile])
                found += [box.shifted(left, top) for box in self.inner.detect(window)]
        overview = Resized(self.inner, self.tile / max(height, width))
        found += overview.detect(rgb)
        return merge_boxes(found, priority=[self.inner.name])
