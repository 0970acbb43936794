"""Train the shipped perceived-gender model (classify/default_model/) from ../shared/data, reproducibly.

The recipe lives in the package, not under benchmarks/ (which only measures): it writes the model
every install ships, and the benchmarks import its pieces to measure the same recipe.

Recipe (issue 15: a default for depicted faces):
- faces: UTKFace photographs, NK poster faces and MetFaces painted faces, found and aligned as the
  face stage does (`stage_face_settings()`), the whole crop where no face is found;
- folds: five, grouped per domain (UTKFace by file, NK by poster, MetFaces by object id), the
  same folds the CNNs were trained on (`pack_depicted_faces.py`; checked here);
- members: the dlib 128-d descriptor → Keras head (domains weighted to count equally, early-stopped
  on a grouped 15 %), and the depicted-face CNNs trained on a GPU by `train_depicted_cnn.py` (one
  run directory each: `weights.npz`, `results.npz` with its out-of-fold probabilities);
- the CNNs' share of the averaged probabilities is chosen on a grid by cross-fitting (fold k's
  share is the one that scores best on the other folds' out-of-fold predictions, by the mean of
  the three domains' accuracies): the reported figures are those cross-fitted predictions, the
  shipped share is the grid value best on all folds;
- calibration: per domain a temperature and an equal-recall shift (`classify.train.calibration`), fitted on that
  domain's out-of-fold predictions; the card stores each domain's out-of-fold predictions
  (calibrated, cross-fitted by group), from which `analyze` corrects shares for the domain the user
  declares (`[classify] domain`); the `scenes` domain (scene paintings, never trained on) is added
  afterwards by `python -m postercensus.classify.recipes.recalibrate_default`, which also refits every domain from the
  stored predictions without retraining;
- the shipped head is fitted on every face; `base_faces.npz` keeps every face's descriptor so
  `classify train` can add a researcher's faces to them; the SHA-256 of every training image goes
  to training_sha256.txt (so `classify evaluate` can say when it is shown faces the model saw).

    python -m postercensus.classify.recipes.train_default --cnn RUN_DIR [--cnn RUN_DIR ...] --pack PACK.npz \
        [--out classify/default_model]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from postercensus.catalog import __version__  # noqa: E402
from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.models.backbones import DlibBackbone  # noqa: E402
from postercensus.classify.models.basefaces import BaseFaces  # noqa: E402
from postercensus.classify.models.classifier import ensemble_probabilities  # noqa: E402
from postercensus.classify.models.cnnbackbone import CnnBackbone, CnnSettings, build_cnn, load_exported_weights  # noqa: E402
from postercensus.classify.train.domains import domain_entry  # noqa: E402
from postercensus.classify.models.facesamples import stage_face_settings  # noqa: E402
from postercensus.classify.models.fisherfaces import Fisherfaces, pixels_of  # noqa: E402
from postercensus.classify.train.metrics import evaluate_predictions  # noqa: E402
from postercensus.classify.models.modelcard import ModelCard  # noqa: E402
from postercensus.classify.recipes.cardpage import model_card  # noqa: E402
from postercensus.classify.recipes.data import DATA, REPO, progress, require_data  # noqa: E402
from postercensus.classify.recipes.depicted import (DOMAINS, HEAD, LABELS, VALIDATION_SHARE, Combined,  # noqa: E402
                                                    combine, domain_folds, domain_weights, head_probabilities)
from postercensus.classify.recipes.faces import DEFAULT_CACHE, load_faces, metfaces_files, nk_files, utk_files  # noqa: E402
from postercensus.classify.train.training import held_out_predictions, train_head, training_images_entry, validation_split  # noqa: E402

MODEL_ID = "perceived-gender-depicted"
SHARE_GRID = tuple(round(0.1 * k, 1) for k in range(11))
AGE_GROUPS = (("children (0-12)", 0, 12), ("teenagers (13-17)", 13, 17), ("adults (18+)", 18, 200))
LICENCE = ("UTKFace is for non-commercial research only; this model is trained on it and inherits that restriction. "
           "NK poster faces (Leiden University collection) and MetFaces crops (The Met Open Access, CC0 images; "
           "labels from the-happy-team/detr-painting-faces): research use.")


def domain_accuracy_mean(probabilities: np.ndarray, data: Combined, rows: np.ndarray) -> float:
    """The mean of the three domains' accuracies over `rows`: each domain counts the same."""
    right = probabilities.argmax(axis=1) == data.y
    return float(np.mean([right[rows][data.domain[rows] == domain].mean() for domain, _ in DOMAINS]))


