"""A trained classifier on disk: `model.json` (its card) beside the Keras head and the baseline.

MODEL_DIR/
  model.json             labels, backbone (and its weights' SHA-256), training data, held-out evaluation
  head.keras             the head on the backbone's features
  fine_tuned.weights.h5  only after --fine-tune: backbone + head weights together
  fisherfaces.npz        the PCA+LDA baseline, evaluated beside the head
  cnn*.weights.h5        only in an ensemble: the depicted-face CNNs whose mean probabilities are
  cnn*.json              averaged with the head's (their architecture, labels, test-time flips)
  base_faces.npz         only in a model others transfer from: the dlib descriptors, labels, domains
                         and groups of its training faces (`classify train` adds a researcher's faces)
  evaluation.html        the held-out evaluation report
  training_sha256.txt    SHA-256 of every image the model was fitted or early-stopped on, one per
                         line, sorted: `classify evaluate` counts the faces it has already seen

The version is a hash of those files' bytes (the report aside), so predictions name the exact
model that made them.

The image hashes sit in their own file rather than in model.json: the card is read at every load
and stored in the catalogue once per model version, and ten thousand hashes would multiply its
size for a list only `evaluate` reads.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.stage import StageError
from postercensus.classify.models.modelcard import ModelCard

CARD_FILE = "model.json"
HEAD_FILE = "head.keras"
FINE_TUNED_FILE = "fine_tuned.weights.h5"
FISHERFACES_FILE = "fisherfaces.npz"
EVALUATION_PAGE = "evaluation.html"
TRAINING_IMAGES_FILE = "training_sha256.txt"
CNN_STEM = "cnn"  # a CNN's files: <stem>.weights.h5 and <stem>.json (an ensemble's members: cnn-1, cnn-2, …)
CNN_WEIGHTS_SUFFIX = ".weights.h5"
CNN_SETTINGS_SUFFIX = ".json"
BASE_FACES_FILE = "base_faces.npz"
DEFAULT_MODEL = "default"
_VERSIONED_FILES = (CARD_FILE, HEAD_FILE, FINE_TUNED_FILE, FISHERFACES_FILE, TRAINING_IMAGES_FILE, BASE_FACES_FILE)


class ModelFolderError(StageError, ValueError):
    """A model folder is missing or incomplete; the message says what to do."""


def default_model_folder() -> Path:
    """The perceived-gender head shipped inside the package (classify/default_model/)."""
    return Path(str(files("postercensus.classify") / "default_model"))


def resolve(model: str | Path) -> Path:
    """`default` → the shipped model; anything else → that folder, which must hold a model.json."""
    folder = default_model_folder() if str(model) == DEFAULT_MODEL else Path(model)
    if not (folder / CARD_FILE).is_file():
        if str(model) == DEFAULT_MODEL:
            raise ModelFolderError(f"the default model is missing from this install ({folder}); reinstall postercensus")
        raise ModelFolderError(
            f"{folder} is not a model folder (no {CARD_FILE}); train one with "
            "`postercensus classify train FOLDER --out MODEL_DIR` or use `default`"
        )
    if not (folder / HEAD_FILE).is_file():
        raise ModelFolderError(f"{folder} lacks {HEAD_FILE}; the model folder is incomplete: retrain it")
    return folder


def model_version(folder: Path) -> str:
    """16 hex digits over the model's files: changes whenever the model does."""
    digest = hashlib.sha256()
    for name in (*_VERSIONED_FILES, *sorted(path.name for path in cnn_files(folder))):
        path = folder / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def cnn_files(folder: Path) -> list[Path]:
    """The CNN weight and settings files in a model folder (an ensemble's members)."""
    return [path for path in folder.glob(f"{CNN_STEM}*") if path.is_file()
            and path.name.endswith((CNN_WEIGHTS_SUFFIX, CNN_SETTINGS_SUFFIX))]


def read_card(folder: Path) -> ModelCard:
    """The folder's card, typed; a card of any earlier format reads (`classify.models.modelcard`)."""
    try:
        return ModelCard.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelFolderError(f"cannot read {folder / CARD_FILE}: {error}") from error


def write_card(folder: Path, card: ModelCard | Mapping[str, Any]) -> None:
    """Save the card as read (key order kept), so an unchanged card keeps the model's version."""
    write_atomically(folder / CARD_FILE, ModelCard.of(card).dumps().encode("utf-8"))


def write_training_images(folder: Path, hashes: Iterable[str]) -> int:
    """Store the training images' SHA-256 (deduplicated, sorted); returns how many."""
    distinct = sorted(set(hashes))
    write_atomically(folder / TRAINING_IMAGES_FILE, "".join(f"{digest}\n" for digest in distinct).encode("ascii"))
    return len(distinct)


def read_training_images(folder: Path) -> frozenset[str] | None:
    """The SHA-256 of the images that trained this model; None when it did not record them
    (trained before they were kept), which is "unknown", never "none"."""
    path = folder / TRAINING_IMAGES_FILE
    if not path.is_file():
        return None
    try:
        return frozenset(line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as error:
        raise ModelFolderError(f"cannot read {path}: {error}") from error
