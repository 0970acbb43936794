"""Label shares in a collection, corrected for the classifier's known errors, with an interval.

Counting a classifier's predictions ("classify and count") is biased whenever the classifier errs:
with sensitivity 0.9 and specificity 0.85, a collection that is 30 % female is counted as 37.5 %
female, and no amount of data removes that bias. If the error rates P(predicted j | true i) are known
from labelled faces, the observed predicted shares q are a mixture q = Mᵀp of the true shares p
(M the row-normalised confusion matrix), so p can be recovered by undoing the mixture: the
Rogan–Gladen estimator (Rogan & Gladen 1978, Am. J. Epidemiol. 107:71) for two labels, and its
general form "adjusted classify and count" (Forman 2008, Data Min. Knowl. Disc. 17:164), solved
here as least squares on the simplex so that the shares stay shares.

The correction is only valid when the collection is counted with the decision rule that made the
confusion matrix (argmax, or a probability threshold with an "uncertain" category): the categories
are therefore explicit on both sides and must match. The error rates are themselves estimated from
a finite labelled set, which is usually the larger source of uncertainty, so the interval
bootstraps the labelled set and the collection together.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from postercensus.catalog.memo import Memo
from postercensus.catalog.schema import UNCERTAIN_LABEL as UNCERTAIN  # the threshold rule's extra category

ROGAN_GLADEN = "rogan-gladen"
LEAST_SQUARES = "constrained-least-squares"
METHODS = (ROGAN_GLADEN, LEAST_SQUARES)
EXACT = "exact"  # how the collection's proportions are drawn: see estimate_prevalence
JEFFREYS = "jeffreys"
PERCENTILE = "percentile"
INTERVALS = (EXACT, JEFFREYS, PERCENTILE)
LOWER, UPPER = "lower", "upper"  # which bound of a label's interval a set of replicates serves
_REMEMBERED_SIZE = 16  # a few thresholds' point and bootstrap rates
_REMEMBERED: Memo[Any] = Memo(_REMEMBERED_SIZE)  # see _remembered; the dashboard's threads share it
_FEASIBLE = -1e-9  # a restricted least-squares solution this far below zero still counts as ≥ 0


@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Counts of labelled faces by true label (rows) and predicted category (columns).

    The predicted categories are the labels, possibly plus others such as UNCERTAIN; every label
    must be one of them, since a classifier that cannot predict a label is a caller's mistake.
    Counts (not rates) are kept because how uncertain a row's rates are depends on its size.
    """

    labels: tuple[str, ...]
    predicted: tuple[str, ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        labels, predicted = tuple(self.labels), tuple(self.predicted)
        _require_unique(labels, "labels")
        _require_unique(predicted, "predicted categories")
        if len(labels) < 2:
            raise ValueError(f"need at least 2 labels to correct shares, got {list(labels)}")
        missing = [label for label in labels if label not in predicted]
        if missing:
            raise ValueError(
                f"predicted categories {list(predicted)} lack the labels {missing}: the predicted "
                f"categories are the labels, possibly plus {UNCERTAIN!r}"
            )
        counts = np.asarray(self.counts)
        if counts.shape != (len(labels), len(predicted)):
            raise ValueError(
                f"counts have shape {counts.shape}, expected {(len(labels), len(predicted))} "
                "(true labels × predicted categories)"
            )
        try:
            whole = counts.astype(np.int64)
        except (TypeError, ValueError) as error:
            raise ValueError("confusion counts must be non-negative whole numbers") from error
        if not np.array_equal(whole, counts) or (whole < 0).any():
            raise ValueError("confusion counts must be non-negative whole numbers")
        whole.flags.writeable = False  # frozen means frozen: no edits through the array either
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "predicted", predicted)
        object.__setattr__(self, "counts", whole)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        return (
            self.labels == other.labels
            and self.predicted == other.predicted
            and np.array_equal(self.counts, other.counts)
        )

    @classmethod
    def from_pairs(
        cls,
        true: Sequence[str],
        predicted: Sequence[str],
        labels: Sequence[str],
        predicted_categories: Sequence[str] | None = None,
    ) -> ConfusionMatrix:
        """Count (true label, predicted category) pairs of labelled faces.

        predicted_categories defaults to the labels (the argmax rule); pass
        (*labels, UNCERTAIN) for the threshold rule. Values outside them are errors rather than
        dropped, because a silently dropped face would bias the error rates.
        """
        categories = tuple(labels if predicted_categories is None else predicted_categories)
        if len(true) != len(predicted):
            raise ValueError(f"{len(true)} true labels but {len(predicted)} predictions")
        unknown_true = sorted(set(true) - set(labels))
        if unknown_true:
            raise ValueError(f"true labels {unknown_true} are not among the labels {list(labels)}")
        unknown_predicted = sorted(set(predicted) - set(categories))
        if unknown_predicted:
            raise ValueError(
                f"predictions {unknown_predicted} are not among the predicted categories {list(categories)}"
            )
        row = {label: index for index, label in enumerate(labels)}
        column = {category: index for index, category in enumerate(categories)}
        counts = np.zeros((len(labels), len(categories)), dtype=np.int64)
        for truth, prediction in zip(true, predicted):
            counts[row[truth], column[prediction]] += 1
        return cls(tuple(labels), categories, counts)

    def rates(self) -> np.ndarray:
        """P(predicted category | true label): each row divided by its total.

        A row without labelled faces has no rate at all, and guessing one would pass the guess off
        as a measured correction, so it is an error.
        """
        totals = self.counts.sum(axis=1)
        empty = [label for label, total in zip(self.labels, totals) if total == 0]
        if empty:
            raise ValueError(
                f"no labelled faces of true label {', '.join(map(repr, empty))}; label some before "
                "correcting (the classifier's error rate on them is unknown)"
            )
        return self.counts / totals[:, None]

    def to_dict(self) -> dict[str, list]:
        """JSON-able: {"labels": [...], "predicted": [...], "matrix": [[...], ...]} (rows = true)."""
        return {"labels": list(self.labels), "predicted": list(self.predicted), "matrix": self.counts.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence]) -> ConfusionMatrix:
        """The inverse of to_dict."""
        missing = [key for key in ("labels", "predicted", "matrix") if key not in data]
        if missing:
            raise ValueError(f"confusion matrix dict lacks {missing}")
        return cls(tuple(data["labels"]), tuple(data["predicted"]), np.asarray(data["matrix"]))


