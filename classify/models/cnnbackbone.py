"""A compact CNN on aligned crops of photographed, drawn and painted faces.

dlib's descriptor was trained on photographs for identity; adding painted faces to its head's
training barely moves painted-face accuracy, so the perceived-gender cues of depicted faces must
be learnt from pixels. The network reads the face stage's aligned crop at `size` px (1.2 M
weights, about 5 MB; 18 ms a face on one core with its mirror image) and is both a classifier
of its own (softmax probabilities, averaged with the mirrored face) and a `Backbone`
(`features`: its penultimate embedding). The default model's CNNs were trained on a GPU by
benchmarks/train_depicted_cnn.py and loaded here with `load_exported_weights`; `train_cnn`
trains the same network on a CPU (with classify.models.augment) for tests and small experiments.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from postercensus.classify.models import modelfolder
from postercensus.classify.models.augment import augment_batch
from postercensus.classify.models.facesamples import FaceSample
from postercensus.catalog.stage import Progress
from postercensus.classify.models.progress import ignore

CNN_NAME = "cnn-depicted"
EMBEDDING_LAYER = "embedding"
BN_EPSILON = 1e-3  # PyTorch's default is 1e-5: both sides set it
# The weights of each layer type, in Keras' order, as "<layer>/<name>" in an exported file.
EXPORTED_WEIGHTS = {"Conv2D": ("kernel",), "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance"),
                    "Dense": ("kernel", "bias")}
_BATCH = 128


@dataclass(frozen=True)
class CnnSettings:
    """Architecture and training schedule. The architecture is the one the shipped network was
    trained with (benchmarks/train_depicted_cnn.py mirrors `build_cnn` layer for layer); the CPU
    schedule below is for `train_cnn`, which tests and small experiments use."""

    size: int = 64  # input edge in px: the aligned crop resized to size×size
    widths: tuple[int, ...] = (32, 64, 128, 256)  # filters per stage; a 2×2 max-pool between stages
    repeats: tuple[int, ...] = (1, 2, 2, 2)  # convolutions per stage
    embedding: int = 128
    dropout: float = 0.3
    epochs: int = 12
    epoch_size: int = 1800  # faces drawn per epoch (0: every face once, unweighted order)
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    style_probability: float = 0.6  # share of training views given a drawing style (classify.models.augment)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["widths"], values["repeats"] = list(self.widths), list(self.repeats)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CnnSettings:
        known = {name: value for name, value in values.items() if name in cls.__dataclass_fields__}
        return cls(**{**known, "widths": tuple(values["widths"]), "repeats": tuple(values["repeats"])})


def build_cnn(settings: CnnSettings, n_classes: int = 2):
    """Pixels (0–255) → stages of 3×3 "same" convolution (stride 1, no bias) + batch norm (eps
    1e-3) + ReLU, a 2×2 max-pool between stages → global average → ReLU `embedding` → dropout →
    softmax.

    Only stride-1 convolutions and 2×2 pools: their padding means the same in PyTorch and Keras,
    so weights trained on a GPU with PyTorch load here unchanged (`load_exported_weights`)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(settings.seed)
    regulariser = keras.regularizers.L2(settings.weight_decay)

    def convolution(x, width: int, name: str):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_regularizer=regulariser,
                          name=f"conv{name}")(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"bn{name}")(x)
        return layers.ReLU(name=f"relu{name}")(x)

    inputs = keras.Input((settings.size, settings.size, 3), name="pixels")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)
    for stage, (width, repeats) in enumerate(zip(settings.widths, settings.repeats)):
        for repeat in range(repeats):
            x = convolution(x, width, f"{stage}_{repeat}")
        if stage < len(settings.widths) - 1:
            x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = layers.GlobalAveragePooling2D(name="average")(x)
    x = layers.Dense(settings.embedding, activation="relu", kernel_regularizer=regulariser, name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(settings.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=CNN_NAME)


def load_exported_weights(model, weights: dict[str, np.ndarray]) -> None:
    """Set `model`'s weights from `{"<layer>/<weight>": array}` in Keras layouts (what
    benchmarks/train_depicted_cnn.py exports); every layer with weights must be present."""
    for layer in model.layers:
        names = EXPORTED_WEIGHTS.get(type(layer).__name__)
        if names:
            missing = [name for name in names if f"{layer.name}/{name}" not in weights]
            if missing:
                raise ValueError(f"the exported weights lack {layer.name}/{missing[0]}")
            layer.set_weights([weights[f"{layer.name}/{name}"] for name in names])


def train_cnn(pixels: np.ndarray, y: np.ndarray, settings: CnnSettings, sample_weight: np.ndarray | None = None,
              n_classes: int = 2, advance: Progress = ignore):
    """A CNN fitted on (n, size, size, 3) uint8 crops with labels `y`; `advance(1)` after each epoch.

    Each epoch draws `settings.epoch_size` faces (all of them once when it is 0) with replacement,
    with probability proportional to balanced class weights times `sample_weight` (e.g. to count
    a scarce domain up): a small domain is seen as often as a large one, each time as a freshly
    augmented view (seeded per epoch), and an epoch costs the same whatever the data's size. The
    learning rate decays on a cosine to zero, so no validation split is needed to pick an epoch.
    """
    import keras

    from postercensus.classify.models.head import balanced_class_weights

    classes = balanced_class_weights(y, n_classes)
    weights = np.array([classes[label] for label in y], dtype=np.float64)
    if sample_weight is not None:
        weights = weights * sample_weight
    weights /= weights.sum()
    per_epoch = settings.epoch_size or len(y)
    model = build_cnn(settings, n_classes)
    schedule = keras.optimizers.schedules.CosineDecay(
        settings.learning_rate, settings.epochs * int(np.ceil(per_epoch / settings.batch_size)))
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=settings.label_smoothing))
    targets = np.eye(n_classes, dtype=np.float32)[y]
    rng = np.random.default_rng(settings.seed)
    for epoch in range(settings.epochs):
        drawn = rng.choice(len(y), per_epoch, p=weights) if settings.epoch_size else rng.permutation(len(y))
        views = augment_batch(pixels[drawn], settings.seed * 1000 + epoch, settings.style_probability)
        model.fit(views, targets[drawn], batch_size=settings.batch_size, epochs=1, shuffle=False, verbose=0)
        advance(1)
    return model


