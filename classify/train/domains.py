"""Per-domain calibration in a model card: the domain a collection depicts changes how far to trust the model.

One model is wrong at different rates on photographs, printed posters, painted portraits and
faces in painted scenes, over-confident by different amounts and, on depicted faces, biased
towards one label. A card may therefore hold, per domain, the calibration that corrects its
probabilities there (a temperature, and since issue 22 a shift per label: `classify.train.calibration`)
and the out-of-fold predictions (calibrated) whose confusion matrix corrects the shares of a
collection of that domain:

    domains = {"posters": {"calibration": "temperature and equal-recall shift", "temperature": T,
                       "shift": {"female": 0, "male": b}, "held_out_predictions": {"true": [...],
                       "probabilities": [[...]], "uncalibrated": [[...]], "groups": [...]}, "n": ...,
                       "accuracy": ..., "balanced_accuracy": ..., "recall": {...}, "recall_gap": ...,
                       "ece": ..., "ece_before_calibration": ..., "cross_fitted": true}, "paintings": ...}

With the faces' groups (a poster, an object, a painter) the stored probabilities are
cross-fitted: each face calibrated by the calibration fitted on the other folds' groups, so the
confusion that corrects the shares, and the figures, are those of faces the calibration never saw.

The researcher declares the domain (`[classify] domain`, `classify predict --domain`). Predictions
made for a domain are stored under their own model version (`prediction_version`), and the card
registered with them records the domain and calibration applied (`with_applied_calibration`), so
the analysis corrects their shares with that same domain's errors. A card without `domains`
behaves as before: no calibration, its single `held_out_predictions`, its version unchanged; a
domain entry with only a temperature (a card from before shifts) calibrates with it alone.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from postercensus.classify.train.calibration import EQUAL_RECALL, Calibration, fit_calibration
from postercensus.classify.train.metrics import evaluate_predictions
from postercensus.classify.models.modelcard import DomainCalibration, ModelCard
from postercensus.classify.train.splits import grouped_folds

# scenes: faces in painted scenes (small, turned, several per picture), measured to calibrate
# apart from the painted portraits of `paintings` (benchmarks/results/classify_calibration_shift.txt).
DOMAINS = ("posters", "paintings", "scenes", "photos")
DEFAULT_DOMAIN = "posters"
APPLIED_KEY = "applied_calibration"  # in a registered card: the domain and calibration its predictions used
CALIBRATION_FOLDS = 5
_FIGURES = ("calibration", "temperature", "shift", "n", "accuracy", "balanced_accuracy", "recall", "recall_gap",
            "ece", "ece_before_calibration", "recall_before_calibration", "cross_fitted")
AnyCard = ModelCard | Mapping[str, Any]  # a typed card, or its JSON object (from the catalogue, a test)


def check_domain(domain: str) -> str:
    """`domain` when it is one of DOMAINS; else a ValueError listing the choices."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: choose one of {', '.join(DOMAINS)}")
    return domain


def cross_fitted(probabilities: np.ndarray, y: np.ndarray, true: Sequence[str], groups: Sequence[str],
                 method: str) -> np.ndarray:
    """Each face's probabilities calibrated by `method` fitted on the other folds (whole groups held out)."""
    out = np.array(probabilities, dtype=float)
    for test in grouped_folds(list(true), list(groups), min(CALIBRATION_FOLDS, len(set(groups))), seed=0):
        train = np.setdiff1d(np.arange(len(y)), test)
        out[test] = fit_calibration(probabilities[train], y[train], method).apply(probabilities[test])
    return out


def domain_entry(true: Sequence[str], probabilities: np.ndarray, labels: Sequence[str],
                 groups: Sequence[str] | None = None, method: str = EQUAL_RECALL) -> dict[str, Any]:
    """One domain's card entry from its faces' out-of-fold probabilities (uncalibrated) and true labels.

    The calibration (`method`) is fitted on all these predictions: it is what predicting applies.
    With `groups`, the stored predictions and the figures (accuracy, balanced accuracy, recall per
    label and their gap, ECE) are cross-fitted: each fold calibrated by the fit on the other folds'
    groups. Without, they are calibrated in-sample (slightly optimistic; `cross_fitted` says which).
    The uncalibrated predictions and the groups are kept, so the entry can be refitted later.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    index = {label: k for k, label in enumerate(labels)}
    y = np.array([index[label] for label in true], dtype=int)
    calibration = fit_calibration(probabilities, y, method) if len(true) else Calibration()
    if groups is not None and len(set(groups)) >= 2:
        calibrated = cross_fitted(probabilities, y, true, groups, method)
    else:
        calibrated = calibration.apply(probabilities)
    calibrated = np.round(calibrated, 5)  # as stored: the figures are those of the stored predictions
    after = evaluate_predictions(list(true), calibrated, labels)
    before = evaluate_predictions(list(true), probabilities, labels)
    stored: dict[str, Any] = {"true": list(true), "probabilities": calibrated.tolist(),
                              "uncalibrated": np.round(probabilities, 5).tolist()}
    if groups is not None:
        stored["groups"] = list(groups)
    return {
        **calibration.to_dict(list(labels)),
        "held_out_predictions": stored,
        "n": after["n"], "accuracy": after["accuracy"], "balanced_accuracy": after["balanced_accuracy"],
        "recall": after["recall"], "recall_gap": after["recall_gap"],
        "ece": after["ece"], "ece_before_calibration": before["ece"],
        "recall_before_calibration": before["recall"],
        "cross_fitted": groups is not None and len(set(groups)) >= 2,
    }


def has_domains(card: AnyCard) -> bool:
    """Whether the card holds per-domain calibration."""
    return bool(ModelCard.of(card).domains)


def _entry(card: ModelCard, domain: str) -> DomainCalibration:
    entries = card.domains or {}
    if check_domain(domain) not in entries:
        raise ValueError(f"model {card.name} has no calibration for domain {domain!r} "
                         f"(it has: {', '.join(sorted(entries))})")
    return entries[domain]


def calibration(card: AnyCard, domain: str) -> Calibration:
    """The calibration of this model on `domain` (temperature and shift); none when the card has no domains."""
    card = ModelCard.of(card)
    return Calibration.from_entry(_entry(card, domain).to_dict(), card.label_list) if card.domains else Calibration()


def temperature(card: AnyCard, domain: str) -> float:
    """The temperature that calibrates this model on `domain`; 1.0 (none) when the card has no domains."""
    return calibration(card, domain).temperature


def calibrate(card: AnyCard, probabilities: np.ndarray, domain: str) -> np.ndarray:
    """The model's probabilities calibrated for `domain`; unchanged when the card has no domains."""
    if not has_domains(card) or not len(probabilities):
        return probabilities
    return calibration(card, domain).apply(probabilities)


