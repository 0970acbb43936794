"""The Keras 3 head on bottleneck features: normalise → Dense → Dropout → softmax.

Small on purpose: a few hundred labelled poster faces cannot support more. Class weights keep a
70/30 label mix from becoming "always male"; early stopping on a grouped validation split picks
the epoch, so the model never sees the faces it is judged on.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np
from keras import layers

from postercensus.catalog.stage import Progress
from postercensus.classify.models.progress import ignore


@dataclass(frozen=True)
class HeadSettings:
    # Chosen by grouped 5-fold CV on the NK poster faces (benchmarks/classify_nk_cv.py): wider and
    # more dropout than 64/0.3, with a slower rate and more patience, gained ~3 points.
    hidden: int = 256
    dropout: float = 0.5
    learning_rate: float = 3e-4
    batch_size: int = 32
    max_epochs: int = 300
    patience: int = 40  # epochs without a better validation loss before stopping
    fine_tune_learning_rate: float = 1e-5
    fine_tune_epochs: int = 20
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def balanced_class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """n / (classes × count): each label weighs the same in the loss, whatever its share."""
    counts = np.bincount(y, minlength=n_classes)
    return {k: float(len(y) / (n_classes * counts[k])) for k in range(n_classes) if counts[k]}


def build_head(x_train: np.ndarray, n_classes: int, settings: HeadSettings) -> keras.Model:
    """The head, with its input normalisation fitted to the training features."""
    keras.utils.set_random_seed(settings.seed)
    # A feature constant on the training faces (a VGGFace channel that never fires) would get a
    # zero variance and blow up on the first face that activates it: floor the variance.
    variance = x_train.var(axis=0)
    variance = np.maximum(variance, 1e-2 * float(variance.mean()) + 1e-12)
    normalise = layers.Normalization(mean=x_train.mean(axis=0), variance=variance, name="head_normalise")
    inputs = keras.Input((x_train.shape[1],), name="features")
    hidden = layers.Dense(settings.hidden, activation="relu", name="head_dense")(normalise(inputs))
    hidden = layers.Dropout(settings.dropout, name="head_dropout")(hidden)
    outputs = layers.Dense(n_classes, activation="softmax", name="head_softmax")(hidden)
    model = keras.Model(inputs, outputs, name="head")
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit(model: keras.Model, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
        settings: HeadSettings, n_classes: int, epochs: int, sample_weight: np.ndarray | None = None,
        advance: Progress = ignore) -> dict[str, Any]:
    """Train with balanced class weights (times `sample_weight`, e.g. to weigh a scarce domain up)
    and early stopping (best weights restored), calling `advance(1)` after each epoch; returns what happened."""
    keras.utils.set_random_seed(settings.seed)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=settings.patience, restore_best_weights=True)
    epoch_done = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: advance(1))
    classes = balanced_class_weights(train[1], n_classes)
    weights = np.array([classes[label] for label in train[1]], dtype=np.float32)
    if sample_weight is not None:
        weights = weights * sample_weight
    history = model.fit(
        train[0], train[1],
        validation_data=validation,
        epochs=epochs,
        batch_size=settings.batch_size,
        sample_weight=weights,
        callbacks=[stopper, epoch_done],
        shuffle=True,
        verbose=0,
    )
    losses = history.history["val_loss"]
    best = int(np.argmin(losses))
    return {"epochs_run": len(losses), "best_epoch": best + 1, "best_validation_loss": round(float(losses[best]), 4),
            "best_validation_accuracy": round(float(history.history["val_accuracy"][best]), 4)}


def fine_tune_model(network: keras.Model, head: keras.Model, architecture: str, settings: HeadSettings) -> keras.Model:
    """Backbone + trained head as one model, with only the backbone's last block left trainable."""
    from postercensus.classify.models.vggface import freeze_all_but_last_block

    freeze_all_but_last_block(network, architecture)
    head.trainable = True
    model = keras.Model(network.input, head(network.output), name="fine_tuned")
    model.compile(optimizer=keras.optimizers.Adam(settings.fine_tune_learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
