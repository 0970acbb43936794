"""Write weights in the Keras 2 HDF5 layout of rcmalli's VGGFace files, so tests can make their own.

The real files are 60–95 MB downloads the tests must never fetch. Keras 2 stored: root
attribute `layer_names` (bytes), one group per layer (a `/` in the name nests groups) with
attribute `weight_names` (bytes, `<layer>/<variable>:0`), each dataset at that relative path;
full-model files put all of it under `model_weights`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from postercensus.classify.models.h5weights import rcmalli_layer_name

LegacyLayers = Mapping[str, Sequence[tuple[str, np.ndarray]]]
"""rcmalli layer name → [(variable name, array)], in file order."""


def model_layer_weights(model) -> dict[str, list[tuple[str, np.ndarray]]]:
    """`LegacyLayers` for every layer of `model`, weightless ones included (as Keras 2 wrote them)."""
    return {
        rcmalli_layer_name(layer.name): [(variable.name, np.asarray(variable)) for variable in layer.weights]
        for layer in model.layers
    }


def write_legacy_layers(path: Path, layers: LegacyLayers, *, model_weights_group: bool = False) -> Path:
    """Write `layers` Keras 2 style; `model_weights_group` nests them as a full-model file does."""
    with h5py.File(path, "w") as h5:
        root = h5.create_group("model_weights") if model_weights_group else h5
        root.attrs["layer_names"] = [name.encode("utf8") for name in layers]
        for name, weights in layers.items():
            group = root.require_group(name)
            weight_names = [f"{name}/{variable}:0" for variable, _ in weights]
            group.attrs["weight_names"] = [w.encode("utf8") for w in weight_names]
            for weight_name, (_, array) in zip(weight_names, weights):
                group.create_dataset(weight_name, data=array)
    return path


def save_legacy_weights(model, path: Path, *, extra_layers: LegacyLayers | None = None,
                        model_weights_group: bool = False) -> Path:
    """Save `model`'s weights as rcmalli's files hold them, then `extra_layers` (e.g. fc6…fc8 of a full model)."""
    layers = model_layer_weights(model)
    layers.update(extra_layers or {})
    return write_legacy_layers(path, layers, model_weights_group=model_weights_group)
