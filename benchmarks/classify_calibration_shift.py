"""Which calibration removes the default model's male bias on depicted faces: temperature alone, or a shift too.

Issue 22: the shipped model ranks depicted faces well but decides them male too often (women's
recall 10–30 points below men's); a temperature rescales and cannot move the decision. This
compares, per domain, calibrations of the same out-of-fold ensemble probabilities, each
**cross-fitted with whole groups held out** (fitted on four folds, applied to the fifth):

- none: the ensemble's probabilities as they are;
- temperature: one T by likelihood (what the card applied before);
- scale and shift: Platt scaling with an intercept, by likelihood (learns the label mix too);
- balanced scale and shift: the same with each label weighing equally (calibrated for an even mix);
- temperature + threshold: T by likelihood, then the shift on the logit that maximises the
  balanced accuracy of the training folds (a decision rule, not a calibration);
- temperature and equal-recall shift: T by likelihood, then the shift making the training folds'
  two recalls closest (`classify.train.calibration.EQUAL_RECALL`, what the default model's card applies).

Shares (issue 22, item 6): each held-out fold is treated as a collection. Its faces are decided
with the calibration fitted on the other folds, and their female share corrected
(`classify.prevalence.estimate.estimate_prevalence`) with the confusion of the other folds' predictions,
themselves cross-fitted within those folds, as the card stores them: raw and corrected error
against the fold's true share, and whether the 95 % interval covers it. Scene folds are also
corrected with the MetFaces (`paintings`) calibration and confusion, what declaring `paintings`
for a collection of scenes would give.

Coverage: the small-group grid of benchmarks/classify_prevalence_coverage.py (group sizes 1–200 ×
true shares 0–1 × 100 or 1,000 labelled faces, the default `exact` interval) re-run on the
confusion rates of the shipped card's posters and scenes entries (--coverage-runs runs a cell).

The recall gap's 95 % interval resamples whole groups (posters, objects, files, painters) of the
out-of-fold predictions (1,000 draws; the calibrations are not refitted): how far 80 poster
women or 311 painted ones pin the gap down.

Data. The card (classify/default_model/model.json) stores each domain's out-of-fold predictions
calibrated with its temperature; the raw ones are recovered as p ∝ p_cal^T (rounded to 5 decimals
in the card). Groups are rebuilt from the file order the recipe used (`classify/recipes/outoffold.py`; its
label lists are checked against the card's): NK by poster, MetFaces by object id, UTKFace by file;
the folds are the model's own (`grouped_folds(..., 5, seed=0)` per domain). Scene paintings
(../shared/data/painting-faces, never seen by the model): each hand box's face cut as the face
stage cuts it (`classify/recipes/scenes.py`), predicted by the shipped model (cached under
/tmp/postercensus-classify-cache), folds by painter. Whether scenes calibrate with the MetFaces
portraits (`paintings`) or apart is measured three ways: scenes alone, the MetFaces calibration
applied to scenes, and one calibration cross-fitted on both.

    python benchmarks/classify_calibration_shift.py [--coverage-runs 300] > benchmarks/results/classify_calibration_shift.txt
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_support import DATA, print_table, require_data  # noqa: E402
from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.train.calibration import (BALANCED_SCALE_SHIFT, EQUAL_RECALL, SCALE_SHIFT,  # noqa: E402
                                               TEMPERATURE, apply_scale_and_shift, fit_calibration,
                                               negative_log_likelihood)
from postercensus.classify.train.metrics import evaluate_predictions  # noqa: E402
from postercensus.classify.models.modelcard import ModelCard  # noqa: E402
from postercensus.classify.prevalence.estimate import ConfusionMatrix, estimate_prevalence  # noqa: E402
from postercensus.classify.recipes.faces import utk_files  # noqa: E402
from postercensus.classify.recipes.outoffold import FOLDS, Domain, card_domains, scene_domain  # noqa: E402
from postercensus.classify.train.splits import grouped_folds  # noqa: E402

LABELS = ("female", "male")
THRESHOLD = "temperature + threshold"
NONE = "none"
METHODS = (NONE, TEMPERATURE, SCALE_SHIFT, BALANCED_SCALE_SHIFT, THRESHOLD, EQUAL_RECALL)
BOOTSTRAP = 1000
SHIFT_GRID = np.linspace(-4, 4, 801)

Fitted = Callable[[np.ndarray], np.ndarray]


def best_shift(probabilities: np.ndarray, y: np.ndarray) -> float:
    """The shift of the male logit whose decisions have the best balanced accuracy (ties: their median)."""
    margin = np.log(np.clip(probabilities[:, 1], 1e-7, 1)) - np.log(np.clip(probabilities[:, 0], 1e-7, 1))
    scores = []
    for shift in SHIFT_GRID:
        male = margin + shift > 0
        scores.append(np.mean([(male[y == 1]).mean(), (~male[y == 0]).mean()]))
    best = np.flatnonzero(np.isclose(scores, np.max(scores)))
    return float(np.median(SHIFT_GRID[best]))


def fit(method: str, probabilities: np.ndarray, y: np.ndarray) -> Fitted:
    if method == NONE:
        return lambda p: p
    if method == THRESHOLD:
        calibration = fit_calibration(probabilities, y, TEMPERATURE)
        shift = best_shift(calibration.apply(probabilities), y)
        return lambda p: apply_scale_and_shift(p, calibration.temperature, np.array([0.0, shift]))
    return fit_calibration(probabilities, y, method).apply


def cross_fitted(method: str, fit_on: list[tuple[np.ndarray, np.ndarray]], test: list[np.ndarray]) -> list[np.ndarray]:
    """Per fold k: the calibration fitted on `fit_on[k]` (probabilities, y), applied to `test[k]`."""
    return [fit(method, p, y)(t) for (p, y), t in zip(fit_on, test)]


def out_of_fold(method: str, domain: Domain) -> np.ndarray:
    out = np.zeros_like(domain.probabilities)
    for test in domain.folds:
        train = np.setdiff1d(np.arange(len(domain.y)), test)
        out[test] = fit(method, domain.probabilities[train], domain.y[train])(domain.probabilities[test])
    return out


def cross_fitted_within(method: str, probabilities: np.ndarray, y: np.ndarray, groups: list[str]) -> np.ndarray:
    """These faces' probabilities, each fold calibrated by the fit on the others (as a card stores them)."""
    labels = [LABELS[k] for k in y]
    out = np.zeros_like(probabilities)
    for test in grouped_folds(labels, groups, min(FOLDS, len(set(groups))), seed=0):
        train = np.setdiff1d(np.arange(len(y)), test)
        out[test] = fit(method, probabilities[train], y[train])(probabilities[test])
    return out


