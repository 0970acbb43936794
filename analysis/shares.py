"""Label counts → the share columns every face table carries, corrected with the model's card or with
this collection's validation sample (`classify.correction.correction` says which).

Raw shares are what classify-and-count reports; the corrected share and its interval are
`classify.correction.corrected_shares` (the estimate of `classify.prevalence.estimate.estimate_prevalence`),
with the confusion matrix of the same decision rule (argmax, or the min_probability threshold with
an `uncertain` category) as the counts, from the held-out faces of the domain the predictions were
made for when the card calibrates per domain.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from postercensus.analysis.model_faces import ModelFaces
from postercensus.catalog.memo import Memo
from postercensus.classify.correction import Correction, correction, decision_categories
from postercensus.classify.train.domains import registered_held_out
from postercensus.classify.models.modelcard import ModelCard
from postercensus.classify.prevalence.estimate import (
    LOWER,
    UPPER,
    Confusion,
    PrevalenceEstimate,
    bootstrap_draws,
    estimate_prevalence,
)

SHARE_COLUMNS = ["faces", "raw_share", "corrected_share", "ci_low", "ci_high"]
RATIO_COLUMNS = ["ratio", "ratio_low", "ratio_high"]
LEVEL = 0.95
ESTIMATES_KEPT = 10_000  # remembered estimates (about 1.5 kB each): some 80 dashboard views of ~120 groups
_ESTIMATES: Memo[PrevalenceEstimate | None] = Memo(ESTIMATES_KEPT)  # see _remembered_estimate; the dashboard's threads share it


def categories(card: ModelCard | None, min_probability: float) -> list[str]:
    """The model's labels, plus `uncertain` when a threshold is set; none without a model."""
    return [] if card is None else decision_categories(card.label_list, min_probability)


def _correction(card: ModelCard | None, min_probability: float,
                faces: ModelFaces | None = None) -> Correction | None:
    """Which confusion corrects this rule's counts (`classify.correction.correction`): this
    collection's validation sample when the model has usable labels on this home and was not trained
    on them, else the card's held-out confusion; None where neither can correct (no held-out faces,
    or held-out faces the rule cannot count)."""
    if card is None or registered_held_out(card) is None:
        return None
    validation = faces.validation_decisions(min_probability) if faces is not None else None
    trained_on = faces is not None and faces.validation is not None and faces.validation.trained_on
    try:
        return correction(card, min_probability, validation, trained_on)
    except ValueError:
        return None


def _remembered_estimate(confusion: Confusion, observed: dict[str, int]) -> PrevalenceEstimate | None:
    """`estimate_prevalence` of these counts (None where the confusion matrix cannot separate the
    labels), remembered for the last ESTIMATES_KEPT count vectors.

    An estimate depends on the confusion counts and the observed counts alone (its bootstrap's seed
    is fixed), and one dashboard view corrects a hundred groups (years, decades, keywords) that the
    next view mostly corrects again (a narrower year range leaves each year's counts as they were):
    a remembered estimate is the one a fresh computation gives, as it is the same computation.
    """
    key = (type(confusion).__name__, confusion.labels, confusion.predicted, confusion.counts.tobytes(),
           tuple(observed.values()))
    return _ESTIMATES.get(key, lambda: _estimate_or_none(observed, confusion))


def _estimate_or_none(observed: dict[str, int], confusion: Confusion) -> PrevalenceEstimate | None:
    try:
        return estimate_prevalence(observed, confusion)
    except ValueError:
        return None


