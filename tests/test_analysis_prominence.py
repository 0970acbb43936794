"""analysis/prominence.py and analysis/weighted_shares.py: prominence of hand-placed boxes, and the
three prominence measures on a small catalogue, every number computed by hand below.

    poster  image (w × h)  faces (box left, top, right, bottom; top label)
    1       100 × 200      f1 (0, 0, 50, 40) female; f2 (40, 90, 60, 110) male; f3 (10, 150, 30, 170) male;
                           f4 (90, 190, 100, 200) male
    2       200 × 100      f5 (0, 0, 100, 100) male; f6 (150, 0, 160, 10) female
    3       no size        f7 (0, 0, 10, 10) female; f8 (0, 0, 20, 20) male

The confusion (tests/support/sharesdb.py) corrects a female proportion q to (q − 0.1) / 0.7.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from postercensus.analysis.filters import Filters
from postercensus.analysis.load import load_tables
from postercensus.analysis.prominence import PROMINENCE_TABLE_COLUMNS, face_prominence, prominence, size_ratio
from postercensus.analysis.weighted_shares import effective_size, weighted_estimate
from postercensus.classify.prevalence.estimate import ConfusionMatrix, estimate_prevalence
from tests.support.sharesdb import FPR, TPR, Face, Poster, build

POSTERS = [
    Poster(1936, ("agriculture",), (100, 200), (Face((0, 0, 50, 40), "female"), Face((40, 90, 60, 110), "male"),
                                                Face((10, 150, 30, 170), "male"),
                                                Face((90, 190, 100, 200), "male"))),
    Poster(1937, ("industry",), (200, 100), (Face((0, 0, 100, 100), "male"), Face((150, 0, 160, 10), "female"))),
    Poster(1938, ("industry",), None, (Face((0, 0, 10, 10), "female"), Face((0, 0, 20, 20), "male"))),
]
ARGMAX = Filters(min_probability=0.0)


def corrected(q: float) -> float:
    return (q - FPR) / (TPR - FPR)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return load_tables(build(tmp_path_factory.mktemp("prominence") / "home", POSTERS))


def test_prominence_of_known_boxes_is_the_hand_computed_one(tables):
    from postercensus.analysis.selection import select

    faces = face_prominence(select(tables, ARGMAX).faces).set_index("face_id")
    expected_share = {1: 2000 / 20000, 2: 400 / 20000, 3: 400 / 20000, 4: 100 / 20000, 5: 10000 / 20000,
                      6: 100 / 20000}
    for face, share in expected_share.items():
        assert faces.loc[face, "area_share"] == pytest.approx(share)
    assert faces.loc[[7, 8], "area_share"].isna().all(), "no image size stored: no area share, not a guess"
    # f2 and f3 tie on area: f2 is higher up, so it ranks first; poster 3 ranks by pixel area
    assert faces["prominence_rank"].to_dict() == {1: 1, 2: 2, 3: 3, 4: 4, 5: 1, 6: 2, 7: 2, 8: 1}
    assert faces.loc[2, "centrality"] == pytest.approx(0.0)  # centre (50, 100) of a 100 × 200 image
    assert faces.loc[1, "centrality"] == pytest.approx(math.hypot(-0.5, -0.8) / math.sqrt(2))
    assert faces.loc[3, "centrality"] == pytest.approx(math.hypot(-0.6, 0.6) / math.sqrt(2))
    assert faces.loc[4, "centrality"] == pytest.approx(math.hypot(0.9, 0.95) / math.sqrt(2))
    assert faces.loc[[7, 8], "centrality"].isna().all()


def test_rank_does_not_depend_on_row_order(tables):
    from postercensus.analysis.selection import select

    faces = select(tables, ARGMAX).faces
    forward = face_prominence(faces).set_index("face_id")["prominence_rank"]
    backward = face_prominence(faces.iloc[::-1]).set_index("face_id")["prominence_rank"]
    assert forward.sort_index().equals(backward.sort_index())


def test_box_in_a_corner_is_centrality_one():
    faces = pd.DataFrame({"item_id": [1], "face_id": [1], "left": [98], "top": [98], "right": [102],
                          "bottom": [102], "image_width": [100], "image_height": [100]})
    assert face_prominence(faces)["centrality"].iloc[0] == pytest.approx(1.0)


def test_three_measures_are_the_hand_computed_corrected_shares(tables):
    table = prominence(tables, ARGMAX)
    assert list(table.columns) == PROMINENCE_TABLE_COLUMNS
    female = table[table["label"] == "female"].set_index("measure")
    assert list(female.index) == ["faces", "area_weighted", "largest_face"]
    # faces: f1 f6 f7 female of 8 decided faces
    assert female.loc["faces", "faces"] == 3
    assert female.loc["faces", "corrected_share"] == pytest.approx(corrected(3 / 8))
    # area-weighted: sized faces only (poster 3 has no size); female 0.1 + 0.005 of 0.65
    weights = np.array([0.1, 0.005, 0.02, 0.02, 0.005, 0.5])
    assert female.loc["area_weighted", "faces"] == 2
    assert female.loc["area_weighted", "corrected_share"] == pytest.approx(corrected(0.105 / 0.65))
    assert female.loc["area_weighted", "effective_faces"] == pytest.approx(weights.sum() ** 2 / (weights ** 2).sum())
    # largest face: f1 (female), f5 and f8 (male) are their posters' rank 1
    assert female.loc["largest_face", "faces"] == 1
    assert female.loc["largest_face", "corrected_share"] == pytest.approx(corrected(1 / 3))
    for measure, row in female.iterrows():
        assert row["ci_low"] <= row["corrected_share"] <= row["ci_high"], measure


def test_largest_face_counts_only_each_posters_rank_one_face(tables):
    table = prominence(tables, ARGMAX)
    largest = table[table["measure"] == "largest_face"].set_index("label")["faces"]
    assert largest.to_dict() == {"female": 1, "male": 2}  # three posters, one protagonist each


def test_size_ratio_is_mean_area_female_over_male_with_a_poster_bootstrap(tables):
    row = size_ratio(tables, ARGMAX).iloc[0]
    assert (row["numerator"], row["denominator"], row["numerator_faces"], row["denominator_faces"],
            row["posters"]) == ("female", "male", 2, 4, 2)
    assert row["ratio"] == pytest.approx(((0.1 + 0.005) / 2) / ((0.02 + 0.02 + 0.005 + 0.5) / 4))
    assert row["ci_low"] <= row["ratio"]
    # with two posters a resample can hold poster 1 twice (female mean 0.1, male 0.015): the ratio ranges widely
    assert math.isnan(row["ci_high"]) or row["ci_high"] >= row["ratio"]


def test_equal_weights_give_the_unweighted_exact_interval():
    confusion = ConfusionMatrix(("female", "male"), ("female", "male"), np.array([[8, 2], [1, 9]]))
    categories = np.array([0] * 7 + [1] * 13)
    weighted = weighted_estimate(categories, np.full(20, 0.3), confusion)
    plain = estimate_prevalence({"female": 7, "male": 13}, confusion)
    assert weighted.effective_faces == pytest.approx(20)
    for name in ("corrected_share", "ci_low", "ci_high"):
        assert getattr(weighted, name)["female"] == pytest.approx(getattr(plain, name)["female"], abs=1e-3)


def test_one_dominant_weight_widens_the_interval():
    confusion = ConfusionMatrix(("female", "male"), ("female", "male"), np.array([[80, 20], [10, 90]]))
    categories = np.array([0] * 10 + [1] * 10)
    even = weighted_estimate(categories, np.ones(20), confusion)
    skewed = weighted_estimate(categories, np.array([10.0] + [1.0] * 9 + [1.9] * 10), confusion)
    assert effective_size(np.array([10.0] + [1.0] * 19)) < 20
    assert even.corrected_share["female"] == pytest.approx(skewed.corrected_share["female"])
    assert (skewed.ci_high["female"] - skewed.ci_low["female"]) > (even.ci_high["female"] - even.ci_low["female"])


def test_weights_must_be_finite_and_non_negative():
    confusion = ConfusionMatrix(("female", "male"), ("female", "male"), np.array([[8, 2], [1, 9]]))
    with pytest.raises(ValueError, match="non-negative"):
        weighted_estimate(np.array([0, 1]), np.array([1.0, -1.0]), confusion)


def test_export_writes_prominence_with_its_codebook_and_faces_gain_the_columns(tables, tmp_path):
    from postercensus.analysis.export import export

    export(tables, tmp_path, ARGMAX)
    faces = pd.read_csv(tmp_path / "faces.csv").set_index("face_id")
    assert faces.loc[1, "area_share"] == pytest.approx(0.1) and faces.loc[1, "prominence_rank"] == 1
    assert faces.loc[2, "centrality"] == pytest.approx(0.0)
    written = pd.read_csv(tmp_path / "prominence.csv")
    assert list(written.columns) == PROMINENCE_TABLE_COLUMNS
    assert set(written["measure"]) == {"faces", "area_weighted", "largest_face"}
    ratio = pd.read_csv(tmp_path / "size_ratio.csv")
    assert ratio["ratio"].iloc[0] == pytest.approx(((0.1 + 0.005) / 2) / ((0.02 + 0.02 + 0.005 + 0.5) / 4))
    codebook = (tmp_path / "codebook.md").read_text()
    for heading in ("## prominence.csv", "## size_ratio.csv", "| effective_faces |", "| prominence_rank |"):
        assert heading in codebook


def test_the_notebook_view_gives_the_export_tables(tables):
    from postercensus.notebook import TableView

    view = TableView(tables, ARGMAX)
    assert view.prominence().equals(prominence(tables, ARGMAX))
    assert view.size_ratio().equals(size_ratio(tables, ARGMAX))
    compared = view.compare(by="keyword", a="agriculture", b="industry")
    assert list(compared["group"].unique()) == ["A", "B", "B-A"]