@dataclass(frozen=True, eq=False)
class ValidatedConfusion:
    """The collection's own errors: a validation sample's (design-weighted) confusion, plus the card's
    confusion as a prior worth `prior_faces` card faces.

    The card's confusion is measured on other faces (NK posters, MetFaces portraits); a random sample
    of the collection itself labelled by hand measures the errors the counts actually suffer
    (TeBlunthuis, Hase & Chan 2024). `validation` holds effective counts: each label's weight
    (inverse inclusion probability) rescaled so that the weights sum to the number of labelled faces,
    which keeps a simple random sample's counts as they are and gives a stratified one its design's
    rates without pretending it holds more faces than were labelled. `prior` is the card's counts
    scaled to `prior_faces` faces in all (its rows keep the card's label balance), so a small sample
    borrows the card's rates and a large one overrides them. Both enter `counts`, which
    `estimate_prevalence` reads like a ConfusionMatrix's: the point rates are counts ÷ row totals and
    every bootstrap replicate draws the rates from Dirichlet(counts + ½), which is the posterior of the
    rates given the validation sample and the prior, so the interval carries the sample's size.
    """

    labels: tuple[str, ...]
    predicted: tuple[str, ...]
    validation: np.ndarray
    prior: np.ndarray
    validation_labels: int  # faces labelled (not their weights' sum)
    prior_faces: float

    def __post_init__(self) -> None:
        shape = (len(self.labels), len(self.predicted))
        for name in ("validation", "prior"):
            array = np.array(getattr(self, name), dtype=float)
            if array.shape != shape or (array < 0).any() or not np.isfinite(array).all():
                raise ValueError(f"{name} counts must be finite, non-negative and of shape {shape}")
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "predicted", tuple(self.predicted))

    @property
    def counts(self) -> np.ndarray:
        """Validation effective counts plus the prior's pseudo-counts (what the rates are drawn from)."""
        return self.validation + self.prior

    def rates(self) -> np.ndarray:
        """P(predicted | true) from the validation sample and the prior together; an error for a true
        label neither has faces of, as for ConfusionMatrix."""
        return ConfusionMatrix.rates(self)  # type: ignore[arg-type]  # same arithmetic on float counts


