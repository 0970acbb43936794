"""Per-domain calibration in a model card: the domain a collection depicts changes how far to trust the model.

One model is wrong at different rates on photographs, printed posters and painted portraits, and
over-confident by different amounts. A card may therefore hold, per domain, the temperature that
calibrates its probabilities there and the out-of-fold predictions (already calibrated) whose
confusion matrix corrects the shares of a collection of that domain:

    card["domains"] = {"posters": {"temperature": T, "held_out_predictions": {"true": [...],
                       "probabilities": [[...]]}, "n": ..., "accuracy": ..., "balanced_accuracy": ...,
                       "ece": ..., "ece_before_calibration": ...}, "paintings": {...}, "photos": {...}}

The researcher declares the domain (`[classify] domain`, `classify predict --domain`). Predictions
made for a domain are stored under their own model version (`prediction_version`), and the card
registered with them records the domain and temperature applied (`with_applied_calibration`), so
the analysis corrects their shares with that same domain's errors. A card without `domains`
behaves as before: no temperature, its single `held_out_predictions`, its version unchanged.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from postercensus.classify.calibration import apply_temperature, fit_temperature
from postercensus.classify.metrics import evaluate_predictions

DOMAINS = ("posters", "paintings", "photos")
DEFAULT_DOMAIN = "posters"
APPLIED_KEY = "applied_calibration"  # in a registered card: the domain and temperature its predictions used
_FIGURES = ("temperature", "n", "accuracy", "balanced_accuracy", "ece", "ece_before_calibration")


def check_domain(domain: str) -> str:
    """`domain` when it is one of DOMAINS; else a ValueError listing the choices."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: choose one of {', '.join(DOMAINS)}")
    return domain


def domain_entry(true: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """One domain's card entry from its faces' out-of-fold probabilities (uncalibrated) and true labels.

    The temperature is fitted on these predictions; they are stored calibrated with it, beside the
    accuracy, balanced accuracy and ECE after calibration, and the ECE before it. The temperature
    is one parameter fitted on the same faces, so the calibrated ECE is slightly optimistic; a
    cross-fitted figure comes from benchmarks/classify_depicted_cv.py.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    index = {label: k for k, label in enumerate(labels)}
    temperature = fit_temperature(probabilities, np.array([index[label] for label in true], dtype=int))
    calibrated = apply_temperature(probabilities, temperature) if len(true) else probabilities
    after = evaluate_predictions(list(true), calibrated, labels)
    before = evaluate_predictions(list(true), probabilities, labels)
    return {
        "temperature": round(temperature, 4),
        "held_out_predictions": {"true": list(true), "probabilities": np.round(calibrated, 5).tolist()},
        "n": after["n"], "accuracy": after["accuracy"], "balanced_accuracy": after["balanced_accuracy"],
        "ece": after["ece"], "ece_before_calibration": before["ece"],
    }


def has_domains(card: Mapping[str, Any]) -> bool:
    """Whether the card holds per-domain calibration."""
    return bool(card.get("domains"))


def _entry(card: Mapping[str, Any], domain: str) -> dict[str, Any]:
    entries = card["domains"]
    if check_domain(domain) not in entries:
        raise ValueError(f"model {card.get('model_id', '?')} has no calibration for domain {domain!r} "
                         f"(it has: {', '.join(sorted(entries))})")
    return entries[domain]


def temperature(card: Mapping[str, Any], domain: str) -> float:
    """The temperature that calibrates this model on `domain`; 1.0 (none) when the card has no domains."""
    return float(_entry(card, domain)["temperature"]) if has_domains(card) else 1.0


def calibrate(card: Mapping[str, Any], probabilities: np.ndarray, domain: str) -> np.ndarray:
    """The model's probabilities calibrated for `domain`; unchanged when the card has no domains."""
    if not has_domains(card) or not len(probabilities):
        return probabilities
    return apply_temperature(np.asarray(probabilities, dtype=float), temperature(card, domain))


def prediction_version(card: Mapping[str, Any], version: str, domain: str) -> str:
    """The version predictions are stored under: the model's, plus the domain when the card
    calibrates per domain (a changed domain then predicts anew beside the old predictions)."""
    return f"{version}-{check_domain(domain)}" if has_domains(card) else version


def with_applied_calibration(card: dict[str, Any], domain: str) -> dict[str, Any]:
    """The card to register with predictions for `domain`: with the domain and temperature they used."""
    if not has_domains(card):
        return card
    return {**card, APPLIED_KEY: {"domain": domain, "temperature": temperature(card, domain)}}


def applied_domain(card: Mapping[str, Any]) -> str:
    """The domain a registered card's predictions were made for (DEFAULT_DOMAIN when it names none)."""
    return card.get(APPLIED_KEY, {}).get("domain", DEFAULT_DOMAIN)


@dataclass(frozen=True)
class HeldOut:
    """The held-out predictions that correct shares, and where in the card they come from."""

    predictions: dict[str, Any]  # {"true": [...], "probabilities": [[...]]}
    domain: str | None  # None: the card's single held-out set (it has no domains)
    source: str  # says which, for provenance and the codebook


def held_out(card: Mapping[str, Any], domain: str) -> HeldOut | None:
    """The held-out predictions of `domain`; the card's `held_out_predictions` when it has no domains
    (saying so); None when it has neither, and its shares cannot be corrected."""
    if has_domains(card):
        return HeldOut(_entry(card, domain)["held_out_predictions"], domain,
                       f"out-of-fold {domain} faces of the model card (domains.{domain})")
    if "held_out_predictions" in card:
        return HeldOut(card["held_out_predictions"], None, "the model card's held-out faces "
                       "(held_out_predictions; the model has no per-domain calibration)")
    return None


def registered_held_out(card: Mapping[str, Any]) -> HeldOut | None:
    """The held-out predictions that correct a registered card's shares: those of its applied domain."""
    return held_out(card, applied_domain(card))


def domain_figures(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per domain of the card: its temperature and out-of-fold figures (none without domains)."""
    return {domain: {key: entry.get(key) for key in _FIGURES} for domain, entry in card.get("domains", {}).items()}


def calibration_provenance(card: Mapping[str, Any]) -> dict[str, Any]:
    """What provenance.json says of a registered card's calibration: the domain, the temperature and the
    figures of the held-out faces whose errors corrected the shares."""
    domain = applied_domain(card)
    used = registered_held_out(card)
    figures = domain_figures(card)[domain] if has_domains(card) else {}
    return {"domain": domain if has_domains(card) else None,
            "temperature": temperature(card, domain),
            "corrected_with": used.source if used else None,
            "held_out": figures}
