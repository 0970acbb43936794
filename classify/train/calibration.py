"""Calibration of a classifier's probabilities: a scale (temperature) and, where measured to help, a shift.

A network trained with cross-entropy on photographs is over-confident on drawn faces; dividing
its log-probabilities by a temperature T > 1 softens them without changing any decision (the
arg-max stays), so accuracy is untouched and "0.9 sure" becomes right about 90 % of the time.

A temperature cannot remove a *bias*: on depicted faces the default model ranks faces well (AUC
0.93–0.96) but decides them male too often (women's recall 9 points below men's on NK posters,
24 on faces in painted scenes). A shift per label added to the scaled log-probabilities,
softmax(log p / T + b), moves the decision boundary (b of the first label fixed at 0). Three ways
to fit it, all measured (benchmarks/classify_calibration_shift.py, cross-fitted with whole groups
held out):

- `scale and shift`: Platt scaling with an intercept, by likelihood, for any number of labels. It
  learns the fitting faces' label mix as well as the model's bias, so it still favours the
  majority label (posters: gap −0.06);
- `balanced scale and shift`: the same with each label weighing equally: probabilities
  calibrated for an even mix of labels (posters: gap +0.04, accuracy 0.873);
- `temperature and equal-recall shift` (two labels): the boundary where the fitting faces' two
  recalls are equal, and T by likelihood around it. Measured the best: every domain's gap within
  ±0.01 out-of-fold, the highest mean balanced accuracy, ECE ≤ 0.041 (posters: gap −0.005,
  accuracy 0.891). The default model's card applies it in every domain.

(A threshold maximising balanced accuracy, also measured, left posters at −0.07.)

Either shift leaves the counted shares to the prevalence correction (`classify.correction`),
which corrects them with the same domain's out-of-fold confusion, for the mix actually present.

Every calibration is fitted on predictions the model made on faces it was not trained on
(out-of-fold), never on the faces it is then judged on.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

_FLOOR = 1e-7
_GRID = np.exp(np.linspace(np.log(0.25), np.log(8.0), 241))  # T from 0.25 to 8, 1.5 % steps
_RIDGE = 1e-6  # keeps the Newton steps finite when a fold separates its labels perfectly
_SHIFTS = np.linspace(-8.0, 8.0, 3201)  # candidate equal-recall shifts of the second label's logit, 0.005 apart
TEMPERATURE = "temperature"
BALANCED_SCALE_SHIFT = "balanced scale and shift"
SCALE_SHIFT = "scale and shift"
EQUAL_RECALL = "temperature and equal-recall shift"
METHODS = (TEMPERATURE, SCALE_SHIFT, BALANCED_SCALE_SHIFT, EQUAL_RECALL)


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the same arg-max, confidence sharpened (T < 1) or softened (T > 1)."""
    return apply_scale_and_shift(probabilities, temperature, None)


def apply_scale_and_shift(probabilities: np.ndarray, temperature: float, shift: np.ndarray | None) -> np.ndarray:
    """softmax(log p / T + shift): the temperature's softening plus a move of the decision boundary."""
    logits = np.log(np.clip(probabilities, _FLOOR, 1.0)) / temperature
    if shift is not None:
        logits = logits + np.asarray(shift, dtype=float)
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y)), y], _FLOOR, 1.0))))


def fit_temperature(probabilities: np.ndarray, y: np.ndarray) -> float:
    """The T (0.25–8, on a grid) with the least negative log-likelihood of labels `y`; 1 with no faces."""
    if not len(y):
        return 1.0
    losses = [negative_log_likelihood(apply_temperature(probabilities, t), y) for t in _GRID]
    return float(_GRID[int(np.argmin(losses))])


def balanced_weights(y: np.ndarray, labels: int) -> np.ndarray:
    """Per face, n / (labels present × faces of its label): each label present weighs the same."""
    counts = np.bincount(y, minlength=labels).astype(float)
    present = int((counts > 0).sum())
    return len(y) / (present * counts[y])


def fit_scale_and_shift(probabilities: np.ndarray, y: np.ndarray, balanced: bool = False) -> tuple[float, np.ndarray]:
    """(T, shift) minimising the (label-balanced when `balanced`) negative log-likelihood of
    softmax(log p / T + shift); the first label's shift is 0. Newton's method on (1/T, shift),
    where the loss is convex; T stays positive (a step that would flip the ranking is halved)."""
    probabilities = np.asarray(probabilities, dtype=float)
    n, labels = probabilities.shape
    if not n:
        return 1.0, np.zeros(labels)
    logs = np.log(np.clip(probabilities, _FLOOR, 1.0))
    weights = balanced_weights(y, labels) if balanced else np.ones(n)
    onehot = np.eye(labels)[y]
    # d(logit_k)/d(parameter): the log-probability for 1/T, the unit vector for each free shift.
    jacobian = np.concatenate([logs[:, :, None], np.broadcast_to(np.eye(labels)[:, 1:], (n, labels, labels - 1))], axis=2)
    theta = np.zeros(labels)
    theta[0] = 1.0

    def loss(params: np.ndarray) -> float:
        logits = jacobian @ params
        logits -= logits.max(axis=1, keepdims=True)
        log_q = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float(-(weights * (onehot * log_q).sum(axis=1)).sum() / n + _RIDGE * (params[1:] ** 2).sum())

    current = loss(theta)
    for _ in range(100):
        logits = jacobian @ theta
        q = np.exp(logits - logits.max(axis=1, keepdims=True))
        q /= q.sum(axis=1, keepdims=True)
        gradient = np.einsum("n,nkp,nk->p", weights, jacobian, q - onehot) / n
        gradient[1:] += 2 * _RIDGE * theta[1:]
        curvature = np.einsum("n,nk,nkp->nkp", weights, q, jacobian)  # diag(q) J, weighted
        spread = np.einsum("n,nk,nkp->np", weights, q, jacobian)
        hessian = (np.einsum("nkp,nkr->pr", jacobian, curvature)
                   - np.einsum("np,nr->pr", spread, np.einsum("nk,nkr->nr", q, jacobian))) / n
        hessian += 2 * _RIDGE * np.eye(labels)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-6:
            trial = theta - size * step
            if trial[0] > 1e-3 and loss(trial) <= current:
                break
            size /= 2
        else:
            break
        theta, previous, current = trial, current, loss(trial)
        if previous - current < 1e-12:
            break
    return float(1.0 / theta[0]), np.concatenate([[0.0], theta[1:]])