def best_share(head: np.ndarray, cnns: list[np.ndarray], data: Combined, rows: np.ndarray) -> float:
    """The grid share scoring best on `rows` (ties: the smaller share, the head's side)."""
    scores = [domain_accuracy_mean(ensemble_probabilities(head, cnns, share), data, rows) for share in SHARE_GRID]
    return SHARE_GRID[int(np.argmax(scores))]


def cross_fitted_ensemble(head: np.ndarray, cnns: list[np.ndarray], data: Combined,
                          folds: list[np.ndarray]) -> tuple[np.ndarray, list[float]]:
    """Out-of-fold ensemble probabilities with each fold's share chosen on the other folds."""
    out = np.zeros_like(head)
    shares = []
    for test in folds:
        share = best_share(head, cnns, data, np.setdiff1d(np.arange(len(data.y)), test))
        out[test] = ensemble_probabilities(head[test], [c[test] for c in cnns], share)
        shares.append(share)
    return out, shares


def load_cnn_run(run: Path, data: Combined, pack_folds: np.ndarray) -> tuple[np.ndarray, dict, dict]:
    """(out-of-fold probabilities, Keras-layout weights, summary) of one GPU run's chosen setting."""
    summary = json.loads((run / "summary.json").read_text())
    with np.load(run / "results.npz") as results:
        probabilities = results[f"oof/{summary['chosen']}/probabilities"].astype(np.float32)
    if len(probabilities) != len(data.y):
        sys.exit(f"{run}: {len(probabilities)} faces, not the {len(data.y)} described here")
    with np.load(run / "weights.npz") as weights:
        return probabilities, {name: weights[name] for name in weights.files}, summary


def keras_cnn(weights: dict, summary: dict) -> CnnBackbone:
    setting = summary["final_setting"]
    settings = CnnSettings(widths=tuple(setting["widths"]), repeats=tuple(setting["repeats"]),
                           embedding=setting["embedding"], dropout=setting["dropout"])
    model = build_cnn(settings, len(LABELS))
    load_exported_weights(model, weights)
    return CnnBackbone(model, settings, LABELS, flips=True)


