"""The 128-d dlib face descriptor (ResNet trained on face identity, shipped in face_recognition_models).

Used to find the same depicted face across posters (re-used artwork, series) and as a generic
face feature; distances under about 0.6 mean "same face" for photographs (dlib's guidance).

dlib cuts each face's 150 px chip from its 5-point shape, as its own `compute_face_descriptor`
does; the network then runs in NumPy (faces/descriptor_net.py) on dlib's weights, about five
times faster than this dlib build (no BLAS) and the same numbers to float32 rounding.
`dlib_face_descriptors` keeps dlib's own call, the reference the NumPy network is tested against.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from postercensus.faces import models
from postercensus.faces.descriptor_net import CHIP_PADDING, CHIP_SIZE, DescriptorNet, descriptor_net

BATCH = 8  # faces per network call


def _network() -> DescriptorNet:
    return descriptor_net(models.dlib_model(models.DESCRIPTOR_FILE))


def face_chips(rgb: np.ndarray, shapes: list) -> np.ndarray:
    """(n, 150, 150, 3) uint8: the chips dlib's descriptor reads, cut by dlib from the 5-point shapes."""
    import dlib

    batch = dlib.full_object_detections()
    for shape in shapes:
        batch.append(shape)
    return np.stack(dlib.get_face_chips(rgb, batch, size=CHIP_SIZE, padding=CHIP_PADDING))


def face_descriptors(rgb: np.ndarray, shapes: list) -> list[np.ndarray]:
    """128 floats for each face whose dlib 5-point shape is in `shapes`, `BATCH` faces per network call.

    The network's im2col buffers grow with the faces in a call (about 3 MB per face at the first
    layer) while the time per face does not, so a crowd scene is cut into batches to keep each
    worker's memory flat.
    """
    network = _network()
    return [vector for start in range(0, len(shapes), BATCH)
            for vector in network(face_chips(rgb, shapes[start:start + BATCH]))]


@lru_cache(maxsize=None)
def _dlib_model():
    import dlib

    return dlib.face_recognition_model_v1(str(models.dlib_model(models.DESCRIPTOR_FILE)))


def dlib_face_descriptors(rgb: np.ndarray, shapes: list) -> list[np.ndarray]:
    """dlib's own `compute_face_descriptor` for the same shapes (the reference; about 130 ms per face here)."""
    import dlib

    if not shapes:
        return []
    batch = dlib.full_object_detections()
    for shape in shapes:
        batch.append(shape)
    return [np.array(vector, dtype=np.float32) for vector in _dlib_model().compute_face_descriptor(rgb, batch)]
