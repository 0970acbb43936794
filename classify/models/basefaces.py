"""The faces a shipped model was trained on, kept as features so a researcher's labels can be added.

A researcher who labels a few hundred faces of their own collection should get a model at least
as good as the default, not one trained on those faces alone. `classify train` therefore fits
the head on the base model's training faces plus the researcher's: for that it needs the base
faces' dlib descriptors (not their images, which do not ship), labels, domains (photos / posters
/ paintings, for domain-balanced weights) and groups (so splits never separate one poster's
faces). Stored as float16 descriptors: about 3 MB for eleven thousand faces.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from postercensus.classify.models import modelfolder


@dataclass
class BaseFaces:
    descriptors: np.ndarray  # (n, 128) float32
    labels: list[str]
    domains: list[str]
    groups: list[str]

    def save(self, folder: Path) -> None:
        np.savez_compressed(folder / modelfolder.BASE_FACES_FILE, descriptors=self.descriptors.astype(np.float16),
                            labels=np.array(self.labels), domains=np.array(self.domains), groups=np.array(self.groups))

    @classmethod
    def load(cls, folder: Path) -> BaseFaces | None:
        """The folder's base faces, or None when the model ships none (it cannot be transferred from)."""
        path = folder / modelfolder.BASE_FACES_FILE
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as stored:
            return cls(stored["descriptors"].astype(np.float32), [str(v) for v in stored["labels"]],
                       [str(v) for v in stored["domains"]], [str(v) for v in stored["groups"]])
