"""Validation samples: a seeded random draw (simple or stratified, weights recorded), extension,
the blind labelling page, labels per coder, training that leaves validation faces out, and the
migration of a home from before coders and samples."""
from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from postercensus.catalog import schema
from postercensus.catalog.database import default_url, open_engine
from postercensus.catalog.migrations import LATEST_VERSION
from postercensus.catalog.schema import LabelPurpose
from postercensus.classify.label import labelqueue, validation
from postercensus.classify.label.catalogfaces import PredictionStore, labelled_training_set
from postercensus.classify.label.labelserver import LabellingServer
from tests.support import codingdb
from tests.support.browser import chromium_page
from tests.support.cli import run_cli

SET = codingdb.FACE_SET


def _members(engine, sample: str) -> list[int]:
    """The sample's faces in the page's order, read straight from the table."""
    members = schema.validation_sample_faces
    with engine.connect() as connection:
        return list(connection.execute(select(members.c.face_id).where(members.c.sample == sample)
                                       .order_by(members.c.position)).scalars())


def test_a_seeded_draw_is_reproducible_and_another_seed_draws_other_faces(tmp_path: Path):
    first, second = codingdb.build(tmp_path / "a"), codingdb.build(tmp_path / "b")
    report = validation.draw_sample(first, SET, 10, "s", seed=7)
    validation.draw_sample(second, SET, 10, "s", seed=7)
    validation.draw_sample(second, SET, 10, "other seed", seed=8)
    drawn = _members(first, "s")
    assert (report.drawn, report.size, report.population, report.created) == (10, 10, 40, True)
    assert drawn == _members(second, "s")  # same faces, same order
    assert set(drawn) != set(_members(second, "other seed"))
    assert drawn != sorted(drawn)  # shown in random order, not by id
    assert set(drawn) != set(range(1, 11))


def test_the_draw_is_random_every_face_equally_likely(tmp_path: Path):
    engine = codingdb.build(tmp_path / "h", items=5, faces_per_item=4)  # 20 faces
    counts: Counter[int] = Counter()
    for seed in range(200):
        validation.draw_sample(engine, SET, 5, f"s{seed}", seed=seed)
        counts.update(_members(engine, f"s{seed}"))
    # each face is expected in 200 * 5 / 20 = 50 samples (sd about 6.1); none far off
    assert set(counts) == set(range(1, 21))
    assert all(30 <= n <= 70 for n in counts.values()), counts


def test_extending_a_sample_adds_new_faces_only(tmp_path: Path):
    engine = codingdb.build(tmp_path / "h")
    validation.draw_sample(engine, SET, 10, "s", seed=1)
    before = _members(engine, "s")
    report = validation.draw_sample(engine, SET, 15, "s", seed=99)  # an existing sample keeps its seed
    after = _members(engine, "s")
    assert (report.drawn, report.size, report.created) == (15, 25, False)
    assert after[:10] == before and len(set(after)) == 25
    assert validation.draw_sample(engine, SET, 100, "s").drawn == 15  # only 40 faces in all
    with pytest.raises(validation.ValidationError, match="simple by None|extend it without --stratify"):
        validation.draw_sample(engine, SET, 1, "s", stratify_by="decade")


def test_a_stratified_draw_records_design_and_weights(tmp_path: Path):
    engine = codingdb.build(tmp_path / "h")  # 20 female, 19 male, 1 uncertain predictions
    report = validation.draw_sample(engine, SET, 13, "s", seed=3, stratify_by="predicted", model=codingdb.MODEL)
    assert report.strata == {"female": {"population": 20, "drawn": 6}, "male": {"population": 19, "drawn": 6},
                             "uncertain": {"population": 1, "drawn": 1}}  # equal allocation, as far as sizes allow
    with engine.connect() as connection:
        stored = connection.execute(select(schema.validation_samples)).one()
        strata = dict(connection.execute(select(schema.validation_sample_faces.c.face_id,
                                                schema.validation_sample_faces.c.stratum)).all())
    assert (stored.design, stored.stratify_by, stored.seed, stored.model) == ("stratified", "predicted", 3, list(codingdb.MODEL))
    recorded = {"female": (20 / 40) / (6 / 13), "male": (19 / 40) / (6 / 13), "uncertain": (1 / 40) / (1 / 13)}
    assert stored.weights == pytest.approx(recorded) and report.weights == pytest.approx(recorded)
    assert all(stratum == codingdb.predicted(face) for face, stratum in strata.items())

    for face in strata:  # every face validated: weight (N_h / N) / (m_h / m)
        labelqueue.set_label(engine, face, "female", "ann", LabelPurpose.VALIDATION, "s")
    weights = validation.adjudicated_validation_labels(engine, SET).set_index("face")["weight"]
    expected = {"female": (20 / 40) / (6 / 13), "male": (19 / 40) / (6 / 13), "uncertain": (1 / 40) / (1 / 13)}
    assert {face: weights[face] for face in strata} == pytest.approx({f: expected[s] for f, s in strata.items()})
    assert weights.sum() == pytest.approx(13)


