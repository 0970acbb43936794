"""Corrected shares of weighted faces (each face counted by its weight, e.g. its area on the poster),
with the same confusion and the same "exact" interval as every unweighted share.

Why the correction carries over: if a face's chance of being misclassified does not depend on its
weight, the expected weighted proportion of faces predicted j is Σₖ p_w,k · P(predicted j | true k),
where p_w is the true weighted share; this is the mixture `classify.prevalence.estimate` undoes, so the point
estimate is the same correction applied to the weighted proportions. (Small faces are harder to
classify, so the assumption is an approximation: docs/reporting-results.md says so.)

Why an effective sample size: the exact interval draws a group's proportions from Dirichlet(counts +
pseudo-faces), which is only honest when the counts are the information the group holds. A weighted
proportion from n faces holds less than n faces' information when the weights are unequal (one large
face among many small ones is nearly the whole share), so the counts entering the draws are the
weighted proportions × Kish's effective sample size (Σw)² / Σw², fractional, with the same
pseudo-faces and the same confusion-rate draws as `estimate_prevalence`.
benchmarks/analysis_weighted_coverage.py measures the interval's coverage by simulation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from postercensus.classify.prevalence.estimate import (
    EXACT,
    Confusion,
    SideDraws,
    choose_method,
    interval_bounds,
    rate_draws,
    require_identified,
    solve_shares,
)


@dataclass(frozen=True)
class WeightedEstimate:
    """The weighted corrected shares per label with their interval; `faces` the faces weighed and
    `effective_faces` Kish's effective sample size of their weights (what the interval rests on)."""

    labels: tuple[str, ...]
    faces: int
    effective_faces: float
    corrected_share: dict[str, float]
    ci_low: dict[str, float]
    ci_high: dict[str, float]


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw²: n for equal weights, near 1 when one weight dominates."""
    weights = np.asarray(weights, dtype=float)
    squares = float((weights ** 2).sum())
    return float(weights.sum()) ** 2 / squares if squares > 0 else 0.0


def weighted_estimate(categories: np.ndarray, weights: np.ndarray, confusion: Confusion,
                      n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> WeightedEstimate:
    """The corrected weighted shares of faces decided as `categories` (positions in
    `confusion.predicted`) with `weights` (finite, ≥ 0; faces of weight 0 count in `faces` only).

    NaN shares without positive weight; raises ValueError where the confusion cannot separate the
    labels, as `estimate_prevalence` does.
    """
    categories, weights = np.asarray(categories, dtype=np.int64), np.asarray(weights, dtype=float)
    if categories.shape != weights.shape:
        raise ValueError(f"{len(categories)} faces but {len(weights)} weights")
    if (~np.isfinite(weights) | (weights < 0)).any():
        raise ValueError("weights must be finite and non-negative")
    total = float(weights.sum())
    n_eff = effective_size(weights)
    q = (np.bincount(categories, weights=weights, minlength=len(confusion.predicted)) / total if total > 0
         else np.zeros(len(confusion.predicted)))
    shares = proportion_shares(q, n_eff, confusion, n_boot, level, seed)
    return WeightedEstimate(confusion.labels, len(weights), n_eff, *shares)


def proportion_shares(q: np.ndarray, size: float, confusion: Confusion, n_boot: int = 2000, level: float = 0.95,
                      seed: int = 0) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """(corrected share, ci_low, ci_high) per label of observed proportions `q` (in the order of
    `confusion.predicted`) that hold `size` faces of information: the exact interval of
    `estimate_prevalence` with the counts q × size, fractional. NaN where size is 0."""
    labels = confusion.labels
    rates = confusion.rates()
    method = choose_method(*rates.shape)
    require_identified(rates, method)
    if size <= 0:
        return dict.fromkeys(labels, math.nan), dict.fromkeys(labels, math.nan), dict.fromkeys(labels, math.nan)
    point = solve_shares(rates[None], q[None], method)[0][0]
    rng = np.random.default_rng(seed)
    draws = SideDraws(q * size, confusion, rate_draws(confusion, n_boot, rng), rng, method, EXACT)
    low, high = interval_bounds(draws, point, level)
    return (dict(zip(labels, map(float, point))), dict(zip(labels, map(float, low))),
            dict(zip(labels, map(float, high))))
