"""MTCNN (the `mtcnn` package: P-, R- and O-net cascade, weights inside the wheel, on TensorFlow).

Slower than YuNet (¼ s to over 1 s per image on one core, growing with the image) but precise, so a natural second vote in
an ensemble. TensorFlow is imported only when an MTCNN detector first runs, and the networks
are loaded once per process. Its C++ logging is kept to errors and oneDNN's reordered float
sums are off, as classify does (repeated here: faces never imports classify); a user's own
settings of these variables win. Worker processes of a local pool run TensorFlow on one
thread each (faces/executors.py), as OpenCV.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from postercensus.faces import models
from postercensus.faces.boxes import LANDMARK_NAMES, Box

DEFAULT_THRESHOLD = 0.9  # O-net's face probability; mtcnn's own default is 0.8
MIN_FACE = 20  # px: mtcnn's default, the smallest face its image pyramid starts from

_lock = threading.Lock()
_loaded: list = []


def _network():
    """The process's MTCNN, loaded on first use (imports TensorFlow)."""
    with _lock:
        if not _loaded:
            models.require_mtcnn()
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
            from mtcnn import MTCNN

            _loaded.append(MTCNN(stages="face_and_landmarks_detection"))
        return _loaded[0]


class MtcnnDetector:
    """MTCNN on the whole image; boxes carry its five landmarks. `threshold`: O-net's probability cut (0–1)."""

    name = "mtcnn"

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def detect(self, rgb: np.ndarray) -> list[Box]:
        height, width = rgb.shape[:2]
        found = _network().detect_faces(rgb, threshold_onet=self.threshold, min_face_size=MIN_FACE)
        boxes = []
        for face in found:
            x, y, w, h = (int(v) for v in face["box"])
            points = tuple((float(face["keypoints"][name][0]), float(face["keypoints"][name][1])) for name in LANDMARK_NAMES)
            boxes.append(Box(x, y, x + w, y + h, float(face["confidence"]), (self.name,), points).clipped(width, height))
        return sorted(boxes, key=lambda b: (b.top, b.left))
