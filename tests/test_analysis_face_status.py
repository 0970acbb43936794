"""analysis/face_status: an item whose image was never scanned is counted apart, never as "no face".

The catalogue is test_analysis_tables' (items 1–6, every stored image scanned with face set "set1";
item 4 has no image) plus, by plain inserts:

    item  year  keywords  images (scans in set1)                          mentions
    7     1939  women     f stored, not scanned in set1 (scanned in set0)  female
    8     1939  women     g stored, its set1 scan failed                    male
    9     1939  women     one image missing on disk (never stored)          —
    10    —     —         h failed, i not scanned yet                       —
    11    —     —         j failed, k scanned ok with no face               female

so: scanned 1 2 3 5 6 11; not_scanned 7 10; failed 8; no_image 4 9.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from postercensus.analysis.export import frames
from postercensus.analysis.face_status import item_face_statuses
from postercensus.analysis.tables import (
    Filters,
    agreement,
    agreement_summary,
    by_keyword,
    by_year,
    composition,
    face_base,
    load_tables,
)
from postercensus.catalog import schema
from postercensus.catalog.database import default_url, open_engine
from tests.test_analysis_tables import T0, build_catalogue

EXTRA_ITEMS = {  # id: (year, keywords, [(sha or None, image status, set1 scan status or None)])
    7: (1939, ["women"], [("f", "ok", None)]),
    8: (1939, ["women"], [("g", "ok", "failed")]),
    9: (1939, ["women"], [(None, "missing", None)]),
    10: (None, [], [("h", "ok", "failed"), ("i", "ok", None)]),
    11: (None, [], [("j", "ok", "failed"), ("k", "ok", "ok")]),
}
EXTRA_MENTIONS = {7: "female", 8: "male", 11: "female"}
STATUSES = {1: "scanned", 2: "scanned", 3: "scanned", 4: "no_image", 5: "scanned", 6: "scanned", 7: "not_scanned",
            8: "failed", 9: "no_image", 10: "not_scanned", 11: "scanned"}


def build_mixed_catalogue(home: Path) -> Path:
    build_catalogue(home)
    engine = open_engine(default_url(home))
    with engine.begin() as c:
        c.execute(schema.face_scans.insert().values(image_sha256="f", parameter_hash="set0", run_id=2, status="ok",
                                                    face_count=0, scanned_at=T0))
        for item_id, (year, keywords, images) in EXTRA_ITEMS.items():
            c.execute(schema.items.insert().values(
                id=item_id, source_id=1, source_item_id=f"poster{item_id}", title=f"Poster {item_id}",
                date=None if year is None else str(year), year=year, keywords=keywords, deleted=False,
                content_hash="x", raw={}, updated_at=T0))
            for position, (sha, status, scan) in enumerate(images):
                c.execute(schema.images.insert().values(
                    item_id=item_id, position=position, origin=f"/posters/{item_id}-{position}.jpg", sha256=sha,
                    path=None if sha is None else f"images/{sha}.jpg", status=status, attempts=1))
                if scan is not None:
                    c.execute(schema.face_scans.insert().values(
                        image_sha256=sha, parameter_hash="set1", run_id=3, status=scan,
                        error="cannot identify image file" if scan == "failed" else None, face_count=0,
                        scanned_at=T0))
        for item_id, gender in EXTRA_MENTIONS.items():
            c.execute(schema.mentions.insert().values(
                item_id=item_id, text_hash="t", version_hash="v1", gender=gender, trigger="them", role=None,
                role_lemma=None, category=None, start=0, end=3, sentence="a sentence", in_title=False, run_id=6))
    engine.dispose()
    return home


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return load_tables(build_mixed_catalogue(tmp_path_factory.mktemp("face-status") / "home"))


def test_every_item_has_the_face_status_of_the_default_face_set(tables):
    assert tables.face_set == "set1"
    assert tables.items.set_index("item_id")["face_status"].to_dict() == STATUSES


def test_without_a_face_set_every_stored_image_is_not_scanned():
    stored = pd.DataFrame({"item_id": [1, 2, 2], "sha256": ["a", "b", "c"]})
    statuses = item_face_statuses(pd.Series([1, 2, 3]), stored, pd.DataFrame())
    assert statuses.to_dict() == {1: "not_scanned", 2: "not_scanned", 3: "no_image"}


def test_composition_counts_only_scanned_items_in_its_shares(tables):
    table = composition(tables).set_index("composition")
    # scanned: 1 mixed; 2, 5 only female; 3, 6 only male; 11 (k scanned, no face) no face
    assert table["items"].to_dict() == {"no_face": 1, "only_female": 2, "only_male": 2, "mixed": 1,
                                        "only_uncertain": 0, "not_scanned": 2, "failed": 1, "no_image": 2}
    assert table["share"]["no_face"] == pytest.approx(1 / 6)
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["share"][["not_scanned", "failed", "no_image"]].isna().all()
    base = face_base(composition(tables))
    assert (base.items, base.scanned, base.with_faces) == (11, 6, 5)
    assert base.unscanned == {"not_scanned": 2, "failed": 1, "no_image": 2}


def test_period_and_keyword_tables_carry_the_scanned_base(tables):
    female_1939 = by_year(tables).query("year == 1939 and label == 'female'").iloc[0]
    # items 5, 7, 8, 9; only item 5 was scanned; the shares are item 5's faces alone (f6 f7: female)
    assert (female_1939["items"], female_1939["items_scanned"], female_1939["items_with_faces"],
            female_1939["faces"], female_1939["raw_share"]) == (4, 1, 1, 2, 1.0)
    women = by_keyword(tables, top_n=5).query("keyword == 'women' and label == 'female'").iloc[0]
    assert (women["items"], women["items_scanned"], women["items_with_faces"]) == (5, 2, 2)  # 1 5 7 8 9


def test_agreement_counts_unscanned_items_by_face_status_not_as_text_only(tables):
    table = agreement(tables).set_index("item_id")
    assert table["agreement"][[7, 8, 11, 4]].tolist() == ["not_scanned", "failed", "text_only", "no_image"]
    assert table.loc[[4, 7, 8], ["faces_female", "faces_male"]].isna().all().all()
    assert table.loc[11, ["faces_female", "faces_male"]].tolist() == [0, 0]  # scanned, no face: 0, not empty
    summary = agreement_summary(tables).set_index("agreement")
    assert summary["items"].to_dict() == {"agree": 3, "text_only": 1, "faces_only": 1, "disagree": 1, "neither": 0,
                                          "not_scanned": 1, "failed": 1, "no_image": 1}
    assert summary["share"]["text_only"] == pytest.approx(1 / 6)
    assert summary["share"][["not_scanned", "failed", "no_image"]].isna().all()


def test_filters_keep_the_status_and_items_csv_carries_it(tables):
    only_1939 = composition(tables, Filters(year_from=1939, year_to=1939)).set_index("composition")["items"]
    assert only_1939[["only_female", "not_scanned", "failed", "no_image"]].tolist() == [1, 1, 1, 1]
    exported = frames(tables)
    assert exported["items.csv"].set_index("item_id")["face_status"].to_dict() == STATUSES
    assert math.isnan(exported["composition.csv"].set_index("composition")["share"]["no_image"])
