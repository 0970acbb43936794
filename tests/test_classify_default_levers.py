"""The stacked decision measured for issue 22 (benchmarks/classify_default_levers.py).

A per-domain logistic stack of the members' logits must be cross-fitted (a fold's weights never
see that fold's faces) and must learn the shift a biased member needs; its logistic fit must
recover known weights.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def levers():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("classify_default_levers")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_logistic_fit_recovers_known_weights(levers):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 2))
    y = (rng.random(20000) < 1 / (1 + np.exp(-(-0.7 + 1.5 * x[:, 0] - 0.5 * x[:, 1])))).astype(int)
    assert np.allclose(levers.fit_logistic(x, y, ridge=0.0), [-0.7, 1.5, -0.5], atol=0.08)


def toy_faces(levers, rng, n_per_domain=400):
    """Two domains; the member is biased towards `male` by +1.5 logits on the first one only."""
    domains = np.repeat(["posters", "photos"], n_per_domain)
    y = rng.integers(0, 2, len(domains))
    margin = np.where(y == 1, 1.0, -1.0) * 1.2 + rng.normal(size=len(y)) + np.where(domains == "posters", 1.5, 0.0)
    faces = SimpleNamespace(domain=domains, y=y, fold=rng.integers(0, levers.FOLDS, len(y)))
    return faces, levers.as_probabilities(margin)


def recalls(y, probabilities, rows):
    decided = probabilities[rows].argmax(axis=1)
    return [float((decided[y[rows] == c] == c).mean()) for c in (0, 1)]


def test_the_stack_removes_a_domain_bias_cross_fitted(levers):
    faces, member = toy_faces(levers, np.random.default_rng(1))
    posters = np.flatnonzero(faces.domain == "posters")
    female, male = recalls(faces.y, member, posters)
    assert male - female > 0.3  # the member decides posters male too often
    stacked = levers.stacked(faces, [member])
    female, male = recalls(faces.y, stacked, posters)
    assert abs(male - female) < 0.1
    assert stacked.shape == member.shape and np.allclose(stacked.sum(axis=1), 1)


def test_a_fold_is_combined_by_weights_fitted_without_it(levers):
    faces, member = toy_faces(levers, np.random.default_rng(2))
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def combine(train, test):
        seen.append((train, test))
        return member[test]
    levers.per_domain_cross_fitted(faces, combine)
    assert len(seen) == 2 * levers.FOLDS
    for train, test in seen:
        assert not set(train) & set(test)
        assert len(set(faces.domain[np.concatenate([train, test])])) == 1  # one domain at a time
    assert sorted(np.concatenate([test for _, test in seen]).tolist()) == list(range(len(faces.y)))