def test_decade_strata_and_simple_weights(tmp_path: Path):
    engine = codingdb.build(tmp_path / "h")
    validation.draw_sample(engine, SET, 4, "simple", seed=0)  # first: its faces keep its rows
    report = validation.draw_sample(engine, SET, 9, "decades", seed=0, stratify_by="decade")
    assert {name: v["drawn"] for name, v in report.strata.items()} == {"1950s": 3, "1960s": 3, "1970s": 3}
    for face in _members(engine, "simple"):
        labelqueue.set_label(engine, face, "other", "ann", LabelPurpose.VALIDATION, "simple")
    table = validation.adjudicated_validation_labels(engine)
    simple = table[table["sample"] == "simple"]
    assert simple["weight"].tolist() == [1.0] * 4
    assert simple["label"].tolist() == ["other"] * 4  # not a face: kept, the detector's false positives
    assert list(table.columns) == ["face", "label", "weight", "sample", "coders"]


def test_a_face_enters_the_validation_labels_once_however_many_samples(tmp_path: Path):
    engine = codingdb.build(tmp_path / "h")
    validation.draw_sample(engine, SET, 20, "first", seed=0)
    validation.draw_sample(engine, SET, 10, "second", seed=0, stratify_by="decade")
    first, second = _members(engine, "first"), _members(engine, "second")
    both = set(first) & set(second)
    assert both  # independent draws of 20 and 10 of 40 faces overlap
    for face in {*first, *second}:
        labelqueue.set_label(engine, face, "female", "ann", LabelPurpose.VALIDATION, "first")
    table = validation.adjudicated_validation_labels(engine, SET)
    assert len(table) == len({*first, *second}) and table["face"].is_unique
    shared = table.set_index("face").loc[sorted(both)]
    assert set(shared["sample"]) == {"first"} and set(shared["weight"]) == {1.0}  # the sample drawn first


def test_the_validation_page_and_its_json_never_carry_the_prediction(tmp_path: Path):
    engine = codingdb.build(tmp_path / "h", items=3)
    validation.draw_sample(engine, SET, 5, "s", seed=4)
    order = _members(engine, "s")
    with LabellingServer(engine, tmp_path / "h", coder="ann", validation_sample="s") as server:
        with urllib.request.urlopen(server.url + "api/queue?n=50", timeout=10) as response:
            body = response.read().decode()
        payload = json.loads(body)
        assert [face["face_id"] for face in payload["faces"]] == order
        assert (payload["mode"], payload["sample"], payload["coder"], payload["remaining"]) == ("validation", "s", "ann", 5)
        for word in ("predicted_label", "probability", "margin", "female", "male", "uncertain", "0.8"):
            assert word not in json.dumps(payload["faces"])
        with chromium_page() as browser:
            page = browser.page
            page.goto(server.url)
            page.wait_for_selector('body[data-pending="0"]')
            assert int(page.locator("#crop").get_attribute("data-face-id")) == order[0]
            text = page.locator("#labeller").inner_text()
            assert "validation" in page.locator("#prediction").inner_text()
            assert "0.8" not in text and "margin" not in text
            page.keyboard.press("m")
            page.wait_for_selector('body[data-pending="0"]')
            assert int(page.locator("#crop").get_attribute("data-face-id")) == order[1]
            assert browser.errors == []
    with engine.connect() as connection:
        stored = connection.execute(select(schema.face_labels)).one()
    assert (stored.face_id, stored.label, stored.labelled_by, stored.purpose, stored.sample) == \
        (order[0], "male", "ann", "validation", "s")


