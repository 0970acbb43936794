"""Grouped cross-validation for choosing a detector setting, and the choice rules it applies in each fold.

A setting chosen and scored on the same images looks better than it will on a new collection
(the old default: 1.25× the seed on People-Art, where it was picked; fewer faces than the seed
elsewhere). So the choice is made inside folds that hold out whole groups (styles, painters):
each fold picks the setting that scores best on its training groups and is scored on its
held-out group; the held-out figures, pooled over folds, are what a new collection can expect.

Metrics are per-image and summable (`Counts`, `Score`), so a fold's figure is the sum over its
images, computed once per candidate from cached detections.
"""
from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Generic, TypeVar

from paintingfaces import Counts
from peopleart import Score

M = TypeVar("M", Counts, Score)
MIN_PRECISION_PROXY = 0.9
# A default must run ≥ 3× the seed's images/min on 2 cores: two workers give ≈ 1.9× one process,
# so one process must be ≈ 1.6× the seed; half the seed's seconds per image leaves room for
# the pool's overhead and the timing noise of a shared machine.
MAX_COST = 0.5


def add_choice_options(parser: argparse.ArgumentParser, fresh: bool = True) -> None:
    """The options every detector-choosing script takes: which settings may be chosen, which are
    run, and (where the script reads the detection cache alone) whether to forget it."""
    parser.add_argument("--max-cost", type=float, default=MAX_COST,
                        help=f"choosable settings cost at most this × the seed's seconds per image (default {MAX_COST})")
    parser.add_argument("--slow", action="store_true",
                        help="also HOG upsample 2 and dlib's CNN (3–15× the seed's time per image: never choosable)")
    if fresh:
        parser.add_argument("--fresh", action="store_true", help="forget cached detections (after changing detector code)")


def eligible_labels(candidates: Sequence, seconds: Mapping[str, float], max_cost: float) -> list[str]:
    """Postercensus settings (not the seed, which is first) costing at most max_cost × the seed per image."""
    seed_seconds = seconds[candidates[0].label]
    return [c.label for c in candidates[1:] if seconds[c.label] <= max_cost * seed_seconds]


def balanced_folds(group_of: Mapping[str, str], count: int) -> list[set[str]]:
    """`count` folds of whole groups with image counts as even as possible.

    Largest group first, each into the fold with the fewest images so far (ties: the lower
    fold); deterministic, so every run holds out the same painters.
    """
    sizes = Counter(group_of.values())
    folds: list[set[str]] = [set() for _ in range(count)]
    loads = [0] * count
    for group, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        target = loads.index(min(loads))
        folds[target].add(group)
        loads[target] += size
    return folds


def one_fold_per_group(group_of: Mapping[str, str]) -> list[set[str]]:
    return [{group} for group in sorted(set(group_of.values()))]


def total(per_image: Mapping[str, M], keys: Iterable[str], zero: Callable[[], M]) -> M:
    return reduce(lambda a, b: a + b, (per_image[key] for key in keys), zero())


@dataclass
class Fold(Generic[M]):
    held_out: set[str]
    chosen: str
    held_out_images: int
    result: M  # the chosen setting on the held-out images


Chooser = Callable[[Mapping[str, M]], str]


def cross_validate(
    metrics: Mapping[str, Mapping[str, M]],
    group_of: Mapping[str, str],
    folds: Sequence[set[str]],
    choose: Chooser,
    zero: Callable[[], M],
) -> list[Fold[M]]:
    """For each fold: choose on the other folds' images, score the choice on this fold's."""
    outcome = []
    for held_out in folds:
        test = [key for key, group in group_of.items() if group in held_out]
        train = [key for key, group in group_of.items() if group not in held_out]
        chosen = choose({label: total(per_image, train, zero) for label, per_image in metrics.items()})
        outcome.append(Fold(held_out, chosen, len(test), total(metrics[chosen], test, zero)))
    return outcome


def pooled(folds: Sequence[Fold[M]], zero: Callable[[], M]) -> M:
    return reduce(lambda a, b: a + b, (fold.result for fold in folds), zero())


def _best(values: Mapping[str, tuple], eligible: Sequence[str]) -> str:
    """The eligible label with the largest key tuple; ties go to the earlier (cheaper-listed) label."""
    return max(eligible, key=lambda label: (values[label], -eligible.index(label)))


def choose_f1(eligible: Sequence[str], seconds: Mapping[str, float]) -> Chooser:
    """Paintings: the highest F1; then the faster."""
    return lambda train: _best({label: (round(train[label].f1, 6), -seconds[label]) for label in eligible}, eligible)


def choose_hits(eligible: Sequence[str], seconds: Mapping[str, float]) -> Chooser:
    """People-Art: the highest hit rate among settings with precision proxy ≥ 0.9 (else the most precise)."""

    def choose(train: Mapping[str, Score]) -> str:
        precise = [label for label in eligible if train[label].precision >= MIN_PRECISION_PROXY]
        if not precise:
            return _best({label: (train[label].precision, -seconds[label]) for label in eligible}, eligible)
        return _best({label: (round(train[label].hit_rate, 6), -seconds[label]) for label in precise}, precise)

    return choose


@dataclass
class Joint:
    """Both sets' totals for one setting: the joint choice's unit."""

    paintings: Counts
    peopleart: Score

    def __add__(self, other: "Joint") -> "Joint":
        return Joint(self.paintings + other.paintings, self.peopleart + other.peopleart)

    @property
    def criterion(self) -> float:
        """Mean of paintings F1 and People-Art hit rate (both 0–1, equal weight)."""
        return (self.paintings.f1 + self.peopleart.hit_rate) / 2


def joint_zero() -> Joint:
    return Joint(Counts(), Score())


PEOPLEART_TARGET = 2.0  # issue 14: ≥ 2× the seed's People-Art person hits at precision proxy ≥ 0.9


def choose_joint_targets(eligible: Sequence[str], seconds: Mapping[str, float], seed: str) -> Callable[[Mapping[str, Joint]], str]:
    """Both sets, by the issue's targets: among settings with People-Art precision proxy ≥ 0.9 and
    ≥ 2× the seed's hits on the training images, the highest paintings F1 (else the mean rule).

    Paintings precision is true face precision, while People-Art's proxy counts any detection in
    a person box, so the sets' roles differ: People-Art sets a floor, paintings F1 decides.
    """
    fallback = choose_joint(eligible, seconds)

    def choose(train: Mapping[str, Joint]) -> str:
        floor = PEOPLEART_TARGET * train[seed].peopleart.persons_hit
        meeting = [label for label in eligible if train[label].peopleart.precision >= MIN_PRECISION_PROXY
                   and train[label].peopleart.persons_hit >= floor]
        if not meeting:
            return fallback(train)
        return _best({label: (round(train[label].paintings.f1, 6), -seconds[label]) for label in meeting}, meeting)

    return choose


def choose_joint(eligible: Sequence[str], seconds: Mapping[str, float]) -> Callable[[Mapping[str, Joint]], str]:
    """Both sets: the highest mean of F1 and hit rate among settings with People-Art precision proxy ≥ 0.9."""

    def choose(train: Mapping[str, Joint]) -> str:
        precise = [label for label in eligible if train[label].peopleart.precision >= MIN_PRECISION_PROXY]
        pool = precise or list(eligible)
        return _best({label: (round(train[label].criterion, 6), -seconds[label]) for label in pool}, pool)

    return choose
