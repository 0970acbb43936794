"""Find rcmalli's VGGFace weight files on disk and load them into Keras 3 models by layer name.

keras-vggface no longer imports under Keras 3, but its published weights are plain Keras 2
HDF5 files: a root attribute `layer_names`, one group per layer whose `weight_names`
attribute lists that layer's datasets in order (full-model files wrap all of it in a
`model_weights` group). Reading that layout with h5py keeps us independent of Keras' own
legacy loaders. Nothing here downloads: a missing file is an error that says where to get it.

Keras 3 forbids `/` in layer names, which rcmalli's ResNet50 uses (`conv1/7x7_s2/bn`), so
Keras-side names spell it `.` (`conv1.7x7_s2.bn`); `keras_layer_name` and
`rcmalli_layer_name` convert between the two. Keras itself is never imported here.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from postercensus.catalog.stage import StageError

if TYPE_CHECKING:
    import keras

WEIGHTS_FILES = {
    "vgg16": "rcmalli_vggface_tf_notop_vgg16.h5",
    "resnet50": "rcmalli_vggface_tf_notop_resnet50.h5",
}
RELEASES_URL = "https://github.com/rcmalli/keras-vggface/releases"
WEIGHTS_ENV = "POSTERCENSUS_WEIGHTS"
KERAS_VGGFACE_CACHE = Path("~/.keras/models/vggface")

_RCMALLI_SEPARATOR = "/"
_KERAS_SEPARATOR = "."


class WeightsError(StageError):
    """A weights file is missing, unreadable or does not fit the model; the message says what to do."""


def keras_layer_name(rcmalli_name: str) -> str:
    """The Keras 3 spelling of an rcmalli layer name (`/` is not allowed in Keras 3 names)."""
    return rcmalli_name.replace(_RCMALLI_SEPARATOR, _KERAS_SEPARATOR)


def rcmalli_layer_name(keras_name: str) -> str:
    """The name a layer has in rcmalli's files; inverse of `keras_layer_name` (no rcmalli name has a `.`)."""
    return keras_name.replace(_KERAS_SEPARATOR, _RCMALLI_SEPARATOR)


def _weights_file_name(architecture: str) -> str:
    try:
        return WEIGHTS_FILES[architecture]
    except KeyError:
        raise WeightsError(
            f"unknown VGGFace architecture {architecture!r}; choose one of {', '.join(WEIGHTS_FILES)}"
        ) from None


def default_search_dirs() -> list[Path]:
    """Folders always searched after the caller's: `$POSTERCENSUS_WEIGHTS`, then keras-vggface's cache."""
    env = os.environ.get(WEIGHTS_ENV)
    return ([Path(env).expanduser()] if env else []) + [KERAS_VGGFACE_CACHE.expanduser()]


def locate_weights(architecture: str, weights: Path | None, search_dirs: list[Path]) -> Path:
    """The weights file to use: `weights` when given (it must exist), else the first known file found.

    Known files are looked for under their published name in `search_dirs`, then in
    `default_search_dirs()`, so weights fetched once for keras-vggface are reused as they are.
    """
    file_name = _weights_file_name(architecture)
    if weights is not None:
        weights = Path(weights).expanduser()
        if not weights.is_file():
            raise WeightsError(
                f"the weights file {weights} does not exist or is not a file; pass --weights with the path of "
                f"{file_name} (from {RELEASES_URL}, release v2.0)"
            )
        return weights
    folders = [Path(d).expanduser() for d in search_dirs] + default_search_dirs()
    for folder in folders:
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(folder) for folder in folders)
    raise WeightsError(
        f"the VGGFace {architecture} weights {file_name} were not found (searched: {searched}). "
        f"Download {file_name} from the v2.0 assets of {RELEASES_URL}, then pass --weights FILE "
        f"or put it in {folders[0]}"
    )


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks so 100 MB weight files never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str | None) -> None:
    """Refuse a file whose digest is not `expected` (None: the caller pinned nothing, so nothing to check)."""
    if expected is None:
        return
    actual = sha256_of(path)
    if actual.lower() != expected.strip().lower():
        raise WeightsError(
            f"{path} has SHA-256 {actual}, expected {expected}; the file is corrupt or a different "
            f"release: download it again from {RELEASES_URL}"
        )


def _text(value: Any) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _file_layers(root: h5py.Group, path: Path) -> Iterator[tuple[str, list[np.ndarray]]]:
    """(rcmalli layer name, its arrays in `weight_names` order) for each layer the file lists."""
    if "layer_names" not in root.attrs and "model_weights" in root:
        root = root["model_weights"]
    if "layer_names" not in root.attrs:
        raise WeightsError(
            f"{path} is an HDF5 file but not a Keras 2 weights file (no `layer_names`); "
            f"pass --weights with rcmalli's {' or '.join(WEIGHTS_FILES.values())}"
        )
    for raw_name in root.attrs["layer_names"]:
        name = _text(raw_name)
        group = root[name]
        weight_names = [_text(w) for w in group.attrs.get("weight_names", [])]
        missing = [w for w in weight_names if w not in group]
        if missing:
            raise WeightsError(f"{path} is damaged: layer {name} lists {missing} but has no such data")
        yield name, [np.asarray(group[w]) for w in weight_names]


def _model_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """Every layer by name, looking inside nested models so a backbone wrapped in a head still loads."""
    found: dict[str, keras.layers.Layer] = {}
    for layer in model.layers:
        found[layer.name] = layer
        if hasattr(layer, "layers"):
            found.update(_model_layers(layer))
    return found


def load_weights_by_name(model: keras.Model, path: Path) -> list[str]:
    """Copy the weights of every file layer that `model` has (by name) into it; return their Keras names.

    Layers only in the file (fc6…fc8 of a full model) and weightless ones are skipped. All
    shapes are checked before anything is assigned, so a bad file leaves the model untouched.
    """
    path = Path(path)
    layers = _model_layers(model)
    assignments: list[tuple[keras.layers.Layer, list[np.ndarray]]] = []
    try:
        with h5py.File(path, "r") as h5:
            for name, arrays in _file_layers(h5, path):
                layer = layers.get(keras_layer_name(name))
                if layer is None or not arrays:
                    continue
                expected = [tuple(w.shape) for w in layer.weights]
                found = [tuple(a.shape) for a in arrays]
                if expected != found:
                    raise WeightsError(
                        f"layer {name} in {path.name} has weight shapes {found} but the model's "
                        f"{layer.name} expects {expected}; is this the weights file for this architecture?"
                    )
                assignments.append((layer, arrays))
    except OSError as error:
        raise WeightsError(
            f"cannot read {path} as an HDF5 weights file ({error}); pass --weights with rcmalli's "
            f"{' or '.join(WEIGHTS_FILES.values())}"
        ) from error
    if not assignments:
        architecture = model.name.removeprefix("vggface_")
        raise WeightsError(
            f"no layer of {path.name} matches the model {model.name}: not a VGGFace weights file "
            f"for {architecture}? pass --weights with {WEIGHTS_FILES.get(architecture, 'the matching file')}"
        )
    for layer, arrays in assignments:
        layer.set_weights(arrays)
    return [layer.name for layer, _ in assignments]
