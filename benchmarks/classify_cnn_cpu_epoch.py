"""How long one epoch of fine-tuning a default-model CNN's last stage and head takes on this machine's CPUs.

Issue 22, lever 3: fine-tuning the depicted-face CNNs' last stage (conv3_*, bn3_*) and head
(embedding, softmax) on CPU is worth trying only if one fold fits a few minutes on the 2 cores.
This times `train_on_batch` of the shipped cnn-1 with everything before the last stage frozen,
on batches of the training batch size at the CNN's input size (the pixel values do not change
the cost), and reports seconds per batch and per epoch of a fold's training faces (4/5 of the
11,815 faces, scenes included), for cnn-1's GPU schedule and for `train_cnn`'s CPU schedule.

    python benchmarks/classify_cnn_cpu_epoch.py [--batches 8]
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

from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.models.cnnbackbone import CnnBackbone  # noqa: E402

FOLD_TRAINING_FACES = int(round((11179 + 636) * 4 / 5))
LAST_STAGE = "3_"
GPU_EPOCHS = 40  # cnn-1's schedule on the GPU (the card's cnn_settings)


def main() -> None:
    import keras

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=modelfolder.default_model_folder())
    parser.add_argument("--member", default="cnn-1")
    parser.add_argument("--batches", type=int, default=8)
    args = parser.parse_args()
    cnn = CnnBackbone.load(args.model, args.member)
    model, settings = cnn.model, cnn.settings
    for layer in model.layers:
        layer.trainable = LAST_STAGE in layer.name or layer.name in ("embedding", "softmax") or \
            layer.name.startswith(("embedding", "softmax"))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (settings.batch_size, settings.size, settings.size, 3)).astype(np.float32)
    labels = rng.integers(0, 2, settings.batch_size)
    model.train_on_batch(batch, labels)  # the first call compiles
    started = time.perf_counter()
    for _ in range(args.batches):
        model.train_on_batch(batch, labels)
    per_batch = (time.perf_counter() - started) / args.batches
    per_face = per_batch / settings.batch_size
    print(f"{args.member}: {trainable:,} trainable weights (last stage + head), batch {settings.batch_size} at "
          f"{settings.size} px: {per_batch:.3f} s per batch, {per_face * 1000:.1f} ms per face")
    print(f"one epoch of a fold's {FOLD_TRAINING_FACES} training faces: {per_face * FOLD_TRAINING_FACES:.0f} s; "
          f"{GPU_EPOCHS} such epochs × 5 folds (cnn-1's GPU schedule): {per_face * FOLD_TRAINING_FACES * GPU_EPOCHS * 5 / 60:.0f} min; "
          f"`train_cnn`'s CPU schedule ({settings.epochs} epochs of {settings.epoch_size} drawn faces) × 5 folds: "
          f"{per_face * settings.epoch_size * settings.epochs * 5 / 60:.0f} min")


if __name__ == "__main__":
    main()
