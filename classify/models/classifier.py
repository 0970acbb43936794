"""A loaded classifier: backbone + head (or the fine-tuned whole), its card and its version.

Loading checks what the card promises: the label set, and for VGGFace the SHA-256 of the very
weights file the head was trained on, so a head is never silently run on different features.
A model whose card has an `ensemble` entry also holds depicted-face CNNs: their mean probabilities
(from the face's aligned crop) are averaged with the head's, with the CNNs' share on the card.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from postercensus.classify.models import modelfolder
from postercensus.classify.models.backbones import Backbone, VggFaceBackbone, make_backbone
from postercensus.classify.models.cnnbackbone import CnnBackbone
from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.models.fisherfaces import Fisherfaces, pixels_of
from postercensus.classify.models.modelcard import BackboneSpec, ModelCard
from postercensus.catalog.stage import Progress
from postercensus.classify.models.progress import ignore


@dataclass
class Classifier:
    folder: Path
    card: ModelCard
    version: str
    backbone: Backbone
    head: Any  # keras.Model on features
    fine_tuned: Any | None = None  # keras.Model on pixels (VGGFace + --fine-tune)
    fisherfaces: Fisherfaces | None = None
    cnns: list[CnnBackbone] = field(default_factory=list)  # the ensemble's CNNs, when the card has one
    cnn_share: float = 0.0  # their mean's weight in the averaged probabilities

    @property
    def needs_crops(self) -> bool:
        """Whether predicting reads each face's aligned crop (not only its stored descriptor)."""
        return self.backbone.name != "dlib" or self.fine_tuned is not None or bool(self.cnns)

    @property
    def model_id(self) -> str:
        return self.card.name

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.card.label_list)

    def probabilities(self, samples: Sequence[FaceSample], advance: Progress = ignore) -> np.ndarray:
        """(n, labels) softmax probabilities; `advance` counts the faces whose features are done
        (VGGFace takes minutes on a large folder)."""
        if not samples:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        if self.fine_tuned is not None:
            assert isinstance(self.backbone, VggFaceBackbone)
            return self.backbone.run(self.fine_tuned, samples, advance)
        probabilities = self.head.predict(self.backbone.features(samples, advance), batch_size=256, verbose=0)
        if not self.cnns:
            return probabilities
        return ensemble_probabilities(probabilities, [cnn.probabilities(samples) for cnn in self.cnns], self.cnn_share)

    def baseline_labels(self, samples: Sequence[FaceSample]) -> list[str] | None:
        """The Fisherfaces baseline's labels, when the model folder has one."""
        if self.fisherfaces is None:
            return None
        return [self.labels[k] for k in self.fisherfaces.predict(pixels_of(samples))]


def load_classifier(model: str | Path, weights: Path | None = None, search_dirs: Sequence[Path] = ()) -> Classifier:
    """The classifier in a model folder (or `default`); VGGFace weights come from `weights` or the search dirs."""
    import keras

    folder = modelfolder.resolve(model)
    card = modelfolder.read_card(folder)
    spec = card.backbone or BackboneSpec()
    backbone = make_backbone(spec.name or "", weights, search_dirs, spec.weights_sha256)
    head = keras.models.load_model(folder / modelfolder.HEAD_FILE)
    fine_tuned = None
    if card.fine_tuned:
        from postercensus.classify.models.head import HeadSettings, fine_tune_model

        assert isinstance(backbone, VggFaceBackbone)
        fine_tuned = fine_tune_model(backbone.network, head, backbone.architecture, HeadSettings())
        fine_tuned.load_weights(folder / modelfolder.FINE_TUNED_FILE)
    fisher_path = folder / modelfolder.FISHERFACES_FILE
    fisherfaces = Fisherfaces.load(fisher_path) if fisher_path.is_file() else None
    cnns = [CnnBackbone.load(folder, stem) for stem in card.cnn_members]
    return Classifier(folder, card, modelfolder.model_version(folder), backbone, head, fine_tuned, fisherfaces,
                      cnns, card.cnn_share)


def ensemble_probabilities(head: np.ndarray, cnns: Sequence[np.ndarray], cnn_share: float) -> np.ndarray:
    """(1 − share) × the head's probabilities + share × the CNNs' mean: one rule for predicting,
    for the default model's recipe and for the cross-validation that chose the share."""
    return (1 - cnn_share) * head + cnn_share * np.mean(cnns, axis=0)
