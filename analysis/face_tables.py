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

import pandas as pd

from postercensus.analysis.face_status import SCANNED, UNSCANNED
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import Tables
from postercensus.analysis.selection import Selection, items_with, items_with_each, select, top_keywords
from postercensus.analysis.shares import RATIO_COLUMNS, SHARE_COLUMNS, ratio_rows, share_records, share_rows

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
    rows = share_rows(selection.card, _counts(selection.faces), filters.min_probability)
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
        records += [{**group, **row} for row in share_records(selection.card, counts.get(value, {}),
                                                               filters.min_probability)]
    return pd.DataFrame(records, columns=columns)


def by_year(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Per year × label: items, items scanned, items with faces, faces and shares; gap years kept
    with NaN shares."""
    return _by_period(tables, filters, "year")


def by_decade(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """by_year per decade (1930 = 1930–1939)."""
    return _by_period(tables, filters, "decade")


def by_keyword(tables: Tables, filters: Filters = Filters(), top_n: int = 20) -> pd.DataFrame:
    """Per top-N keyword × label: the shares, and the ratio of the keyword's corrected share to the
    whole filtered collection's (1: as in the collection), with its bootstrap interval."""
    selection = select(tables, filters)
    if selection.card is None:
        return pd.DataFrame(columns=BY_KEYWORD_COLUMNS)
    top = top_keywords(selection.items, top_n)
    carrying = items_with_each(selection.items, top.index)
    faces = selection.faces[["item_id", "label"]]  # all a row needs: copying every column costs seconds
    subsets = [faces[faces["item_id"].isin(carrying[keyword])] for keyword in top.index]
    ratios = ratio_rows(selection.card, [_counts(faces) for faces in subsets], _counts(selection.faces),
                        filters.min_probability)
    scanned = scanned_items(selection.items)
    frames = []
    for (keyword, items), faces, ratio in zip(top.items(), subsets, ratios):
        rows = share_rows(selection.card, _counts(faces), filters.min_probability)
        for column in RATIO_COLUMNS:
            rows[column] = rows["label"].map(lambda label: ratio.get(label, {}).get(column, math.nan))
        with_keyword = scanned["item_id"].isin(carrying[keyword]).sum()
        frames.append(rows.assign(keyword=keyword, items=int(items), items_scanned=int(with_keyword),
                                  items_with_faces=faces["item_id"].nunique(), model_id=selection.model_id))
    if not frames:
        return pd.DataFrame(columns=BY_KEYWORD_COLUMNS)
    return pd.concat(frames, ignore_index=True)[BY_KEYWORD_COLUMNS]


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