Confusion = ConfusionMatrix | ValidatedConfusion  # what estimate_prevalence corrects with


def validated_confusion(true: Sequence[str], predicted: Sequence[str], weights: Sequence[float],
                        card: ConfusionMatrix, prior_faces: float | None) -> ValidatedConfusion:
    """The confusion of a validation sample (true label, prediction under the collection's decision
    rule, design weight per labelled face) with the card's confusion `card` as a prior worth
    `prior_faces` faces (None: all the card's faces; 0: no prior).

    The categories are the card's, so a prediction outside them is an error, as in
    ConfusionMatrix.from_pairs; a weight must be positive (a face with weight 0 was not sampled).
    """
    weights = np.asarray(weights, dtype=float)
    if len(weights) != len(true):
        raise ValueError(f"{len(true)} validation labels but {len(weights)} weights")
    if len(weights) and (~np.isfinite(weights) | (weights <= 0)).any():
        raise ValueError("validation weights (inverse inclusion probabilities) must be positive and finite")
    ConfusionMatrix.from_pairs(true, predicted, card.labels, card.predicted)  # unknown labels: errors, not dropped
    effective = np.zeros(card.counts.shape)
    if len(weights):
        row = {label: index for index, label in enumerate(card.labels)}
        column = {category: index for index, category in enumerate(card.predicted)}
        scaled = weights * len(weights) / weights.sum()
        np.add.at(effective, ([row[t] for t in true], [column[p] for p in predicted]), scaled)
    total = card.counts.sum()
    if prior_faces is None:
        prior, prior_faces = card.counts.astype(float), float(total)
    else:
        if prior_faces < 0:
            raise ValueError(f"the prior's weight must be at least 0 faces, got {prior_faces}")
        prior = card.counts * (prior_faces / total) if total else np.zeros(card.counts.shape)
    return ValidatedConfusion(card.labels, card.predicted, effective, prior, len(weights), float(prior_faces))


@dataclass(frozen=True)
class PrevalenceEstimate:
    """Each label's share in a collection, raw and corrected, with a bootstrap interval.

    n counts every face of the collection, "uncertain" ones included, and raw_share is the share
    predicted as each label among all n: this is what classify-and-count reports, and its shares
    sum to less than 1 when some faces are uncertain. corrected_share sums to 1 over the labels.
    With n == 0 every share and bound is NaN: an empty collection is a valid input with no answer,
    and NaN keeps tables of many collections computable.
    """

    labels: tuple[str, ...]
    n: int
    raw_share: dict[str, float]
    corrected_share: dict[str, float]
    ci_low: dict[str, float]
    ci_high: dict[str, float]
    method: str
    n_boot: int
    level: float


def choose_method(n_labels: int, n_categories: int, method: str | None = None) -> str:
    """Rogan–Gladen for 2 labels × 2 predicted categories, least squares otherwise.

    Rogan–Gladen is the closed form of the same least-squares problem in the 2×2 case (both give
    the clipped solution of q = Mᵀp), kept because it is the estimator readers recognise.
    """
    if method is None:
        return ROGAN_GLADEN if (n_labels, n_categories) == (2, 2) else LEAST_SQUARES
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    if method == ROGAN_GLADEN and (n_labels, n_categories) != (2, 2):
        raise ValueError(
            f"{ROGAN_GLADEN} needs 2 labels and 2 predicted categories, got {n_labels} × {n_categories}; "
            f"use {LEAST_SQUARES}"
        )
    return method


