"""Collections composed from depicted faces with a known female share, predicted out-of-fold.

A corrected share can only be judged against a truth, and no harvested collection has one; a
collection composed from labelled faces does. Every face's probabilities here are the model card's
*out-of-fold* ones (`domains.<name>.held_out_predictions`: each face predicted by models that never
trained on it, grouped by poster, painter or object), so the errors are those a new collection would
suffer, never those of a model on its own training faces. Everything is read from the card, so a
retrained default model is benchmarked by re-running the script.

A scenario pairs a pool of faces, the calibration their counts are decided with, and the card's
confusion that corrects them (the "card prior"):

- matched: NK poster faces of held-out poster folds, decided with the posters calibration and
  corrected with the posters confusion of the *other* folds' faces (issue 22's composed-poster check);
- mismatched: scene-painting faces decided and corrected as `posters` (a researcher declaring the
  wrong domain, or a domain the card lacks), and NK poster faces decided and corrected as `paintings`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from postercensus.classify.train.domains import calibrate
from postercensus.classify.train.metrics import decide
from postercensus.classify.models.modelcard import ModelCard
from postercensus.classify.prevalence.estimate import ConfusionMatrix

FOLDS = 5  # held-out poster folds of the matched scenario


@dataclass(frozen=True)
class Pool:
    """Faces a collection is composed from: true labels and the decisions the collection counts."""

    true: np.ndarray  # label strings
    decided: np.ndarray  # decided category strings (argmax of the calibrated probabilities)


@dataclass(frozen=True)
class Scenario:
    """Pools (one per held-out fold; one for a mismatched scenario) and each pool's card confusion."""

    name: str
    pools: tuple[Pool, ...]
    confusions: tuple[ConfusionMatrix, ...]  # the card confusion that corrects pools[k]
    domain: str  # the card domain whose confusion corrects

    def draw(self, rng: np.random.Generator) -> tuple[Pool, ConfusionMatrix]:
        """One pool with its card confusion, chosen at random (a held-out fold, for the matched scenario)."""
        index = int(rng.integers(len(self.pools)))
        return self.pools[index], self.confusions[index]


def _held(card: ModelCard, domain: str) -> dict:
    """The domain's stored out-of-fold faces (true labels, probabilities, groups)."""
    return (card.domains or {})[domain].held_out_predictions or {}


def _raw(card: ModelCard, domain: str) -> np.ndarray:
    """The domain's out-of-fold probabilities before calibration (the card stores them)."""
    held = _held(card, domain)
    if "uncalibrated" not in held:
        raise SystemExit(f"the card's {domain} entry lacks uncalibrated out-of-fold probabilities; "
                         "rebuild the card with `python -m postercensus.classify.recipes.recalibrate_default`")
    return np.asarray(held["uncalibrated"], dtype=float)


def _decided(card: ModelCard, faces_domain: str, decided_as: str) -> np.ndarray:
    """The out-of-fold faces of `faces_domain` decided (argmax) after `decided_as`'s calibration."""
    probabilities = calibrate(card, _raw(card, faces_domain), decided_as)
    return np.array(decide(probabilities, card.label_list), dtype=object)


def _confusion(card: ModelCard, true: np.ndarray, decided: np.ndarray) -> ConfusionMatrix:
    return ConfusionMatrix.from_pairs(list(true), list(decided), card.label_list)


def _folds(groups: list[str], folds: int, seed: int) -> np.ndarray:
    """A fold number per face, whole groups (posters) to one fold, groups shuffled by `seed`."""
    names = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {names[k]: rank % folds for rank, k in enumerate(order)}
    return np.array([fold_of[group] for group in groups])


def scenarios(card: ModelCard, seed: int = 0) -> list[Scenario]:
    """The three scenarios of the benchmark, from the card alone."""
    def truth(domain: str) -> np.ndarray:
        return np.array(_held(card, domain)["true"], dtype=object)

    nk_true = truth("posters")
    nk_decided = _decided(card, "posters", "posters")
    fold = _folds(_held(card, "posters")["groups"], FOLDS, seed)
    matched = Scenario(
        "NK poster faces, posters confusion of other folds (matched)",
        tuple(Pool(nk_true[fold == k], nk_decided[fold == k]) for k in range(FOLDS)),
        tuple(_confusion(card, nk_true[fold != k], nk_decided[fold != k]) for k in range(FOLDS)),
        "posters")
    posters_card = _confusion(card, nk_true, nk_decided)
    scenes = Scenario("scene-painting faces, posters confusion (mismatched)",
                      (Pool(truth("scenes"), _decided(card, "scenes", "posters")),), (posters_card,), "posters")
    met_true = truth("paintings")
    paintings_card = _confusion(card, met_true, _decided(card, "paintings", "paintings"))
    nk_as_paintings = Scenario("NK poster faces, paintings confusion (mismatched)",
                               (Pool(nk_true, _decided(card, "posters", "paintings")),), (paintings_card,), "paintings")
    return [matched, scenes, nk_as_paintings]


def compose(pool: Pool, female_share: float, size: int, labels: list[str],
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A collection of `size` faces of which exactly round(female_share·size) are `labels[0]`, drawn
    with replacement from the pool (a face reused across posters, as portraits of leaders are):
    (true labels, decided categories) per collection face."""
    first = int(round(female_share * size))
    picks = []
    for label, count in ((labels[0], first), (labels[1], size - first)):
        candidates = np.flatnonzero(pool.true == label)
        picks.append(rng.choice(candidates, size=count, replace=True))
    chosen = np.concatenate(picks)
    rng.shuffle(chosen)
    return pool.true[chosen], pool.decided[chosen]
