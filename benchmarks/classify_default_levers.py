"""Issue 22's accuracy levers for the default perceived-gender model, measured on the 2 CPU cores.

Every figure is grouped out-of-fold on the model's own folds (UTKFace by file, NK by poster,
MetFaces by object id, `domain_folds(..., 5)`; scenes by painter, `grouped_folds(..., 5, seed=0)`)
and then calibrated per domain by the shipped rule (temperature and equal-recall shift, itself
cross-fitted by group: `classify.train.domains.domain_entry`). What the members say:

* E, the shipped ensemble (0.4 × dlib head + 0.6 × mean of cnn-1, cnn-2): for UTKFace, NK and
  MetFaces its stored out-of-fold probabilities (the card's `uncalibrated`), the only honest ones —
  the CNNs' final weights saw every one of those faces; for scenes, the shipped model itself
  (it never saw a scene face: `classify_scene_members.py`).
* H, the dlib head refitted here per fold by the recipe (`head_probabilities`' rule) on the base
  faces' descriptors (`base_faces.npz`, stored as float16), without scenes (H0, the recipe as
  shipped) or with the 636 scene faces added to the training folds (H1; their fold = their
  painter's), domains weighted to count equally, or scenes weighted `--scene-weight` times that.
* C, the CNNs' mean out-of-fold: recovered from E as (E − 0.4 × H0) / 0.6, which holds exactly
  only if H0 reproduces the shipped run's out-of-fold head; how far it misses (recovered values
  outside [0, 1]) is printed. For scenes, the shipped CNNs themselves.

Variants: E as shipped; H0, H1 alone; 0.4 × H1 + 0.6 × C (lever 1: train on scenes); the share of
C chosen per domain on a grid, cross-fitted by group; a per-domain logistic stack of the logits
of the heads and C (lever 2), cross-fitted by group, and one pooled stack with an intercept per
domain; `--head-seeds` heads averaged; E stacked with a ridge logistic regression on the domain's
own descriptors (nested cross-fitting). UTKFace adults are read from the photos domain.

Outcome (benchmarks/results/classify_default_levers.txt): no variant beats E in every domain;
gains on scenes (at most 5 of 636 faces) cost posters or MetFaces faces, so the default stays.

    python benchmarks/classify_default_levers.py [--scene-weight 1 2] > benchmarks/results/classify_default_levers.txt
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_support import DATA, print_table, progress, require_data  # noqa: E402
from classify_scene_members import scene_members  # noqa: E402
from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.train.domains import domain_entry  # noqa: E402
from postercensus.classify.recipes.depicted import HEAD, VALIDATION_SHARE, domain_weights  # noqa: E402
from postercensus.classify.recipes.faces import utk_files  # noqa: E402
from postercensus.classify.recipes.outoffold import raw_probabilities  # noqa: E402
from postercensus.classify.train.splits import grouped_folds  # noqa: E402
from postercensus.classify.train.training import train_head, validation_split  # noqa: E402

LABELS = ("female", "male")
FOLDS = 5
CARD_SHARE = 0.6
DOMAIN_ORDER = ("posters", "paintings", "scenes", "photos")
SHARE_GRID = np.round(np.linspace(0, 1, 11), 1)
FLOOR = 1e-6


class Faces:
    """The four domains side by side (base faces in the card's order, then the scene faces)."""

    def __init__(self, model: Path) -> None:
        with np.load(model / "base_faces.npz") as base:
            descriptors, labels = base["descriptors"].astype(np.float32), [str(x) for x in base["labels"]]
            domains, groups = [str(x) for x in base["domains"]], [str(x) for x in base["groups"]]
        scenes = scene_members(model)
        self.x = np.concatenate([descriptors, scenes["descriptors"].astype(np.float32)])
        self.labels = labels + [str(x) for x in scenes["labels"]]
        self.domain = np.array(domains + ["scenes"] * len(scenes["labels"]))
        self.groups = groups + [f"scenes:{p}" for p in scenes["painters"]]
        self.fold_groups = groups + [str(p) for p in scenes["painters"]]  # scenes folded as the card's scenes entry
        self.y = np.array([LABELS.index(label) for label in self.labels])
        self.scenes = scenes
        self.fold = np.zeros(len(self.y), int)
        for name in DOMAIN_ORDER:
            members = np.flatnonzero(self.domain == name)
            for k, part in enumerate(grouped_folds([self.labels[i] for i in members],
                                                   [self.fold_groups[i] for i in members], FOLDS, seed=0)):
                self.fold[members[part]] = k
        photos = np.flatnonzero(self.domain == "photos")
        ages = {row[0].name: int(row[3]["age"]) for row in utk_files(DATA)}
        self.adult = np.zeros(len(self.y), bool)
        self.adult[photos] = [ages[g.split(":", 1)[1]] >= 18 for g in np.array(self.groups)[photos]]


def head_oof(faces: Faces, train_domains: tuple[str, ...], scene_weight: float,
             seeds: int = 1) -> tuple[np.ndarray, float]:
    """Out-of-fold head probabilities for every face (a fold's head never saw that fold), averaged
    over `seeds` heads (seed 0 is the recipe's: initialisation, shuffling and early-stopping split
    all follow it); seconds per fit."""
    out = np.zeros((len(faces.y), 2), np.float32)
    usable = np.isin(faces.domain, train_domains)
    started = time.perf_counter()
    for seed in range(seeds):
        settings = dataclasses.replace(HEAD, seed=seed)
        for k in range(FOLDS):
            train = np.flatnonzero(usable & (faces.fold != k))
            fit_idx, validation_idx = validation_split(faces.labels, faces.groups, train, VALIDATION_SHARE, seed + 1)
            weights = domain_weights(faces.domain, train)
            weights[faces.domain == "scenes"] *= scene_weight
            head, _ = train_head(faces.x, faces.y, 2, fit_idx, validation_idx, settings, weights)
            test = np.flatnonzero(faces.fold == k)
            out[test] += head.predict(faces.x[test], batch_size=1024, verbose=0) / seeds
            progress(f"  head on {train_domains} (scene weight {scene_weight}, seed {seed}): fold {k + 1}/{FOLDS}")
    return out, (time.perf_counter() - started) / (FOLDS * seeds)


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p[:, 1], FLOOR, 1 - FLOOR)
    return np.log(q) - np.log1p(-q)


