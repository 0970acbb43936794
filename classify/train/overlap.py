"""How much of an evaluation the model has already seen: faces whose image trained it.

Figures on training faces flatter a model (the shipped default scores 0.986 on the NK poster
faces it was trained on, 0.877 out of fold), and nothing in a report would otherwise say so.
Every evaluated face's image SHA-256 is looked up in the model's training list; the overlap is
reported with the accuracy on the unseen faces alone. A model that recorded no list gets
"unknown", never 0.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from postercensus.classify.train.metrics import evaluate_predictions

UNKNOWN_NOTE = ("this model did not record its training images (trained before postercensus kept them), "
                "so whether these faces trained it is unknown; retrain it to record them")


def training_overlap(image_sha256: Sequence[str | None], training: frozenset[str] | None, true: Sequence[str],
                     probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """`training_overlap` of an evaluation report: how many faces (and what share) come from an
    image in `training`, and the accuracy on the others alone."""
    if training is None:
        return {"known": False, "count": None, "share": None, "training_images": None, "unseen": None,
                "note": UNKNOWN_NOTE}
    seen = np.array([digest in training for digest in image_sha256], dtype=bool)
    unseen = np.flatnonzero(~seen)
    figures: dict[str, Any] = {"faces": len(unseen), "accuracy": None, "balanced_accuracy": None}
    if len(unseen):
        report = evaluate_predictions([true[i] for i in unseen], probabilities[unseen], labels)
        figures.update(accuracy=report["accuracy"], balanced_accuracy=report["balanced_accuracy"])
    return {"known": True, "count": int(seen.sum()), "share": round(float(seen.mean()), 4) if len(seen) else 0.0,
            "training_images": len(training), "unseen": figures}


def overlap_lines(overlap: dict[str, Any], n: int) -> list[str]:
    """What to tell the person who ran the evaluation, plainly: a warning when faces trained the
    model (with the unseen faces' figures), a note when nobody can tell."""
    if not overlap["known"]:
        return [f"training overlap unknown: {overlap['note']}"]
    if not overlap["count"]:
        return [f"training overlap: none of the {n} faces is an image the model was trained on"]
    unseen = overlap["unseen"]
    lines = [f"warning: {overlap['count']} of {n} faces ({overlap['share']:.1%}) are images the model was trained on; "
             "figures that include them overstate how it does on new faces"]
    if unseen["faces"]:
        lines.append(f"unseen faces only ({unseen['faces']}): accuracy {unseen['accuracy']:.3f}, "
                     f"balanced accuracy {unseen['balanced_accuracy']:.3f}")
    else:
        lines.append("unseen faces only (0): every face trained the model; its held-out figures are in its "
                     "model.json (`evaluation`)")
    return lines
