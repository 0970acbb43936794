"""The filtered items and their faces as the chosen model decides them: the input of every table.

Decisions are re-made here from each prediction's top label and probability with the filters'
min_probability, not taken from the stored label (decided with the classify stage's own threshold),
so that the counts always follow the rule whose confusion matrix corrects them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from postercensus.analysis.face_status import SCANNED
from postercensus.analysis.filters import FilterError, Filters, select_items
from postercensus.analysis.item_faces import ItemFaces
from postercensus.analysis.item_keywords import ItemKeywords, catalogue_keywords
from postercensus.analysis.load import PREDICTION_COLUMNS, Tables
from postercensus.analysis.shares import Shares
from postercensus.catalog.schema import OTHER_LABEL, UNCERTAIN_LABEL

KEPT_SELECTIONS = 4  # per Tables: a view's filters and the few before them


@dataclass(frozen=True)
class Selection:
    """items: the filtered items. faces: one row per face × item of those items, `other` faces left
    out, `label` the decision at min_probability (NaN for a face the model has not predicted yet)."""

    items: pd.DataFrame
    faces: pd.DataFrame
    model_id: str | None
    card: dict[str, Any] | None
    min_probability: float
    catalogue_keywords: ItemKeywords = field(repr=False, compare=False)  # of every item, `keywords` is of these

    @cached_property
    def keywords(self) -> ItemKeywords:
        """The (item, keyword) pairs of these items."""
        return self.catalogue_keywords.within(self.items)

    @property
    def labels(self) -> list[str]:
        """The model's labels (none without a model)."""
        return [] if self.card is None else list(self.card["labels"])

    @cached_property
    def item_faces(self) -> ItemFaces:
        """The faces counted per item, in the order of `items`."""
        return ItemFaces.of(self.items, self.faces)

    @cached_property
    def scanned(self) -> np.ndarray:
        """Per item: whether its image was scanned (only those can show "no face")."""
        return self.items["face_status"].eq(SCANNED).to_numpy()

    @cached_property
    def shares(self) -> Shares:
        """The share columns of these faces' decisions: every table of the selection corrects with one
        confusion matrix."""
        return Shares(self.card, self.min_probability)


def chosen_model(tables: Tables, filters: Filters) -> str | None:
    """The filters' model, else the most recently registered one with predictions (None: no model)."""
    if filters.model_id is None:
        return next(reversed(tables.models), None)
    if filters.model_id not in tables.models:
        raise FilterError(f"model {filters.model_id!r} has no predictions in this face set; "
                          f"models with predictions: {', '.join(tables.models) or 'none'}")
    return filters.model_id


def select(tables: Tables, filters: Filters) -> Selection:
    """Apply the filters and decide every face of the chosen model at min_probability.

    The selection is kept on `tables` for the latest few filters (the tables are read-only, and
    a kept selection is never changed by its callers), so every table of one view selects once.
    """
    items, faces, selection = tables.selections.get(filters, (None, None, None))
    if items is not tables.items or faces is not tables.faces:  # not kept, or a frame was replaced since
        selection = _select(tables, filters)
        kept = dict(list(tables.selections.items())[1 - KEPT_SELECTIONS:])
        # a new dict, not an edit: the dashboard's threads may read the old one meanwhile
        tables.selections = {**kept, filters: (tables.items, tables.faces, selection)}
    return selection


def _select(tables: Tables, filters: Filters) -> Selection:
    model_id = chosen_model(tables, filters)
    keywords = catalogue_keywords(tables)
    items = select_items(tables.items, filters, keywords)
    faces = decided_faces(tables, model_id)
    decided = faces[faces["item_id"].isin(items["item_id"])].reset_index(drop=True)
    confident = decided["probability"].astype(float).ge(filters.min_probability)
    decided["label"] = (decided["top_label"].astype(object).where(confident, UNCERTAIN_LABEL)
                        .where(decided["top_label"].notna(), None))
    card = None if model_id is None else tables.models[model_id]
    return Selection(items, decided, model_id, card, filters.min_probability, keywords)


def decided_faces(tables: Tables, model_id: str | None) -> pd.DataFrame:
    """Every face × item of the catalogue, `other` faces left out, with `model_id`'s prediction (empty
    where it made none): what every selection keeps the rows of its items from, made once per
    model and faces frame (kept on the tables, read-only), as merging 200,000 faces costs more
    than a view's every other step."""
    kept = tables.derived.get(("decided", model_id))
    if kept is None or kept[0] is not tables.faces:  # not made yet, or the frame was replaced since
        faces = tables.faces[tables.faces["human_label"].ne(OTHER_LABEL)]
        located = faces.drop(columns=PREDICTION_COLUMNS).drop_duplicates(["face_id", "item_id"])
        predicted = faces.loc[faces["model_id"].eq(model_id), ["face_id", "item_id", *PREDICTION_COLUMNS]]
        kept = (tables.faces, located.merge(predicted, on=["face_id", "item_id"], how="left"))
        tables.derived[("decided", model_id)] = kept
    return kept[1]


@dataclass(frozen=True)
class Matched:
    """How much of the catalogue a filter set keeps: the base every share of its tables rests on."""

    items: int
    images: int  # stored images of those items
    faces: int  # faces of the default face set on those items (each face once, `other` faces left out)

    def __str__(self) -> str:
        return f"{self.items:,} items, {self.images:,} images and {self.faces:,} faces matched"


def matched(tables: Tables, filters: Filters) -> Matched:
    """Count what the filters keep (raises FilterError as `select` does)."""
    selection = select(tables, filters)
    images = tables.images["item_id"].isin(selection.items["item_id"]).sum()
    return Matched(len(selection.items), int(images), selection.faces["face_id"].nunique())


def items_with(items: pd.DataFrame, keyword: str) -> pd.Series:
    """The ids of the items that carry `keyword`."""
    return items.loc[items["keywords"].map(lambda keywords: keyword in keywords), "item_id"]
