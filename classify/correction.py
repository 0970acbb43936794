"""Corrected label shares for a model's predictions, with the confusion matrix from its own card,
or from this collection's validation sample (`correction`).

The matrix comes from the model's held-out faces, decided with the same rule (argmax, or the
threshold with an `uncertain` column) as the counts being corrected, as the estimator requires.
When the card calibrates per domain, they are the held-out faces of the domain its predictions
were made for (`classify.train.domains.registered_held_out`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from postercensus.catalog.schema import UNCERTAIN_LABEL
from postercensus.classify.train.domains import registered_held_out
from postercensus.classify.train.metrics import decide
from postercensus.classify.models.modelcard import ModelCard
from postercensus.classify.prevalence.estimate import (
    Confusion,
    ConfusionMatrix,
    PrevalenceEstimate,
    ValidatedConfusion,
    estimate_prevalence,
    validated_confusion,
)


def decision_categories(labels: list[str], threshold: float) -> list[str]:
    """The predicted categories under a threshold: the labels, plus `uncertain` when it can occur."""
    return labels + [UNCERTAIN_LABEL] if threshold else labels


def held_out_confusion(card: ModelCard | Mapping[str, Any], threshold: float) -> ConfusionMatrix:
    """True × decided labels of the model's held-out faces (of its applied domain) at `threshold` (0: argmax)."""
    card = ModelCard.of(card)
    labels = card.label_list
    used = registered_held_out(card)
    if used is None:
        raise ValueError(f"model {card.name} has no held-out predictions to correct shares with")
    held_out = used.predictions
    decided = decide(np.asarray(held_out["probabilities"], dtype=float), labels, threshold)
    return ConfusionMatrix.from_pairs(held_out["true"], decided, labels, decision_categories(labels, threshold))


def corrected_shares(card: ModelCard | Mapping[str, Any], counts: Mapping[str, int], threshold: float,
                     n_boot: int = 2000, seed: int = 0) -> PrevalenceEstimate:
    """Each label's share among the counted faces, corrected for this model's errors, with a 95 % interval."""
    confusion = held_out_confusion(card, threshold)
    observed = {category: int(counts.get(category, 0)) for category in confusion.predicted}
    return estimate_prevalence(observed, confusion, n_boot=n_boot, seed=seed)


# The card's confusion as a prior on a validation sample's, worth this many card faces: chosen by
# benchmarks/classify_validation_sample.py (results/classify_validation_sample.txt) among 0, 10, 50,
# 200 and all the card's faces, as the weight meeting |bias| ≤ 0.02 and coverage ≥ 0.93 with 100
# labels in every scenario, then the narrowest interval.
PRIOR_FACES = 10.0


@dataclass(frozen=True)
class Correction:
    """The confusion that corrects a model's shares, and the words that say which it is.

    `source` is "card" or "validation"; `note` says why validation labels on this home were not
    used (None when there are none, or when they were).
    """

    confusion: Confusion
    source: str
    description: str
    labels: int  # validation labels used (0: the card's confusion)
    samples: tuple[str, ...] = ()
    prior_faces: float = 0.0
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """What provenance.json records of it."""
        return {"source": self.source, "description": self.description, "validation_labels": self.labels,
                "samples": list(self.samples), "prior_card_faces": self.prior_faces, "note": self.note}


def card_description(card: ModelCard | Mapping[str, Any], confusion: ConfusionMatrix) -> str:
    """'card, domain posters, 220 out-of-fold faces' (or the card's single held-out set)."""
    used = registered_held_out(card)
    where = f"domain {used.domain}" if used is not None and used.domain else "held-out faces"
    return f"card, {where}, {int(confusion.counts.sum())} out-of-fold faces"


