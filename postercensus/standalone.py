"""One image or one text, without a home: `pc.find_faces`, `pc.perceived_gender`, `pc.mentions`.

Each runs the stage's own code with its default settings (the face stage's `FaceSettings()`,
the shipped classifier calibrated as `classify predict` calibrates it, `TextSettings()`), so a
notebook's answer for one poster is the answer a run over the catalogue stores for it.

Models are loaded once per process and kept: the face detectors and dlib's networks by the face
stage's own caches, the classifier and the spaCy pipeline here. Loading TensorFlow or spaCy takes
seconds, far longer than one image or one sentence, and a notebook calls these in loops.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd
from PIL import Image

from postercensus.classify.models import modelfolder
from postercensus.classify.models.classifier import Classifier, load_classifier
from postercensus.classify.train.domains import DEFAULT_DOMAIN, check_domain, prediction_version
from postercensus.classify.models.facesamples import face_sample
from postercensus.classify.train.metrics import decide
from postercensus.classify.predictstage import calibrated_probabilities
from postercensus.faces.boxes import Point
from postercensus.faces.imageload import BadImage, upright_rgb
from postercensus.faces.pipeline import FaceRecord, ImageFaces, process_image, process_rgb
from postercensus.faces.settings import DEFAULT_SETTINGS
from postercensus.text.extract import Mention
from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings

__all__ = ["Face", "Mention", "find_faces", "mentions", "perceived_gender"]

ImageInput = Union[str, os.PathLike, Image.Image, np.ndarray]
BOX_COLUMNS = ["left", "top", "right", "bottom"]


@dataclass(frozen=True)
class Face:
    """One face found in an image, as the face stage stores it.

    `box` is (left, top, right, bottom) in pixels of the upright image, the detector's box enlarged
    by the default `box_scale`; `score` the detector's own confidence; `landmarks` the detector's
    five points (eyes, nose tip, mouth corners; None for detectors without them); `detectors` the
    detector(s) that found the face.
    """

    box: tuple[int, int, int, int]
    score: float
    landmarks: tuple[Point, ...] | None
    detectors: tuple[str, ...]


def _described(image: ImageInput, describe: bool) -> ImageFaces:
    """The face stage's result for one image given as a path, a PIL image or an RGB array.

    A path goes through the same bytes → pixels step as `faces detect` and `faces scan`; a picture
    in memory is brought upright and to 8-bit RGB the same way. An image the stage would record
    as failed raises here: a notebook asking about one image wants the reason, not an empty list.
    """
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        result = process_image(path.read_bytes(), DEFAULT_SETTINGS, describe)
        source = str(path)
    elif isinstance(image, Image.Image):
        result = process_rgb(upright_rgb(image), DEFAULT_SETTINGS, describe)
        source = "the PIL image"
    elif isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise TypeError(f"expected an RGB array of shape (height, width, 3) and dtype uint8, "
                            f"got shape {image.shape} and dtype {image.dtype}")
        result = process_rgb(np.ascontiguousarray(image), DEFAULT_SETTINGS, describe)
        source = "the array"
    else:
        raise TypeError(f"expected a path, a PIL image or an RGB array (height × width × 3, uint8), "
                        f"got {type(image).__name__}")
    if result.error:
        raise BadImage(f"{source}: {result.error}")
    return result


def _face(record: FaceRecord) -> Face:
    box = record.box
    return Face((box.left, box.top, box.right, box.bottom), float(box.score), box.landmarks, box.detectors)


def find_faces(image: ImageInput) -> list[Face]:
    """The faces the face stage's default detector finds in `image`, in the order it stores them.

    `image` is a path (str or Path), a PIL image or an RGB array (H×W×3 uint8). Boxes only: no
    descriptor is computed, as in `faces scan`. Raises TypeError for any other input, OSError for
    a file that cannot be read and BadImage (a ValueError naming the image) for one that is not a
    picture.
    """
    return [_face(record) for record in _described(image, describe=False).faces]


@lru_cache(maxsize=4)
def _loaded(folder: Path, version: str) -> Classifier:
    """The classifier in `folder` at `version`: keyed by version, so a model retrained in the same
    folder is loaded anew instead of answered by the old one still in memory."""
    return load_classifier(folder)


def _classifier(model: str | Path) -> Classifier:
    folder = modelfolder.resolve(model)
    return _loaded(folder, modelfolder.model_version(folder))


def perceived_gender(image: ImageInput, model: str | Path = "default", domain: str | None = None) -> pd.DataFrame:
    """One row per face of `image` (as `find_faces` finds them) with the perceived gender the model gives it.

    The probabilities are those `classify predict` stores for the face: the model's, calibrated
    with the temperature and shift of `domain` (posters, paintings, scenes or photos; default
    posters) when the model card calibrates per domain. Columns: face (0-based, in `find_faces` order), left, top,
    right, bottom, score, label (the top label), probability (its probability), margin (top
    minus second), one p_<label> column per label of the model (they sum to 1), model_id and
    model_version (the version `classify predict` stores, domain included). Perceived gender is
    an annotation of a depiction, not a person's identity.

    `model` is `default` (the shipped model) or a model folder. Raises what `find_faces` raises,
    ModelFolderError for a folder that holds no model and ValueError for an unknown domain.
    """
    domain = DEFAULT_DOMAIN if domain is None else check_domain(domain)
    records = _described(image, describe=True).faces
    classifier = _classifier(model)
    probabilities = calibrated_probabilities(classifier, [face_sample(record) for record in records], domain)
    ordered = np.sort(probabilities, axis=1)
    boxes = [(record.box.left, record.box.top, record.box.right, record.box.bottom) for record in records]
    frame = pd.DataFrame(boxes, columns=BOX_COLUMNS, dtype="int64")
    frame.insert(0, "face", range(len(records)))
    frame["score"] = [float(record.box.score) for record in records]
    frame["label"] = decide(probabilities, classifier.labels)
    frame["probability"] = ordered[:, -1]
    frame["margin"] = ordered[:, -1] - ordered[:, -2]
    for k, label in enumerate(classifier.labels):
        frame[f"p_{label}"] = probabilities[:, k]
    frame["model_id"] = classifier.model_id
    frame["model_version"] = prediction_version(classifier.card, classifier.version, domain)
    return frame


@lru_cache(maxsize=1)
def _text_pipeline() -> TextPipeline:
    """The default text pipeline (spaCy model, lexicon, categories, boilerplate), loaded once."""
    return TextPipeline(TextSettings())


def mentions(text: str) -> list[Mention]:
    """Every gendered mention in `text`, with the text stage's default settings, in text order.

    Each Mention has gender, trigger, role, role_lemma, category, start and end (character offsets
    of the trigger in the cleaned text: catalogue boilerplate removed), sentence and in_title
    (inside a quoted title of a work; `text phrases` leaves these out unless --include-titles).
    A text that does not look English, or is truncated, gives a warning as the stage records one.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    result = next(_text_pipeline().process([text]))
    if result.warning:
        warnings.warn(result.warning, stacklevel=2)
    return result.mentions
