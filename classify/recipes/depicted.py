"""The three labelled sets of the default model side by side, their grouped folds and the head's fit.

Photographs (UTKFace), poster faces (NK) and painted faces (MetFaces) are combined one row per
face, with domain-prefixed groups so ids never collide; folds are grouped within each domain (a
poster, an object, a file never on both sides), and each domain weighs the same in the head's
loss. The recipe trains with these; `benchmarks/classify_depicted_cv.py` measures with the same
pieces, so the figures it reports are those of the shipped recipe.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from postercensus.classify.models.head import HeadSettings
from postercensus.classify.recipes.faces import LabelledFaces
from postercensus.classify.train.splits import grouped_folds
from postercensus.classify.train.training import train_head, validation_split

LABELS = ("female", "male")
DOMAINS = (("photos", "utk"), ("posters", "nk"), ("paintings", "metfaces"))
HEAD = HeadSettings(batch_size=128, seed=0)  # the default model's head (train_default trains with it)
VALIDATION_SHARE = 0.15


@dataclass
class Combined:
    """The three sets side by side: one row per face."""

    y: np.ndarray
    domain: np.ndarray  # "photos" / "posters" / "paintings"
    groups: list[str]  # domain-prefixed, so ids never collide across sets
    labels: list[str]
    adult: np.ndarray  # UTKFace age ≥ 18 (False elsewhere)
    dlib: np.ndarray
    faces: list[LabelledFaces]
    names: list[str]


def combine(sets: dict[str, LabelledFaces]) -> Combined:
    parts = [(domain, sets[name]) for domain, name in DOMAINS]
    labels = [label for _, faces in parts for label in faces.labels]
    return Combined(
        y=np.array([LABELS.index(label) for label in labels]),
        domain=np.array([domain for domain, faces in parts for _ in faces.labels]),
        groups=[f"{domain}:{group}" for domain, faces in parts for group in faces.groups],
        labels=labels,
        adult=np.array([bool(extra) and int(extra["age"]) >= 18 for _, faces in parts for extra in faces.extra]),
        dlib=np.concatenate([np.stack([s.descriptor for s in faces.samples]) for _, faces in parts]).astype(np.float32),
        faces=[faces for _, faces in parts],
        names=[name for _, name in DOMAINS],
    )


def domain_folds(data: Combined, folds: int) -> list[np.ndarray]:
    """Fold k = the union of every domain's grouped fold k (each domain split on its own)."""
    result: list[list[int]] = [[] for _ in range(folds)]
    for domain, _ in DOMAINS:
        members = np.flatnonzero(data.domain == domain)
        for k, part in enumerate(grouped_folds([data.labels[i] for i in members], [data.groups[i] for i in members],
                                               folds, seed=0)):
            result[k].extend(members[part])
    return [np.array(sorted(part)) for part in result]


def domain_weights(domain: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Per face, n / (domains × faces of its domain) over `indices`: each domain weighs the same."""
    weights = np.zeros(len(domain))
    present = sorted(set(domain[indices]))
    for name in present:
        members = indices[domain[indices] == name]
        weights[members] = len(indices) / (len(present) * len(members))
    return weights


def head_probabilities(features: np.ndarray, data: Combined, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    fit_idx, validation_idx = validation_split(data.labels, data.groups, train, VALIDATION_SHARE, HEAD.seed + 1)
    head, _ = train_head(features, data.y, len(LABELS), fit_idx, validation_idx, HEAD,
                         domain_weights(data.domain, train))
    return head.predict(features[test], verbose=0)
