"""The seed study's face pipeline, reproduced exactly as the baseline every face benchmark compares to.

cv2.imread (BGR) → imutils.resize to 2.5× the width (INTER_AREA, imutils' default) → grayscale →
dlib HOG with upsample 0 → 68-point landmarks → imutils FaceAligner (left eye at 35 %, 224 px),
one image after another in one process. imutils itself crashes under NumPy 2, so its resize and
FaceAligner arithmetic are restated here line for line.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import dlib
import numpy as np

from postercensus.faces import models

SEED_RESIZE = 2.5
SEED_SIZE = 224
SEED_LEFT_EYE = (0.35, 0.35)


@dataclass
class SeedFace:
    left: int
    top: int
    right: int
    bottom: int
    crop: np.ndarray


class SeedPipeline:
    def __init__(self) -> None:
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(models.dlib_model(models.LANDMARKS_68_FILE)))

    def _align(self, image: np.ndarray, gray: np.ndarray, rect) -> np.ndarray:
        shape = self.predictor(gray, rect)
        points = np.array([(p.x, p.y) for p in shape.parts()])
        left_eye, right_eye = points[42:48].mean(axis=0), points[36:42].mean(axis=0)
        dy, dx = right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]
        angle = np.degrees(np.arctan2(dy, dx)) - 180
        desired_right_x = 1.0 - SEED_LEFT_EYE[0]
        dist = np.sqrt(dx ** 2 + dy ** 2)
        scale = (desired_right_x - SEED_LEFT_EYE[0]) * SEED_SIZE / dist
        centre = ((left_eye[0] + right_eye[0]) / 2, (left_eye[1] + right_eye[1]) / 2)
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), float(scale))
        matrix[0, 2] += SEED_SIZE * 0.5 - centre[0]
        matrix[1, 2] += SEED_SIZE * SEED_LEFT_EYE[1] - centre[1]
        return cv2.warpAffine(image, matrix, (SEED_SIZE, SEED_SIZE), flags=cv2.INTER_CUBIC)

    def run(self, path: Path) -> list[SeedFace]:
        image = cv2.imread(str(path))
        if image is None:
            return []
        height, width = image.shape[:2]
        new_width = int(width * SEED_RESIZE)
        image = cv2.resize(image, (new_width, int(height * new_width / float(width))), interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        faces = []
        for rect in self.detector(gray, 0):
            crop = self._align(image, gray, rect)
            faces.append(SeedFace(
                round(rect.left() / SEED_RESIZE), round(rect.top() / SEED_RESIZE),
                round((rect.right() + 1) / SEED_RESIZE), round((rect.bottom() + 1) / SEED_RESIZE), crop,
            ))
        return faces