def corrected_shares(rates: np.ndarray, observed: np.ndarray, method: str | None = None) -> np.ndarray:
    """True-label shares p from error rates and observed predicted-category proportions q.

    rates is ConfusionMatrix.rates(): rows are true labels, columns predicted categories, so
    rates[i, j] = P(predicted j | true i) and q ≈ ratesᵀ p. observed is in the same column order;
    it is normalised here, so counts work too. With 2 labels and 2 categories this is Rogan–Gladen,
    p₀ = (q₀ − fpr) / (tpr − fpr) with tpr = P(pred col 0 | label 0), fpr = P(pred col 0 | label 1),
    clipped to [0, 1]; otherwise the least-squares fit of q on the simplex (p ≥ 0, Σp = 1), which
    uses an "uncertain" column as evidence too instead of discarding it. Raises ValueError when the
    rates cannot separate the labels (tpr == fpr, or rank-deficient rates): then every share
    explains the observed counts equally well.
    """
    rates = np.asarray(rates, dtype=float)
    observed = np.asarray(observed, dtype=float)
    if rates.ndim != 2 or observed.shape != (rates.shape[1],):
        raise ValueError(f"rates {rates.shape} and observed {observed.shape} do not fit (K × C and C)")
    if (rates < 0).any() or not np.allclose(rates.sum(axis=1), 1.0):
        raise ValueError("rates must be non-negative with rows summing to 1 (P(predicted | true))")
    if (observed < 0).any() or observed.sum() <= 0:
        raise ValueError("observed proportions must be non-negative and not all zero")
    method = choose_method(*rates.shape, method)
    require_identified(rates, method)
    shares, _ = solve_shares(rates[None], observed[None] / observed.sum(), method)
    return shares[0]


