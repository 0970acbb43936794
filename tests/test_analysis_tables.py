"""analysis/: tables from a small hand-built catalogue whose every number is computed by hand below.

The catalogue (built with plain inserts, no stage code, so a stage bug cannot hide a table bug):

    item  year  keywords        faces (face set "set1"; top label, probability)     mentions (text v1)
    1     1936  war, women      f1 female .95, f2 male .90                          female, male
    2     1936  war             f3 female .95                                       female (+ one in a title)
    3     1937  health          f4 male .60, f5 female .99 but a person said other  —
    4     1937  war             (no image: face_status no_image)                    male
    5     1939  women           f6 female .80, f7 female .85                        female
    6     —     —               f8 male .90                                         female
    1938 has no items (a gap year). An older face set "set0" and text version "v0" must be ignored.
    Every stored image (a–e) was scanned with set1, so items 1–3, 5, 6 are `scanned`.

The model's held-out faces: 10 true female (8 decided female, 2 male), 10 true male (1 female,
9 male), so at argmax tpr = P(female | female) = 0.8, fpr = P(female | male) = 0.1 and Rogan–Gladen
gives corrected female = (q − 0.1) / 0.7 for a raw female share q.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from postercensus.analysis.tables import (
    Filters,
    agreement,
    agreement_summary,
    by_decade,
    by_gender,
    by_keyword,
    by_year,
    composition,
    items_for,
    load_tables,
    mentions_by_gender,
    mentions_by_keyword,
    mentions_by_role,
    mentions_by_year,
)
from postercensus.catalog import schema
from postercensus.catalog.home import Home
from postercensus.catalog.database import default_url, open_engine
from postercensus.classify.correction import corrected_shares, held_out_confusion
from postercensus.classify.prevalence.estimate import LOWER, UPPER, bootstrap_draws
from postercensus.faces.settings import FaceSettings
from postercensus.text.settings import TextSettings

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
MODEL = "test-model"
SET0_FACES = FaceSettings(detector="hog", upsample=2)  # the older face set, not active by default
V0_TEXT = TextSettings(lexicon={"lass": "female"})  # the older text version, not active by default
# (true label, probabilities [female, male]) of the 20 held-out faces; two correct females are unsure (0.65)
HELD_OUT = ([("female", [0.9, 0.1])] * 6 + [("female", [0.65, 0.35])] * 2 + [("female", [0.2, 0.8])] * 2
            + [("male", [0.7, 0.3])] + [("male", [0.1, 0.9])] * 9)
CARD = {
    "labels": ["female", "male"],
    "evaluation": {"n": 20, "accuracy": 0.85, "balanced_accuracy": 0.85,
                   "confusion": {"labels": ["female", "male"], "matrix": [[8, 2], [1, 9]]}},
    "held_out_predictions": {"true": [t for t, _ in HELD_OUT], "probabilities": [p for _, p in HELD_OUT]},
    "backbone": {"name": "test"},
}
ITEMS = {  # id: (year, keywords, image sha or None)
    1: (1936, ["war", "women"], "a"), 2: (1936, ["war"], "b"), 3: (1937, ["health"], "c"),
    4: (1937, ["war"], None), 5: (1939, ["women"], "d"), 6: (None, [], "e"),
}
FACES = {  # face id: (image sha, top label, probability)
    1: ("a", "female", 0.95), 2: ("a", "male", 0.90), 3: ("b", "female", 0.95), 4: ("c", "male", 0.60),
    5: ("c", "female", 0.99), 6: ("d", "female", 0.80), 7: ("d", "female", 0.85), 8: ("e", "male", 0.90),
}
MENTIONS = [  # (item, gender, role_lemma, category, in_title, version)
    (1, "female", "worker", "labour", False, "v1"), (1, "male", "soldier", "military", False, "v1"),
    (2, "female", "nurse", "health", False, "v1"), (2, "female", None, None, True, "v1"),
    (4, "male", "father", "family", False, "v1"), (5, "female", "mother", "family", False, "v1"),
    (6, "female", "worker", "labour", False, "v1"), (3, "male", "doctor", "health", False, "v0"),
]


def _run(connection, run_id: int, stage: str, parameters: dict) -> None:
    connection.execute(schema.runs.insert().values(
        id=run_id, stage=stage, parameters=parameters, versions={}, started_at=T0 + timedelta(minutes=run_id),
        finished_at=T0 + timedelta(minutes=run_id, seconds=30), status="ok", counts={}))


def build_catalogue(home: Path) -> Path:
    """The catalogue above in `home`/catalog.sqlite (migrated by open_engine); returns home."""
    home.mkdir(parents=True, exist_ok=True)
    engine = open_engine(default_url(home))
    with engine.begin() as c:
        c.execute(schema.sources.insert().values(id=1, key="test", kind="csv", location="/data/posters.csv",
                                                 params={}, created_at=T0))
        _run(c, 1, "harvest.csv", {})
        _run(c, 2, "faces", {"parameter_hash": "set0", "detector": "hog"})
        _run(c, 3, "faces", {"parameter_hash": "set1", "detector": "cnn"})
        _run(c, 4, "classify", {"model_id": MODEL, "threshold": 0.0})
        _run(c, 5, "text", {**V0_TEXT.to_config(), "version_hash": "v0"})
        _run(c, 6, "text", {**TextSettings().to_config(), "version_hash": "v1"})
        for item_id, (year, keywords, sha) in ITEMS.items():
            c.execute(schema.items.insert().values(
                id=item_id, source_id=1, source_item_id=f"poster{item_id}", title=f"Poster {item_id}",
                date=None if year is None else f"{year}-05-01", year=year, keywords=keywords,
                landing_url=f"https://example.org/{item_id}", deleted=False, content_hash="x", raw={},
                updated_at=T0))
            if sha:
                c.execute(schema.images.insert().values(
                    item_id=item_id, position=0, origin=f"https://example.org/{item_id}.jpg", sha256=sha,
                    path=f"images/{sha}.jpg", status="ok", attempts=1))
        for key, settings in (("set0", SET0_FACES), ("set1", FaceSettings())):
            c.execute(schema.face_sets.insert().values(parameter_hash=key, detector=settings.detector,
                                                       parameters=settings.parameters(), model_versions={},
                                                       created_at=T0))
        for sha in ("a", "b", "c", "d", "e"):
            c.execute(schema.face_scans.insert().values(
                image_sha256=sha, parameter_hash="set1", run_id=3, status="ok",
                face_count=sum(face_sha == sha for face_sha, _, _ in FACES.values()), scanned_at=T0))
        c.execute(schema.face_scans.insert().values(image_sha256="a", parameter_hash="set0", run_id=2, status="ok",
                                                    face_count=1, scanned_at=T0))
        faces = [(face_id, sha, "set1") for face_id, (sha, _, _) in FACES.items()] + [(9, "a", "set0")]
        for face_id, sha, face_set in faces:
            c.execute(schema.faces.insert().values(
                id=face_id, image_sha256=sha, parameter_hash=face_set, face_index=face_id, left=10 * face_id,
                top=5, right=10 * face_id + 8, bottom=15, score=1.0, detectors=[], landmarks5=[],
                landmarks68=[], embedding=[], crop_path=f"faces/{face_id}.jpg", run_id=3))
        c.execute(schema.classifier_models.insert().values(
            model_id=MODEL, model_version="v1", backbone="test", labels=CARD["labels"], card=CARD,
            location="/models/test", registered_at=T0))
        for face_id, (_, top, probability) in FACES.items():
            other = "male" if top == "female" else "female"
            c.execute(schema.predictions.insert().values(
                face_id=face_id, model_id=MODEL, model_version="v1", label=top, top_label=top,
                probability=probability, margin=2 * probability - 1,
                probabilities={top: probability, other: 1 - probability}, threshold=0.0, run_id=4,
                predicted_at=T0))
        c.execute(schema.face_labels.insert().values(face_id=5, label="other", labelled_by="test", labelled_at=T0))
        for index, (item_id, gender, role, category, in_title, version) in enumerate(MENTIONS):
            c.execute(schema.mentions.insert().values(
                item_id=item_id, text_hash="t", version_hash=version, gender=gender, trigger=gender[:-2] + "an",
                role=role, role_lemma=role, category=category, start=index, end=index + 3,
                sentence=f"sentence {index}", in_title=in_title, run_id=6 if version == "v1" else 5))
    engine.dispose()
    return home


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return load_tables(build_catalogue(tmp_path_factory.mktemp("analysis") / "home"))


def rows(frame: pd.DataFrame, **where) -> pd.DataFrame:
    for column, value in where.items():
        frame = frame[frame[column] == value]
    return frame


def one(frame: pd.DataFrame, **where) -> pd.Series:
    found = rows(frame, **where)
    assert len(found) == 1, found
    return found.iloc[0]


def test_load_reads_the_default_face_set_model_and_text_version(tables):
    assert tables.face_set == "set1"  # the active set (no [faces]: the default settings), not set0 (face 9)
    assert set(tables.faces["face_id"]) == set(FACES)
    assert tables.text_version == "v1"
    assert set(tables.mentions["version_hash"]) == {"v1"}
    assert list(tables.models) == [MODEL]
    item = one(tables.items, item_id=1)
    assert (item["year"], item["decade"], item["keywords"], item["image_path"]) == (1936, 1930, ["war", "women"],
                                                                                    "images/a.jpg")
    assert one(tables.items, item_id=4)["image_path"] is None
    assert tables.items.set_index("item_id")["face_status"].to_dict() == {1: "scanned", 2: "scanned", 3: "scanned",
                                                                          4: "no_image", 5: "scanned", 6: "scanned"}


def test_the_active_settings_in_the_toml_choose_the_face_set_and_text_version_not_the_latest_run(tmp_path):
    home = build_catalogue(tmp_path / "home")
    Home(home).activate("faces", SET0_FACES.to_config())
    Home(home).activate("text", {"lexicon": {"lass": "female"}})
    chosen = load_tables(home)
    assert (chosen.face_set, set(chosen.faces["face_id"])) == ("set0", {9})
    assert (chosen.text_version, set(chosen.mentions["item_id"])) == ("v0", {3})
    assert chosen.provenance["active_settings"]["faces"] == {"detector": "hog", "upsample": 2}
    Home(home).activate("faces", {"detector": "mtcnn"})  # settings no face set was made with
    unmade = load_tables(home)
    assert unmade.face_set is None and unmade.faces.empty
    assert set(unmade.items["face_status"]) == {"not_scanned", "no_image"}, "never scanned is not 'no face'"


def test_by_gender_is_the_hand_computed_correction_and_leaves_out_the_other_face(tables):
    table = by_gender(tables)
    assert list(table.columns) == ["label", "faces", "raw_share", "corrected_share", "ci_low", "ci_high", "model_id"]
    assert list(table["label"]) == ["female", "male"]  # no uncertain row at min_probability 0
    female, male = one(table, label="female"), one(table, label="male")
    # f1 f3 f6 f7 female, f2 f4 f8 male; f5 (labelled other) left out: 4 + 3 = 7 faces
    assert (female["faces"], male["faces"]) == (4, 3)
    assert female["raw_share"] == pytest.approx(4 / 7)
    # (4/7 − 1/10) / (7/10) = (33/70) · (10/7) = 33/49
    assert female["corrected_share"] == pytest.approx(33 / 49)
    assert male["corrected_share"] == pytest.approx(16 / 49)
    for row in (female, male):
        assert row["ci_low"] <= row["corrected_share"] <= row["ci_high"]
        assert 0 <= row["ci_low"] and row["ci_high"] <= 1
    assert set(table["model_id"]) == {MODEL}


def test_min_probability_relabels_faces_as_uncertain_and_corrects_at_that_threshold(tables):
    table = by_gender(tables, Filters(min_probability=0.7))
    assert list(table["label"]) == ["female", "male", "uncertain"]
    # f4 (male, 0.60) falls below 0.7: female 4, male 2, uncertain 1
    assert list(table["faces"]) == [4, 2, 1]
    assert table["raw_share"].tolist() == pytest.approx([4 / 7, 2 / 7, 1 / 7])
    expected = corrected_shares(CARD, {"female": 4, "male": 2, "uncertain": 1}, 0.7)
    assert one(table, label="female")["corrected_share"] == pytest.approx(expected.corrected_share["female"])
    assert math.isnan(one(table, label="uncertain")["corrected_share"])
    # the held-out faces decided at 0.7 (columns female, male, uncertain): the two 0.65 females become
    # uncertain; the male at 0.7 stays decided (≥ the threshold), as female
    assert held_out_confusion(CARD, 0.7).counts.tolist() == [[6, 2, 2], [1, 9, 0]]


def test_composition_counts_items_and_sums_to_the_items_with_faces(tables):
    table = composition(tables).set_index("composition")
    # 1 mixed (f1 f, f2 m); 2 and 5 only female; 3 (f4; f5 is other) and 6 only male; 4 has no image,
    # so it is no evidence of "no face": its own row, in no share
    assert table["items"].to_dict() == {"no_face": 0, "only_female": 2, "only_male": 2, "mixed": 1,
                                        "only_uncertain": 0, "not_scanned": 0, "failed": 0, "no_image": 1}
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["share"]["only_female"] == pytest.approx(2 / 5)  # of the 5 scanned items
    assert table["share"][["not_scanned", "failed", "no_image"]].isna().all()
    with_faces = table["items"].drop(["no_face", "not_scanned", "failed", "no_image"]).sum()
    assert with_faces == tables.faces["item_id"].nunique() == 5
    # at 0.7, item 3's only counted face f4 (0.60) is uncertain
    assert composition(tables, Filters(min_probability=0.7)).set_index("composition")["items"]["only_uncertain"] == 1


def test_by_year_keeps_the_gap_year_as_nan_and_matches_hand_computed_shares(tables):
    table = by_year(tables)
    assert list(table.columns) == ["year", "decade", "label", "items", "items_scanned", "items_with_faces", "faces",
                                   "raw_share", "corrected_share", "ci_low", "ci_high", "model_id"]
    assert sorted(set(table["year"])) == [1936, 1937, 1938, 1939]
    gap = rows(table, year=1938)
    assert list(gap["items"]) == [0, 0]
    assert gap[["raw_share", "corrected_share", "ci_low", "ci_high"]].isna().all().all()
    female_1936 = one(table, year=1936, label="female")
    # 1936: f1 f3 female, f2 male → q = 2/3; (2/3 − 1/10)/(7/10) = (17/30)(10/7) = 17/21
    assert (female_1936["items"], female_1936["items_with_faces"], female_1936["faces"]) == (2, 2, 2)
    assert female_1936["corrected_share"] == pytest.approx(17 / 21)
    # 1937: items 3 and 4, only f4 (male) counts → q = 0, (0 − 0.1)/0.7 < 0 is clipped to 0
    female_1937 = one(table, year=1937, label="female")
    assert (female_1937["items"], female_1937["items_scanned"], female_1937["items_with_faces"],
            female_1937["raw_share"]) == (2, 1, 1, 0.0)  # item 4 has no image
    assert female_1937["corrected_share"] == 0.0
    # 1939: f6 f7 female → q = 1, (1 − 0.1)/0.7 > 1 is clipped to 1
    assert one(table, year=1939, label="female")["corrected_share"] == 1.0
    for row in table.dropna(subset=["corrected_share"]).itertuples():
        assert row.ci_low <= row.corrected_share <= row.ci_high


def test_no_group_of_one_label_gets_a_zero_width_interval(tables):
    """Issue 21: a year of one face, or of faces all of one label, read "1.0 [1.0, 1.0]" before."""
    for table in (by_year(tables), by_decade(tables), by_keyword(tables), by_gender(tables)):
        shares = table.dropna(subset=["corrected_share"])
        assert len(shares) and (shares["ci_high"] - shares["ci_low"] > 0.2).all(), shares
    female_1937 = one(by_year(tables), year=1937, label="female")  # one face, perceived male
    assert (female_1937["faces"], female_1937["ci_low"]) == (0, 0.0) and female_1937["ci_high"] > 0.5


def test_by_decade_pools_the_decade(tables):
    table = by_decade(tables)
    female = one(table, decade=1930, label="female")
    # items 1–5 (item 6 has no year); f1 f3 f6 f7 female, f2 f4 male: q = 4/6 = 2/3, as in 1936,
    # so the same corrected share (2/3 − 1/10)/(7/10) = 17/21
    assert (female["items"], female["faces"]) == (5, 4)
    assert female["corrected_share"] == pytest.approx(17 / 21)


def test_by_keyword_ranks_keywords_and_gives_ratios_with_intervals(tables):
    table = by_keyword(tables, top_n=2)
    assert list(dict.fromkeys(table["keyword"])) == ["war", "women"]  # 3 items, 2 items (health: 1, cut)
    war = one(table, keyword="war", label="female")
    # war: items 1 2 4; faces f1 f3 female, f2 male → 17/21, the collection 33/49: ratio (17/21)(49/33) = 833/693
    assert (war["items"], war["items_scanned"], war["items_with_faces"], war["faces"]) == (3, 2, 2, 2)
    assert war["ratio"] == pytest.approx(833 / 693)
    assert one(table, keyword="war", label="male")["ratio"] == pytest.approx((4 / 21) / (16 / 49))
    for row in table.itertuples():
        assert row.ratio_low <= row.ratio
        # the whole collection has 7 faces, so its share's interval reaches 0: the ratio is unbounded
        # above, which the table says by leaving ratio_high empty, never inf
        assert np.isnan(row.ratio_high) or row.ratio <= row.ratio_high
    assert np.isnan(table["ratio_high"]).any() and not np.isinf(table[["ratio_low", "ratio_high"]]).any(axis=None)


def test_bootstrap_draws_share_the_rate_draws_between_collections():
    confusion = held_out_confusion(CARD, 0.0)
    large = {"female": 400, "male": 300}
    draws = bootstrap_draws([large, large, {"female": 0, "male": 0}], confusion,
                            [(0, UPPER), (0, LOWER), (0, LOWER)], n_boot=300)
    assert draws.shape == (3, 300, 2)
    assert np.isnan(draws[2]).all()  # an empty collection has no replicates
    # with 700 faces the 20 held-out faces' rate error dominates; shared, it moves both collections together
    assert np.corrcoef(draws[0, :, 0], draws[1, :, 0])[0, 1] > 0.8


def test_filters_select_years_keywords_and_source(tables):
    assert by_gender(tables, Filters(year_from=1937, year_to=1939))["faces"].tolist() == [2, 1]  # f6 f7; f4
    assert by_gender(tables, Filters(keywords=("Women",)))["faces"].tolist() == [3, 1]  # items 1, 5
    assert by_gender(tables, Filters(source="test", year_to=1936))["faces"].tolist() == [2, 1]  # f1 f3; f2
    with pytest.raises(ValueError, match="no item comes from source 'elsewhere'"):  # tests/test_analysis_filters.py
        by_gender(tables, Filters(source="elsewhere"))
    with pytest.raises(ValueError, match="no predictions"):
        by_gender(tables, Filters(model_id="missing"))


def test_items_for_drills_down_with_face_boxes(tables):
    found = items_for(tables, year=1936, label="male")
    assert list(found["item_id"]) == [1]
    assert list(found.columns) == ["item_id", "title", "year", "landing_url", "image_path", "faces"]
    boxes = found["faces"].iloc[0]
    assert [(box["label"], box["left"], box["probability"]) for box in boxes] == [("female", 10, 0.95),
                                                                                   ("male", 20, 0.90)]
    assert list(items_for(tables, keyword="war")["item_id"]) == [1, 2, 4]
    assert items_for(tables, keyword="health")["faces"].iloc[0][0]["left"] == 40  # f5 (other) not shown


def test_mentions_tables_leave_out_titles_and_old_versions(tables):
    genders = mentions_by_gender(tables).set_index("gender")
    # female: items 1 2 5 6 (item 2's title mention left out); male: items 1 4 (v0's item 3 ignored)
    assert genders.to_dict("index") == {"female": {"mentions": 4, "items": 4}, "male": {"mentions": 2, "items": 2}}
    roles = mentions_by_role(tables)
    assert one(roles, gender="female", role_lemma="worker")["mentions"] == 2  # items 1 and 6
    assert roles["mentions"].sum() == 6
    years = mentions_by_year(tables)
    assert one(years, year=1936, gender="female")["mentions"] == 2  # items 1, 2
    assert one(years, year=1937, gender="female")["mentions"] == 0  # items exist, no female mention
    assert rows(years, year=1938)["mentions"].isna().all()  # no items: no data
    keywords = mentions_by_keyword(tables, top_n=1)
    assert keywords.to_dict("records") == [{"keyword": "war", "gender": "female", "mentions": 2},
                                           {"keyword": "war", "gender": "male", "mentions": 2}]


def test_agreement_compares_the_genders_each_source_shows(tables):
    table = agreement(tables).set_index("item_id")
    # 1: text f m, faces f m → agree; 2: f / f → agree; 3: — / m → faces_only; 4: m / no image → no_image
    # (not text_only: its faces were never looked for); 5: f / f → agree; 6: f / m → disagree
    assert table["agreement"].to_dict() == {1: "agree", 2: "agree", 3: "faces_only", 4: "no_image",
                                            5: "agree", 6: "disagree"}
    assert table.loc[1, ["text_female", "text_male", "faces_female", "faces_male"]].tolist() == [1, 1, 1, 1]
    assert table.loc[4, ["faces_female", "faces_male"]].isna().all()  # no data, not 0 faces
    summary = agreement_summary(tables).set_index("agreement")
    assert summary["items"].to_dict() == {"agree": 3, "text_only": 0, "faces_only": 1, "disagree": 1, "neither": 0,
                                          "not_scanned": 0, "failed": 0, "no_image": 1}
    assert summary["share"]["agree"] == pytest.approx(3 / 5)  # of the 5 compared items
    assert math.isnan(summary["share"]["no_image"])
