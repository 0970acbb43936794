"""Train the shipped perceived-gender model (classify/default_model/) from ../shared/data, reproducibly.

Recipe (the same in `classify_nk_cv.py`'s "default recipe" row):
- features: dlib's 128-d descriptor of the face found by HOG (or the whole crop) in each image;
- data: UTKFace photographs (80 % for training, 20 % held out, never seen) plus the NK poster faces;
- the head is fitted on the training photographs and NK posters (each poster face weighted 40×,
  so the two domains count about equally), stopped early on a validation
  part of both (10 % of the photographs, 15 % of the NK posters, split by poster);
- the confusion matrix used for corrected shares is the out-of-fold one from a grouped 5-fold
  cross-validation of this recipe on the NK posters: posters are the domain the model is used on,
  and 220 out-of-fold faces estimate its error rates better than one small held-out split;
- the SHA-256 of every image the shipped head was fitted or early-stopped on (the UTKFace
  training photos, every NK face) goes to training_sha256.txt, so `classify evaluate` can say
  when it is shown faces the model has already seen.

    python benchmarks/train_default_model.py [--out classify/default_model]
    python benchmarks/train_default_model.py --hashes-only   # add that list to a folder trained before it was kept
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from bench_support import DATA, progress, require_data  # noqa: E402
from classify_data import LabelledFaces, load_faces, nk_files, utk_files  # noqa: E402
from catalog import __version__  # noqa: E402
from classify import modelfolder  # noqa: E402
from classify.backbones import DlibBackbone  # noqa: E402
from classify.fisherfaces import Fisherfaces, pixels_of  # noqa: E402
from classify.head import HeadSettings  # noqa: E402
from classify.metrics import evaluate_predictions  # noqa: E402
from classify.splits import grouped_folds, grouped_holdout  # noqa: E402
from classify.training import held_out_predictions, train_head, training_images_entry, validation_split  # noqa: E402

LABELS = ("female", "male")
MODEL_ID = "perceived-gender-dlib"
REPO = Path(__file__).resolve().parents[1]
UTK_TEST_SHARE = 0.2
UTK_VALIDATION_SHARE = 0.1
NK_VALIDATION_SHARE = 0.15
SEED = 0
# Ten thousand photographs: larger batches keep an epoch short; the rest is the folder default.
RECIPE_HEAD = HeadSettings(batch_size=128, seed=SEED)
# Each NK poster face weighs this many photographs, so the 220 posters count about as much as the
# ~7,000 fitting photographs: grouped CV on NK, 85.9 % at weight 1, 86.8 % at 10, 87.7 % at 40.
POSTER_WEIGHT = 40.0
HELD_OUT_NOTE = ("UTKFace held-out 20 % of the files, never used in training; copies_of_training_images of them "
                 "have the same bytes as a training file")


def indices(labels: list[str]) -> np.ndarray:
    return np.array([LABELS.index(label) for label in labels])


def utk_split(labels: list[str], groups: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fit, validation, held-out) indices of the UTKFace photos: seeded and grouped, so the same
    sorted file list always gives the same three parts."""
    rest, test = grouped_holdout(labels, groups, UTK_TEST_SHARE, SEED)
    fit, validation = validation_split(labels, groups, rest, UTK_VALIDATION_SHARE, SEED + 1)
    return fit, validation, test


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def training_image_hashes(utk_paths: list[Path], utk_train: np.ndarray, nk_paths: list[Path]) -> list[str]:
    """SHA-256 of the files the shipped head learnt from: the UTKFace fit and validation photos and
    every NK face (the final head is fitted on all of them); the held-out photos stay out."""
    paths = [utk_paths[i] for i in utk_train] + list(nk_paths)
    return sorted({sha256_of(path) for path in paths})


def held_out_copies(utk_paths: list[Path], utk_test: np.ndarray, images: list[str]) -> int:
    """Held-out photos whose bytes equal a training photo's: UTKFace holds duplicate files under
    different names, which a split by file name cannot keep apart."""
    trained = set(images)
    return sum(sha256_of(utk_paths[i]) in trained for i in utk_test)


