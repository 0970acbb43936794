"""One image's bytes → its faces as plain data: the unit of work a process or Dask worker runs.

Workers receive bytes and settings and return `ImageFaces` (numbers, lists, JPEG bytes), never
catalogue handles, so the same function runs in a local process pool or on a remote Dask
worker, and only the client writes the catalogue and the crop files.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image

from faces.align import align_face, shape_of, shape_points
from faces.boxes import Box
from faces.detectors import Detector
from faces.embed import face_descriptor
from faces.imageload import BadImage, load_rgb
from faces.models import ModelMissing
from faces.settings import FaceSettings, build_detector

CROP_QUALITY = 92


@dataclass
class FaceRecord:
    box: Box
    landmarks5: list[list[float]]
    landmarks68: list[list[float]]
    embedding: list[float]
    crop_jpeg: bytes


@dataclass
class ImageFaces:
    """The result for one image: its upright size and faces, or the reason it could not be read."""

    width: int = 0
    height: int = 0
    faces: list[FaceRecord] = field(default_factory=list)
    error: str | None = None


@lru_cache(maxsize=8)
def _detector_for(settings: FaceSettings) -> Detector:
    """The detector for these settings, built once per process.

    OpenCV is held to one thread: parallelism comes from worker processes, and OpenCV's own
    threads would oversubscribe the cores they share (and make one worker look like two).
    """
    import cv2

    cv2.setNumThreads(1)
    return build_detector(settings)


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=CROP_QUALITY)
    return buffer.getvalue()


def describe_face(rgb: np.ndarray, box: Box, settings: FaceSettings) -> FaceRecord:
    """Landmarks, aligned crop (68-point eyes, as the seed) and descriptor (5-point, as dlib's ResNet expects)."""
    shape5 = shape_of(rgb, box, 5)
    points68 = shape_points(shape_of(rgb, box, 68))
    crop = align_face(rgb, points68, settings.aligned_size)
    return FaceRecord(
        box=box,
        landmarks5=shape_points(shape5).round(1).tolist(),
        landmarks68=points68.round(1).tolist(),
        embedding=[round(float(v), 6) for v in face_descriptor(rgb, shape5)],
        crop_jpeg=_jpeg(crop),
    )


def process_image(data: bytes, settings: FaceSettings, describe: bool = True) -> ImageFaces:
    """Detect (and unless `describe` is False, describe) every face in one image.

    A bad image returns its error instead of raising, so one corrupt scan never stops a run.
    Without `describe` only boxes come back (`faces scan`, detector benchmarks).
    """
    try:
        rgb = load_rgb(data, settings.max_pixels)
    except BadImage as error:
        return ImageFaces(error=str(error))
    height, width = rgb.shape[:2]
    try:
        boxes = _detector_for(settings).detect(rgb)
        boxes = [box for box in boxes if box.width > 1 and box.height > 1]
        if describe:
            faces = [describe_face(rgb, box, settings) for box in boxes]
        else:
            faces = [FaceRecord(box, [], [], [], b"") for box in boxes]
    except ModelMissing:
        raise  # not this image's fault: stop the run instead of failing every image
    except (RuntimeError, ValueError, MemoryError) as error:  # dlib/OpenCV failures on odd inputs
        return ImageFaces(width, height, error=f"face detection failed: {error}")
    return ImageFaces(width, height, faces)