def test_each_coder_has_one_label_per_face_and_purpose(tmp_path: Path):
    engine = codingdb.build(tmp_path / "h", items=2)
    validation.draw_sample(engine, SET, 4, "s", seed=0)
    face = _members(engine, "s")[0]
    assert labelqueue.set_label(engine, face, "male", "ann", LabelPurpose.VALIDATION, "s") is None
    assert labelqueue.set_label(engine, face, "female", "ann", LabelPurpose.VALIDATION, "s") == "male"
    assert labelqueue.set_label(engine, face, "male", "bob", LabelPurpose.VALIDATION, "s") is None
    assert labelqueue.set_label(engine, face, "female", "ann") is None  # a training label beside it
    with engine.connect() as connection:
        rows = connection.execute(select(schema.face_labels.c.labelled_by, schema.face_labels.c.purpose,
                                         schema.face_labels.c.label).order_by(schema.face_labels.c.id)).all()
    assert sorted(map(tuple, rows)) == [("ann", "training", "female"), ("ann", "validation", "female"),
                                        ("bob", "validation", "male")]
    assert [f.face_id for f in labelqueue.sample_faces(engine, "s", "ann", 10)] == _members(engine, "s")[1:]
    assert face not in [f.face_id for f in labelqueue.next_faces(engine, 100)]  # never queued for training


def test_training_from_the_catalogue_leaves_validation_labels_out(tmp_path: Path):
    home = tmp_path / "h"
    engine = codingdb.build(home, items=4)
    validation.draw_sample(engine, SET, 4, "s", seed=5)
    sampled = _members(engine, "s")
    for face in sampled:
        labelqueue.set_label(engine, face, "female", "ann", LabelPurpose.VALIDATION, "s")
    trained = [face for face in range(1, 17) if face not in sampled][:6]
    for face in trained:
        labelqueue.set_label(engine, face, "male" if face % 2 else "female", "page")

    default = labelled_training_set(engine, home)
    assert default.names == [f"face {face}" for face in sorted(trained)]
    assert default.source["validation_labels"] == {"included": False, "faces": 0, "faces_left_out": 4}
    card = {"training": default.source}
    assert validation.validation_labels_used_in_training(card, engine) is False

    included = labelled_training_set(engine, home, include_validation=True)
    assert included.names == [f"face {face}" for face in sorted(trained + sampled)]
    assert included.source["validation_labels"] == {"included": True, "faces": 4, "faces_left_out": 0}
    assert validation.validation_labels_used_in_training({"training": included.source}, engine) is True
    # a card from another catalogue whose face ids happen to match is not mistaken for this one's
    foreign = [[face, "f" * 64] for face, _ in included.source["catalogue_faces"]]
    assert validation.validation_labels_used_in_training({"training": {"catalogue_faces": foreign}}, engine) is False


def test_train_cli_refuses_include_validation_without_the_catalogue(tmp_path: Path):
    outcome = run_cli(tmp_path / "h", "classify", "train", str(tmp_path), "--out", str(tmp_path / "m"),
                      "--include-validation")
    assert outcome.exit_code != 0 and "--include-validation needs --from-catalog" in outcome.output


def test_label_cli_draws_the_sample_and_serves_it_blind(tmp_path: Path):
    home = tmp_path / "h"
    engine = codingdb.build(home)
    command = [sys.executable, "-c", "from postercensus.cli import main; main()", "--home", str(home), "classify",
               "label", "--port", "0", "--validate", "12", "--coder", "ann", "--stratify", "decade", "--seed", "5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        drawn, serving = process.stdout.readline(), process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", serving)
        assert match, (drawn, serving, process.stderr.read() if process.poll() is not None else "")
        assert drawn.startswith("validation sample validation (stratified): 12 face(s) drawn, 12 of 40")
        assert "1950s 4 of 16 (weight 1.20); 1960s 4 of 12 (weight 0.90); 1970s 4 of 12 (weight 0.90)" in drawn
        assert "validation sample validation, coder ann" in serving
        with urllib.request.urlopen(match.group(0) + "api/queue?n=50", timeout=60) as response:
            payload = json.loads(response.read())
        assert [face["face_id"] for face in payload["faces"]] == _members(engine, "validation")
        assert all("predicted_label" not in face for face in payload["faces"])
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()


