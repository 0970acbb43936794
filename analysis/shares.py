"""Label counts → the share columns every face table carries, always corrected with the model's card.

Raw shares are what classify-and-count reports; the corrected share and its interval come from
`classify.correction.corrected_shares`, with the confusion matrix of the same decision rule (argmax,
or the min_probability threshold with an `uncertain` category) as the counts, from the held-out faces
of the domain the predictions were made for when the card calibrates per domain.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from postercensus.classify.correction import corrected_shares, decision_categories, held_out_confusion
from postercensus.classify.domains import registered_held_out
from postercensus.classify.prevalence import PrevalenceEstimate, bootstrap_draws

SHARE_COLUMNS = ["faces", "raw_share", "corrected_share", "ci_low", "ci_high"]
RATIO_COLUMNS = ["ratio", "ratio_low", "ratio_high"]
LEVEL = 0.95


def categories(card: Mapping[str, Any] | None, min_probability: float) -> list[str]:
    """The model's labels, plus `uncertain` when a threshold is set; none without a model."""
    return [] if card is None else decision_categories(list(card["labels"]), min_probability)


def _estimate(card: Mapping[str, Any], counts: Mapping[str, int], min_probability: float) -> PrevalenceEstimate | None:
    """The corrected estimate, or None where the card cannot correct (no held-out faces, or a
    confusion matrix that cannot separate the labels): the corrected columns are then NaN, which
    says "unknown" without stopping every other table."""
    if registered_held_out(card) is None:
        return None
    try:
        return corrected_shares(dict(card), counts, min_probability)
    except ValueError:
        return None


def share_rows(card: Mapping[str, Any] | None, counts: Mapping[str, int], min_probability: float) -> pd.DataFrame:
    """One row per category: label, faces, raw_share (of all decided faces), corrected share and
    its 95 % interval (NaN for `uncertain`, and for every label when there are no faces)."""
    return pd.DataFrame(share_records(card, counts, min_probability), columns=["label", *SHARE_COLUMNS])


def share_records(card: Mapping[str, Any] | None, counts: Mapping[str, int],
                  min_probability: float) -> list[dict[str, Any]]:
    """`share_rows` as plain records, for a table of many groups built as one frame (a frame per
    group costs more than its shares)."""
    labels = categories(card, min_probability)
    n = sum(int(counts.get(label, 0)) for label in labels)
    estimate = _estimate(card, counts, min_probability) if n else None
    rows = []
    for label in labels:
        faces = int(counts.get(label, 0))
        corrected = {name: getattr(estimate, name).get(label, math.nan) if estimate else math.nan
                     for name in ("corrected_share", "ci_low", "ci_high")}
        rows.append({"label": label, "faces": faces, "raw_share": faces / n if n else math.nan, **corrected})
    return rows


def ratio_rows(card: Mapping[str, Any], subsets: Sequence[Mapping[str, int]], whole: Mapping[str, int],
               min_probability: float) -> list[dict[str, dict[str, float]]]:
    """Per subset and label: its corrected share ÷ the whole collection's, with a 95 % interval.

    The interval is the percentile interval of the ratio over bootstrap replicates in which the
    subset and the whole share each replicate's draw of the confusion rates (`bootstrap_draws`), as
    a misclassification rate that inflates one inflates the other; it is widened to contain the point
    ratio, as the shares' intervals are. NaN where either share is unknown or the whole's is 0.
    """
    labels = list(card["labels"])
    nan = {label: dict.fromkeys(RATIO_COLUMNS, math.nan) for label in labels}
    if registered_held_out(card) is None:
        return [nan for _ in subsets]
    full = {category: int(whole.get(category, 0)) for category in categories(card, min_probability)}
    parts = [{category: int(part.get(category, 0)) for category in full} for part in subsets]
    points = [_estimate(card, counts, min_probability) if sum(counts.values()) else None for counts in [full, *parts]]
    if points[0] is None:
        return [nan for _ in subsets]
    try:
        draws = bootstrap_draws([full, *parts], held_out_confusion(dict(card), min_probability))
    except ValueError:
        return [nan for _ in subsets]
    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for index, point in enumerate(points[1:], start=1):
            row = {}
            for k, label in enumerate(labels):
                whole_share = points[0].corrected_share[label]
                if point is None or whole_share == 0:
                    row[label] = dict.fromkeys(RATIO_COLUMNS, math.nan)
                    continue
                ratio = point.corrected_share[label] / whole_share
                replicates = draws[index, :, k] / draws[0, :, k]
                replicates = replicates[~np.isnan(replicates)]  # 0/0: no ratio; x/0 stays +inf, unbounded
                low, high = (np.quantile(replicates, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], method="inverted_cdf")
                             if replicates.size else (math.nan, math.nan))
                row[label] = {"ratio": ratio, "ratio_low": float(min(low, ratio)), "ratio_high": float(max(high, ratio))}
            rows.append(row)
    return rows
