"""Tables of faces: perceived-gender shares overall, by item composition, by period and by keyword.

Every share is a corrected share with its interval (`analysis.shares`); raw counts stay beside it
so a reader can see what the correction did. Faces the model has not predicted yet count as faces
of their item (composition, items_with_faces) but not in any share, which needs a decided label.
Only items whose image was scanned (`analysis.face_status`) can show "no face"; the others are
counted in their own composition rows and `items_scanned` columns, and in no share.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from postercensus.analysis.face_status import SCANNED, UNSCANNED
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import Tables
from postercensus.analysis.selection import Selection, items_with, select
from postercensus.analysis.shares import RATIO_COLUMNS, SHARE_COLUMNS

BY_GENDER_COLUMNS = ["label", *SHARE_COLUMNS, "model_id"]
COMPOSITION_COLUMNS = ["composition", "items", "share"]
PERIOD_COLUMNS = ["label", "items", "items_scanned", "items_with_faces", *SHARE_COLUMNS, "model_id"]
BY_YEAR_COLUMNS = ["year", "decade", *PERIOD_COLUMNS]
BY_DECADE_COLUMNS = ["decade", *PERIOD_COLUMNS]
BY_KEYWORD_COLUMNS = ["keyword", *PERIOD_COLUMNS[:-1], *RATIO_COLUMNS, "model_id"]
ITEMS_FOR_COLUMNS = ["item_id", "title", "year", "landing_url", "image_path", "faces"]
NO_FACE, MIXED, ONLY_UNCERTAIN = "no_face", "mixed", "only_uncertain"


def _counts(faces: pd.DataFrame) -> dict[str, int]:
    return faces["label"].value_counts().to_dict()


def by_gender(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Faces per label among the filtered items, with raw and corrected shares (one row per label)."""
    selection = select(tables, filters)
    rows = selection.shares.rows(_counts(selection.faces))
    return rows.assign(model_id=selection.model_id)[BY_GENDER_COLUMNS]


def scanned_items(items: pd.DataFrame) -> pd.DataFrame:
    """The items with a scanned image: the only ones whose lack of faces means anything."""
    return items[items["face_status"].eq(SCANNED)]


def item_compositions(selection: Selection) -> pd.Series:
    """item_id → no_face, only_<label>, mixed or only_uncertain (faces but none decided as a label),
    for the selection's scanned items only.

    Uncertain faces beside decided ones do not make an item mixed: mixed means two labels were seen.
    """
    kinds = pd.Series(NO_FACE, index=scanned_items(selection.items)["item_id"].to_numpy(), dtype=object)
    kinds[kinds.index.isin(selection.faces["item_id"])] = ONLY_UNCERTAIN
    decided = selection.faces.loc[selection.faces["label"].isin(selection.labels), ["item_id", "label"]]
    shown = decided.drop_duplicates().groupby("item_id")["label"].agg(["first", "size"])  # sorted by item_id
    shown_kinds = ("only_" + shown["first"].astype(str)).where(shown["size"].eq(1), MIXED)
    known = shown_kinds.index.isin(kinds.index)
    kinds[shown_kinds.index[known]] = shown_kinds[known].to_numpy()
    # an item with decided faces that is not scanned is added after them, as setting it one by one would
    return pd.concat([kinds, shown_kinds[~known].astype(object)]) if not known.all() else kinds