def correction(card: ModelCard | Mapping[str, Any], threshold: float, validation: pd.DataFrame | None = None,
               trained_on_validation: bool = False, prior_faces: float | None = PRIOR_FACES) -> Correction:
    """Which confusion corrects this model's shares at `threshold`, and the confusion itself.

    `validation`: the home's validation labels of the model's face set, one row per face with its
    `label`, design `weight`, `sample` and `decided` (the model's decision of that face under the same
    rule as the counts; None where the model has not predicted it). With usable labels, the confusion
    is the sample's, with the card's as a prior (`classify.prevalence.estimate.validated_confusion`); a model
    trained on any of them cannot be judged by them, so the card's confusion corrects and `note` says
    why. Labels the model cannot give (`other`: not a face) and undecided faces do not enter the
    confusion. Raises ValueError where the card has no held-out faces either.
    """
    base = held_out_confusion(card, threshold)
    plain = Correction(base, "card", card_description(card, base), 0)
    if validation is None or validation.empty:
        return plain
    names = tuple(sorted(set(validation["sample"])))
    if trained_on_validation:
        return replace(plain, note=f"validation sample {', '.join(names)} not used: the model was trained on "
                                   "some of its faces, so its errors there are not this collection's")
    usable = validation[validation["label"].isin(base.labels) & validation["decided"].isin(base.predicted)]
    if usable.empty:
        return replace(plain, note=f"validation sample {', '.join(names)} not used: none of its faces has both a "
                                   "label the model gives and a prediction by it")
    confusion = validated_confusion(list(usable["label"]), list(usable["decided"]), usable["weight"].to_numpy(float),
                                    base, prior_faces)
    try:
        confusion.rates()
    except ValueError:  # a label neither the sample nor the prior has faces of
        return replace(plain, note=f"validation sample {', '.join(names)} not used: it has no faces of some label")
    prior = f" (+ prior of {confusion.prior_faces:g} card faces)" if confusion.prior_faces else ""
    description = (f"this collection's validation sample {', '.join(names)}, {len(usable)} labels{prior}")
    return Correction(confusion, "validation", description, len(usable), names, confusion.prior_faces)


MORE_LABELS = (50, 100, 200)  # the extra validation labels `validation_need` reports


def validation_need(used: Correction, counts: Mapping[str, int], faces_left: int,
                    more: tuple[int, ...] = MORE_LABELS, simulations: int = 20, n_boot: int = 500,
                    seed: int = 0) -> dict[str, Any]:
    """The interval half-width of the first label's corrected share now, and the half-width expected
    with `more` validation labels: whether another hour of labelling is worth it.

    `faces_left`: the collection's faces without a validation label. A step is capped at them
    (50, 100, 200 with 34 left: 34), as no sample can label more faces than there are; the capped
    steps that coincide are simulated once, and none is simulated when no face is left, so
    `with_more_labels` (extra labels → half-width) is then empty. `faces_left` is returned too.

    Each simulation draws the rates from the current confusion's posterior (Dirichlet(counts + ½)),
    draws the new faces' true labels from the current corrected shares and their predictions from
    those rates, adds them to the validation counts and recomputes the interval; the expectation is
    the mean half-width over `simulations`. With the card's confusion the new labels start a
    validation sample with the card as prior (PRIOR_FACES), as the correction would then use.
    """
    confusion = used.confusion
    observed = {category: int(counts.get(category, 0)) for category in confusion.predicted}
    if not sum(observed.values()):
        raise ValueError("no decided faces to correct: run `postercensus classify predict` first")
    label = confusion.labels[0]
    now = estimate_prevalence(observed, confusion, n_boot=n_boot, seed=seed)
    shares = np.array([now.corrected_share[name] for name in confusion.labels])
    if isinstance(confusion, ValidatedConfusion):
        validation, prior = confusion.validation, confusion.prior
    else:
        validation = np.zeros(confusion.counts.shape)
        prior = confusion.counts * (PRIOR_FACES / confusion.counts.sum())
    rng = np.random.default_rng(seed)
    expected = {}
    for extra in sorted({min(step, faces_left) for step in more} - {0}):
        widths = []
        for _ in range(simulations):
            rates = np.stack([rng.dirichlet(row + 0.5) for row in confusion.counts])
            true = rng.multinomial(extra, shares)
            added = np.stack([rng.multinomial(n, row) for n, row in zip(true, rates)])
            grown = ValidatedConfusion(confusion.labels, confusion.predicted, validation + added, prior,
                                       int(validation.sum() + extra), float(prior.sum()))
            try:
                estimate = estimate_prevalence(observed, grown, n_boot=n_boot, seed=seed)
            except ValueError:  # a draw whose rates cannot separate the labels: no interval
                continue
            widths.append((estimate.ci_high[label] - estimate.ci_low[label]) / 2)
        expected[extra] = float(np.mean(widths)) if widths else float("nan")
    return {"label": label, "correction": used.description,
            "half_width": (now.ci_high[label] - now.ci_low[label]) / 2, "with_more_labels": expected,
            "faces_left": faces_left}
