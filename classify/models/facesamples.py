"""Faces as a classifier sees them: the dlib descriptor and the aligned 224 px crop.

Both come from the face stage's own code, so a face from a labelled folder and a face from the
catalogue are described identically (same landmarks, same alignment, same JPEG crop): a model
trained on folders predicts on catalogue faces without a domain gap of our own making.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from postercensus.faces.boxes import Box
from postercensus.faces.executors import FaceExecutor
from postercensus.faces.imageload import BadImage, load_rgb
from postercensus.faces.pipeline import FaceRecord, ImageFaces, describe_face, face_below_score_cut
from postercensus.faces.settings import FaceSettings

# How labelled folders were described before faces were found as the face stage finds them: HOG
# at one upsampling missed a third of painted crops and a seventh of NK poster crops (taken
# whole, misaligned). Kept only for the benchmarks that measure that difference.
HOG_FOLDER_SETTINGS = FaceSettings(detector="hog", upsample=1, threshold=0.0)
WHOLE_IMAGE = "whole image"


def stage_face_settings(detector: str | None = None) -> FaceSettings:
    """The face stage's default settings, optionally with another detector.

    Training and evaluation that find faces this way describe a labelled crop exactly as the
    face stage describes a catalogue face (same detector, same landmarks, same alignment), so a
    model never learns one framing and predicts on another. It follows `FaceSettings()`: when
    the stage's default changes, so does this.
    """
    defaults = FaceSettings()
    return defaults if detector is None else replace(defaults, detector=detector)


def no_face_reason(settings: FaceSettings) -> str:
    """Why a sample stands for its whole image: the detector(s) that found nothing in it, at any score."""
    return f"no face found by {'+'.join(settings.detectors_used())} at any score; the whole image was described"


@dataclass
class FaceSample:
    """One face: `descriptor` (128 floats) and its aligned crop, as JPEG bytes or a file to read.

    `image_sha256` names the image file the face came from, so a model can record which images
    trained it and an evaluation can tell which of its faces the model has already seen.
    """

    descriptor: np.ndarray
    crop_jpeg: bytes | None = None
    crop_path: Path | None = None
    detected: bool = True  # False: no face was found and the whole image stands for it
    below_score_cut: bool = False  # True: found only below the detector's score cut (a crop known to hold a face)
    image_sha256: str | None = None
    fallback_reason: str | None = None  # why the whole image was described (None when a face was found)
    aligned_by: str | None = None  # the landmarks that aligned the crop (faces.pipeline.AlignedBy)

    def crop_bytes(self) -> bytes:
        if self.crop_jpeg is None:
            if self.crop_path is None:
                raise ValueError("this face has no crop")
            self.crop_jpeg = self.crop_path.read_bytes()
        return self.crop_jpeg

    def crop_rgb(self, size: int | None = None) -> np.ndarray:
        """The aligned crop as RGB uint8, resized to size×size when given."""
        with Image.open(io.BytesIO(self.crop_bytes())) as image:
            image = image.convert("RGB")
            if size is not None and image.size != (size, size):
                image = image.resize((size, size), Image.BILINEAR)
            return np.asarray(image)


def face_sample(face: FaceRecord, image_sha256: str | None = None) -> FaceSample:
    """A described face as a classifier sees it: its stored descriptor and aligned JPEG crop, the
    very values `classify predict` reads back from the catalogue for a face the stage stored."""
    return FaceSample(np.asarray(face.embedding, dtype=np.float32), crop_jpeg=face.crop_jpeg,
                      image_sha256=image_sha256, aligned_by=face.aligned_by)


def sample_from_result(data: bytes, result: ImageFaces, settings: FaceSettings | None = None) -> FaceSample:
    """The face of an image known to hold one (a labelled face crop): the largest face the
    detector found, else its best box below its score cut (`face_below_score_cut`), else the
    whole image described as one face (the reason in `fallback_reason`); BadImage if unreadable.

    Only where the stage's own detection found nothing is the image searched again, so a crop
    the stage describes is described exactly as the stage describes it.
    """
    settings = settings or stage_face_settings()
    if result.error:
        raise BadImage(result.error)
    digest = hashlib.sha256(data).hexdigest()
    if result.faces:
        return face_sample(max(result.faces, key=lambda f: f.box.width * f.box.height), digest)
    rgb = load_rgb(data, settings.max_pixels)
    below = face_below_score_cut(rgb, settings)
    if below is not None:
        return replace(face_sample(below, digest), below_score_cut=True)
    height, width = rgb.shape[:2]
    face = describe_face(rgb, Box(0, 0, width, height, 0.0, (WHOLE_IMAGE,)), settings)
    return replace(face_sample(face, digest), detected=False, fallback_reason=no_face_reason(settings))


def found_faces_line(samples: list[FaceSample]) -> str:
    """How the faces of labelled crops were found, for the user to read beside the figures: a
    face found below the detector's cut is less sure to be the labelled one, and a crop described
    whole is misaligned (its descriptor sees the crop, not the face)."""
    below = sum(sample.below_score_cut for sample in samples)
    whole = sum(not sample.detected for sample in samples)
    return (f"faces: {len(samples) - below - whole} of {len(samples)} found by the detector, {below} only below its "
            f"score cut (best box on a crop known to hold a face), {whole} described whole (no face at any score)")


def samples_from_files(
    paths: Iterable[Path],
    executor: FaceExecutor,
    on_error: Callable[[Path, str], None],
    settings: FaceSettings | None = None,
) -> Iterator[tuple[Path, FaceSample]]:
    """(path, sample) for every readable image, in completion order; unreadable ones go to `on_error`.
    Faces are found with `settings`, by default as the face stage finds them (`stage_face_settings`)."""
    settings = settings or stage_face_settings()
    data_of: dict[Path, bytes] = {}  # bytes of the images in flight, for the whole-image fallback

    def jobs() -> Iterator[tuple[Path, bytes]]:
        for path in paths:
            try:
                data_of[path] = path.read_bytes()
            except OSError as error:
                on_error(path, f"cannot read: {error.strerror or error}")
                continue
            yield path, data_of[path]

    for path, result in executor.run(jobs(), settings):
        data = data_of.pop(path)
        try:
            yield path, sample_from_result(data, result, settings)
        except BadImage as error:
            on_error(path, str(error))
