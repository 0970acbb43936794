"""Fisherfaces (Belhumeur et al. 1997): PCA then LDA on grey face pixels, nearest class mean.

The classic baseline beside the neural head: if a linear projection of raw pixels does nearly
as well, the head's features add little. Pure NumPy, deterministic, a few MB fitted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from postercensus.classify.models.facesamples import FaceSample

PIXELS = 64  # grey crops of 64×64: the aligned face, small enough for PCA on thousands of faces
MAX_COMPONENTS = 150  # PCA components kept before LDA (at most n − classes, as Fisherfaces requires)


def pixels_of(samples: Sequence[FaceSample]) -> np.ndarray:
    """(n, 64²) grey values in [0, 1] from the aligned crops."""
    grey = [sample.crop_rgb(PIXELS).mean(axis=2) / 255.0 for sample in samples]
    return np.stack(grey).reshape(len(samples), -1).astype(np.float32)


@dataclass
class Fisherfaces:
    labels: tuple[str, ...]
    mean: np.ndarray  # (d,)
    projection: np.ndarray  # (d, classes − 1): PCA then LDA
    centroids: np.ndarray  # (classes, classes − 1)

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, labels: tuple[str, ...]) -> Fisherfaces:
        n_classes = len(labels)
        mean = x.mean(axis=0)
        centred = x - mean
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        pca = vt[: max(1, min(len(x) - n_classes, MAX_COMPONENTS, vt.shape[0]))].T
        z = centred @ pca
        overall = z.mean(axis=0)
        within = np.zeros((z.shape[1], z.shape[1]))
        between = np.zeros_like(within)
        for k in range(n_classes):
            zk = z[y == k]
            centre = zk.mean(axis=0)
            within += (zk - centre).T @ (zk - centre)
            between += len(zk) * np.outer(centre - overall, centre - overall)
        # Whiten the within-class scatter, then the leading eigenvectors of the between-class one.
        values, vectors = np.linalg.eigh(within + 1e-6 * np.trace(within) / len(within) * np.eye(len(within)))
        whiten = vectors / np.sqrt(values)
        b_values, b_vectors = np.linalg.eigh(whiten.T @ between @ whiten)
        lda = whiten @ b_vectors[:, np.argsort(b_values)[::-1][: n_classes - 1]]
        projection = (pca @ lda).astype(np.float32)
        projected = centred @ projection
        centroids = np.stack([projected[y == k].mean(axis=0) for k in range(n_classes)])
        return cls(labels, mean.astype(np.float32), projection, centroids)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Index of the nearest class mean in the Fisher space."""
        projected = (x - self.mean) @ self.projection
        distances = ((projected[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        return distances.argmin(axis=1)

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez_compressed(handle, labels=np.array(self.labels), mean=self.mean,
                                projection=self.projection, centroids=self.centroids)

    @classmethod
    def load(cls, path: Path) -> Fisherfaces:
        with np.load(path) as stored:
            return cls(tuple(str(v) for v in stored["labels"]), stored["mean"],
                       stored["projection"], stored["centroids"])
