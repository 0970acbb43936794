"""Tables of gendered mentions in descriptions, and how they agree with the faces on the same item.

Mentions inside quoted titles of works ("The Women") are left out everywhere: they name a work,
not a person on or behind the poster. Counts are exact (the text stage is rule-based, not a
classifier with an error rate to correct), so these tables carry counts, not corrected shares.
Faces are compared only on items whose image was scanned: an item with mentions and no scanned
image is counted under its face status (no_image, not_scanned, failed), never as text_only.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from postercensus.analysis.face_status import UNSCANNED
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import Tables
from postercensus.analysis.selection import Selection, select

GENDERS = ("female", "male")  # what text and faces can both show; agreement compares these
COMPARED = ("agree", "text_only", "faces_only", "disagree", "neither")  # items whose image was scanned
AGREEMENTS = (*COMPARED, *UNSCANNED)
AGREEMENT_COLUMNS = ["item_id", *(f"text_{g}" for g in GENDERS), *(f"faces_{g}" for g in GENDERS), "agreement"]


def _mentions(tables: Tables, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(filtered items, their mentions outside titles)."""
    selection = select(tables, filters)
    return selection.items, selection.mentions


def mentions_by_gender(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Per gender: mentions, and items with at least one."""
    _, mentions = _mentions(tables, filters)
    grouped = mentions.groupby("gender")["item_id"].agg(["size", "nunique"])
    return pd.DataFrame({"gender": grouped.index, "mentions": grouped["size"].to_numpy(),
                         "items": grouped["nunique"].to_numpy()}, columns=["gender", "mentions", "items"])


def mentions_by_role(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Per gender × role lemma × category: mentions, most frequent first (a missing role stays empty)."""
    _, mentions = _mentions(tables, filters)
    counts = mentions.groupby(["gender", "role_lemma", "category"], dropna=False).size().rename("mentions")
    return (counts.reset_index().sort_values(["mentions", "gender", "role_lemma"], ascending=[False, True, True])
            .reset_index(drop=True))


def mentions_by_year(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Per year × gender from the first to the last year with items: mentions, NaN for a year without
    items (no data), 0 for a year whose items mention no one of that gender."""
    items, mentions = _mentions(tables, filters)
    dated = items.dropna(subset=["year"])
    genders = sorted(mentions["gender"].unique())
    if dated.empty or not genders:
        return pd.DataFrame(columns=["year", "gender", "mentions"])
    years = dated.set_index("item_id")["year"]
    counts = mentions.assign(year=mentions["item_id"].map(years)).groupby(["year", "gender"]).size()
    with_items = set(dated["year"].astype(int))
    rows = [{"year": year, "gender": gender,
             "mentions": float(counts.get((year, gender), 0)) if year in with_items else math.nan}
            for year in range(int(dated["year"].min()), int(dated["year"].max()) + 1) for gender in genders]
    return pd.DataFrame(rows, columns=["year", "gender", "mentions"]).astype({"mentions": "Int64"})


def mentions_by_keyword(tables: Tables, filters: Filters = Filters(), top_n: int = 20) -> pd.DataFrame:
    """Per top-N keyword (by items, as in by_keyword) × gender: mentions."""
    items, mentions = _mentions(tables, filters)
    genders = sorted(mentions["gender"].unique())
    rows = []
    keywords = select(tables, filters).keywords
    top = keywords.top(top_n).index
    carrying = keywords.carrying(top)
    item_ids = items["item_id"].to_numpy()
    for keyword in top:
        genders_here = mentions.loc[mentions["item_id"].isin(item_ids[carrying[keyword]]), "gender"].value_counts()
        rows.extend({"keyword": keyword, "gender": gender, "mentions": int(genders_here.get(gender, 0))}
                    for gender in genders)
    return pd.DataFrame(rows, columns=["keyword", "gender", "mentions"])


def _agreements(text: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per row of text and face counts (items × GENDERS), as a position in COMPARED: agree (both
    show the same genders), disagree (both show some, not the same), text_only / faces_only (one
    shows a gender, the other none) or neither (e.g. only uncertain faces). Vectorised: a row loop
    costs seconds at 100k items."""
    text, faces = text > 0, faces > 0
    any_text, any_faces, same = text.any(axis=1), faces.any(axis=1), (text == faces).all(axis=1)
    return np.select([any_text & any_faces & same, any_text & any_faces, any_text, any_faces],
                     [COMPARED.index(kind) for kind in ("agree", "disagree", "text_only", "faces_only")],
                     COMPARED.index("neither"))


@dataclass(frozen=True)
class _Compared:
    """The selection's items with faces or mentions (`rows` of its items, by item id), with their
    mentions and decided faces per gender (rows × GENDERS) and whether text and faces agree."""

    selection: Selection
    rows: np.ndarray
    text: np.ndarray
    faces: np.ndarray

    @property
    def kinds(self) -> np.ndarray:
        """Per row: how text and faces agree, a position in COMPARED."""
        return _agreements(self.text, self.faces)

    @property
    def unscanned(self) -> np.ndarray:
        """Per row: whether the item's image was not scanned (its faces are not compared)."""
        return ~self.selection.scanned[self.rows]


def _compared(tables: Tables, filters: Filters) -> _Compared:
    selection = select(tables, filters)
    _, mentions = _mentions(tables, filters)
    faces = selection.item_faces
    mentioned = selection.item_rows.get_indexer(mentions["item_id"])  # each mention's item
    shown = faces.faces > 0
    shown[mentioned] = True
    rows = np.flatnonzero(shown)
    rows = rows[np.argsort(selection.items["item_id"].to_numpy()[rows], kind="stable")]
    genders = mentions["gender"].to_numpy(dtype=object)
    text = [np.bincount(mentioned[genders == gender], minlength=len(shown))[rows] for gender in GENDERS]
    return _Compared(selection, rows, np.stack(text, axis=1),
                     np.stack([faces.column(gender)[rows] for gender in GENDERS], axis=1))


def agreement(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Per item with faces or mentions: female/male mentions and faces, and whether they agree.

    A source "shows" a gender when it has at least one mention / decided face of it; uncertain
    and not-yet-predicted faces show none, so at a high min_probability more items become text_only.
    An item without a scanned image has no face counts (empty, not 0) and its face status as agreement.
    """
    compared = _compared(tables, filters)
    items = compared.selection.items
    table = pd.DataFrame({"item_id": items["item_id"].to_numpy()[compared.rows].tolist()})
    for k, gender in enumerate(GENDERS):
        table[f"text_{gender}"] = compared.text[:, k]
    unscanned = pd.Series(compared.unscanned, index=table.index)
    for k, gender in enumerate(GENDERS):
        table[f"faces_{gender}"] = pd.Series(compared.faces[:, k], index=table.index).astype("Int64").mask(unscanned)
    kinds = np.array(COMPARED, dtype=object)[compared.kinds].tolist()
    agreements = pd.Series(kinds, index=table.index)  # from a list: the dtype the row loop's list got
    table["agreement"] = agreements.mask(unscanned, items["face_status"].take(compared.rows).set_axis(table.index))
    return table[AGREEMENT_COLUMNS]


def agreement_summary(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Items per agreement kind; share is of the compared items (those with a scanned image), and
    the items without one are counted per face status with no share."""
    compared = _compared(tables, filters)
    unscanned = compared.unscanned
    statuses = compared.selection.items["face_status"].to_numpy()[compared.rows][unscanned]
    kinds = dict(zip(COMPARED, np.bincount(compared.kinds[~unscanned], minlength=len(COMPARED)).tolist()))
    kinds |= Counter(statuses.tolist())
    total = sum(kinds[kind] for kind in COMPARED)
    return pd.DataFrame([{"agreement": kind, "items": int(kinds.get(kind, 0)),
                          "share": kinds.get(kind, 0) / total if total and kind in COMPARED else math.nan}
                         for kind in AGREEMENTS],
                        columns=["agreement", "items", "share"])
