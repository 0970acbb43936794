"""One image's bytes → its faces as plain data: the unit of work a process or Dask worker runs.

Workers receive bytes and settings and return `ImageFaces` (numbers, lists, JPEG bytes), never
catalogue handles, so the same function runs in a local process pool or on a remote Dask
worker, and only the client writes the catalogue and the crop files.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from PIL import Image

from postercensus.faces.align import alignment_matrix, detector_alignment_matrix, shape_of, shape_points, warp
from postercensus.faces.boxes import Box
from postercensus.faces.detectors import Detector
from postercensus.faces.embed import face_descriptors
from postercensus.faces.imageload import BadImage, load_rgb
from postercensus.faces.models import ModelMissing
from postercensus.faces.settings import FaceSettings, build_detector

CROP_QUALITY = 92
# A crop known to hold a face: the score cut its fallback search lowers YuNet's and MTCNN's to
# ("any score"; both score a face probability). On painting crops the default cut (0.7) finds
# nothing on 15 %; at this floor every crop has a box, 94 % of those fallback boxes on the hand
# box (benchmarks/classify_crop_faces.py).
CROP_SCORE_FLOOR = 0.01


class AlignedBy:
    """Which landmarks placed a face in its aligned crop (the `faces.aligned_by` column)."""

    DETECTOR5 = "detector5"  # the detector's own five points (YuNet, MTCNN)
    DLIB68 = "dlib68"  # the eye centres of dlib's 68-point shape (every other detector)


@dataclass
class FaceRecord:
    """One described face. `box` is the stored box (the detector's, enlarged by `box_scale`);
    `landmarks5` is dlib's 5-point shape (the descriptor's input, fitted in the detector's own
    box); `landmarks68` is empty when the detector's points aligned the face (never computed then)."""

    box: Box
    landmarks5: list[list[float]]
    landmarks68: list[list[float]]
    embedding: list[float]
    crop_jpeg: bytes
    aligned_by: str | None = None  # AlignedBy; None for boxes only (`describe=False`)


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


def _detected_boxes(rgb: np.ndarray, settings: FaceSettings) -> list[Box]:
    """The detector's boxes for these settings, without the degenerate ones (a pixel wide or
    high) that some detectors return at image edges and no crop can be cut from."""
    return [box for box in _detector_for(settings).detect(rgb) if box.width > 1 and box.height > 1]


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=CROP_QUALITY)
    return buffer.getvalue()


def describe_faces(rgb: np.ndarray, boxes: list[Box], settings: FaceSettings) -> list[FaceRecord]:
    """Landmarks, aligned crop and descriptor for each box of one image.

    The crop is aligned from the detector's five points when the box has them, else from the
    eyes of dlib's 68-point shape (as the seed); the descriptor always comes from dlib's
    5-point shape, the input its ResNet was trained with, and all of an image's faces go to
    the network in one call.
    """
    shapes5 = [shape_of(rgb, box, 5) for box in boxes]
    records = []
    for box, shape5, descriptor in zip(boxes, shapes5, face_descriptors(rgb, shapes5)):
        if box.landmarks is not None:
            points68 = np.empty((0, 2))
            matrix = detector_alignment_matrix(np.array(box.landmarks), settings.aligned_size)
            aligned_by = AlignedBy.DETECTOR5
        else:
            points68 = shape_points(shape_of(rgb, box, 68))
            matrix = alignment_matrix(points68, settings.aligned_size)
            aligned_by = AlignedBy.DLIB68
        records.append(FaceRecord(
            box=box,
            landmarks5=shape_points(shape5).round(1).tolist(),
            landmarks68=points68.round(1).tolist(),
            embedding=[round(float(v), 6) for v in descriptor],
            crop_jpeg=_jpeg(warp(rgb, matrix, settings.aligned_size)),
            aligned_by=aligned_by,
        ))
    return records


def describe_face(rgb: np.ndarray, box: Box, settings: FaceSettings) -> FaceRecord:
    """`describe_faces` for one box."""
    return describe_faces(rgb, [box], settings)[0]


def process_image(data: bytes, settings: FaceSettings, describe: bool = True) -> ImageFaces:
    """Detect (and unless `describe` is False, describe) every face in one image.

    A bad image returns its error instead of raising, so one corrupt scan never stops a run.
    Without `describe` only boxes come back (`faces scan`, detector benchmarks). Landmarks,
    alignment and descriptor work from the detector's own boxes; only the boxes that come back
    are enlarged by `settings.box_scale`, so the scale never changes a descriptor or a crop.
    """
    try:
        rgb = load_rgb(data, settings.max_pixels)
    except BadImage as error:
        return ImageFaces(error=str(error))
    return process_rgb(rgb, settings, describe)


def process_rgb(rgb: np.ndarray, settings: FaceSettings, describe: bool = True) -> ImageFaces:
    """`process_image` for an image already decoded to an upright H×W×3 uint8 array (a picture
    a notebook holds in memory): the same detection, description and box scaling."""
    height, width = rgb.shape[:2]
    try:
        boxes = _detected_boxes(rgb, settings)
        if describe:
            faces = describe_faces(rgb, boxes, settings)
        else:
            faces = [FaceRecord(box, [], [], [], b"") for box in boxes]
        faces = [replace(face, box=face.box.enlarged(settings.box_scale, width, height)) for face in faces]
    except ModelMissing:
        raise  # not this image's fault: stop the run instead of failing every image
    except (RuntimeError, ValueError, MemoryError) as error:  # dlib/OpenCV failures on odd inputs
        return ImageFaces(width, height, error=f"face detection failed: {error}")
    return ImageFaces(width, height, faces)


def _plausibly_the_face(box: Box, width: int, height: int) -> bool:
    """Centre in the crop's central half (both axes) and shorter side at least a fifth of the
    crop's: where a face crop, cut around its face, has it."""
    centre_x, centre_y = box.centre
    central = abs(centre_x / width - 0.5) <= 0.25 and abs(centre_y / height - 0.5) <= 0.25
    return central and min(box.width, box.height) >= 0.2 * min(width, height)


def face_below_score_cut(rgb: np.ndarray, settings: FaceSettings) -> FaceRecord | None:
    """The face on a crop known to hold one where `settings` found none: the detector at
    `CROP_SCORE_FLOOR`, its highest-scoring box among those placed as the crop's face
    (`_plausibly_the_face`), else its highest-scoring box; None when even that finds nothing,
    or when no detector used has a probability score to lower (HOG, Haar, CNN).

    For face crops only (`classify train`, `classify evaluate` on folders): a poster is not
    known to hold a face, so `process_image` never lowers its cut. Preferring a central box
    rests on the crop's being cut around its face: on painting crops it put 94 % of these
    fallback boxes on the hand-drawn box against 88 % for the highest score alone.
    """
    lowered = {field: CROP_SCORE_FLOOR for name, field in (("yunet", "yunet_threshold"), ("mtcnn", "mtcnn_threshold"))
               if name in settings.detectors_used()}
    if not lowered:
        return None
    height, width = rgb.shape[:2]
    floor = replace(settings, **lowered)
    boxes = _detected_boxes(rgb, floor)
    if not boxes:
        return None
    central = [box for box in boxes if _plausibly_the_face(box, width, height)]
    best = max(central or boxes, key=lambda box: box.score)
    face = describe_face(rgb, best, settings)
    return replace(face, box=face.box.enlarged(settings.box_scale, width, height))
