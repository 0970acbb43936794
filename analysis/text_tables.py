"""Tables of gendered mentions in descriptions, and how they agree with the faces on the same item.

Mentions inside quoted titles of works ("The Women") are left out everywhere: they name a work,
not a person on or behind the poster. Counts are exact (the text stage is rule-based, not a
classifier with an error rate to correct), so these tables carry counts, not corrected shares.
Faces are compared only on items whose image was scanned: an item with mentions and no scanned
image is counted under its face status (no_image, not_scanned, failed), never as text_only.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from postercensus.analysis.face_status import UNSCANNED
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import Tables
from postercensus.analysis.selection import select

GENDERS = ("female", "male")  # what text and faces can both show; agreement compares these
COMPARED = ("agree", "text_only", "faces_only", "disagree", "neither")  # items whose image was scanned
AGREEMENTS = (*COMPARED, *UNSCANNED)
AGREEMENT_COLUMNS = ["item_id", *(f"text_{g}" for g in GENDERS), *(f"faces_{g}" for g in GENDERS), "agreement"]


def _mentions(tables: Tables, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(filtered items, their mentions outside titles)."""
    items = select(tables, filters).items
    mentions = tables.mentions
    return items, mentions[mentions["item_id"].isin(items["item_id"]) & ~mentions["in_title"].astype(bool)]


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


def _agreements(table: pd.DataFrame) -> pd.Series:
    """Per row of text_<gender> and faces_<gender> counts: agree (both show the same genders),
    disagree (both show some, not the same), text_only / faces_only (one shows a gender, the other
    none) or neither (e.g. only uncertain faces). Vectorised: a row loop costs seconds at 100k items."""
    text = table[[f"text_{g}" for g in GENDERS]].to_numpy() > 0
    faces = table[[f"faces_{g}" for g in GENDERS]].to_numpy() > 0
    any_text, any_faces, same = text.any(axis=1), faces.any(axis=1), (text == faces).all(axis=1)
    kinds = np.select([any_text & any_faces & same, any_text & any_faces, any_text, any_faces],
                      ["agree", "disagree", "text_only", "faces_only"], "neither")
    return pd.Series(kinds.tolist(), index=table.index)  # from a list: the dtype the row loop's list got


def agreement(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Per item with faces or mentions: female/male mentions and faces, and whether they agree.

    A source "shows" a gender when it has at least one mention / decided face of it; uncertain
    and not-yet-predicted faces show none, so at a high min_probability more items become text_only.
    An item without a scanned image has no face counts (empty, not 0) and its face status as agreement.
    """
    selection = select(tables, filters)
    _, mentions = _mentions(tables, filters)
    faces = selection.item_faces
    mentioned = pd.Index(selection.items["item_id"]).get_indexer(mentions["item_id"])  # each mention's item
    shown = faces.faces > 0
    shown[mentioned] = True
    rows = np.flatnonzero(shown)  # the items with faces or mentions, by item id
    rows = rows[np.argsort(selection.items["item_id"].to_numpy()[rows], kind="stable")]
    table = pd.DataFrame({"item_id": selection.items["item_id"].to_numpy()[rows].tolist()})
    genders, named = pd.factorize(mentions["gender"])
    for gender in GENDERS:
        said = mentioned[genders == named.get_loc(gender)] if gender in named else mentioned[:0]
        table[f"text_{gender}"] = np.bincount(said, minlength=len(shown))[rows]
    for gender in GENDERS:
        table[f"faces_{gender}"] = faces.column(gender)[rows]
    table["agreement"] = _agreements(table)
    status = selection.items["face_status"].take(rows).set_axis(table.index)
    unscanned = pd.Series(~selection.scanned[rows], index=table.index)
    for gender in GENDERS:
        table[f"faces_{gender}"] = table[f"faces_{gender}"].astype("Int64").mask(unscanned)
    table["agreement"] = table["agreement"].mask(unscanned, status)
    return table[AGREEMENT_COLUMNS]


def agreement_summary(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """Items per agreement kind; share is of the compared items (those with a scanned image), and
    the items without one are counted per face status with no share."""
    kinds = agreement(tables, filters)["agreement"].value_counts()
    total = int(sum(kinds.get(kind, 0) for kind in COMPARED))
    return pd.DataFrame([{"agreement": kind, "items": int(kinds.get(kind, 0)),
                          "share": kinds.get(kind, 0) / total if total and kind in COMPARED else math.nan}
                         for kind in AGREEMENTS],
                        columns=["agreement", "items", "share"])
