"""Refit the default model's per-domain calibration from its stored out-of-fold predictions, without retraining.

Issue 22: a temperature cannot remove the model's male bias on depicted faces; a temperature
with an equal-recall shift (`classify.train.calibration`) can, and scene paintings calibrate apart from the
MetFaces portraits (benchmarks/results/classify_calibration_shift.txt). This rewrites the card's
`domains` (posters, paintings, photos from the card's own out-of-fold predictions, made
uncalibrated again; scenes from the scene-painting faces of ../shared/data/painting-faces, which
the model never saw, predicted by it) with that calibration, cross-fitted by group (NK by poster,
MetFaces by object id, UTKFace by file, scenes by painter), and regenerates MODEL_CARD.md. The
weights are untouched; the model version changes with the card, so predictions are made anew.

    python -m postercensus.classify.recipes.recalibrate_default [--model classify/default_model] [--method NAME]
"""
from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.train.calibration import EQUAL_RECALL, METHODS  # noqa: E402
from postercensus.classify.train.domains import DOMAINS, domain_entry  # noqa: E402
from postercensus.classify.models.modelcard import DomainCalibration  # noqa: E402
from postercensus.classify.recipes.cardpage import model_card  # noqa: E402
from postercensus.classify.recipes.data import DATA, require_data  # noqa: E402
from postercensus.classify.recipes.depicted import LABELS  # noqa: E402
from postercensus.classify.recipes.outoffold import card_domains, scene_domain  # noqa: E402

SCENES_NOTE = ("scenes: 636 hand-boxed faces in 463 scene paintings (../shared/data/painting-faces), cut as the face "
               "stage cuts them (its detection matched to the hand box, else the hand box); never trained on, "
               "calibration and evaluation only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=modelfolder.default_model_folder())
    parser.add_argument("--method", choices=METHODS, default=EQUAL_RECALL)
    args = parser.parse_args()
    require_data(DATA / "nk-poster-faces", DATA / "utkface", DATA / "metfaces-faces", DATA / "painting-faces")
    card = modelfolder.read_card(args.model)
    sets = card_domains(card)
    sets["scenes"] = scene_domain(args.model)
    entries = {name: DomainCalibration.from_dict(domain_entry(sets[name].labels, sets[name].probabilities, LABELS,
                                                              sets[name].groups, args.method)) for name in DOMAINS}
    card = replace(card, domains=entries,
                   domains_note=("calibration per domain fitted on all its out-of-fold faces; the stored predictions "
                                 "and figures are cross-fitted (5 folds by group). " + SCENES_NOTE))
    modelfolder.write_card(args.model, card)
    (args.model / "MODEL_CARD.md").write_text(model_card(card), encoding="utf-8")
    for name, entry in entries.items():
        print(f"{name:10} n={entry.n:5}  accuracy {entry.accuracy:.1%}  balanced {entry.balanced_accuracy:.1%}  "
              f"recall {entry.recall} (before {entry.recall_before_calibration})  ECE {entry.ece:.3f}  "
              f"T {entry.temperature} shift {entry.shift}")
    print(f"written: {args.model} (version {modelfolder.model_version(args.model)})")


if __name__ == "__main__":
    main()
