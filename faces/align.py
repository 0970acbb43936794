"""Landmarks (dlib's 5- and 68-point predictors) and the eye-based similarity alignment.

The seed study aligned with imutils' FaceAligner (which crashes under NumPy 2): rotate so the
eyes are level, scale so their distance is fixed, and place the left eye at 35 % of a 224 px
square. `align_face` is that transform written with OpenCV, so crops stay comparable with the
seed's while the classifier sees every face in the same frame.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from faces import models
from faces.boxes import Box

ALIGNED_SIZE = 224
LEFT_EYE_POSITION = (0.35, 0.35)  # where the image-left eye lands, as fractions of the crop


@lru_cache(maxsize=None)
def _predictor(file_name: str):
    import dlib

    return dlib.shape_predictor(str(models.dlib_model(file_name)))


def _rectangle(box: Box):
    import dlib

    return dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)


def shape_of(rgb: np.ndarray, box: Box, points: int):
    """dlib's full_object_detection for `box` with the 5- or 68-point predictor."""
    file_name = models.LANDMARKS_5_FILE if points == 5 else models.LANDMARKS_68_FILE
    return _predictor(file_name)(rgb, _rectangle(box))


def shape_points(shape) -> np.ndarray:
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(image-left eye, image-right eye) centres from 68- or 5-point landmarks."""
    if len(landmarks) == 68:
        right_of_subject, left_of_subject = landmarks[36:42], landmarks[42:48]
    elif len(landmarks) == 5:
        left_of_subject, right_of_subject = landmarks[0:2], landmarks[2:4]
    else:
        raise ValueError(f"expected 5 or 68 landmarks, got {len(landmarks)}")
    return right_of_subject.mean(axis=0), left_of_subject.mean(axis=0)


def alignment_matrix(landmarks: np.ndarray, size: int = ALIGNED_SIZE) -> np.ndarray:
    """The 2×3 similarity transform that puts the eyes on the canonical line of a size×size crop."""
    import cv2

    image_left_eye, image_right_eye = eye_centres(landmarks)
    dx, dy = image_right_eye - image_left_eye
    angle = float(np.degrees(np.arctan2(dy, dx)))
    wanted_distance = (1.0 - 2 * LEFT_EYE_POSITION[0]) * size
    scale = wanted_distance / max(float(np.hypot(dx, dy)), 1e-6)
    midpoint = (image_left_eye + image_right_eye) / 2
    matrix = cv2.getRotationMatrix2D((float(midpoint[0]), float(midpoint[1])), angle, scale)
    matrix[0, 2] += size * 0.5 - midpoint[0]
    matrix[1, 2] += size * LEFT_EYE_POSITION[1] - midpoint[1]
    return matrix


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int = ALIGNED_SIZE) -> np.ndarray:
    """The size×size aligned crop (eyes level, at 35 % from the top and sides)."""
    import cv2

    matrix = alignment_matrix(landmarks, size)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
