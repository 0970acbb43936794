"""Tables of faces: perceived-gender shares overall, by item composition, by period and by keyword.

Every share is a corrected share with its interval (`analysis.shares`); raw counts stay beside it
so a reader can see what the correction did. Faces the model has not predicted yet count as faces
of their item (composition, items_with_faces) but not in any share, which needs a decided label.
Only items whose image was scanned (`analysis.face_status`) can show "no face"; the others are
counted in their own composition rows and `items_scanned` columns, and in no share.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from postercensus.analysis.face_status import UNSCANNED
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


def by_gender(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Faces per label among the filtered items, with raw and corrected shares (one row per label)."""
    selection = select(tables, filters)
    rows = selection.shares.rows(selection.item_faces.counts())
    return rows.assign(model_id=selection.model_id)[BY_GENDER_COLUMNS]


def _composition_counts(selection: Selection) -> tuple[dict[str, int], int]:
    """(items per kind, items counted): each scanned item as no_face, only_<label>, mixed or
    only_uncertain (faces but none decided as a label); an item that is not scanned but has decided
    faces is counted by them too.

    Uncertain faces beside decided ones do not make an item mixed: mixed means two labels were seen.
    """
    faces = selection.item_faces
    shown = np.zeros((len(faces.faces), len(selection.labels)), dtype=bool)  # item × label: a face decided so
    for k, label in enumerate(selection.labels):
        shown[:, k] = faces.column(label) > 0
    labels_shown = shown.sum(axis=1)
    counted = selection.scanned | (labels_shown > 0)
    one = counted & (labels_shown == 1)
    kinds = {NO_FACE: selection.scanned & (faces.faces == 0),
             **{f"only_{label}": one & shown[:, k] for k, label in enumerate(selection.labels)},
             MIXED: counted & (labels_shown > 1),
             ONLY_UNCERTAIN: selection.scanned & (faces.faces > 0) & (labels_shown == 0)}
    return {kind: int(items.sum()) for kind, items in kinds.items()}, int(counted.sum())


def composition(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Scanned items by which labels their faces show, share of the scanned items; then the items
    not scanned, failed and without an image, each in its own row with no share."""
    selection = select(tables, filters)
    counts, total = _composition_counts(selection)
    statuses = Counter(selection.items["face_status"].to_numpy()[~selection.scanned].tolist())
    return pd.DataFrame([*({"composition": kind, "items": items, "share": items / total if total else math.nan}
                           for kind, items in counts.items()),
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
    periods = selection.items[period]
    dated = periods.notna().to_numpy()
    columns = BY_YEAR_COLUMNS if period == "year" else BY_DECADE_COLUMNS
    if not dated.any() or selection.card is None:
        return pd.DataFrame(columns=columns)
    step = 1 if period == "year" else 10
    first, last = int(periods.min()), int(periods.max())
    group = (periods[dated].to_numpy(dtype=np.int64) - first) // step  # each dated item's period, 0: the first
    count = last // step - first // step + 1

    def per_period(values: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=values[dated], minlength=count).astype(np.int64)

    faces = selection.item_faces
    items_per = np.bincount(group, minlength=count)
    scanned_per, with_faces = per_period(selection.scanned), per_period(faces.faces > 0)
    decided = {label: per_period(faces.column(label)) for label in faces.labels}
    records = []
    for index, value in enumerate(range(first, last + 1, step)):
        row = {period: value, **({"decade": value // 10 * 10} if period == "year" else {}),
               "items": int(items_per[index]), "items_scanned": int(scanned_per[index]),
               "items_with_faces": int(with_faces[index]), "model_id": selection.model_id}
        counts = {label: int(faces_per[index]) for label, faces_per in decided.items() if faces_per[index]}
        records += [{**row, **shares} for shares in selection.shares.records(counts)]
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
    """What one keyword's rows rest on: its faces per label, its scanned items and its items with
    at least one face."""

    counts: dict[str, int]
    items_scanned: int
    items_with_faces: int


def _keyword_bases(selection: Selection, keywords: pd.Index) -> list[_KeywordBase]:
    """Each keyword's base, summed over its items' face counts (`Selection.item_faces`)."""
    faces = selection.item_faces
    bases = []
    for carrying in selection.keywords.carrying(keywords).values():
        rows = np.flatnonzero(carrying)
        bases.append(_KeywordBase(faces.counts(rows), int(selection.scanned[rows].sum()),
                                  int((faces.faces[rows] > 0).sum())))
    return bases


def by_keyword(tables: Tables, filters: Filters = Filters(), top_n: int = 20, with_ratios: bool = True) -> pd.DataFrame:
    """Per top-N keyword × label: the shares, and the ratio of the keyword's corrected share to the
    whole filtered collection's (1: as in the collection), with its bootstrap interval.

    with_ratios=False leaves the ratio columns out, and their bootstrap: for a view that does not
    show them (the dashboard's keyword panel).
    """
    columns = BY_KEYWORD_COLUMNS if with_ratios else [c for c in BY_KEYWORD_COLUMNS if c not in RATIO_COLUMNS]
    selection = select(tables, filters)
    if selection.card is None:
        return pd.DataFrame(columns=columns)
    top = selection.keywords.top(top_n)
    bases = _keyword_bases(selection, top.index)
    ratios = (selection.shares.ratios([base.counts for base in bases], selection.item_faces.counts())
              if with_ratios else [{} for _ in bases])
    records = []
    for (keyword, items), base, ratio in zip(top.items(), bases, ratios):
        group = {"keyword": keyword, "items": int(items), "items_scanned": base.items_scanned,
                 "items_with_faces": base.items_with_faces, "model_id": selection.model_id}
        records += [{**group, **row, **{column: ratio.get(row["label"], {}).get(column, math.nan)
                                        for column in RATIO_COLUMNS}}
                    for row in selection.shares.records(base.counts)]
    return pd.DataFrame(records, columns=columns)


def _size(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _face_boxes(faces: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"left": int(face.left), "top": int(face.top), "right": int(face.right), "bottom": int(face.bottom),
             "label": face.label, "probability": None if pd.isna(face.probability) else float(face.probability),
             "image_path": face.image_path, "image_width": _size(face.image_width),
             "image_height": _size(face.image_height)}
            for face in faces.itertuples()]


def items_for(tables: Tables, filters: Filters = Filters(), year: int | None = None, keyword: str | None = None,
              label: str | None = None) -> pd.DataFrame:
    """The filtered items of a year, keyword and/or face label, with their faces, for drill-down.

    Each face is {left, top, right, bottom, label, probability, image_path, image_width, image_height}:
    boxes are in pixels of the face's own image upright (EXIF rotation applied), whose size the face
    stage stored (None where a scan recorded none); that image is the item's image_path unless the
    item has several images. label and probability are None for a face not predicted yet.
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
