"""This home's validation labels per model, read once with the tables: what corrects with the
collection's own errors (`classify.correction.correction`).

Kept apart from the faces frame because validation labels belong to a face set, not to a model's
predictions, and a model trained on any of them must not be judged by them (issue 23, item 5):
each model's entry says so, read from the labels engineer's `classify.label.validation`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine

from postercensus.classify.models.modelcard import ModelCard
from postercensus.classify.label.validation import adjudicated_validation_labels, validation_labels_used_in_training

if TYPE_CHECKING:
    from postercensus.analysis.filters import Filters
    from postercensus.analysis.load import Tables


@dataclass(frozen=True)
class ModelValidation:
    """The face set's adjudicated validation labels (face, label, weight, sample, coders) and whether
    the model was trained on any of them."""

    labels: pd.DataFrame
    trained_on: bool


def model_validation(engine: Engine, face_set: str | None, cards: Mapping[str, ModelCard]) -> dict[str, ModelValidation]:
    """model id → its `ModelValidation`; empty when the face set has no validation labels."""
    if face_set is None or not cards:
        return {}
    labels = adjudicated_validation_labels(engine, face_set)
    if labels.empty:
        return {}
    return {model_id: ModelValidation(labels, validation_labels_used_in_training(card, engine))
            for model_id, card in cards.items()}


def validation_need(tables: Tables, filters: Filters | None = None) -> dict[str, Any] | None:
    """The current interval half-width of the selected collection's first-label corrected share and
    the half-width expected with 50, 100 and 200 more validation labels, each capped at the selected
    faces not validated yet (`classify.correction.validation_need`). None when no model is selected
    or its card has no held-out faces to correct with (then there is no interval to narrow); with a
    model and no validation sample, the card's confusion is the one the new labels would replace."""
    from postercensus.analysis.filters import Filters, at_threshold
    from postercensus.analysis.selection import select  # selection reads this module's labels
    from postercensus.classify.correction import validation_need as need

    selection = select(tables, at_threshold(filters or Filters(), tables.threshold))
    used = selection.shares.correction if selection.model_id is not None else None
    if used is None:
        return None
    counts = selection.faces["label"].value_counts().to_dict()
    entry = tables.validation.get(selection.model_id)
    validated = set(entry.labels["face"]) if entry is not None else set()
    return need(used, counts, len(set(selection.faces["face_id"]) - validated))
