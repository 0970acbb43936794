"""The filtered items and their faces as the chosen model decides them: the input of every table.

Decisions are re-made here from each prediction's top label and probability with the filters'
min_probability, not taken from the stored label (decided with the classify stage's own threshold),
so that the counts always follow the rule whose confusion matrix corrects them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from postercensus.analysis.filters import FilterError, Filters, select_items
from postercensus.analysis.load import PREDICTION_COLUMNS, Tables
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

    @property
    def labels(self) -> list[str]:
        """The model's labels (none without a model)."""
        return [] if self.card is None else list(self.card["labels"])


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
    items = select_items(tables.items, filters)
    faces = tables.faces[tables.faces["item_id"].isin(items["item_id"])
                         & tables.faces["human_label"].ne(OTHER_LABEL)]
    located = faces.drop(columns=PREDICTION_COLUMNS).drop_duplicates(["face_id", "item_id"])
    predicted = faces.loc[faces["model_id"].eq(model_id), ["face_id", "item_id", *PREDICTION_COLUMNS]]
    decided = located.merge(predicted, on=["face_id", "item_id"], how="left")
    confident = decided["probability"].astype(float).ge(filters.min_probability)
    decided["label"] = (decided["top_label"].astype(object).where(confident, UNCERTAIN_LABEL)
                        .where(decided["top_label"].notna(), None))
    card = None if model_id is None else tables.models[model_id]
    return Selection(items, decided, model_id, card, filters.min_probability)


@dataclass(frozen=True)
class Matched:
    """How much of the catalogue a filter set keeps: the base every share of its tables rests on."""

    items: int
    images: int  # stored images of those items
    faces: int  # faces of the active face set on those items (each face once, `other` faces left out)

    def __str__(self) -> str:
        return f"{self.items:,} items, {self.images:,} images and {self.faces:,} faces matched"


def matched(tables: Tables, filters: Filters) -> Matched:
    """Count what the filters keep (raises FilterError as `select` does)."""
    selection = select(tables, filters)
    images = tables.images["item_id"].isin(selection.items["item_id"]).sum()
    return Matched(len(selection.items), int(images), selection.faces["face_id"].nunique())


def top_keywords(items: pd.DataFrame, top_n: int) -> pd.Series:
    """keyword → items, the top_n by items (ties alphabetically, so the choice is stable)."""
    keywords = items["keywords"].explode().dropna()
    counts = keywords.value_counts().rename("items").reset_index()
    counts.columns = ["keyword", "items"]
    counts = counts.sort_values(["items", "keyword"], ascending=[False, True]).head(top_n)
    return counts.set_index("keyword")["items"]


def items_with(items: pd.DataFrame, keyword: str) -> pd.Series:
    """The ids of the items that carry `keyword`."""
    return items.loc[items["keywords"].map(lambda keywords: keyword in keywords), "item_id"]


def items_with_each(items: pd.DataFrame, keywords: Iterable[str]) -> dict[str, pd.Series]:
    """keyword → the ids of the items that carry it (as `items_with`), for many keywords in one
    pass over the items instead of one per keyword."""
    keywords = list(keywords)
    exploded = items[["item_id", "keywords"]].explode("keywords", ignore_index=True)
    wanted = exploded[exploded["keywords"].isin(keywords)]
    carrying = dict(list(wanted.groupby("keywords")["item_id"]))
    return {keyword: carrying.get(keyword, items["item_id"].iloc[0:0]) for keyword in keywords}