def estimate_prevalence(
    observed_counts: Mapping[str, int],
    confusion: Confusion,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    interval: str = EXACT,
) -> PrevalenceEstimate:
    """Corrected label shares of a collection, with an interval that is honest at every size.

    observed_counts maps every predicted category of the confusion matrix (and nothing else) to the
    number of collection faces predicted as it, counted with the same decision rule; pass 0 for an
    empty category. The point estimate uses all the data. Each of the n_boot replicates carries both
    errors: it draws every confusion row's rates from their Jeffreys posterior Dirichlet(counts + ½)
    (the labelled set's error in the rates; a rate observed as 0 among 20 labelled faces is not
    surely 0) and draws the collection's predicted proportions (its sampling error), then
    recomputes the corrected shares; the interval is their percentile interval, inside [0, 1]
    because every replicate is.

    How the collection's proportions are drawn is what makes small groups honest (`interval`):
    EXACT (the default) draws each label's lower bound from Dirichlet(counts + one face given to the
    other labels) and its upper bound from Dirichlet(counts + one face given to it), the
    Clopper–Pearson construction (its bounds are quantiles of Beta(y, n−y+1) and Beta(y+1, n−y))
    carried through the correction; JEFFREYS draws both from Dirichlet(counts + ½); PERCENTILE
    resamples the counts multinomially at their observed proportions (the method before issue 21),
    which never varies a group whose faces all have one label: one female face gave 1.0 [1.0, 1.0].
    EXACT was chosen by benchmarks/classify_prevalence_coverage.py: the only one of the three whose
    95 % interval covered the true share at least 93 % of the time for every group size from 1 face.

    A replicate whose rates cannot separate the labels (possible only through rounding, as the rates
    are drawn from a continuous posterior) identifies nothing, so it counts as 0 for the lower bound
    and 1 for the upper one rather than being dropped, which would narrow the interval. Finally the
    interval is widened to contain the point estimate should it not: an interval that excludes the
    best estimate would be incoherent.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    observed = _observed_vector(observed_counts, confusion.predicted)
    rates = confusion.rates()
    method = choose_method(*rates.shape)
    require_identified(rates, method)
    labels = confusion.labels
    n = int(observed.sum())
    if n == 0:
        nan = [dict.fromkeys(labels, math.nan) for _ in range(4)]  # four dicts: callers may edit one
        return PrevalenceEstimate(labels, 0, *nan, method=method, n_boot=n_boot, level=level)

    q = observed / n
    point = solve_shares(rates[None], q[None], method)[0][0]
    rng = np.random.default_rng(seed)
    boot_rates = rate_draws(confusion, n_boot, rng)
    low, high = interval_bounds(SideDraws(observed, confusion, boot_rates, rng, method, interval), point, level)

    column = {category: index for index, category in enumerate(confusion.predicted)}
    return PrevalenceEstimate(
        labels=labels,
        n=n,
        raw_share={label: float(q[column[label]]) for label in labels},
        corrected_share=dict(zip(labels, map(float, point))),
        ci_low=dict(zip(labels, map(float, low))),
        ci_high=dict(zip(labels, map(float, high))),
        method=method,
        n_boot=n_boot,
        level=level,
    )


def bootstrap_draws(
    observed: Sequence[Mapping[str, int]],
    confusion: Confusion,
    bounds: Sequence[tuple[int, str]],
    n_boot: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """Replicates of the corrected shares of several collections counted by one classifier.

    Returns an array (collections, n_boot, labels): collection i drawn for bounds[i], a pair (label
    index, LOWER or UPPER) saying which bound of which label its replicates serve (see
    estimate_prevalence: the collection's proportions are drawn leaning that way). Each replicate
    draws the confusion rates once and uses them for every collection, while each collection's
    proportions are drawn on their own: a comparison between collections (a subset's share over the
    whole collection's) then keeps the rate error they share instead of counting it twice, which is
    what makes a ratio's percentile interval honest. NaN for an empty collection, and in a
    replicate whose rates cannot separate the labels.
    """
    if len(bounds) != len(observed):
        raise ValueError(f"{len(observed)} collections but {len(bounds)} bounds")
    vectors = [_observed_vector(counts, confusion.predicted) for counts in observed]
    method = choose_method(*confusion.counts.shape)
    rng = np.random.default_rng(seed)
    boot_rates = rate_draws(confusion, n_boot, rng)
    result = np.full((len(vectors), n_boot, len(confusion.labels)), np.nan)
    for index, (counts, (label, bound)) in enumerate(zip(vectors, bounds)):
        if counts.sum():
            draws = SideDraws(counts, confusion, boot_rates, rng, method, EXACT)
            result[index] = draws.for_bound(label, bound)[0]
    return result


def interval_bounds(draws: SideDraws, point: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Each label's (low, high) at `level` from its bound's replicates, widened to contain `point`.

    A replicate that identifies nothing counts as 0 for the lower bound and 1 for the upper one
    (dropping it would narrow the interval); an interval that excludes its estimate is incoherent.
    """
    tail = (1 - level) / 2
    low, high = np.empty(len(point)), np.empty(len(point))
    for k in range(len(point)):
        shares, identified = draws.for_bound(k, LOWER)
        low[k] = np.quantile(np.where(identified, shares[:, k], 0.0), tail)
        shares, identified = draws.for_bound(k, UPPER)
        high[k] = np.quantile(np.where(identified, shares[:, k], 1.0), 1 - tail)
    return np.minimum(low, point), np.maximum(high, point)


def rate_draws(confusion: Confusion, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """n_boot draws (n_boot, K, C) of the confusion rates from each row's Jeffreys posterior."""
    return np.stack([rng.dirichlet(row + 0.5, size=n_boot) for row in confusion.counts], axis=1)


class SideDraws:
    """The corrected-share replicates of one collection for each bound of each label, drawn once
    per distinct set of pseudo-counts (with two labels, the female lower bound's draws are the male
    upper bound's), all with the same rate draws."""

    def __init__(self, observed: np.ndarray, confusion: Confusion, boot_rates: np.ndarray,
                 rng: np.random.Generator, method: str, interval: str) -> None:
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}; use one of {INTERVALS}")
        self.observed, self.confusion, self.boot_rates = observed, confusion, boot_rates
        self.rng, self.method, self.interval = rng, method, interval
        self._solved: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def for_bound(self, label: int, bound: str) -> tuple[np.ndarray, np.ndarray]:
        """(shares (n_boot, K), identified (n_boot,)) of the replicates for this label's bound."""
        pseudo = self._pseudo_counts(label, bound)
        key = None if pseudo is None else tuple(pseudo)
        if key not in self._solved:
            shares, identified = solve_shares(self.boot_rates, self._proportions(pseudo), self.method)
            self._solved[key] = (shares, identified)
        return self._solved[key]

    def proportions(self, label: int, bound: str) -> np.ndarray:
        """Fresh draws (n_boot, C) of the collection's proportions for this label's bound, for a
        caller that solves them its own way (`analysis.compare` solves them unclipped)."""
        return self._proportions(self._pseudo_counts(label, bound))

    def _pseudo_counts(self, label: int, bound: str) -> np.ndarray | None:
        """Faces added to the counts before drawing proportions; None for the multinomial resample."""
        if self.interval == PERCENTILE:
            return None
        categories = len(self.confusion.predicted)
        labels = len(self.confusion.labels)
        pseudo = np.full(categories, 0.5)  # categories beyond the labels (uncertain): Jeffreys
        if self.interval == JEFFREYS:
            return pseudo
        column = {category: index for index, category in enumerate(self.confusion.predicted)}
        own = column[self.confusion.labels[label]]
        others = [column[other] for index, other in enumerate(self.confusion.labels) if index != label]
        pseudo[own] = 0.0 if bound == LOWER else 1.0
        pseudo[others] = 1.0 / (labels - 1) if bound == LOWER else 0.0
        return pseudo

    def _proportions(self, pseudo: np.ndarray | None) -> np.ndarray:
        """n_boot draws (n_boot, C) of the collection's predicted proportions."""
        n_boot, n = len(self.boot_rates), int(self.observed.sum())
        if pseudo is None:
            return self.rng.multinomial(n, self.observed / n, size=n_boot) / n
        # Gamma draws rather than rng.dirichlet: a shape of 0 (no face and no pseudo-face in a
        # category) is a category surely empty in this draw, which Dirichlet does not accept.
        gammas = self.rng.standard_gamma(np.broadcast_to(self.observed + pseudo, (n_boot, len(pseudo))))
        return gammas / gammas.sum(axis=1, keepdims=True)


def _require_unique(values: tuple[str, ...], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} repeat a value: {list(values)}")


def _observed_vector(observed_counts: Mapping[str, int], predicted: tuple[str, ...]) -> np.ndarray:
    """The counts in the confusion matrix's column order, after checking the categories match.

    Equal category sets are the one check available that the collection was counted with the
    confusion matrix's decision rule (argmax counts against a threshold matrix lack "uncertain").
    """
    given, expected = set(observed_counts), set(predicted)
    if given != expected:
        raise ValueError(
            f"observed categories {sorted(map(str, given))} differ from the confusion matrix's predicted "
            f"categories {list(predicted)} (missing {sorted(map(str, expected - given))}, unexpected "
            f"{sorted(map(str, given - expected))}): count the collection with the decision rule of the "
            "labelled faces, and pass 0 for a category no face fell in"
        )
    values = [observed_counts[category] for category in predicted]
    if any(value != int(value) or value < 0 for value in values):
        raise ValueError(f"observed counts must be non-negative whole numbers, got {dict(observed_counts)}")
    return np.array([int(value) for value in values], dtype=np.int64)


def identified_matrices(rates: np.ndarray, method: str) -> np.ndarray:
    """Whether each stacked (…, K, C) rate matrix determines the shares (one bool per matrix).

    Rows of rates sum to 1, so the shares are determined exactly when the K rows are linearly
    independent; in the 2×2 case that is tpr != fpr, tested exactly (rates of whole counts are
    equal as floats exactly when they are equal as fractions).
    """
    if method == ROGAN_GLADEN:
        return rates[..., 0, 0] != rates[..., 1, 0]

    def compute() -> np.ndarray:
        singular = np.linalg.svd(rates, compute_uv=False)
        return singular[..., -1] > singular[..., 0] * max(rates.shape[-2:]) * np.finfo(float).eps

    return _remembered("identified", rates, compute)


def _remembered(kind: str, rates: np.ndarray, compute: Callable[[], Any]) -> Any:
    """compute(), which depends on `rates` alone, remembered for the last few rate arrays.

    Every bootstrap of one model at one threshold draws the same rates (same held-out counts, same
    seed), so a table of a hundred years or keywords would otherwise factorise the same 2,000
    matrices a hundred times; the values are those a fresh computation gives, as it is the same one.
    """
    key = (kind, rates.shape, rates.dtype.str, rates.tobytes())
    return _REMEMBERED.get(key, lambda: _read_only(compute()))


def _read_only(value: Any) -> Any:
    """`value` with its arrays made read-only: a remembered value is shared by every later caller."""
    for array in value if isinstance(value, list) else [value]:
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return value


def require_identified(rates: np.ndarray, method: str) -> None:
    """Raise ValueError, saying why in the researcher's terms, when `rates` cannot determine the shares."""
    if identified_matrices(rates, method):
        return
    if method == ROGAN_GLADEN:
        raise ValueError(
            f"true positive rate equals false positive rate ({rates[0, 0]:.4g}): on the labelled faces "
            "the classifier is no better than chance, so its counts say nothing about the true shares"
        )
    raise ValueError(
        "the confusion rates cannot separate the labels (some true label's row is a mixture of the "
        "others), so different true shares give the same predicted shares; label more faces or "
        "merge labels"
    )


def solve_shares(rates: np.ndarray, q: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Shares (B, K) for stacked rates (B, K, C) and proportions (B, C); NaN where unidentified.

    Vectorised over B so that thousands of bootstrap replicates cost a few array operations.
    """
    identified = identified_matrices(rates, method)
    if method == ROGAN_GLADEN:
        tpr, fpr = rates[:, 0, 0], rates[:, 1, 0]
        first = np.clip((q[:, 0] - fpr) / np.where(identified, tpr - fpr, 1.0), 0.0, 1.0)
        shares = np.stack([first, 1.0 - first], axis=1)
    else:
        shares = _simplex_least_squares(np.swapaxes(rates, 1, 2), q)
    shares[~identified] = np.nan
    return shares, identified


def _kkt_inverse(columns: np.ndarray) -> np.ndarray:
    """pinv of the stacked KKT matrices of the fit on `columns` (B, C, |S|) with Σp = 1; pinv, as a
    singular system (an unidentified replicate) must not abort the whole batch."""
    batch, _, size = columns.shape
    kkt = np.zeros((batch, size + 1, size + 1))
    kkt[:, :size, :size] = np.swapaxes(columns, 1, 2) @ columns
    kkt[:, :size, size] = kkt[:, size, :size] = 1.0
    return np.linalg.pinv(kkt)


def _simplex_least_squares(mixing: np.ndarray, q: np.ndarray) -> np.ndarray:
    """argmin ‖mixing·p − q‖² over the simplex, exactly, for stacked mixing (B, C, K), q (B, C).

    Enumerates active sets: for each support S, solve the fit with p = 0 off S and Σp = 1 (a small
    KKT system); the optimum's own support yields the optimum itself, every other candidate with
    p ≥ 0 is merely feasible, so the best feasible candidate is the optimum. 2^K − 1 supports is
    cheap for the handful of labels a face classifier has, and unlike a projected gradient there is
    no step size or stopping rule to get wrong.
    """
    batch, _, k = mixing.shape
    best = np.full((batch, k), np.nan)
    best_loss = np.full(batch, np.inf)
    supports = [list(support) for size in range(1, k + 1) for support in combinations(range(k), size)]
    inverses = _remembered("kkt_inverses", mixing, lambda: [_kkt_inverse(mixing[:, :, support])
                                                            for support in supports])
    for support, inverse in zip(supports, inverses):
        size = len(support)
        columns = mixing[:, :, support]
        rhs = np.zeros((batch, size + 1))
        rhs[:, :size] = (np.swapaxes(columns, 1, 2) @ q[:, :, None])[:, :, 0]
        rhs[:, size] = 1.0
        solution = (inverse @ rhs[:, :, None])[:, :size, 0]
        feasible = (solution >= _FEASIBLE).all(axis=1)
        candidate = np.zeros((batch, k))
        candidate[:, support] = np.clip(solution, 0.0, None)
        total = candidate.sum(axis=1, keepdims=True)
        np.divide(candidate, total, out=candidate, where=total > 0)
        loss = (((mixing @ candidate[:, :, None])[:, :, 0] - q) ** 2).sum(axis=1)
        better = feasible & (loss < best_loss)
        best[better], best_loss[better] = candidate[better], loss[better]
    return best
