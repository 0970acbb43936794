"""Can the depicted-face CNNs learn scene paintings on CPU? Their last stage and head tuned on scene faces, out-of-fold by painter.

Issue 22, lever 3. The CNNs' final weights never saw a scene-painting face, so on the 636 scene
faces (cut as the face stage cuts them: `classify_scene_members.py`) a CNN tuned on four folds of
painters and judged on the fifth is honestly out-of-fold. (On NK, MetFaces and UTKFace it cannot
be: those final weights saw every one of their faces.) Per fold and CNN:

* embedding head: a ridge logistic regression on the CNN's 128-d embedding (mirror-averaged),
  i.e. a new softmax fitted on the scene faces, the convolutions untouched;
* fine-tuning: the last stage's convolutions, the embedding and the softmax trained (batch norm
  frozen at its statistics), Adam at `--learning-rate`, label smoothing 0.05, balanced labels,
  the training faces augmented as `train_cnn` augments (no drawing style), read after each
  epoch count of `--epochs`.

The tuned CNNs' mean replaces the CNNs' mean in the ensemble (0.4 × dlib head + 0.6 × CNNs; the
head is the shipped one, which never saw scenes), and the result is calibrated per domain as the
card does (temperature and equal-recall shift, cross-fitted by painter).

    python benchmarks/classify_scene_finetune.py [--epochs 3 8 15] [--learning-rate 1e-4]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_support import print_table, progress  # noqa: E402
from classify_default_levers import as_probabilities, fit_logistic  # noqa: E402
from classify_scene_members import scene_members  # noqa: E402
from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.models.augment import augment_batch  # noqa: E402
from postercensus.classify.models.cnnbackbone import EMBEDDING_LAYER, CnnBackbone, embed_pixels, predict_pixels  # noqa: E402
from postercensus.classify.train.domains import domain_entry  # noqa: E402
from postercensus.classify.models.head import balanced_class_weights  # noqa: E402
from postercensus.classify.train.splits import grouped_folds  # noqa: E402

LABELS = ("female", "male")
FOLDS = 5
HEAD_SHARE = 0.4
LAST_CONVOLUTIONS = "conv3_"
BATCH = 64


def tunable(model) -> None:
    """Only the last stage's convolutions, the embedding and the softmax learn; batch norm keeps its statistics."""
    for layer in model.layers:
        layer.trainable = layer.name.startswith(LAST_CONVOLUTIONS) or layer.name in (EMBEDDING_LAYER, "softmax")


def fine_tuned(folder: Path, stem: str, pixels: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray,
               epochs: list[int], learning_rate: float) -> dict[int, np.ndarray]:
    """Test-fold probabilities after each epoch count in `epochs`."""
    import keras

    cnn = CnnBackbone.load(folder, stem)
    model = cnn.model
    tunable(model)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.05))
    classes = balanced_class_weights(y[train], 2)
    weights = np.array([classes[label] for label in y[train]], dtype=np.float32)
    targets = np.eye(2, dtype=np.float32)[y[train]]
    rng = np.random.default_rng(0)
    out = {}
    for epoch in range(1, max(epochs) + 1):
        order = rng.permutation(len(train))
        views = augment_batch(pixels[train][order], epoch, style_probability=0.0)
        model.fit(views, targets[order], sample_weight=weights[order], batch_size=BATCH, epochs=1,
                  shuffle=False, verbose=0)
        if epoch in epochs:
            out[epoch] = predict_pixels(model, pixels[test], flips=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=modelfolder.default_model_folder())
    parser.add_argument("--epochs", type=int, nargs="+", default=[3, 8, 15])
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--ridge", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    args = parser.parse_args()
    scenes = scene_members(args.model)
    labels = [str(x) for x in scenes["labels"]]
    painters = [str(x) for x in scenes["painters"]]
    y = np.array([LABELS.index(label) for label in labels])
    pixels = scenes["pixels"]
    stems = sorted(k for k in scenes if k.startswith("cnn-"))
    folds = grouped_folds(labels, painters, FOLDS, seed=0)
    head = scenes["head"]
    variants: dict[str, np.ndarray] = {
        "shipped (0.4 head + 0.6 CNNs)": HEAD_SHARE * head + (1 - HEAD_SHARE) * np.mean([scenes[s] for s in stems], axis=0)}

    embedding = {stem: embed_pixels(CnnBackbone.load(args.model, stem).model, pixels) for stem in stems}
    for ridge in args.ridge:
        tuned = {stem: np.zeros((len(y), 2)) for stem in stems}
        for test in folds:
            train = np.setdiff1d(np.arange(len(y)), test)
            for stem in stems:
                x = embedding[stem] / np.linalg.norm(embedding[stem], axis=1, keepdims=True).clip(1e-6)
                w = fit_logistic(x[train], y[train], ridge)
                tuned[stem][test] = as_probabilities(w[0] + x[test] @ w[1:])
        variants[f"embedding head on scenes, ridge {ridge:g}"] = \
            HEAD_SHARE * head + (1 - HEAD_SHARE) * np.mean(list(tuned.values()), axis=0)

    started = time.perf_counter()
    tuned_epochs = {epoch: {stem: np.zeros((len(y), 2)) for stem in stems} for epoch in args.epochs}
    for k, test in enumerate(folds):
        train = np.setdiff1d(np.arange(len(y)), test)
        for stem in stems:
            for epoch, probabilities in fine_tuned(args.model, stem, pixels, y, train, test, args.epochs,
                                                   args.learning_rate).items():
                tuned_epochs[epoch][stem][test] = probabilities
        progress(f"  fine-tuning: fold {k + 1}/{FOLDS} ({time.perf_counter() - started:.0f} s)")
    for epoch in args.epochs:
        variants[f"last stage fine-tuned on scenes, {epoch} epochs, lr {args.learning_rate:g}"] = \
            HEAD_SHARE * head + (1 - HEAD_SHARE) * np.mean(list(tuned_epochs[epoch].values()), axis=0)
    rows = []
    for name, probabilities in variants.items():
        entry = domain_entry(labels, probabilities, LABELS, painters)
        rows.append([name, f"{entry['accuracy']:.4f}", f"{entry['balanced_accuracy']:.4f}",
                     f"{entry['recall']['female']:.4f}", f"{entry['recall']['male']:.4f}",
                     f"{entry['recall_gap']:+.3f}", f"{entry['ece']:.4f}"])
    print(f"model {modelfolder.model_version(args.model)}; {len(y)} scene faces, 5 folds by painter; fine-tuning "
          f"{time.perf_counter() - started:.0f} s for {len(stems)} CNNs × {FOLDS} folds × {max(args.epochs)} epochs")
    print_table(["scenes (636), out-of-fold by painter, calibrated per domain", "accuracy", "balanced", "recall F",
                 "recall M", "gap F−M", "ECE"], rows)


if __name__ == "__main__":
    main()
