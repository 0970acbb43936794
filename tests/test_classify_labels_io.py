"""Hand labels as CSV: export → import round trip, idempotent imports, faces named by item and
box, and files with bad rows refused whole with every bad row named."""
from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from postercensus.catalog.schema import LabelPurpose
from postercensus.classify.label import labelqueue, validation
from postercensus.classify.label.labelsio import LabelFileError, import_labels
from tests.support import codingdb
from tests.support.cli import run_cli

SET = codingdb.FACE_SET


def _labels(home: Path) -> list[tuple]:
    """face_labels read with plain sqlite3, so a wrong write is not hidden by a wrong read."""
    connection = sqlite3.connect(home / "catalog.sqlite")
    try:
        return sorted(connection.execute(
            "SELECT face_id, labelled_by, purpose, label, sample FROM face_labels").fetchall())
    finally:
        connection.close()


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def coded(tmp_path: Path):
    """A catalogue with a validation sample coded by two coders and some training labels."""
    home = tmp_path / "home"
    engine = codingdb.build(home, items=5)
    validation.draw_sample(engine, SET, 6, "validation", seed=1)
    for n, face in enumerate(f.face_id for f in labelqueue.sample_faces(engine, "validation", "ann", 10)):
        labelqueue.set_label(engine, face, "female" if n % 2 else "male", "ann", LabelPurpose.VALIDATION, "validation")
        labelqueue.set_label(engine, face, "female", "bob", LabelPurpose.VALIDATION, "validation")
    for face in (1, 2, 3):
        labelqueue.set_label(engine, face, "other" if face == 3 else "male", "labelling page")
    yield home, engine
    engine.dispose()


def test_export_then_import_into_a_fresh_catalogue_round_trips(coded, tmp_path: Path):
    home, engine = coded
    exported = tmp_path / "labels.csv"
    outcome = run_cli(home, "classify", "labels", "export", str(exported))
    assert outcome.exit_code == 0 and "(15 rows)" in outcome.stdout
    rows = list(csv.DictReader(exported.open()))
    assert {row["purpose"] for row in rows} == {"training", "validation"}
    assert rows[0].keys() >= {"face_id", "item", "left", "top", "right", "bottom", "label", "coder", "purpose", "sample"}

    fresh = tmp_path / "fresh"
    fresh_engine = codingdb.build(fresh, items=5)
    validation.draw_sample(fresh_engine, SET, 6, "validation", seed=1)  # the same sample, drawn again
    outcome = run_cli(fresh, "classify", "labels", "import", str(exported))
    assert outcome.exit_code == 0, outcome.output
    assert "15 new, 0 replaced, 0 unchanged" in outcome.stdout
    assert _labels(fresh) == _labels(home)

    again = run_cli(fresh, "classify", "labels", "import", str(exported))
    assert "0 new, 0 replaced, 15 unchanged" in again.stdout
    assert _labels(fresh) == _labels(home)  # nothing duplicated


def test_a_coders_new_label_replaces_their_old_one(coded, tmp_path: Path):
    home, engine = coded
    face = validation.adjudicated_validation_labels(engine)["face"].iloc[0]
    report = import_labels(engine, _write(tmp_path / "fix.csv", [
        {"face_id": face, "label": "other", "coder": "bob", "purpose": "validation"}]))
    assert (report.new, report.replaced, report.unchanged) == (0, 1, 0)
    assert [row for row in _labels(home) if row[0] == face and row[1] == "bob"] == \
        [(face, "bob", "validation", "other", "validation")]


def test_faces_can_be_named_by_item_and_box(tmp_path: Path):
    home = tmp_path / "home"
    engine = codingdb.build(home, items=2)
    # item 2 holds faces 5-8, all with the box (1, 1, 20, 20): ambiguous without face_id
    path = _write(tmp_path / "boxes.csv", [
        {"item": 2, "left": 1, "top": 1, "right": 20, "bottom": 20, "label": "male", "coder": "ann",
         "purpose": "training"}])
    with pytest.raises(LabelFileError, match="row 2: more than one face at item 2"):
        import_labels(engine, path)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE faces SET \"left\" = 7 WHERE id = 6")
    path = _write(tmp_path / "box.csv", [
        {"item": 2, "left": 7, "top": 1, "right": 20, "bottom": 20, "label": "male", "coder": "ann",
         "purpose": "training"}])
    assert import_labels(engine, path).new == 1
    assert _labels(home) == [(6, "ann", "training", "male", None)]