def as_probabilities(margin: np.ndarray) -> np.ndarray:
    male = 1 / (1 + np.exp(-margin))
    return np.stack([1 - male, male], axis=1)


def fit_logistic(features: np.ndarray, y: np.ndarray, ridge: float = 1e-2) -> np.ndarray:
    """Logistic regression with an intercept by Newton steps (ridge on the slopes): the stack's weights."""
    design = np.column_stack([np.ones(len(y)), features])
    w = np.zeros(design.shape[1])
    penalty = np.diag([0.0] + [ridge] * features.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def per_domain_cross_fitted(faces: Faces, combine) -> np.ndarray:
    """Probabilities where each domain's fold k is combined by `combine(train_rows, test_rows)`."""
    out = np.zeros((len(faces.y), 2))
    for name in sorted(set(faces.domain)):
        members = np.flatnonzero(faces.domain == name)
        for k in range(FOLDS):
            test = members[faces.fold[members] == k]
            out[test] = combine(members[faces.fold[members] != k], test)
    return out


def stacked(faces: Faces, members: list[np.ndarray]) -> np.ndarray:
    features = np.column_stack([logit(p) for p in members])

    def combine(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        w = fit_logistic(features[train], faces.y[train])
        return as_probabilities(w[0] + features[test] @ w[1:])
    return per_domain_cross_fitted(faces, combine)


def pooled_stack(faces: Faces, members: list[np.ndarray]) -> np.ndarray:
    """One logistic combination of the members' logits for all domains, with an intercept per domain
    (fewer weights to learn from 220 poster faces than a stack per domain), cross-fitted by fold."""
    intercepts = np.column_stack([(faces.domain == name).astype(float) for name in DOMAIN_ORDER[1:]])
    features = np.column_stack([logit(p) for p in members] + [intercepts])
    out = np.zeros((len(faces.y), 2))
    for k in range(FOLDS):
        train, test = np.flatnonzero(faces.fold != k), np.flatnonzero(faces.fold == k)
        w = fit_logistic(features[train], faces.y[train])
        out[test] = as_probabilities(w[0] + features[test] @ w[1:])
    return out


def descriptor_stack(faces: Faces, ensemble: np.ndarray, ridge: float) -> np.ndarray:
    """Per depicted domain, a logistic stack of the ensemble's logit and a ridge logistic regression
    on that domain's own unit-length descriptors (a member that learns only the domain), nested:
    the descriptor model's logits on a fold's training rows are themselves out-of-fold (inner
    folds), on its test rows from the fit on all training rows. Photos are left as the ensemble."""
    x = faces.x / np.linalg.norm(faces.x, axis=1, keepdims=True)
    out = np.array(ensemble, dtype=float)
    for name in ("posters", "paintings", "scenes"):
        members = np.flatnonzero(faces.domain == name)
        for k in range(FOLDS):
            test, train = members[faces.fold[members] == k], members[faces.fold[members] != k]
            inner = np.zeros(len(train))
            for j in sorted(set(faces.fold[train])):
                held = faces.fold[train] == j
                w = fit_logistic(x[train[~held]], faces.y[train[~held]], ridge)
                inner[held] = w[0] + x[train[held]] @ w[1:]
            w = fit_logistic(x[train], faces.y[train], ridge)
            outer = w[0] + x[test] @ w[1:]
            stack = fit_logistic(np.column_stack([logit(ensemble[train]), inner]), faces.y[train])
            out[test] = as_probabilities(stack[0] + np.column_stack([logit(ensemble[test]), outer]) @ stack[1:])
    return out


def share_per_domain(faces: Faces, head: np.ndarray, cnn: np.ndarray) -> np.ndarray:
    def combine(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        scores = [balanced(faces.y[train], (1 - s) * head[train] + s * cnn[train]) for s in SHARE_GRID]
        s = SHARE_GRID[int(np.argmax(scores))]
        return (1 - s) * head[test] + s * cnn[test]
    return per_domain_cross_fitted(faces, combine)


def balanced(y: np.ndarray, p: np.ndarray) -> float:
    decided = p.argmax(axis=1)
    return float(np.mean([(decided[y == c] == c).mean() for c in (0, 1)]))


def rows_of(name: str, faces: Faces, probabilities: np.ndarray) -> tuple[list[list[str]], dict[str, float]]:
    """Table rows per domain (+ UTKFace adults) after the cross-fitted per-domain calibration."""
    rows, accuracy = [], {}
    calibrated = np.zeros_like(probabilities, dtype=float)
    for domain in DOMAIN_ORDER:
        members = np.flatnonzero(faces.domain == domain)
        entry = domain_entry([faces.labels[i] for i in members], probabilities[members], LABELS,
                             [faces.fold_groups[i] for i in members])
        calibrated[members] = entry["held_out_predictions"]["probabilities"]
        accuracy[domain] = entry["accuracy"]
        rows.append([name, f"{domain} ({len(members)})", f"{entry['accuracy']:.4f}", f"{entry['balanced_accuracy']:.4f}",
                     f"{entry['recall']['female']:.4f}", f"{entry['recall']['male']:.4f}",
                     f"{entry['recall_gap']:+.3f}", f"{entry['ece']:.4f}"])
    adults = np.flatnonzero(faces.adult)
    right = calibrated[adults].argmax(axis=1) == faces.y[adults]
    accuracy["adults"] = float(right.mean())
    recall = [float(right[faces.y[adults] == c].mean()) for c in (0, 1)]
    rows.append([name, f"UTKFace adults ({len(adults)})", f"{right.mean():.4f}", f"{np.mean(recall):.4f}",
                 f"{recall[0]:.4f}", f"{recall[1]:.4f}", f"{recall[0] - recall[1]:+.3f}", "-"])
    return rows, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=modelfolder.default_model_folder())
    parser.add_argument("--scene-weight", type=float, nargs="+", default=[1.0])
    parser.add_argument("--head-seeds", type=int, default=1, help="heads averaged per variant (seeds 0..N-1)")
    args = parser.parse_args()
    require_data(DATA / "utkface", DATA / "painting-faces")
    card = modelfolder.read_card(args.model)
    faces = Faces(args.model)
    shipped = np.zeros((len(faces.y), 2))
    for domain in ("posters", "paintings", "photos"):
        members = np.flatnonzero(faces.domain == domain)
        entry = (card.domains or {})[domain]
        if [faces.labels[i] for i in members] != (entry.held_out_predictions or {}).get("true"):
            sys.exit(f"{domain}: base faces and card predictions are not in the same order")
        shipped[members] = raw_probabilities(entry)
    scenes = np.flatnonzero(faces.domain == "scenes")
    scene_cnn = np.mean([faces.scenes[k] for k in faces.scenes if k.startswith("cnn-")], axis=0)
    shipped[scenes] = (1 - CARD_SHARE) * faces.scenes["head"] + CARD_SHARE * scene_cnn

    progress("H0: the head as the recipe fits it (no scenes)")
    h0, seconds = head_oof(faces, ("photos", "posters", "paintings"), 1.0)
    progress(f"  {seconds:.0f} s per fold's head on the 2 cores")
    h0[scenes] = faces.scenes["head"]  # the shipped head never saw scenes: its own prediction is out-of-sample
    cnn = (shipped - (1 - CARD_SHARE) * h0) / CARD_SHARE  # C from the recipe's own head (seed 0)
    base = faces.domain != "scenes"
    outside = (cnn[base] < -1e-3) | (cnn[base] > 1 + 1e-3)
    print(f"C recovered from E and H0: {outside.any(axis=1).mean():.2%} of base faces outside [0, 1] "
          f"(max {np.abs(np.clip(cnn[base], 0, 1) - cnn[base]).max():.3f}); clipped")
    cnn = np.clip(cnn, 0, 1)
    cnn /= cnn.sum(axis=1, keepdims=True)
    cnn[scenes] = scene_cnn

    variants: list[tuple[str, np.ndarray]] = [("E: shipped (0.4 head + 0.6 CNNs)", shipped), ("H0: head, no scenes", h0),
                                              ("0.4 H0 + 0.6 C (E rebuilt)", 0.4 * h0 + 0.6 * cnn),
                                              ("stack(H0, C) per domain", stacked(faces, [h0, cnn])),
                                              ("pooled stack(H0, C), intercept per domain", pooled_stack(faces, [h0, cnn]))]
    variants += [(f"stack(E, descriptors of the domain, ridge {r:g})", descriptor_stack(faces, shipped, r))
                 for r in (1.0, 10.0, 100.0)]
    if args.head_seeds > 1:
        hs, _ = head_oof(faces, ("photos", "posters", "paintings"), 1.0, args.head_seeds)
        tag = f"H0 × {args.head_seeds} seeds"
        variants += [(f"{tag} alone", hs), (f"0.4 {tag} + 0.6 C", 0.4 * hs + 0.6 * cnn),
                     (f"stack({tag}, C) per domain", stacked(faces, [hs, cnn]))]
    for weight in args.scene_weight:
        h1, _ = head_oof(faces, DOMAIN_ORDER, weight, args.head_seeds)
        tag = f"H1 (scenes trained, weight {weight:g}{f', {args.head_seeds} seeds' if args.head_seeds > 1 else ''})"
        variants += [(f"{tag} alone", h1), (f"0.4 {tag} + 0.6 C", 0.4 * h1 + 0.6 * cnn),
                     (f"share per domain: {tag}, C", share_per_domain(faces, h1, cnn)),
                     (f"stack({tag}, C) per domain", stacked(faces, [h1, cnn])),
                     (f"stack({tag}, H0, C) per domain", stacked(faces, [h1, h0, cnn])),
                     (f"pooled stack({tag}, C), intercept per domain", pooled_stack(faces, [h1, cnn]))]
    table = []
    for name, probabilities in variants:
        rows, _ = rows_of(name, faces, probabilities)
        table += rows
    print(f"model {modelfolder.model_version(args.model)}; out-of-fold, then per-domain temperature and equal-recall "
          "shift cross-fitted by group")
    print_table(["variant", "faces", "accuracy", "balanced", "recall F", "recall M", "gap F−M", "ECE"], table)


if __name__ == "__main__":
    main()