def by_group(data: Combined, probabilities: np.ndarray) -> dict[str, dict[str, dict]]:
    """Accuracy per UTKFace race label and age group (out-of-fold): where the model errs more."""
    photos = np.flatnonzero(data.domain == "photos")
    extra = data.faces[0].extra

    def figures(members: list[int]) -> dict:
        report = evaluate_predictions([data.labels[photos[k]] for k in members], probabilities[photos[members]], LABELS)
        return {"n": report["n"], "accuracy": report["accuracy"], "balanced_accuracy": report["balanced_accuracy"]}

    races = {race: figures([k for k, row in enumerate(extra) if row["race"] == race])
             for race in sorted({row["race"] for row in extra})}
    ages = {name: figures([k for k, row in enumerate(extra) if low <= int(row["age"]) <= high])
            for name, low, high in AGE_GROUPS}
    return {"race": races, "age": ages}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cnn", type=Path, action="append", required=True,
                        help="a benchmarks/train_depicted_cnn.py output directory (repeat for several CNN members)")
    parser.add_argument("--pack", type=Path, required=True, help="the pack the CNNs were trained on (its folds)")
    parser.add_argument("--out", type=Path, default=REPO / "classify" / "default_model")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    require_data(DATA / "nk-poster-faces", DATA / "utkface", DATA / "metfaces-faces")
    settings = stage_face_settings()
    files = {"utk": utk_files(DATA), "nk": nk_files(DATA), "metfaces": metfaces_files(DATA)}
    sets = {name: load_faces(name, rows, DEFAULT_CACHE, settings=settings) for name, rows in files.items()}
    data = combine(sets)
    folds = domain_folds(data, args.folds)
    with np.load(args.pack) as pack:
        pack_folds, pack_paths = pack["fold"], [str(Path(p).resolve()) for p in pack["paths"]]
    paths = [str(p.resolve()) for faces in data.faces for p in faces.paths]
    fold_of = np.zeros(len(data.y), int)
    for k, members in enumerate(folds):
        fold_of[members] = k
    if paths != pack_paths or not (fold_of == pack_folds).all():
        sys.exit("the pack's faces or folds are not the ones described here: re-pack and retrain the CNNs")

    progress(f"dlib head, grouped {args.folds}-fold out-of-fold on {len(data.y)} faces")
    head_oof = np.zeros((len(data.y), len(LABELS)), np.float32)
    for k, test in enumerate(folds):
        head_oof[test] = head_probabilities(data.dlib, data, np.setdiff1d(np.arange(len(data.y)), test), test)
        progress(f"  fold {k + 1}/{len(folds)}")
    runs = [load_cnn_run(run, data, pack_folds) for run in args.cnn]
    cnn_oof = [probabilities for probabilities, _, _ in runs]
    ensemble_oof, fold_shares = cross_fitted_ensemble(head_oof, cnn_oof, data, folds)
    share = best_share(head_oof, cnn_oof, data, np.arange(len(data.y)))
    progress(f"CNN share per fold {fold_shares}; shipped {share}")

    domains = {}
    for domain, _ in DOMAINS:
        rows = np.flatnonzero(data.domain == domain)
        domains[domain] = domain_entry([data.labels[i] for i in rows], ensemble_oof[rows], LABELS,
                                       [data.groups[i] for i in rows])

    progress("the shipped head, on every face")
    everything = np.arange(len(data.y))
    fit_idx, validation_idx = validation_split(data.labels, data.groups, everything, VALIDATION_SHARE, HEAD.seed + 1)
    head, history = train_head(data.dlib, data.y, len(LABELS), fit_idx, validation_idx, HEAD,
                               domain_weights(data.domain, everything))
    nk = sets["nk"]
    fisher = Fisherfaces.fit(pixels_of(nk.samples), np.array([LABELS.index(label) for label in nk.labels]), LABELS)
    images = sorted({sha256_of(Path(path)) for path in paths})
    posters = np.flatnonzero(data.domain == "posters")
    card = ModelCard.from_dict({
        "format": 1,
        "model_id": MODEL_ID,
        "labels": list(LABELS),
        "backbone": DlibBackbone().describe(),
        "fine_tuned": False,
        "head": HEAD.to_dict(),
        "ensemble": {
            "cnn_share": share,
            "cnn_members": [f"{modelfolder.CNN_STEM}-{k + 1}" for k in range(len(runs))],
            "cnn_settings": [summary["final_setting"] for _, _, summary in runs],
            "share_chosen_by": f"grid {list(SHARE_GRID)}, mean of the three domains' out-of-fold accuracies; "
                               f"cross-fitted shares per fold {fold_shares}",
        },
        "training": {
            "data": "UTKFace (photographs) + NK poster faces (Leiden University collection, hand-labelled) + "
                    "MetFaces painted faces (The Met)",
            "faces": len(data.y),
            "per_domain": dict(Counter(data.domain.tolist())),
            "per_label": dict(sorted(Counter(data.labels).items())),
            "faces_taken_whole": sum(not s.detected for faces in data.faces for s in faces.samples),
            "face_settings": settings.parameters(),
            "history": history,
            "recipe": "python -m postercensus.classify.recipes.train_default",
            **training_images_entry(images),
        },
        "evaluation": evaluate_predictions([data.labels[i] for i in posters], ensemble_oof[posters], LABELS),
        "evaluation_note": f"NK poster faces, out-of-fold predictions of a grouped {args.folds}-fold cross-validation "
                           "of this recipe (folds by poster), before calibration; per domain: `domains`",
        "held_out_predictions": held_out_predictions([data.labels[i] for i in posters], ensemble_oof[posters]),
        "domains": domains,
        "evaluation_photographs": {"by_group": by_group(data, ensemble_oof),
                                   "note": "UTKFace, out-of-fold (grouped by file), before calibration"},
        "baseline_fisherfaces": {"note": "fitted on all NK faces; see classify_nk_cv.py for its cross-validated figures"},
        "licence": LICENCE,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "postercensus_version": __version__,
    })
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    head.save(args.out / modelfolder.HEAD_FILE)
    for stem, (_, weights, summary) in zip(card.cnn_members, runs):
        keras_cnn(weights, summary).save(args.out, stem)
    fisher.save(args.out / modelfolder.FISHERFACES_FILE)
    BaseFaces(data.dlib, data.labels, data.domain.tolist(), data.groups).save(args.out)
    modelfolder.write_training_images(args.out, images)
    modelfolder.write_card(args.out, card)
    (args.out / "MODEL_CARD.md").write_text(model_card(card), encoding="utf-8")
    for name, entry in domains.items():
        print(f"{name:10} n={entry['n']:5}  accuracy {entry['accuracy']:.1%}  balanced {entry['balanced_accuracy']:.1%}  "
              f"ECE {entry['ece_before_calibration']:.3f} -> {entry['ece']:.3f} (T {entry['temperature']})")
    print(f"written: {args.out} (version {modelfolder.model_version(args.out)})")


if __name__ == "__main__":
    main()
