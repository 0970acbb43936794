"""The evaluation figures a researcher cites for a classifier, computed from labels and probabilities.

Accuracy alone hides the failure that matters here: a model that calls most faces male looks
accurate on a male-heavy collection. Balanced accuracy, per-label recall, the real vs predicted
label distribution and calibration (is "0.9 sure" right 90 % of the time?) say more.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from postercensus.catalog.schema import UNCERTAIN_LABEL
from postercensus.classify.prevalence.estimate import ConfusionMatrix

CALIBRATION_BINS = 10


def decide(probabilities: np.ndarray, labels: Sequence[str], threshold: float | None = None) -> list[str]:
    """The decision rule: the top label, or `uncertain` when its probability is below `threshold`."""
    top = probabilities.argmax(axis=1)
    confident = probabilities.max(axis=1) >= (threshold or 0.0)
    return [labels[k] if ok else UNCERTAIN_LABEL for k, ok in zip(top, confident)]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def per_class_scores(confusion: np.ndarray, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per label from a square confusion matrix (rows = truth)."""
    scores = {}
    for k, label in enumerate(labels):
        true_positive = confusion[k, k]
        precision = _ratio(true_positive, confusion[:, k].sum())
        recall = _ratio(true_positive, confusion[k, :].sum())
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                         "support": int(confusion[k, :].sum())}
    return scores


def recall_gap(per_class: dict[str, dict[str, float]], labels: Sequence[str]) -> float:
    """How unevenly the labels are found: with two labels, the first's recall minus the second's
    (for perceived gender, female − male: negative when women are missed more); with more, the
    lowest recall minus the highest. Labels without faces are left out (their recall means nothing)."""
    recalls = [per_class[label]["recall"] for label in labels if per_class[label]["support"]]
    if len(recalls) < 2:
        return 0.0
    return round(recalls[0] - recalls[1] if len(labels) == 2 else min(recalls) - max(recalls), 4)


def calibration(probabilities: np.ndarray, correct: np.ndarray) -> tuple[list[dict[str, Any]], float]:
    """Reliability table on the top probability (equal-width bins) and the expected calibration error."""
    confidence = probabilities.max(axis=1)
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    rows, ece = [], 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high) if low > 0 else (confidence <= high)
        n = int(inside.sum())
        if not n:
            continue
        mean_confidence, accuracy = float(confidence[inside].mean()), float(correct[inside].mean())
        ece += n / len(confidence) * abs(accuracy - mean_confidence)
        rows.append({"low": round(float(low), 2), "high": round(float(high), 2), "n": n,
                     "mean_confidence": round(mean_confidence, 4), "accuracy": round(accuracy, 4)})
    return rows, round(ece, 4)


def evaluate_predictions(true: Sequence[str], probabilities: np.ndarray, labels: Sequence[str],
                         threshold: float | None = None) -> dict[str, Any]:
    """The report's numbers: argmax metrics, calibration, and the confusion matrix at `threshold`."""
    labels = list(labels)
    index = {label: k for k, label in enumerate(labels)}
    unknown = sorted(set(true) - set(labels))
    if unknown:
        raise ValueError(f"labels {', '.join(unknown)} are not ones the model knows ({', '.join(labels)})")
    y = np.array([index[label] for label in true], dtype=int)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    np.add.at(confusion, (y, predicted), 1)
    per_class = per_class_scores(confusion, labels)
    present = [per_class[label]["recall"] for label in labels if per_class[label]["support"]]
    reliability, ece = calibration(probabilities, predicted == y)
    decided = decide(probabilities, labels, threshold)
    categories = labels + ([UNCERTAIN_LABEL] if threshold else [])
    at_threshold = ConfusionMatrix.from_pairs(list(true), decided, labels, categories)
    return {
        "n": len(y),
        "labels": labels,
        "accuracy": round(_ratio((predicted == y).sum(), len(y)), 4),
        "balanced_accuracy": round(float(np.mean(present)) if present else 0.0, 4),
        "per_class": per_class,
        "recall": {label: per_class[label]["recall"] for label in labels},
        "recall_gap": recall_gap(per_class, labels),
        "confusion": {"labels": labels, "matrix": confusion.tolist()},
        "distribution": {
            "true": {label: int((y == k).sum()) for k, label in enumerate(labels)},
            "predicted": {label: int((predicted == k).sum()) for k, label in enumerate(labels)},
        },
        "reliability": reliability,
        "ece": ece,
        "threshold": threshold,
        "decision_confusion": at_threshold.to_dict(),  # what corrected shares at this threshold use
    }