def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_row(coded, tmp_path: Path):
    home, engine = coded
    before = _labels(home)
    sampled = int(validation.adjudicated_validation_labels(engine)["face"].iloc[0])
    unsampled = next(face for face in range(1, 21) if face not in
                     set(validation.adjudicated_validation_labels(engine)["face"]))
    rows = [
        {"face_id": 4, "label": "male", "coder": "cem", "purpose": "training", "sample": ""},  # good
        {"face_id": 999, "label": "male", "coder": "cem", "purpose": "training", "sample": ""},
        {"face_id": 4, "label": "woman", "coder": "dan", "purpose": "training", "sample": ""},
        {"face_id": 5, "label": "male", "coder": "cem", "purpose": "testing", "sample": ""},
        {"face_id": unsampled, "label": "male", "coder": "cem", "purpose": "validation", "sample": ""},
        {"face_id": sampled, "label": "male", "coder": "cem", "purpose": "training", "sample": "validation"},
        {"face_id": 7, "label": "male", "coder": "", "purpose": "training", "sample": ""},
        {"face_id": "x", "label": "male", "coder": "cem", "purpose": "training", "sample": ""},
        {"face_id": 4, "label": "female", "coder": "cem", "purpose": "training", "sample": ""},
    ]
    outcome = run_cli(home, "classify", "labels", "import", str(_write(tmp_path / "bad.csv", rows)))
    assert outcome.exit_code == 1
    message = outcome.output
    assert message.startswith("Error: ") and "nothing was imported" in message
    for expected in ("row 3: unknown face 999", "row 4: unknown label 'woman'", "row 5: purpose must be",
                     f"row 6: face {unsampled} is in no validation sample", "row 7: a training label belongs to no sample",
                     "row 8: no coder", "row 9: face_id 'x' is not a whole number", "row 10: row 2 gives face 4"):
        assert expected in message, expected
    assert "row 2:" not in message
    assert _labels(home) == before


def test_unknown_columns_are_refused_and_empty_labels_are_counted(coded, tmp_path: Path):
    home, engine = coded
    with pytest.raises(LabelFileError, match="unknown column"):
        import_labels(engine, _write(tmp_path / "typo.csv", [
            {"face_id": 4, "lable": "male", "coder": "cem", "purpose": "training"}]))
    report = import_labels(engine, _write(tmp_path / "partly.csv", [
        {"face_id": 4, "label": "male", "coder": "cem", "purpose": "training"},
        {"face_id": 5, "label": "", "coder": "cem", "purpose": "training"}]))
    assert (report.new, report.not_coded) == (1, 1)
    assert "1 row(s) without a label not coded yet" in report.line()


def test_a_coding_sheet_lists_the_sample_without_predictions(coded, tmp_path: Path):
    home, engine = coded
    sheet = tmp_path / "sheet.csv"
    outcome = run_cli(home, "classify", "labels", "export", str(sheet), "--sample", "validation", "--coder", "cem")
    assert outcome.exit_code == 0, outcome.output
    rows = list(csv.DictReader(sheet.open()))
    order = [f.face_id for f in labelqueue.sample_faces(engine, "validation", "cem", 10)]
    assert [int(row["face_id"]) for row in rows] == order
    assert list(rows[0]) == ["face_id", "item", "left", "top", "right", "bottom", "crop", "label", "coder",
                             "purpose", "sample"]
    assert {row["label"] for row in rows} == {""} and {row["coder"] for row in rows} == {"cem"}
    for row in rows:
        row["label"] = "female"
    report = import_labels(engine, _write(tmp_path / "filled.csv", rows))
    assert (report.new, report.unchanged) == (6, 0)
    assert set(validation.adjudicated_validation_labels(engine)["coders"]) == {3}