def share_row(name: str, method: str, collections: list[tuple[np.ndarray, np.ndarray]],
              references: list[tuple[np.ndarray, np.ndarray]]) -> list[object]:
    """Female share of each collection (calibrated probabilities, true labels), corrected with the
    confusion of its reference (calibrated probabilities, true labels)."""
    raw_errors, errors, covered, widths = [], [], 0, []
    for (probabilities, y), (reference, reference_y) in zip(collections, references):
        confusion = ConfusionMatrix.from_pairs([LABELS[k] for k in reference_y],
                                               [LABELS[k] for k in reference.argmax(axis=1)], LABELS, LABELS)
        decided = probabilities.argmax(axis=1)
        estimate = estimate_prevalence({label: int((decided == k).sum()) for k, label in enumerate(LABELS)}, confusion)
        truth = float((y == 0).mean())
        raw_errors.append(estimate.raw_share["female"] - truth)
        errors.append(estimate.corrected_share["female"] - truth)
        covered += estimate.ci_low["female"] <= truth <= estimate.ci_high["female"]
        widths.append((estimate.ci_high["female"] - estimate.ci_low["female"]) / 2)
    return [name, method, len(collections), f"{np.mean(raw_errors):+.3f}", f"{np.mean(np.abs(raw_errors)):.3f}",
            f"{np.mean(errors):+.3f}", f"{np.mean(np.abs(errors)):.3f}", f"{np.max(np.abs(errors)):.3f}",
            f"{covered}/{len(collections)}", f"{np.mean(widths):.3f}"]


def shares_table(domains: list[Domain], metfaces: Domain, scenes: Domain) -> None:
    rows = []
    for domain in domains:
        for method in (TEMPERATURE, EQUAL_RECALL):
            collections, references = [], []
            for test in domain.folds:
                train = np.setdiff1d(np.arange(len(domain.y)), test)
                fitted = fit(method, domain.probabilities[train], domain.y[train])
                collections.append((fitted(domain.probabilities[test]), domain.y[test]))
                references.append((cross_fitted_within(method, domain.probabilities[train], domain.y[train],
                                                       [domain.groups[k] for k in train]), domain.y[train]))
            rows.append(share_row(f"{domain.name} ({len(domain.y)})", method, collections, references))
    for method in (TEMPERATURE, EQUAL_RECALL):
        fitted = fit(method, metfaces.probabilities, metfaces.y)
        reference = (out_of_fold(method, metfaces), metfaces.y)
        rows.append(share_row("scenes, declared paintings", method,
                              [(fitted(scenes.probabilities[test]), scenes.y[test]) for test in scenes.folds],
                              [reference] * len(scenes.folds)))
    print_table(["faces", "calibration", "collections", "raw − truth", "|raw − truth|", "corrected − truth",
                 "|corrected − truth|", "max |corrected − truth|", "interval covers", "half-width"], rows,
                "Female share of each held-out fold as a collection, corrected with the other folds' confusion "
                "(mean over the folds)")


