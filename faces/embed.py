"""The 128-d dlib face descriptor (ResNet trained on face identity, shipped in face_recognition_models).

Used to find the same depicted face across posters (re-used artwork, series) and as a generic
face feature; distances under about 0.6 mean "same face" for photographs (dlib's guidance).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from faces import models


@lru_cache(maxsize=None)
def _descriptor_model():
    import dlib

    return dlib.face_recognition_model_v1(str(models.dlib_model(models.DESCRIPTOR_FILE)))


def face_descriptor(rgb: np.ndarray, shape) -> np.ndarray:
    """128 floats for the face whose landmarks are `shape` (dlib's 5-point shape is its own input)."""
    return np.array(_descriptor_model().compute_face_descriptor(rgb, shape), dtype=np.float32)


def face_descriptors(rgb: np.ndarray, shapes: list) -> list[np.ndarray]:
    """`face_descriptor` for every shape of one image in one call (dlib runs them as one batch)."""
    import dlib

    if not shapes:
        return []
    batch = dlib.full_object_detections()
    for shape in shapes:
        batch.append(shape)
    return [np.array(vector, dtype=np.float32) for vector in _descriptor_model().compute_face_descriptor(rgb, batch)]
