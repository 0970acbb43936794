"""Landmarks (dlib's 5- and 68-point predictors) and the eye-based similarity alignment.

The seed study aligned with imutils' FaceAligner (which crashes under NumPy 2): rotate so the
eyes are level, scale so their distance is fixed, and place the left eye at 35 % of a 224 px
square. `align_face` is that transform written with OpenCV, so crops stay comparable with the
seed's while the classifier sees every face in the same frame.

Faces found by YuNet or MTCNN come with the detector's own five points (eye centres, nose tip,
mouth corners), which hold on drawings where dlib's 68-point model drifts. `detector_alignment_matrix`
fits a similarity (least squares, Umeyama) from them to `CANONICAL_POINTS`: the eyes exactly
where the 68-point path puts them, the nose tip and mouth corners where the 68-point path puts
dlib's points 30, 48 and 54 on average (the median over the 195 NK poster faces HOG finds,
mirrored to be symmetric: see `benchmarks/faces_canonical_points.py`). Both paths thus give the
same crop for the same face, up to how far that face's nose and mouth are from the average.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from postercensus.faces import models
from postercensus.faces.boxes import Box

ALIGNED_SIZE = 224
LEFT_EYE_POSITION = (0.35, 0.35)  # where the image-left eye lands, as fractions of the crop
# Where the detector's five points land, as fractions of the crop (faces.boxes.LANDMARK_NAMES order)
CANONICAL_POINTS = np.array([
    LEFT_EYE_POSITION,
    (1 - LEFT_EYE_POSITION[0], LEFT_EYE_POSITION[1]),
    (0.50, 0.51),  # nose tip
    (0.37, 0.68),  # image-left mouth corner
    (0.63, 0.68),  # image-right mouth corner
])


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
    return warp(rgb, alignment_matrix(landmarks, size), size)


def similarity_matrix(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2×3 rotation + uniform scale + shift that maps `source` points closest to `target` (Umeyama 1991)."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred_source, centred_target = source - source_mean, target - target_mean
    covariance = centred_target.T @ centred_source / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1  # a reflection would fit better; a face is never mirrored
    rotation = u @ sign @ vt
    variance = (centred_source ** 2).sum() / len(source)
    scale = float(np.trace(np.diag(singular) @ sign)) / max(variance, 1e-12)
    shift = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, shift[:, None]])


def detector_alignment_matrix(points: np.ndarray, size: int = ALIGNED_SIZE) -> np.ndarray:
    """The similarity putting a detector's five points (LANDMARK_NAMES order) on CANONICAL_POINTS of a size×size crop."""
    return similarity_matrix(np.asarray(points, dtype=np.float64), CANONICAL_POINTS * size)


def warp(rgb: np.ndarray, matrix: np.ndarray, size: int = ALIGNED_SIZE) -> np.ndarray:
    """The size×size crop `matrix` maps the image into (edges repeated where it reaches outside)."""
    import cv2

    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
