"""analysis/: the tables give exactly the numbers of the plain computation they replace.

To answer a dashboard view at 100,000 items in well under a second, a selection decides its faces
from integer codes made once per model (`analysis.model_faces`), counts them per item once
(`analysis.item_faces`), finds keywords through pairs numbered once (`analysis.item_keywords`) and
remembers each correction (`analysis.shares`); the tables sum those. Here every table is computed
again the plain way (the faces merged with their predictions, decided, filtered and grouped with
pandas; each share corrected afresh with `classify.correction.corrected_shares`) and must be equal
to the last bit, on the scale benchmark's synthetic catalogue (400 items over 91 years, ~100
keywords, undated, unscanned and failed items, `other` faces) and on the hand-built catalogue
with every face status, under filters of years, keywords and thresholds.
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from postercensus.classify.models.modelcard import ModelCard
from postercensus.analysis import shares as shares_module
from postercensus.analysis.face_status import SCANNED, UNSCANNED
from postercensus.analysis.face_tables import BY_DECADE_COLUMNS, BY_YEAR_COLUMNS
from postercensus.analysis.load import PREDICTION_COLUMNS, load_tables
from postercensus.analysis.selection import matched, select
from postercensus.analysis.shares import RATIO_COLUMNS, Shares
from postercensus.analysis.tables import (
    Filters,
    agreement,
    agreement_summary,
    by_decade,
    by_gender,
    by_keyword,
    by_year,
    composition,
    mentions_by_keyword,
)
from postercensus.catalog.database import default_url
from postercensus.catalog.keywords import normalise_keywords
from postercensus.catalog.schema import OTHER_LABEL, UNCERTAIN_LABEL
from postercensus.classify.correction import corrected_shares
from postercensus.classify.train.domains import registered_held_out
from postercensus.dashboards import figures
from tests.test_analysis_face_status import build_mixed_catalogue

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "analysis_scale.py"
GENDERS = ("female", "male")
SHARE_ROW = ["label", "faces", "raw_share", "corrected_share", "ci_low", "ci_high"]


@pytest.fixture(scope="module")
def scale_tables(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("analysis_scale", SCRIPT)
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    home = tmp_path_factory.mktemp("scale")
    scale.synthesise(default_url(home), 400)
    return load_tables(home)


@pytest.fixture(scope="module")
def mixed_tables(tmp_path_factory):
    return load_tables(build_mixed_catalogue(tmp_path_factory.mktemp("mixed")))


def scale_filters(tables) -> list[Filters]:
    top = tables.items["keywords"].explode().value_counts().index
    return [Filters(), Filters(min_probability=0.7), Filters(min_probability=1.0),
            Filters(year_from=1920, year_to=1960, min_probability=0.5), Filters(year_from=1985),
            Filters(keywords=(top[0],)), Filters(keywords=tuple(top[1:4]), min_probability=0.9),
            Filters(keywords=(top[-1],)), Filters(keywords=(top[2],), year_from=1930, year_to=1950)]


MIXED_FILTERS = [Filters(), Filters(min_probability=0.7), Filters(keywords=("women",)),
                 Filters(year_from=1936, year_to=1939, min_probability=0.9)]


def cases(request) -> list[tuple]:
    return ([(request.getfixturevalue("scale_tables"), filters)
             for filters in scale_filters(request.getfixturevalue("scale_tables"))]
            + [(request.getfixturevalue("mixed_tables"), filters) for filters in MIXED_FILTERS])


# -- the plain computation ----------------------------------------------------------------------

def plain_items(items: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    keep = pd.Series(True, index=items.index)
    if filters.year_from is not None:
        keep &= items["year"].ge(filters.year_from).fillna(False).astype(bool)
    if filters.year_to is not None:
        keep &= items["year"].le(filters.year_to).fillna(False).astype(bool)
    if filters.keywords:
        wanted = set(normalise_keywords(filters.keywords))
        keep &= items["keywords"].map(lambda keywords: bool(wanted.intersection(keywords)))
    return items[keep]


def decided_at(tables, filters: Filters) -> float:
    """The threshold the faces are decided at: the filters' own, else the home's `[classify] threshold`."""
    return tables.threshold if filters.min_probability is None else filters.min_probability


def plain_faces(tables, filters: Filters, model_id: str) -> pd.DataFrame:
    items = plain_items(tables.items, filters)
    faces = tables.faces[tables.faces["item_id"].isin(items["item_id"]) & tables.faces["human_label"].ne(OTHER_LABEL)]
    located = faces.drop(columns=PREDICTION_COLUMNS).drop_duplicates(["face_id", "item_id"])
    predicted = faces.loc[faces["model_id"].eq(model_id), ["face_id", "item_id", *PREDICTION_COLUMNS]]
    decided = located.merge(predicted, on=["face_id", "item_id"], how="left")
    confident = decided["probability"].astype(float).ge(decided_at(tables, filters))
    decided["label"] = (decided["top_label"].astype(object).where(confident, UNCERTAIN_LABEL)
                        .where(decided["top_label"].notna(), None))
    return decided


def plain_counts(faces: pd.DataFrame) -> dict[str, int]:
    return faces["label"].value_counts().to_dict()


def plain_shares(card: ModelCard | dict, counts: dict[str, int], min_probability: float) -> pd.DataFrame:
    labels = ModelCard.of(card).label_list + ([UNCERTAIN_LABEL] if min_probability else [])
    n = sum(int(counts.get(label, 0)) for label in labels)
    estimate = None
    if n and registered_held_out(card) is not None:
        try:
            estimate = corrected_shares(card, counts, min_probability)
        except ValueError:
            pass
    return pd.DataFrame([{"label": label, "faces": int(counts.get(label, 0)),
                          "raw_share": int(counts.get(label, 0)) / n if n else math.nan,
                          **{name: getattr(estimate, name).get(label, math.nan) if estimate else math.nan
                             for name in ("corrected_share", "ci_low", "ci_high")}} for label in labels],
                        columns=SHARE_ROW)


def plain_by_period(tables, filters: Filters, period: str, model_id: str) -> pd.DataFrame:
    items = plain_items(tables.items, filters)
    faces = plain_faces(tables, filters, model_id)
    dated = items.dropna(subset=[period])
    card = tables.models[model_id]
    records = []
    for value in range(int(dated[period].min()), int(dated[period].max()) + 1, 1 if period == "year" else 10):
        here = dated[dated[period].eq(value)]
        its_faces = faces[faces["item_id"].isin(here["item_id"])]
        group = {period: value, **({"decade": value // 10 * 10} if period == "year" else {}),
                 "items": len(here), "items_scanned": int(here["face_status"].eq(SCANNED).sum()),
                 "items_with_faces": its_faces["item_id"].nunique(), "model_id": model_id}
        records += [{**group, **row} for row in plain_shares(card, plain_counts(its_faces),
                                                            decided_at(tables, filters)).to_dict("records")]
    return pd.DataFrame(records, columns=BY_YEAR_COLUMNS if period == "year" else BY_DECADE_COLUMNS)


# -- the comparisons ----------------------------------------------------------------------------

def test_selections_decide_and_keep_the_faces_the_plain_merge_does(request):
    for tables, filters in cases(request):
        selection = select(tables, filters)
        pd.testing.assert_frame_equal(selection.items, plain_items(tables.items, filters))
        pd.testing.assert_frame_equal(selection.faces, plain_faces(tables, filters, selection.model_id))
        assert matched(tables, filters).faces == selection.faces["face_id"].nunique()


def test_per_item_counts_are_the_faces_grouped_by_item_and_label(request):
    for tables, filters in cases(request):
        selection = select(tables, filters)
        counted = selection.item_faces
        plain = selection.faces.groupby(["item_id", "label"]).size()
        for row, item_id in enumerate(selection.items["item_id"]):
            assert counted.counts([row]) == plain.get(item_id, pd.Series(dtype=int)).to_dict()
            assert counted.faces[row] == selection.faces["item_id"].eq(item_id).sum()


def test_shares_are_corrected_afresh_by_classify_whether_remembered_or_not():
    from tests.test_analysis_tables import CARD

    for threshold in (0.0, 0.7):
        shares = Shares(CARD, threshold)
        for counts in ({"female": 3, "male": 9}, {"female": 40, "male": 2, "uncertain": 5}, {"male": 1}):
            shares_module._ESTIMATES.clear()
            fresh = shares.rows(counts)
            pd.testing.assert_frame_equal(fresh, plain_shares(CARD, counts, threshold), check_exact=True)
            pd.testing.assert_frame_equal(shares.rows(counts), fresh, check_exact=True)  # remembered


def test_period_tables_are_the_plain_grouping_of_the_faces(request):
    for tables, filters in cases(request):
        model_id = select(tables, filters).model_id
        for table, period in ((by_year, "year"), (by_decade, "decade")):
            pd.testing.assert_frame_equal(table(tables, filters), plain_by_period(tables, filters, period, model_id),
                                          check_exact=True)


def test_by_gender_and_keyword_shares_are_the_plain_ones(request):
    for tables, filters in cases(request):
        selection = select(tables, filters)
        faces = plain_faces(tables, filters, selection.model_id)
        pd.testing.assert_frame_equal(by_gender(tables, filters)[SHARE_ROW],
                                      plain_shares(selection.card, plain_counts(faces), decided_at(tables, filters)),
                                      check_exact=True)
        table = by_keyword(tables, filters)
        items = plain_items(tables.items, filters)
        top = items["keywords"].explode().dropna().value_counts()
        assert list(dict.fromkeys(table["keyword"])) == sorted(top.index, key=lambda k: (-top[k], k))[:20]
        subsets = []
        for keyword, rows in table.groupby("keyword", sort=False):
            carrying = items[items["keywords"].map(lambda keywords, k=keyword: k in keywords)]
            its_faces = faces[faces["item_id"].isin(carrying["item_id"])]
            subsets.append(plain_counts(its_faces))
            pd.testing.assert_frame_equal(rows[SHARE_ROW].reset_index(drop=True),
                                          plain_shares(selection.card, subsets[-1], decided_at(tables, filters)),
                                          check_exact=True)
            assert rows["items"].iloc[0] == len(carrying)
            assert rows["items_scanned"].iloc[0] == carrying["face_status"].eq(SCANNED).sum()
            assert rows["items_with_faces"].iloc[0] == its_faces["item_id"].nunique()
        ratios = Shares(selection.card, decided_at(tables, filters)).ratios(subsets, plain_counts(faces))
        expected = [ratio.get(label, {}).get(column, math.nan) for ratio, (_, rows) in
                    zip(ratios, table.groupby("keyword", sort=False)) for label in rows["label"] for column in RATIO_COLUMNS]
        np.testing.assert_array_equal(table[RATIO_COLUMNS].to_numpy(dtype=float).ravel(), expected)
        without = by_keyword(tables, filters, with_ratios=False)
        pd.testing.assert_frame_equal(without, table.drop(columns=RATIO_COLUMNS))


def test_composition_is_the_plain_kind_of_each_item(request):
    for tables, filters in cases(request):
        selection = select(tables, filters)
        items = plain_items(tables.items, filters)
        faces = plain_faces(tables, filters, selection.model_id)
        labels = selection.card.label_list
        shown = faces[faces["label"].isin(labels)].groupby("item_id")["label"].unique()
        kinds = {}
        for item in items.itertuples():
            seen = list(shown.get(item.item_id, []))
            if len(seen) > 1:
                kinds[item.item_id] = "mixed"
            elif seen:
                kinds[item.item_id] = f"only_{seen[0]}"
            elif item.face_status == SCANNED:
                kinds[item.item_id] = "only_uncertain" if item.item_id in set(faces["item_id"]) else "no_face"
        counted = pd.Series(kinds, dtype=object).value_counts()
        table = composition(tables, filters).set_index("composition")
        for kind in ["no_face", *(f"only_{label}" for label in labels), "mixed", "only_uncertain"]:
            assert table.loc[kind, "items"] == counted.get(kind, 0)
            assert table.loc[kind, "share"] == counted.get(kind, 0) / len(kinds)
        for status in UNSCANNED:
            assert table.loc[status, "items"] == items["face_status"].eq(status).sum()


def test_agreement_is_the_plain_comparison_of_each_item(request):
    for tables, filters in cases(request):
        selection = select(tables, filters)
        items = plain_items(tables.items, filters)
        faces = plain_faces(tables, filters, selection.model_id)
        mentions = tables.mentions[tables.mentions["item_id"].isin(items["item_id"]) & ~tables.mentions["in_title"]]
        table = agreement(tables, filters).set_index("item_id")
        assert list(table.index) == sorted(set(mentions["item_id"]) | set(faces["item_id"]))
        status = items.set_index("item_id")["face_status"]
        summary = {}
        for item_id, row in table.iterrows():
            text = {g: int(mentions[mentions["item_id"].eq(item_id)]["gender"].eq(g).sum()) for g in GENDERS}
            shown = {g: int(faces[faces["item_id"].eq(item_id)]["label"].eq(g).sum()) for g in GENDERS}
            assert (row["text_female"], row["text_male"]) == (text["female"], text["male"])
            if status[item_id] != SCANNED:
                assert pd.isna(row["faces_female"]) and row["agreement"] == status[item_id]
            else:
                assert (row["faces_female"], row["faces_male"]) == (shown["female"], shown["male"])
                said, seen = {g for g in GENDERS if text[g]}, {g for g in GENDERS if shown[g]}
                assert row["agreement"] == ("agree" if said and seen and said == seen else "disagree" if said and seen
                                            else "text_only" if said else "faces_only" if seen else "neither")
            summary[row["agreement"]] = summary.get(row["agreement"], 0) + 1
        assert agreement_summary(tables, filters).set_index("agreement")["items"].to_dict() == \
            {kind: summary.get(kind, 0) for kind in agreement_summary(tables, filters)["agreement"]}


def test_mentions_by_keyword_counts_the_mentions_of_each_keywords_items(scale_tables):
    filters = Filters(min_probability=0.7)
    items = plain_items(scale_tables.items, filters)
    mentions = scale_tables.mentions[~scale_tables.mentions["in_title"]]
    for row in mentions_by_keyword(scale_tables, filters).itertuples():
        carrying = items[items["keywords"].map(lambda keywords: row.keyword in keywords)]
        assert row.mentions == mentions[mentions["item_id"].isin(carrying["item_id"])]["gender"].eq(row.gender).sum()


def test_figures_carry_the_template_plotly_validates(scale_tables):
    table = by_year(scale_tables, Filters(min_probability=0.7))
    for figure in (figures.share_over_time(table), figures.faces_by_year(table), figures.no_data("nothing")):
        drawn = figure.to_json()
        figure.update_layout(template=figures.TEMPLATE)  # validated afresh by plotly
        assert figure.to_json() == drawn
        assert json.loads(drawn)["layout"]["template"]["layout"]["plot_bgcolor"] == "white"  # not plotly's default