def test_label_cli_needs_a_coder_for_a_validation_sample(tmp_path: Path):
    codingdb.build(tmp_path / "h").dispose()
    outcome = run_cli(tmp_path / "h", "classify", "label", "--validate", "5")
    assert outcome.exit_code == 1 and "add --coder" in outcome.output
    outcome = run_cli(tmp_path / "h", "classify", "label", "--sample", "nope", "--coder", "ann")
    assert outcome.exit_code == 1 and "no validation sample 'nope'" in outcome.output
    # the active model (the shipped one) has predicted nothing here: no strata to draw by
    outcome = run_cli(tmp_path / "h", "classify", "label", "--validate", "5", "--coder", "ann", "--stratify", "predicted")
    assert outcome.exit_code == 1 and "--stratify predicted needs a model's predictions" in outcome.output
    outcome = run_cli(tmp_path / "h", "classify", "label", "--stratify", "decade")
    assert outcome.exit_code == 1 and "--stratify only applies to a validation draw" in outcome.output


def test_an_old_home_keeps_its_labels_as_training_labels(tmp_path: Path):
    home = tmp_path / "h"
    codingdb.build(home, items=2).dispose()
    raw = sqlite3.connect(home / "catalog.sqlite")  # face_labels as a version-6 postercensus left it
    raw.executescript("""
        DROP TABLE face_labels; DROP TABLE validation_sample_faces; DROP TABLE validation_samples;
        CREATE TABLE face_labels (face_id INTEGER NOT NULL PRIMARY KEY REFERENCES faces (id),
            label VARCHAR(200) NOT NULL, labelled_by VARCHAR(200) NOT NULL, labelled_at DATETIME NOT NULL);
        INSERT INTO face_labels VALUES (1, 'female', 'labelling page', '2025-05-01 10:00:00.000000');
        INSERT INTO face_labels VALUES (2, 'other', 'labelling page', '2025-05-01 10:01:00.000000');
        UPDATE schema_version SET version = 6;
    """)
    raw.commit()
    raw.close()

    engine = open_engine(default_url(home))
    with engine.connect() as connection:
        assert connection.execute(select(schema.schema_version.c.version)).scalar() == LATEST_VERSION
        rows = connection.execute(select(schema.face_labels).order_by(schema.face_labels.c.face_id)).all()
    assert [(r.face_id, r.label, r.labelled_by, r.purpose, r.sample) for r in rows] == [
        (1, "female", "labelling page", "training", None), (2, "other", "labelling page", "training", None)]
    assert rows[0].labelled_at.replace(tzinfo=timezone.utc) == datetime(2025, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert labelqueue.set_label(engine, 1, "male", "labelling page") == "female"  # replaced, not duplicated
    assert labelqueue.label_counts(engine) == {"male": 1, "other": 1}
    validation.draw_sample(engine, SET, 3, "after upgrade", seed=0)
    assert len(_members(engine, "after upgrade")) == 3


def test_the_tables_give_each_face_one_human_label_however_many_coders(tmp_path: Path):
    from postercensus.analysis.load import load_tables

    home = tmp_path / "h"
    engine = codingdb.build(home, items=2)
    labelqueue.set_label(engine, 1, "female", "ann")
    labelqueue.set_label(engine, 1, "other", "bob")
    labelqueue.set_label(engine, 1, "other", "cem")  # the majority: not a face
    labelqueue.set_label(engine, 2, "other", "ann")
    labelqueue.set_label(engine, 2, "male", "adjudicated")  # settles it
    labelqueue.set_label(engine, 3, "male", "ann")
    faces = load_tables(engine, home).faces
    labels = faces.drop_duplicates("face_id").set_index("face_id")["human_label"]
    assert len(faces) == faces[["face_id", "item_id", "model_id"]].drop_duplicates().shape[0]  # no row per coder
    assert (labels[1], labels[2], labels[3]) == ("other", "male", "male")
    assert labels[4:].isna().all()
    # `classify predict`'s counts leave out the same faces: face 1 (predicted uncertain) only
    counts = PredictionStore(engine, home).label_counts(*codingdb.MODEL)
    assert counts == {"female": 4, "male": 3}