def calibration_summary(card: AnyCard, domain: str) -> str:
    """'temperature 0.944, shift male -0.52' (the shift named only where it moves a label): what
    `classify predict` says it applies, since a shift changes labels and a temperature does not."""
    card = ModelCard.of(card)
    applied = calibration(card, domain)
    moved = ", ".join(f"{label} {value:+.2f}" for label, value in zip(card.label_list, applied.shift) if value)
    return f"temperature {applied.temperature:g}" + (f", shift {moved}" if moved else "")


def prediction_version(card: AnyCard, version: str, domain: str) -> str:
    """The version predictions are stored under: the model's, plus the domain when the card
    calibrates per domain (a changed domain then predicts anew beside the old predictions)."""
    return f"{version}-{check_domain(domain)}" if has_domains(card) else version


def with_applied_calibration(card: AnyCard, domain: str) -> ModelCard:
    """The card to register with predictions for `domain`: with the domain and calibration they used."""
    card = ModelCard.of(card)
    if not card.domains:
        return card
    return replace(card, applied_calibration={"domain": domain, **calibration(card, domain).to_dict(card.label_list)})


def applied_domain(card: AnyCard) -> str:
    """The domain a registered card's predictions were made for (DEFAULT_DOMAIN when it names none)."""
    return (ModelCard.of(card).applied_calibration or {}).get("domain", DEFAULT_DOMAIN)


@dataclass(frozen=True)
class HeldOut:
    """The held-out predictions that correct shares, and where in the card they come from."""

    predictions: dict[str, Any]  # {"true": [...], "probabilities": [[...]]}
    domain: str | None  # None: the card's single held-out set (it has no domains)
    source: str  # says which, for provenance and the codebook


def held_out(card: AnyCard, domain: str) -> HeldOut | None:
    """The held-out predictions of `domain`; the card's `held_out_predictions` when it has no domains
    (saying so); None when it has neither, and its shares cannot be corrected."""
    card = ModelCard.of(card)
    if card.domains:
        return HeldOut(_entry(card, domain).held_out_predictions or {}, domain,
                       f"out-of-fold {domain} faces of the model card (domains.{domain})")
    if card.held_out_predictions is not None:
        return HeldOut(card.held_out_predictions, None, "the model card's held-out faces "
                       "(held_out_predictions; the model has no per-domain calibration)")
    return None


def registered_held_out(card: AnyCard) -> HeldOut | None:
    """The held-out predictions that correct a registered card's shares: those of its applied domain."""
    return held_out(card, applied_domain(card))


def domain_figures(card: AnyCard) -> dict[str, dict[str, Any]]:
    """Per domain of the card: its calibration and out-of-fold figures (none without domains; only those
    the card has: an older one lacks the shift and the recall per label)."""
    entries = ModelCard.of(card).domains or {}
    figures = {domain: entry.to_dict() for domain, entry in entries.items()}
    return {domain: {key: entry[key] for key in _FIGURES if key in entry} for domain, entry in figures.items()}


def calibration_provenance(card: AnyCard) -> dict[str, Any]:
    """What provenance.json says of a registered card's calibration: the domain, the temperature, the
    shift (when there is one) and the figures of the held-out faces whose errors corrected the shares."""
    card = ModelCard.of(card)
    domain = applied_domain(card)
    used = registered_held_out(card)
    figures = domain_figures(card)[domain] if card.domains else {}
    return {"domain": domain if card.domains else None,
            "temperature": temperature(card, domain),
            "shift": (calibration(card, domain).to_dict(card.label_list).get("shift") if card.domains else None),
            "corrected_with": used.source if used else None,
            "held_out": figures}
