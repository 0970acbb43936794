"""Corrected label shares for a model's predictions, with the confusion matrix from its own card.

The matrix comes from the model's held-out faces, decided with the same rule (argmax, or the
threshold with an `uncertain` column) as the counts being corrected, as the estimator requires.
When the card calibrates per domain, they are the held-out faces of the domain its predictions
were made for (`classify.domains.registered_held_out`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from postercensus.catalog.schema import UNCERTAIN_LABEL
from postercensus.classify.domains import registered_held_out
from postercensus.classify.metrics import decide
from postercensus.classify.prevalence import ConfusionMatrix, PrevalenceEstimate, estimate_prevalence


def decision_categories(labels: list[str], threshold: float) -> list[str]:
    """The predicted categories under a threshold: the labels, plus `uncertain` when it can occur."""
    return labels + [UNCERTAIN_LABEL] if threshold else labels


def held_out_confusion(card: dict[str, Any], threshold: float) -> ConfusionMatrix:
    """True × decided labels of the model's held-out faces (of its applied domain) at `threshold` (0: argmax)."""
    labels = list(card["labels"])
    used = registered_held_out(card)
    if used is None:
        raise ValueError(f"model {card.get('model_id', '?')} has no held-out predictions to correct shares with")
    held_out = used.predictions
    decided = decide(np.asarray(held_out["probabilities"], dtype=float), labels, threshold)
    return ConfusionMatrix.from_pairs(held_out["true"], decided, labels, decision_categories(labels, threshold))


def corrected_shares(card: dict[str, Any], counts: Mapping[str, int], threshold: float,
                     n_boot: int = 2000, seed: int = 0) -> PrevalenceEstimate:
    """Each label's share among the counted faces, corrected for this model's errors, with a 95 % interval."""
    confusion = held_out_confusion(card, threshold)
    observed = {category: int(counts.get(category, 0)) for category in confusion.predicted}
    return estimate_prevalence(observed, confusion, n_boot=n_boot, seed=seed)