def _run(model, pixels: np.ndarray) -> np.ndarray:
    """`model` over `pixels` a batch at a time, called eagerly: `model.predict` builds a new traced
    function for each model and batch shape, which with two ensemble members and pages of
    faces makes TensorFlow warn about retracing on every `classify predict`."""
    parts = [np.asarray(model(pixels[start:start + _BATCH], training=False))
             for start in range(0, len(pixels), _BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, *model.output_shape[1:]), np.float32)


def predict_pixels(model, pixels: np.ndarray, flips: bool = True) -> np.ndarray:
    """Class probabilities for (n, size, size, 3) crops; with `flips`, averaged with the mirror image."""
    probabilities = _run(model, pixels)
    if flips:
        probabilities = (probabilities + _run(model, np.ascontiguousarray(pixels[:, :, ::-1]))) / 2
    return probabilities


def embed_pixels(model, pixels: np.ndarray, flips: bool = True) -> np.ndarray:
    """The penultimate (embedding) activations; with `flips`, averaged with the mirror image's."""
    import keras

    embedder = keras.Model(model.input, model.get_layer(EMBEDDING_LAYER).output)
    features = _run(embedder, pixels)
    if flips:
        features = (features + _run(embedder, np.ascontiguousarray(pixels[:, :, ::-1]))) / 2
    return features.astype(np.float32)


class CnnBackbone:
    """A trained CNN as a `Backbone` (its embedding) and as a classifier (`probabilities`).

    On disk it is two files named by a stem (`<stem>.weights.h5`, `<stem>.json`), so a model
    folder can hold several (an ensemble's members)."""

    name = CNN_NAME

    def __init__(self, model, settings: CnnSettings, labels: Sequence[str], flips: bool = True) -> None:
        self.model, self.settings, self.labels, self.flips = model, settings, list(labels), flips

    def pixels(self, samples: Sequence[FaceSample]) -> np.ndarray:
        size = self.settings.size
        if not samples:
            return np.zeros((0, size, size, 3), np.uint8)
        return np.stack([sample.crop_rgb(size) for sample in samples])

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "dimensions": self.settings.embedding, "settings": self.settings.to_dict(),
                "labels": self.labels, "test_time_flips": self.flips}

    def features(self, samples: Sequence[FaceSample], advance: Progress = ignore) -> np.ndarray:
        features = embed_pixels(self.model, self.pixels(samples), self.flips) if samples else \
            np.zeros((0, self.settings.embedding), np.float32)
        advance(len(samples))
        return features

    def probabilities(self, samples: Sequence[FaceSample]) -> np.ndarray:
        """(n, labels) probabilities of the CNN's own softmax."""
        return predict_pixels(self.model, self.pixels(samples), self.flips)

    def save(self, folder: Path, stem: str = modelfolder.CNN_STEM) -> None:
        """Weights (HDF5, float32, ~5 MB) and settings (JSON): files `load` rebuilds the same network from."""
        folder.mkdir(parents=True, exist_ok=True)
        bare = build_cnn(self.settings, len(self.labels))  # uncompiled: the file holds no optimizer state
        bare.set_weights(self.model.get_weights())
        bare.save_weights(folder / f"{stem}{modelfolder.CNN_WEIGHTS_SUFFIX}")
        (folder / f"{stem}{modelfolder.CNN_SETTINGS_SUFFIX}").write_text(json.dumps(
            {"settings": self.settings.to_dict(), "labels": self.labels, "test_time_flips": self.flips}, indent=1),
            encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, stem: str = modelfolder.CNN_STEM) -> CnnBackbone:
        stored = json.loads((folder / f"{stem}{modelfolder.CNN_SETTINGS_SUFFIX}").read_text(encoding="utf-8"))
        settings = CnnSettings.from_dict(stored["settings"])
        model = build_cnn(settings, len(stored["labels"]))
        model.load_weights(folder / f"{stem}{modelfolder.CNN_WEIGHTS_SUFFIX}")
        return cls(model, settings, stored["labels"], stored["test_time_flips"])