class Shares:
    """The share columns of one model's faces decided at one min_probability, every share corrected
    with one confusion of that rule (made once, not once per group): the collection's validation
    sample's when `faces` carry usable validation labels, else the card's."""

    def __init__(self, card: ModelCard | Mapping[str, Any] | None, min_probability: float,
                 faces: ModelFaces | None = None) -> None:
        card = None if card is None else ModelCard.of(card)
        self.card, self.min_probability = card, min_probability
        self.categories = categories(card, min_probability)
        self.correction = _correction(card, min_probability, faces)
        self.confusion = None if self.correction is None else self.correction.confusion

    def estimate(self, counts: Mapping[str, int]) -> PrevalenceEstimate | None:
        """The corrected estimate of these label counts (`classify.correction.corrected_shares`), or
        None where the card cannot correct: the corrected columns are then NaN, which says "unknown"
        without stopping every other table."""
        if self.confusion is None:
            return None
        return _remembered_estimate(self.confusion, {category: int(counts.get(category, 0))
                                                     for category in self.confusion.predicted})

    def rows(self, counts: Mapping[str, int]) -> pd.DataFrame:
        """One row per category: label, faces, raw_share (of all decided faces), corrected share and
        its 95 % interval (NaN for `uncertain`, and for every label when there are no faces)."""
        return pd.DataFrame(self.records(counts), columns=["label", *SHARE_COLUMNS])

    def records(self, counts: Mapping[str, int]) -> list[dict[str, Any]]:
        """`rows` as plain records, for a table of many groups built as one frame (a frame per group
        costs more than its shares)."""
        n = sum(int(counts.get(label, 0)) for label in self.categories)
        estimate = self.estimate(counts) if n else None
        rows = []
        for label in self.categories:
            faces = int(counts.get(label, 0))
            corrected = {name: getattr(estimate, name).get(label, math.nan) if estimate else math.nan
                         for name in ("corrected_share", "ci_low", "ci_high")}
            rows.append({"label": label, "faces": faces, "raw_share": faces / n if n else math.nan, **corrected})
        return rows

    def ratios(self, subsets: Sequence[Mapping[str, int]],
               whole: Mapping[str, int]) -> list[dict[str, dict[str, float]]]:
        """Per subset and label: its corrected share ÷ the whole collection's, with a 95 % interval.

        The interval is the percentile interval of the ratio over bootstrap replicates in which the
        subset and the whole share each replicate's draw of the confusion rates (`bootstrap_draws`), as
        a misclassification rate that inflates one inflates the other; its lower bound divides the
        subset's lower-bound draws by the whole's upper-bound ones, its upper bound the other way round
        (`classify.prevalence.estimate.estimate_prevalence` says why a group's draws lean towards the bound they
        serve), and it is widened to contain the point ratio, as the shares' intervals are. NaN where
        either share is unknown or the whole's is 0 (a ratio to nothing is undefined), and ratio_high
        NaN where the whole's share can be 0 within its own interval (the ratio is then unbounded
        above): codebook.md says so, as an `inf` in a CSV reads as a measured value.
        """
        labels = self.card.label_list
        nan = {label: dict.fromkeys(RATIO_COLUMNS, math.nan) for label in labels}
        if self.confusion is None:
            return [nan for _ in subsets]
        full = {category: int(whole.get(category, 0)) for category in self.categories}
        parts = [{category: int(part.get(category, 0)) for category in full} for part in subsets]
        points = [self.estimate(counts) if sum(counts.values()) else None for counts in [full, *parts]]
        if points[0] is None:
            return [nan for _ in subsets]
        try:
            bounds = {label: _ratio_bounds(self.confusion, [full, *parts], index)
                      for index, label in enumerate(labels)}
        except ValueError:
            return [nan for _ in subsets]
        rows = []
        for index, point in enumerate(points[1:], start=1):
            row = {}
            for label in labels:
                whole_share = points[0].corrected_share[label]
                if point is None or whole_share == 0:
                    row[label] = dict.fromkeys(RATIO_COLUMNS, math.nan)
                    continue
                ratio = point.corrected_share[label] / whole_share
                low, high = bounds[label][index - 1]
                row[label] = {"ratio": ratio, "ratio_low": float(min(low, ratio)),
                              "ratio_high": float(max(high, ratio)) if math.isfinite(high) else math.nan}
            rows.append(row)
        return rows


def _ratio_bounds(confusion: Confusion, collections: list[dict[str, int]],
                  label: int) -> list[tuple[float, float]]:
    """(low, high) of each subset's share ÷ the whole's (collections[0]) for one label: the subset's
    lower-bound draws over the whole's upper-bound draws, and the other way round, one draw of the
    rates shared by all; high is inf where some replicate divides by a whole share of 0."""
    subsets = len(collections) - 1
    lower = bootstrap_draws(collections, confusion, [(label, UPPER)] + [(label, LOWER)] * subsets)[:, :, label]
    upper = bootstrap_draws(collections, confusion, [(label, LOWER)] + [(label, UPPER)] * subsets)[:, :, label]
    tails = ((1 - LEVEL) / 2, (1 + LEVEL) / 2)
    bounds = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for index in range(1, len(collections)):
            ends = []
            for draws, tail in zip((lower, upper), tails):
                replicates = draws[index] / draws[0]
                replicates = replicates[~np.isnan(replicates)]  # 0/0: no ratio; x/0 stays +inf, unbounded
                ends.append(float(np.quantile(replicates, tail, method="inverted_cdf")) if replicates.size
                            else math.nan)
            bounds.append((ends[0], ends[1]))
    return bounds
