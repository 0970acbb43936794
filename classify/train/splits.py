"""Grouped, label-balanced splits: all faces of one group (poster, item) land on the same side.

Groups are dealt out in a seeded random order, each to the fold that is furthest below its
target share of the group's majority label, so folds keep roughly the collection's label mix
without ever splitting a group.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np


def _indices_by_group(labels: Sequence[str], groups: Sequence[str]) -> dict[str, list[int]]:
    members: dict[str, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        members[group].append(index)
    return members


def grouped_folds(labels: Sequence[str], groups: Sequence[str], folds: int, seed: int = 0) -> list[np.ndarray]:
    """`folds` arrays of indices (the test side of each fold); every index in exactly one."""
    if len(labels) != len(groups):
        raise ValueError("labels and groups differ in length")
    members = _indices_by_group(labels, groups)
    if len(members) < folds:
        raise ValueError(f"{len(members)} groups cannot make {folds} folds; label faces from more posters")
    order = list(members)
    np.random.default_rng(seed).shuffle(order)
    filled: list[Counter] = [Counter() for _ in range(folds)]
    sizes = [0] * folds
    assignment: list[list[int]] = [[] for _ in range(folds)]
    for group in order:
        majority = Counter(labels[i] for i in members[group]).most_common(1)[0][0]
        fold = min(range(folds), key=lambda f: (filled[f][majority], sizes[f]))
        assignment[fold].extend(members[group])
        filled[fold].update(labels[i] for i in members[group])
        sizes[fold] += len(members[group])
    return [np.array(sorted(indices), dtype=int) for indices in assignment]


def grouped_holdout(labels: Sequence[str], groups: Sequence[str], share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices with about `share` of the faces held out, whole groups only."""
    if not 0 < share < 1:
        raise ValueError("the held-out share must be between 0 and 1")
    folds = max(2, round(1 / share))
    parts = grouped_folds(labels, groups, folds, seed)
    held_out = parts[0]
    train = np.setdiff1d(np.arange(len(labels)), held_out)
    return train, held_out