def composition(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Scanned items by which labels their faces show, share of the scanned items; then the items
    not scanned, failed and without an image, each in its own row with no share."""
    selection = select(tables, filters)
    kinds = item_compositions(selection)
    order = [NO_FACE, *(f"only_{label}" for label in selection.labels), MIXED, ONLY_UNCERTAIN]
    counts = kinds.value_counts()
    total = len(kinds)
    statuses = selection.items["face_status"].value_counts()
    return pd.DataFrame([*({"composition": kind, "items": int(counts.get(kind, 0)),
                            "share": counts.get(kind, 0) / total if total else math.nan} for kind in order),
                         *({"composition": status, "items": int(statuses.get(status, 0)), "share": math.nan}
                           for status in UNSCANNED)],
                        columns=COMPOSITION_COLUMNS)


@dataclass(frozen=True)
class FaceBase:
    """How many items a face figure or table rests on: the base a reader needs beside any share."""

    items: int  # every item of the view
    scanned: int  # with a scanned image: the only items in face counts and shares
    with_faces: int  # of the scanned items, those with at least one counted face
    unscanned: dict[str, int]  # not_scanned / failed / no_image → items


def face_base(composition_table: pd.DataFrame) -> FaceBase:
    """The base of a `composition` table, read from its scanned and unscanned rows."""
    counts = dict(zip(composition_table["composition"], composition_table["items"].astype(int)))
    unscanned = {status: counts.pop(status, 0) for status in UNSCANNED}
    scanned = sum(counts.values())
    return FaceBase(items=scanned + sum(unscanned.values()), scanned=scanned,
                    with_faces=scanned - counts.get(NO_FACE, 0), unscanned=unscanned)


def _by_period(tables: Tables, filters: Filters, period: str) -> pd.DataFrame:
    """One row per period × label from the first to the last period with items; periods without
    items are kept with items = 0 and NaN shares (no data), never zero shares."""
    selection = select(tables, filters)
    dated = selection.items.dropna(subset=[period])
    columns = BY_YEAR_COLUMNS if period == "year" else BY_DECADE_COLUMNS
    if dated.empty or selection.card is None:
        return pd.DataFrame(columns=columns)
    step = 1 if period == "year" else 10
    item_period = dated.set_index("item_id")[period]
    faces = selection.faces[["item_id", "label"]]  # all a row needs: splitting every column costs seconds
    faces = faces.assign(period=faces["item_id"].map(item_period)).dropna(subset=["period"])
    items_per = dated.groupby(period).size()
    scanned_per = scanned_items(dated).groupby(period).size()
    counts: dict[int, dict[str, int]] = {}  # period → label → faces, as _counts gives them per period
    for (value, label), faces_of_label in faces.groupby(["period", "label"]).size().items():
        counts.setdefault(value, {})[label] = faces_of_label
    with_faces = faces.groupby("period")["item_id"].nunique()
    records = []
    for value in range(int(dated[period].min()), int(dated[period].max()) + 1, step):
        group = {period: value, **({"decade": value // 10 * 10} if period == "year" else {}),
                 "items": int(items_per.get(value, 0)), "items_scanned": int(scanned_per.get(value, 0)),
                 "items_with_faces": int(with_faces.get(value, 0)), "model_id": selection.model_id}
        records += [{**group, **row} for row in selection.shares.records(counts.get(value, {}))]
    return pd.DataFrame(records, columns=columns)


def by_year(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Per year × label: items, items scanned, items with faces, faces and shares; gap years kept
    with NaN shares."""
    return _by_period(tables, filters, "year")


def by_decade(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """by_year per decade (1930 = 1930–1939)."""
    return _by_period(tables, filters, "decade")


@dataclass(frozen=True)
class _KeywordBase:
    """What one keyword's rows rest on: its faces per label (as `_counts` gives them), its scanned
    items and its items with at least one face."""

    counts: dict[str, int]
    items_scanned: int
    items_with_faces: int


def _keyword_bases(selection: Selection, keywords: pd.Index) -> list[_KeywordBase]:
    """Each keyword's base, from per-item label counts summed over the keyword's items: one pass
    over the faces for all keywords (filtering 200,000 faces once per keyword costs a second)."""
    items = pd.Index(selection.items["item_id"])  # item ids are unique: item_id → row
    face_items = items.get_indexer(selection.faces["item_id"])  # every face's item is selected
    labels, names = pd.factorize(selection.faces["label"])  # -1: not decided (no prediction yet)
    decided = labels >= 0
    per_item = np.bincount(face_items[decided] * len(names) + labels[decided],
                           minlength=len(items) * len(names)).reshape(len(items), len(names))
    with_faces = np.bincount(face_items, minlength=len(items)) > 0
    scanned = selection.items["face_status"].eq(SCANNED).to_numpy()
    bases = []
    for carrying in selection.keywords.carrying(keywords).values():
        rows = np.unique(items.get_indexer(carrying))
        counts = per_item[rows].sum(axis=0)
        bases.append(_KeywordBase({name: int(count) for name, count in zip(names, counts) if count},
                                  int(scanned[rows].sum()), int(with_faces[rows].sum())))
    return bases


def by_keyword(tables: Tables, filters: Filters = Filters(), top_n: int = 20) -> pd.DataFrame:
    """Per top-N keyword × label: the shares, and the ratio of the keyword's corrected share to the
    whole filtered collection's (1: as in the collection), with its bootstrap interval."""
    selection = select(tables, filters)
    if selection.card is None:
        return pd.DataFrame(columns=BY_KEYWORD_COLUMNS)
    top = selection.keywords.top(top_n)
    bases = _keyword_bases(selection, top.index)
    ratios = selection.shares.ratios([base.counts for base in bases], _counts(selection.faces))
    records = []
    for (keyword, items), base, ratio in zip(top.items(), bases, ratios):
        group = {"keyword": keyword, "items": int(items), "items_scanned": base.items_scanned,
                 "items_with_faces": base.items_with_faces, "model_id": selection.model_id}
        records += [{**group, **row, **{column: ratio.get(row["label"], {}).get(column, math.nan)
                                        for column in RATIO_COLUMNS}}
                    for row in selection.shares.records(base.counts)]
    return pd.DataFrame(records, columns=BY_KEYWORD_COLUMNS)


def _face_boxes(faces: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"left": int(face.left), "top": int(face.top), "right": int(face.right), "bottom": int(face.bottom),
             "label": face.label, "probability": None if pd.isna(face.probability) else float(face.probability),
             "image_path": face.image_path}
            for face in faces.itertuples()]


def items_for(tables: Tables, filters: Filters = Filters(), year: int | None = None, keyword: str | None = None,
              label: str | None = None) -> pd.DataFrame:
    """The filtered items of a year, keyword and/or face label, with their faces, for drill-down.

    Each face is {left, top, right, bottom, label, probability, image_path}: boxes are in pixels of
    the face's own image, which is the item's image_path unless the item has several images.
    """
    selection = select(tables, filters)
    items = selection.items
    if year is not None:
        items = items[items["year"].eq(year).fillna(False).astype(bool)]
    if keyword is not None:
        items = items[items["item_id"].isin(items_with(items, keyword))]
    if label is not None:
        items = items[items["item_id"].isin(selection.faces.loc[selection.faces["label"] == label, "item_id"])]
    faces = dict(list(selection.faces.groupby("item_id")))
    empty = selection.faces.iloc[0:0]
    items = items.assign(faces=[_face_boxes(faces.get(item_id, empty)) for item_id in items["item_id"]])
    return items[ITEMS_FOR_COLUMNS].reset_index(drop=True)
