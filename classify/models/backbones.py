"""Feature extractors behind one interface: `features(samples) -> (n, d)` floats.

`dlib` (the default, offline) is dlib's 128-d face ResNet descriptor, already computed by the
face stage for every catalogue face, so predicting costs no image work at all. `vggface-vgg16`
and `vggface-resnet50` are the seed study's VGGFace networks, rebuilt in Keras 3 and loaded from
rcmalli's published weights when the user has them (they cannot ship here).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from postercensus.classify.models.facesamples import FaceSample
from postercensus.catalog.stage import Progress
from postercensus.classify.models.progress import ignore

BACKBONE_NAMES = ("dlib", "vggface-vgg16", "vggface-resnet50")
VGGFACE_INPUT = 224
_BATCH = 32


class Backbone(Protocol):
    name: str

    def describe(self) -> dict[str, Any]:
        """What a model card records to say exactly which features the head was trained on."""
        ...

    def features(self, samples: Sequence[FaceSample], advance: Progress = ignore) -> np.ndarray:
        """(n, d) features; `advance` is called with the number of faces done as they are done."""
        ...


class DlibBackbone:
    name = "dlib"

    def describe(self) -> dict[str, Any]:
        from postercensus.faces.models import model_versions

        return {"name": self.name, "dimensions": 128, "versions": model_versions()}

    def features(self, samples: Sequence[FaceSample], advance: Progress = ignore) -> np.ndarray:
        if not samples:
            return np.zeros((0, 128), dtype=np.float32)
        features = np.stack([sample.descriptor for sample in samples]).astype(np.float32)
        advance(len(samples))  # already computed by the face stage: done at once
        return features


@dataclass
class VggFaceBackbone:
    """A VGGFace network without its top, average-pooled; `weights` is rcmalli's notop .h5 file."""

    architecture: str  # "vgg16" or "resnet50"
    weights: Path
    weights_sha256: str
    _network: Any = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return f"vggface-{self.architecture}"

    @property
    def network(self):
        """The Keras model, built and loaded on first use (seconds, and a few hundred MB)."""
        if self._network is None:
            from postercensus.classify.models.h5weights import load_weights_by_name
            from postercensus.classify.models.vggface import build_vggface

            self._network = build_vggface(self.architecture)
            load_weights_by_name(self._network, self.weights)
        return self._network

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "architecture": self.architecture,
            "weights_file": self.weights.name,
            "weights_sha256": self.weights_sha256,
            "dimensions": int(self.network.output_shape[-1]),
        }

    def pixels(self, samples: Sequence[FaceSample]) -> np.ndarray:
        """The network's input for these faces: aligned crops at 224 px, VGGFace-preprocessed."""
        from postercensus.classify.models.vggface import preprocess

        crops = np.stack([sample.crop_rgb(VGGFACE_INPUT) for sample in samples])
        return preprocess(crops, self.architecture)

    def run(self, model, samples: Sequence[FaceSample], advance: Progress = ignore) -> np.ndarray:
        """`model` (this network, or it with a head) over the faces' pixels, a batch at a time so
        memory holds one batch of 224 px crops, never the whole set; `advance` after each batch."""
        parts = []
        for start in range(0, len(samples), _BATCH):
            batch = samples[start:start + _BATCH]
            parts.append(model.predict(self.pixels(batch), verbose=0))
            advance(len(batch))
        return np.concatenate(parts) if parts else np.zeros((0, int(model.output_shape[-1])), np.float32)

    def features(self, samples: Sequence[FaceSample], advance: Progress = ignore) -> np.ndarray:
        return self.run(self.network, samples, advance).astype(np.float32)


def make_backbone(name: str, weights: Path | None = None, search_dirs: Sequence[Path] = (),
                  expected_sha256: str | None = None) -> Backbone:
    """The backbone called `name`; VGGFace weights are located, and checked against a model's hash."""
    if name == "dlib":
        return DlibBackbone()
    if name not in BACKBONE_NAMES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONE_NAMES)}")
    from postercensus.classify.models.h5weights import check_sha256, locate_weights, sha256_of

    architecture = name.removeprefix("vggface-")
    path = locate_weights(architecture, weights, list(search_dirs))
    check_sha256(path, expected_sha256)
    return VggFaceBackbone(architecture, path, expected_sha256 or sha256_of(path))