class Recipe:
    """Fits the default head on UTKFace training photos + chosen NK faces (validation from both)."""

    def __init__(self, utk: LabelledFaces, nk: LabelledFaces) -> None:
        backbone = DlibBackbone()
        self.utk_x, self.nk_x = backbone.features(utk.samples), backbone.features(nk.samples)
        self.utk_y, self.nk_y = indices(utk.labels), indices(nk.labels)
        self.nk = nk
        self.utk_fit, self.utk_validation, self.utk_test = utk_split(utk.labels, utk.groups)

    def fit(self, nk_train: np.ndarray, seed: int = SEED, poster_weight: float = POSTER_WEIGHT):
        nk_fit, nk_validation = validation_split(self.nk.labels, self.nk.groups, nk_train, NK_VALIDATION_SHARE, seed + 2)
        x = np.concatenate([self.utk_x, self.nk_x])
        y = np.concatenate([self.utk_y, self.nk_y])
        offset = len(self.utk_y)
        fit_idx = np.concatenate([self.utk_fit, nk_fit + offset])
        validation_idx = np.concatenate([self.utk_validation, nk_validation + offset])
        weights = np.concatenate([np.ones(offset), np.full(len(self.nk_y), poster_weight)])
        return train_head(x, y, len(LABELS), fit_idx, validation_idx, replace(RECIPE_HEAD, seed=seed), weights)


AGE_GROUPS = (("children (0-12)", 0, 12), ("teenagers (13-17)", 13, 17), ("adults (18+)", 18, 200))


def by_group(utk: LabelledFaces, test: np.ndarray, probabilities: np.ndarray) -> dict[str, dict[str, dict]]:
    """Accuracy per UTKFace race label and age group on the held-out photos: where the model errs more."""
    def figures(members: list[int]) -> dict:
        report = evaluate_predictions([utk.labels[test[k]] for k in members], probabilities[members], LABELS)
        return {"n": report["n"], "accuracy": report["accuracy"], "balanced_accuracy": report["balanced_accuracy"]}

    rows = [utk.extra[i] for i in test]
    races = {race: figures([k for k, row in enumerate(rows) if row["race"] == race])
             for race in sorted({row["race"] for row in rows})}
    ages = {name: figures([k for k, row in enumerate(rows) if low <= int(row["age"]) <= high])
            for name, low, high in AGE_GROUPS}
    return {"race": races, "age": ages}


