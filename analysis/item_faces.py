"""A selection's faces counted per item once: what every face table sums over its own groups of items.

The tables group items by year, decade, keyword and composition, and compare faces with mentions
per item; grouping 200,000 face rows by their text labels once per table costs most of a
dashboard view, while summing a small items × labels matrix over each group costs little.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ItemFaces:
    """Rows in the order of the selection's items: `decided[i, k]` faces of item i decided as
    `labels[k]` (`uncertain` included), `faces[i]` its faces decided or not (a face the model has
    not predicted yet counts as a face of its item, in no label)."""

    labels: tuple[str, ...]
    decided: np.ndarray
    faces: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, items: int, decisions: np.ndarray, labels: Sequence[str]) -> ItemFaces:
        """Count the faces of `items` items: a face per entry of `rows` (its item's row), decided as
        `labels[decisions]` (-1: not decided)."""
        known = decisions >= 0
        decided = np.bincount(rows[known] * len(labels) + decisions[known],
                              minlength=items * len(labels)).reshape(items, len(labels))
        return cls(tuple(labels), decided, np.bincount(rows, minlength=items))

    def column(self, label: str) -> np.ndarray:
        """Each item's faces decided as `label` (0 where no face is)."""
        return self.decided[:, self.labels.index(label)] if label in self.labels else np.zeros(len(self.faces), int)

    def counts(self, rows: np.ndarray | slice = slice(None)) -> dict[str, int]:
        """label → faces of the items at `rows` (a mask or positions; default all), as the faces'
        `value_counts` gives them: only labels with at least one face."""
        totals = self.decided[rows].sum(axis=0)
        return {label: int(total) for label, total in zip(self.labels, totals) if total}