def equal_recall_shift(probabilities: np.ndarray, y: np.ndarray) -> float:
    """For two labels: the shift of the second label's logit at which the two recalls are closest
    (among ties, the one with the best balanced accuracy, then the middle of those); 0 when a label
    has no face."""
    if probabilities.shape[1] != 2:
        raise ValueError(f"an equal-recall shift needs two labels, not {probabilities.shape[1]}: "
                         f"use {BALANCED_SCALE_SHIFT!r}")
    if not ((y == 0).any() and (y == 1).any()):
        return 0.0
    logs = np.log(np.clip(probabilities, _FLOOR, 1.0))
    second = (logs[:, 1] - logs[:, 0])[:, None] + _SHIFTS[None, :] > 0  # decided as the second label
    first_recall, second_recall = (~second[y == 0]).mean(axis=0), second[y == 1].mean(axis=0)
    gap = np.round(np.abs(first_recall - second_recall), 9)
    balanced = np.round(first_recall + second_recall, 9)
    closest = np.flatnonzero(gap == gap.min())
    best = closest[balanced[closest] == balanced[closest].max()]
    return float(np.median(_SHIFTS[best]))


def fit_temperature_around(probabilities: np.ndarray, y: np.ndarray, boundary_shift: float) -> tuple[float, float]:
    """(T, shift) for two labels with the decision boundary pinned where `boundary_shift` puts it on
    the unscaled logits: T by likelihood on the grid, the shift then `boundary_shift / T` (the
    same decisions at every T). Fitting T without the shift and shifting afterwards would leave
    the confidence fitted to the biased boundary (on a strongly biased toy: ECE 0.09 against 0.01)."""
    if not len(y):
        return 1.0, 0.0
    losses = [negative_log_likelihood(apply_scale_and_shift(probabilities, t, np.array([0.0, boundary_shift / t])), y)
              for t in _GRID]
    temperature = float(_GRID[int(np.argmin(losses))])
    return temperature, boundary_shift / temperature


@dataclass(frozen=True)
class Calibration:
    """softmax(log p / temperature + shift), as a model card records it per domain.

    `shift` is per label (the card's label order); an empty one (a card written before shifts
    existed) shifts nothing, so an old card calibrates exactly as it did.
    """

    method: str = TEMPERATURE
    temperature: float = 1.0
    shift: tuple[float, ...] = ()

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        if not len(probabilities):
            return probabilities
        return apply_scale_and_shift(np.asarray(probabilities, dtype=float), self.temperature,
                                     np.array(self.shift) if self.shift else None)

    def to_dict(self, labels: tuple[str, ...] | list[str]) -> dict[str, Any]:
        """The card's fields: the method, the temperature and (when there is one) the shift per label."""
        entry: dict[str, Any] = {"calibration": self.method, "temperature": round(self.temperature, 4)}
        if self.shift:
            entry["shift"] = {label: round(float(value), 4) for label, value in zip(labels, self.shift)}
        return entry

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], labels: tuple[str, ...] | list[str]) -> "Calibration":
        """The calibration a card's domain entry records (an entry with only a temperature: no shift)."""
        shift = entry.get("shift") or {}
        return cls(entry.get("calibration", TEMPERATURE), float(entry.get("temperature", 1.0)),
                   tuple(float(shift[label]) for label in labels) if shift else ())


def fit_calibration(probabilities: np.ndarray, y: np.ndarray, method: str = BALANCED_SCALE_SHIFT) -> Calibration:
    """The calibration of `method` (one of METHODS) fitted on out-of-fold `probabilities` and labels `y`."""
    if method == TEMPERATURE:
        return Calibration(TEMPERATURE, fit_temperature(probabilities, y))
    if method == EQUAL_RECALL:
        temperature, shift = fit_temperature_around(probabilities, y, equal_recall_shift(probabilities, y))
        return Calibration(EQUAL_RECALL, temperature, (0.0, shift))
    if method not in METHODS:
        raise ValueError(f"unknown calibration {method!r}: choose one of {', '.join(METHODS)}")
    temperature, shift = fit_scale_and_shift(probabilities, y, balanced=method == BALANCED_SCALE_SHIFT)
    return Calibration(method, temperature, tuple(float(s) for s in shift))