def model_card(card: dict) -> str:
    """The human-readable model card shipped beside model.json."""
    posters, photos = card["evaluation"], card["evaluation_photographs"]
    nk = card["training"]["nk_poster_faces"]
    groups = "\n".join(f"| {kind}: {name} | {f['n']} | {f['accuracy']:.1%} | {f['balanced_accuracy']:.1%} |"
                        for kind, members in photos["by_group"].items() for name, f in members.items())
    matrix = posters["confusion"]["matrix"]
    return f"""# Model card: {card['model_id']} (postercensus default)

**What it does.** Labels a detected, aligned face with a *perceived* gender, `female` or `male`,
with a probability. Perceived gender is an annotation of how a face is depicted, not a person's
identity; the labels are the two used by the training data and by the seed study.

**Architecture.** dlib's 128-d face ResNet descriptor (face_recognition_models, computed by the
face stage) → Keras head (normalisation, Dense {card['head']['hidden']} ReLU, Dropout
{card['head']['dropout']}, softmax), class-weighted, early-stopped. Recipe:
`benchmarks/train_default_model.py` (reproducible from `../shared/data`).

**Training data.** UTKFace photographs ({card['training']['utkface']['fit']} for fitting,
{card['training']['utkface']['validation']} for early stopping, {card['training']['utkface']['held_out']}
held out) and {nk['faces']} hand-labelled face crops from {nk['posters']} North Korean propaganda
posters (Leiden University collection; {nk['per_label']}); {nk['faces_taken_whole']} poster crops
had no face found by HOG and were described whole.

**Training images.** The SHA-256 of the {card['training']['images_sha256']['images']} image files it was fitted or
early-stopped on (the UTKFace fitting and early-stopping photographs and every NK poster crop) are in
`{card['training']['images_sha256']['file']}`. `classify evaluate` counts the evaluated faces among them, warns,
and gives the accuracy on the other faces alone: evaluated on the NK poster crops themselves, this
model scores far above the cross-validated figure below, which is the one to cite.

**Licence.** {card['licence']}

## Evaluation

Posters (the domain it is used on): {card['evaluation_note']}: accuracy {posters['accuracy']:.1%},
balanced accuracy {posters['balanced_accuracy']:.1%}, ECE {posters['ece']:.3f}; female recall
{posters['per_class']['female']['recall']:.1%}, male recall {posters['per_class']['male']['recall']:.1%}.
Confusion (rows true female/male, columns predicted female/male): {matrix}. These out-of-fold
predictions are stored in `model.json` (`held_out_predictions`): `classify predict` and the
analysis correct every share with them.

Photographs (UTKFace held-out, {photos['n']}): accuracy {photos['accuracy']:.1%}, balanced
{photos['balanced_accuracy']:.1%}. {photos['copies_of_training_images']} of these photographs are byte-identical
copies of training photographs (UTKFace holds duplicate files under different names). By
UTKFace's race label and by age:

| group | n | accuracy | balanced accuracy |
|---|---|---|---|
{groups}

**Known limits.** Errs more on drawn than on photographed faces, on children, and unevenly
between groups (table above); poster faces found by a detector may include non-faces, which
people can mark `other` in `classify label`. Report corrected shares with their intervals,
never raw counts alone.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "classify" / "default_model")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--hashes-only", action="store_true",
                        help="only record the training images' SHA-256 in the existing --out folder (no training)")
    args = parser.parse_args()
    require_data(DATA / "nk-poster-faces", DATA / "utkface")
    if args.hashes_only:
        record_training_images(args.out)
        return
    nk, utk = load_faces("nk", nk_files(DATA)), load_faces("utk", utk_files(DATA))
    recipe = Recipe(utk, nk)

    progress(f"cross-validating the recipe on {len(nk.labels)} NK faces ({args.folds} folds by poster)")
    out_of_fold = np.zeros((len(nk.labels), len(LABELS)), dtype=np.float32)
    for test in grouped_folds(nk.labels, nk.groups, args.folds, SEED):
        head, _ = recipe.fit(np.setdiff1d(np.arange(len(nk.labels)), test))
        out_of_fold[test] = head.predict(recipe.nk_x[test], verbose=0)
    nk_evaluation = evaluate_predictions(nk.labels, out_of_fold, LABELS)

    progress("training the shipped head on UTKFace training photos + all NK faces")
    head, history = recipe.fit(np.arange(len(nk.labels)))
    utk_probabilities = head.predict(recipe.utk_x[recipe.utk_test], verbose=0)
    utk_true = [utk.labels[i] for i in recipe.utk_test]
    utk_evaluation = evaluate_predictions(utk_true, utk_probabilities, LABELS)
    fisher = Fisherfaces.fit(pixels_of(nk.samples), recipe.nk_y, LABELS)
    images = training_image_hashes(utk.paths, np.concatenate([recipe.utk_fit, recipe.utk_validation]), nk.paths)
    copies = held_out_copies(utk.paths, recipe.utk_test, images)

    card = {
        "format": 1,
        "model_id": MODEL_ID,
        "labels": list(LABELS),
        "backbone": DlibBackbone().describe(),
        "fine_tuned": False,
        "head": RECIPE_HEAD.to_dict(),
        "training": {
            "data": "UTKFace (photographs) + NK poster faces (Leiden University collection, hand-labelled)",
            "utkface": {"fit": len(recipe.utk_fit), "validation": len(recipe.utk_validation),
                        "held_out": len(recipe.utk_test)},
            "nk_poster_faces": {"faces": len(nk.labels), "posters": len(set(nk.groups)),
                                "per_label": dict(sorted(Counter(nk.labels).items())),
                                "faces_taken_whole": sum(not s.detected for s in nk.samples)},
            "history": history,
            "recipe": "benchmarks/train_default_model.py",
            **training_images_entry(images),
        },
        "evaluation": nk_evaluation,
        "evaluation_note": f"NK poster faces, out-of-fold predictions of a grouped {args.folds}-fold "
                           "cross-validation of this recipe (folds by poster)",
        "held_out_predictions": held_out_predictions(nk.labels, out_of_fold),
        "evaluation_photographs": {**utk_evaluation, "by_group": by_group(utk, recipe.utk_test, utk_probabilities),
                                   "note": HELD_OUT_NOTE, "copies_of_training_images": copies},
        "baseline_fisherfaces": {"note": "fitted on all NK faces; see classify_nk_cv.py for its cross-validated figures"},
        "licence": "UTKFace is for non-commercial research only; this model is trained on it and inherits "
                   "that restriction. NK poster faces: research use.",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "postercensus_version": __version__,
    }
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    head.save(args.out / modelfolder.HEAD_FILE)
    fisher.save(args.out / modelfolder.FISHERFACES_FILE)
    modelfolder.write_training_images(args.out, images)
    modelfolder.write_card(args.out, card)
    (args.out / "MODEL_CARD.md").write_text(model_card(card), encoding="utf-8")
    print(f"NK posters (out-of-fold, {nk_evaluation['n']} faces): accuracy {nk_evaluation['accuracy']:.1%}, "
          f"balanced {nk_evaluation['balanced_accuracy']:.1%}, ECE {nk_evaluation['ece']:.3f}")
    print(f"UTKFace held-out ({utk_evaluation['n']} photos): accuracy {utk_evaluation['accuracy']:.1%}, "
          f"balanced {utk_evaluation['balanced_accuracy']:.1%}, ECE {utk_evaluation['ece']:.3f}")
    for kind, members in card["evaluation_photographs"]["by_group"].items():
        for name, figures in members.items():
            print(f"  {kind} {name:18} n={figures['n']:5}  accuracy {figures['accuracy']:.1%}")
    print(f"written: {args.out} (version {modelfolder.model_version(args.out)})")


def record_training_images(out: Path) -> None:
    """Add the training-image list to a folder this recipe wrote before the list was kept, without
    retraining: the file lists are sorted and the splits seeded, so the same files come out. The
    card's split sizes must match what is recomputed (an unreadable photo dropped at training would
    shift the split), else nothing is written."""
    card = modelfolder.read_card(out)
    utk, nk = utk_files(DATA), nk_files(DATA)
    fit, validation, test = utk_split([row[1] for row in utk], [row[2] for row in utk])
    recorded = card["training"]["utkface"]
    found = {"fit": len(fit), "validation": len(validation), "held_out": len(test)}
    if found != recorded or len(nk) != card["training"]["nk_poster_faces"]["faces"]:
        sys.exit(f"the recomputed split {found} (+{len(nk)} NK faces) is not the card's {recorded}: retrain instead")
    images = training_image_hashes([row[0] for row in utk], np.concatenate([fit, validation]), [row[0] for row in nk])
    modelfolder.write_training_images(out, images)
    card["training"] = {**card["training"], **training_images_entry(images)}
    card["evaluation_photographs"].update(note=HELD_OUT_NOTE,
                                          copies_of_training_images=held_out_copies([row[0] for row in utk], test, images))
    modelfolder.write_card(out, card)
    (out / "MODEL_CARD.md").write_text(model_card(card), encoding="utf-8")
    print(f"recorded {len(images)} training images in {out / modelfolder.TRAINING_IMAGES_FILE} "
          f"(version {modelfolder.model_version(out)})")


if __name__ == "__main__":
    main()
