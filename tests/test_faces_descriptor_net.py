"""The descriptor network in NumPy gives dlib's own descriptors, to float32 rounding, on real faces.

Real faces: the paintings set's faces as the default detector finds them (drawn, painted, small
and large, several per image, one network call per image), and NK poster faces pasted into a
generated poster, tilted. The reference is dlib's `compute_face_descriptor` on the same image
and 5-point shapes.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from postercensus.faces import models
from postercensus.faces.align import shape_of
from postercensus.faces.descriptor_net import DescriptorNet
from postercensus.faces.detectors import HogDetector
from postercensus.faces.embed import dlib_face_descriptors, face_chips, face_descriptors
from postercensus.faces.executors import BLAS_THREADS_VARIABLE, ProcessPoolFaceExecutor
from postercensus.faces.imageload import load_rgb
from postercensus.faces.pipeline import _detector_for, process_image
from postercensus.faces.settings import FaceSettings
from tests.support.posters import small_poster

TOLERANCE = 1e-5  # float32 sums in another order; dlib's "same face" distance is 0.6
PAINTINGS = 12


def _shapes(rgb: np.ndarray, boxes) -> list:
    return [shape_of(rgb, box, 5) for box in boxes if box.width > 1 and box.height > 1]


@pytest.fixture(scope="module")
def painting_faces(shared_data: Path) -> list[tuple[np.ndarray, list]]:
    """(rgb, dlib 5-point shapes) of evenly spaced paintings, faces found by the default detector."""
    images = sorted((shared_data / "painting-faces" / "images").iterdir())
    detector = _detector_for(FaceSettings())
    found = []
    for path in images[:: len(images) // PAINTINGS][:PAINTINGS]:
        rgb = load_rgb(path.read_bytes())
        found.append((rgb, _shapes(rgb, detector.detect(rgb))))
    assert sum(len(shapes) for _, shapes in found) >= PAINTINGS
    assert any(len(shapes) > 1 for _, shapes in found), "want an image with several faces (one batched call)"
    return found


def test_numpy_network_gives_dlibs_descriptors_on_paintings(painting_faces):
    for rgb, shapes in painting_faces:
        ours, dlibs = np.array(face_descriptors(rgb, shapes)), np.array(dlib_face_descriptors(rgb, shapes))
        assert ours.shape == dlibs.shape == (len(shapes), 128) or (ours.size == dlibs.size == 0)
        if shapes:
            assert ours.dtype == np.float32
            assert np.abs(ours - dlibs).max() < TOLERANCE


@pytest.mark.parametrize("tilt", [0, 12])
def test_numpy_network_gives_dlibs_descriptors_on_pasted_nk_faces(shared_data: Path, tilt: int):
    image = small_poster(shared_data, 1).image.rotate(tilt, resample=Image.BICUBIC, expand=True, fillcolor=(200, 180, 150))
    rgb = np.ascontiguousarray(np.asarray(image))
    shapes = _shapes(rgb, HogDetector(1).detect(rgb))
    assert len(shapes) == 2
    assert np.abs(np.array(face_descriptors(rgb, shapes)) - np.array(dlib_face_descriptors(rgb, shapes))).max() < TOLERANCE


def test_a_face_gets_the_same_descriptor_alone_or_in_a_batch(painting_faces):
    rgb, shapes = max(painting_faces, key=lambda item: len(item[1]))
    batched = face_descriptors(rgb, shapes)
    for shape, vector in zip(shapes, batched):
        assert np.abs(face_descriptors(rgb, [shape])[0] - vector).max() < TOLERANCE


def test_the_pipeline_stores_dlibs_descriptors(shared_data: Path):
    data = small_poster(shared_data, 2).jpeg()
    result = process_image(data, FaceSettings())
    assert result.error is None and len(result.faces) == 2
    rgb = load_rgb(data)
    shapes = _shapes(rgb, _detector_for(FaceSettings()).detect(rgb))  # the detector's own boxes, in order
    stored = np.array([face.embedding for face in result.faces])
    assert np.abs(stored - np.array(dlib_face_descriptors(rgb, shapes))).max() < TOLERANCE


def test_chips_are_150_px_rgb(painting_faces):
    rgb, shapes = next((rgb, shapes) for rgb, shapes in painting_faces if shapes)
    chips = face_chips(rgb, shapes)
    assert chips.shape == (len(shapes), 150, 150, 3) and chips.dtype == np.uint8


def test_another_dlib_model_file_is_refused():
    with pytest.raises(ValueError, match="dlib descriptor file"):
        DescriptorNet(models.dlib_model(models.LANDMARKS_5_FILE))


def test_pool_workers_get_one_blas_thread_and_the_setting_is_restored(monkeypatch):
    monkeypatch.delenv(BLAS_THREADS_VARIABLE, raising=False)
    executor = ProcessPoolFaceExecutor(1)
    try:
        assert os.environ[BLAS_THREADS_VARIABLE] == "1"
    finally:
        executor.close()
    assert BLAS_THREADS_VARIABLE not in os.environ
    monkeypatch.setenv(BLAS_THREADS_VARIABLE, "3")
    executor = ProcessPoolFaceExecutor(1)
    executor.close()
    assert os.environ[BLAS_THREADS_VARIABLE] == "3"
