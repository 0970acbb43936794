"""The filtered items and their faces as the chosen model decides them: the input of every table.

Decisions are re-made here from each prediction's top label and probability with the filters'
min_probability, not taken from the stored label (decided with the classify stage's own threshold),
so that the counts always follow the rule whose confusion matrix corrects them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from postercensus.analysis.face_status import SCANNED
from postercensus.analysis.filters import FilterError, Filters, at_threshold, select_items
from postercensus.analysis.item_faces import ItemFaces
from postercensus.analysis.item_keywords import ItemKeywords, catalogue_keywords
from postercensus.analysis.load import Tables
from postercensus.analysis.model_faces import ModelFaces, model_faces
from postercensus.analysis.shares import Shares
from postercensus.classify.models.modelcard import ModelCard

KEPT_SELECTIONS = 4  # per Tables: a view's filters and the few before them


@dataclass(frozen=True)
class Selection:
    """items: the filtered items. faces: one row per face × item of those items, `other` faces left
    out, `label` the decision at min_probability (None for a face the model has not predicted yet),
    made when first asked for: the tables count the faces per item (`item_faces`) without it."""

    items: pd.DataFrame
    model_id: str | None
    card: ModelCard | None
    min_probability: float
    catalogue_keywords: ItemKeywords = field(repr=False, compare=False)  # of every item, `keywords` is of these
    catalogue_faces: ModelFaces = field(repr=False, compare=False)  # of every item, `face_rows` are these items'
    face_rows: np.ndarray = field(repr=False, compare=False)  # a mask over `catalogue_faces`: these items' faces
    catalogue_mentions: pd.DataFrame = field(repr=False, compare=False)  # `Tables.mentions`

    @cached_property
    def item_rows(self) -> pd.Index:
        """item_id → its row in `items` (item ids are unique)."""
        return pd.Index(self.items["item_id"])

    @cached_property
    def decisions(self) -> np.ndarray:
        """Each face's decision, a position in `catalogue_faces.labels` (-1: not decided)."""
        return self.catalogue_faces.decide(self.face_rows, self.min_probability)

    @cached_property
    def faces(self) -> pd.DataFrame:
        """The faces frame (see the class's docstring), in the catalogue's order of faces."""
        return self.catalogue_faces.faces(self.face_rows, self.decisions)

    @cached_property
    def keywords(self) -> ItemKeywords:
        """The (item, keyword) pairs of these items."""
        return self.catalogue_keywords.within(self.item_rows)

    @property
    def labels(self) -> list[str]:
        """The model's labels (none without a model)."""
        return [] if self.card is None else self.card.label_list

    @cached_property
    def item_faces(self) -> ItemFaces:
        """The faces counted per item, in the order of `items`."""
        rows = self.item_rows.get_indexer(self.catalogue_faces.item_ids[self.face_rows])
        return ItemFaces.of(rows, len(self.items), self.decisions, self.catalogue_faces.labels)

    @cached_property
    def scanned(self) -> np.ndarray:
        """Per item: whether its image was scanned (only those can show "no face")."""
        return self.items["face_status"].eq(SCANNED).to_numpy()

    @cached_property
    def mentions(self) -> pd.DataFrame:
        """The mentions of these items outside titles (a title names a work, not a person on or
        behind the poster)."""
        mentions = self.catalogue_mentions
        return mentions[mentions["item_id"].isin(self.items["item_id"]) & ~mentions["in_title"].astype(bool)]

    @cached_property
    def shares(self) -> Shares:
        """The share columns of these faces' decisions: every table of the selection corrects with one
        confusion matrix."""
        return Shares(self.card, self.min_probability, self.catalogue_faces)


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
    Filters naming no min_probability decide at the home's `[classify] threshold` (`Tables.threshold`).
    """
    filters = at_threshold(filters, tables.threshold)
    frames, selection = tables.selections.get(filters, (None, None))
    current = (tables.items, tables.faces, tables.mentions)
    if frames is None or any(kept is not now for kept, now in zip(frames, current)):
        selection = _select(tables, filters)  # not kept, or a frame was replaced since
        kept = dict(list(tables.selections.items())[1 - KEPT_SELECTIONS:])
        # a new dict, not an edit: the dashboard's threads may read the old one meanwhile
        tables.selections = {**kept, filters: (current, selection)}
    return selection


def _select(tables: Tables, filters: Filters) -> Selection:
    model_id = chosen_model(tables, filters)
    keywords = catalogue_keywords(tables)
    items = select_items(tables.items, filters, keywords)
    faces = model_faces(tables, model_id)
    card = None if model_id is None else tables.models[model_id]
    return Selection(items, model_id, card, filters.min_probability, keywords, faces,
                     np.isin(faces.item_ids, items["item_id"].to_numpy()), tables.mentions)


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
    faces = pd.unique(selection.catalogue_faces.face_ids[selection.face_rows])
    return Matched(len(selection.items), int(images), len(faces))


def items_with(items: pd.DataFrame, keyword: str) -> pd.Series:
    """The ids of the items that carry `keyword`."""
    return items.loc[items["keywords"].map(lambda keywords: keyword in keywords), "item_id"]