def auc(probabilities: np.ndarray, y: np.ndarray) -> float:
    """Probability that a random female face scores more female than a random male face (ties half)."""
    score = probabilities[:, 0]
    female, male = score[y == 0], score[y == 1]
    return float(((female[:, None] > male[None, :]).sum() + 0.5 * (female[:, None] == male[None, :]).sum())
                 / (len(female) * len(male)))


def gap_interval(probabilities: np.ndarray, y: np.ndarray, groups: list[str]) -> str:
    """The recall gap's 95 % interval over group-bootstrap draws of these faces."""
    members: dict[str, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    parts = [np.array(m) for m in members.values()]
    right = probabilities.argmax(axis=1) == y
    rng = np.random.default_rng(0)
    gaps = []
    for _ in range(BOOTSTRAP):
        drawn = np.concatenate([parts[k] for k in rng.integers(0, len(parts), len(parts))])
        female, male = drawn[y[drawn] == 0], drawn[y[drawn] == 1]
        if len(female) and len(male):
            gaps.append(right[female].mean() - right[male].mean())
    low, high = np.percentile(gaps, [2.5, 97.5])
    return f"[{low:+.3f}, {high:+.3f}]"


def figures(probabilities: np.ndarray, labels: list[str], y: np.ndarray, groups: list[str] | None = None) -> list[object]:
    report = evaluate_predictions(labels, probabilities, LABELS)
    female, male = report["per_class"]["female"]["recall"], report["per_class"]["male"]["recall"]
    return [report["accuracy"], report["balanced_accuracy"], female, male, f"{female - male:+.3f}",
            gap_interval(probabilities, y, groups) if groups is not None else "",
            report["ece"], round(negative_log_likelihood(probabilities, y), 4)]


HEADERS = ["faces", "calibration", "accuracy", "balanced", "recall F", "recall M", "gap F−M", "gap 95 % (groups)",
           "ECE", "NLL"]


def domain_table(domains: list[Domain]) -> None:
    rows = []
    for domain in domains:
        for method in METHODS:
            rows.append([f"{domain.name} ({len(domain.y)})", method,
                         *figures(out_of_fold(method, domain), domain.labels, domain.y, domain.groups)])
    print_table(HEADERS, rows, f"Per domain, each calibration cross-fitted by group ({FOLDS} folds, the model's own "
                               "folds; scenes by painter): out-of-fold figures")


def pooled_table(metfaces: Domain, scenes: Domain) -> None:
    """Scenes with the portraits or apart: the same methods fitted three ways, scored on each set."""
    rows = []
    n_met = len(metfaces.y)
    pooled_p = np.concatenate([metfaces.probabilities, scenes.probabilities])
    pooled_y = np.concatenate([metfaces.y, scenes.y])
    for method in (TEMPERATURE, SCALE_SHIFT, BALANCED_SCALE_SHIFT, EQUAL_RECALL):
        met_all = fit(method, metfaces.probabilities, metfaces.y)
        rows.append(["scenes", f"{method}: MetFaces-fitted", *figures(met_all(scenes.probabilities), scenes.labels, scenes.y)])
        rows.append(["scenes", f"{method}: scenes alone, by painter",
                     *figures(out_of_fold(method, scenes), scenes.labels, scenes.y)])
        out = np.zeros_like(pooled_p)
        for met_test, scene_test in zip(metfaces.folds, scenes.folds):
            test = np.concatenate([met_test, n_met + scene_test])
            train = np.setdiff1d(np.arange(len(pooled_y)), test)
            out[test] = fit(method, pooled_p[train], pooled_y[train])(pooled_p[test])
        rows.append(["scenes", f"{method}: pooled with MetFaces", *figures(out[n_met:], scenes.labels, scenes.y)])
        rows.append(["MetFaces", f"{method}: pooled with scenes", *figures(out[:n_met], metfaces.labels, metfaces.y)])
        rows.append(["both", f"{method}: pooled", *figures(out, metfaces.labels + scenes.labels, pooled_y)])
    print_table(["faces", "calibration: fitted on", *HEADERS[2:]], rows,
                "Scene paintings with the MetFaces portraits or apart (out-of-fold: MetFaces fold k with scene fold k)")


def coverage_table(card: ModelCard, runs: int) -> None:
    """The prevalence-coverage grid on the card's own posters and scenes confusion rates."""
    from classify_prevalence_coverage import TARGET, grid
    from postercensus.classify.prevalence.estimate import EXACT

    rows = []
    for name in ("posters", "scenes"):
        held = (card.domains or {})[name].held_out_predictions or {}
        confusion = ConfusionMatrix.from_pairs(held["true"], [LABELS[k] for k in np.argmax(held["probabilities"], axis=1)],
                                               LABELS, LABELS)
        rates = tuple(tuple(float(rate) for rate in row) for row in confusion.rates().round(4))
        cells = grid(runs=runs, n_boot=1000, seed=0, intervals=(EXACT,), classifiers=((name, rates),))
        worst = min(cells, key=lambda cell: cell.coverage)
        standard_error = float(np.sqrt(0.95 * 0.05 / runs))
        rows.append([name, str(rates), len(cells), f"{worst.coverage:.3f} (size {worst.size}, share {worst.share}, "
                     f"{worst.labelled} labelled)", sum(cell.coverage < TARGET for cell in cells),
                     sum(cell.coverage < TARGET - 2 * standard_error for cell in cells)])
    print_table(["card domain", "rates P(decided | true)", "cells", "lowest coverage", f"cells < {TARGET}",
                 f"cells < {TARGET} by over 2 s.e."], rows,
                f"Coverage of the exact 95 % interval on the card's confusion ({runs} runs a cell)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coverage-runs", type=int, default=300, help="runs per cell of the coverage grid (0: skip it)")
    args = parser.parse_args()
    require_data(DATA / "nk-poster-faces", DATA / "utkface", DATA / "metfaces-faces", DATA / "painting-faces")
    folder = modelfolder.default_model_folder()
    card = modelfolder.read_card(folder)
    domains = card_domains(card)
    scenes = scene_domain(folder)
    matched = int(scenes.matched.sum())  # type: ignore[attr-defined]
    print(f"model {card.model_id} version {modelfolder.model_version(folder)}; scene paintings: "
          f"{len(scenes.y)} hand-boxed faces, {matched} cut from the face stage's matched detection (IoU ≥ 0.3), "
          f"{len(scenes.y) - matched} from the hand box (no detection matched); "
          f"{len(set(scenes.groups))} painters\n")
    everything = [*domains.values(), scenes]
    print_table(["faces", "n", "female", "AUC (ranking, calibration-free)"],
                [[d.name, len(d.y), int((d.y == 0).sum()), round(auc(d.probabilities, d.y), 4)] for d in everything],
                "Ranking")
    domain_table(everything)
    pooled_table(domains["paintings"], scenes)
    adults = [k for k, row in enumerate(utk_files(DATA)) if int(row[3]["age"]) >= 18]
    photos = domains["photos"]
    rows = []
    for method in METHODS:
        out = out_of_fold(method, photos)[adults]
        rows.append([f"UTKFace adults ({len(adults)})", method,
                     *figures(out, [photos.labels[k] for k in adults], photos.y[adults])])
    print_table(HEADERS, rows, "UTKFace adults (18+), from the photos domain's cross-fitted calibrations")
    matched = np.flatnonzero(scenes.matched)  # type: ignore[attr-defined]
    rows = []
    for method in METHODS:
        out = out_of_fold(method, scenes)[matched]
        rows.append([f"scenes, detected faces only ({len(matched)})", method,
                     *figures(out, [scenes.labels[k] for k in matched], scenes.y[matched],
                              [scenes.groups[k] for k in matched])])
    print_table(HEADERS, rows, "Scene paintings, the faces the face stage detects (its crops), from the scenes "
                               "domain's cross-fitted calibrations (fitted on all 636)")
    shares_table(everything, domains["paintings"], scenes)
    if args.coverage_runs:
        coverage_table(card, args.coverage_runs)
    print(json.dumps({"note": "recall F/M: share of female/male faces decided so; gap = recall F − recall M; "
                              "ECE on the top label, 10 bins"}))


if __name__ == "__main__":
    main()
