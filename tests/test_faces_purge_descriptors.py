"""`faces purge-descriptors`: every stored face descriptor goes, everything else stays, and what
needs descriptors afterwards says so in one line (issue 26, item 3).

On the small real home (three generated posters with real NK faces) after one full `refresh`:
faces detected, predicted by the shipped model, analysed and exported.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from postercensus.cli import app

from tests.support import facedb
from tests.support.cli import error_line, ok, run_cli
from tests.support.smallhome import INLINE, harvested_home

KEPT_FACE_COLUMNS = ("id", "image_sha256", "parameter_hash", "face_index", "left", "top", "right", "bottom",
                     "score", "detectors", "landmarks5", "landmarks68", "crop_path", "run_id", "aligned_by",
                     "detector_landmarks")




@pytest.fixture(scope="module")
def refreshed(shared_data, tmp_path_factory) -> Path:
    """The small home after one refresh (treated as read-only: tests copy it)."""
    home = harvested_home(shared_data, tmp_path_factory.mktemp("purge"))
    ok(run_cli(home, "refresh", *INLINE))
    assert facedb.faces(home) and all(len(face["embedding"]) == 128 for face in facedb.faces(home))
    return home


def _copy(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def _kept(home: Path) -> list[dict]:
    return [{column: face[column] for column in KEPT_FACE_COLUMNS} for face in facedb.faces(home)]


def _predictions(home: Path) -> list[tuple]:
    return facedb.rows(home, "SELECT * FROM predictions ORDER BY id")


def _answering(home: Path, answer: str) -> Result:
    """`faces purge-descriptors` without --yes, typing `answer` at its question."""
    return CliRunner().invoke(app, ["--home", str(home), "faces", "purge-descriptors"], input=answer)


def _execute(home: Path, sql: str, rows: list[tuple]) -> None:
    connection = sqlite3.connect(home / "catalog.sqlite")
    try:
        connection.executemany(sql, rows)
        connection.commit()
    finally:
        connection.close()


def _tables(folder: Path) -> dict[str, str]:
    """Every CSV table an export wrote, by name."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.csv"))}


def test_purge_deletes_every_descriptor_and_keeps_faces_predictions_and_tables(refreshed, tmp_path):
    home = _copy(refreshed, tmp_path / "home")
    faces_before, predictions_before = _kept(home), _predictions(home)
    [face_set] = {face["parameter_hash"] for face in faces_before}
    ok(run_cli(home, "export", str(tmp_path / "before")))

    stdout = ok(run_cli(home, "faces", "purge-descriptors", "--yes"))

    assert all(face["embedding"] == [] for face in facedb.faces(home))
    assert f"deleted {len(faces_before)} face descriptor(s)" in stdout
    assert f"result set {face_set}: {len(faces_before)}" in stdout
    assert _kept(home) == faces_before, "boxes, landmarks and crops are kept"
    assert all((home / face["crop_path"]).is_file() for face in faces_before)
    assert _predictions(home) == predictions_before
    [run] = facedb.runs(home, "faces purge-descriptors")
    assert run["status"] == "ok" and f"run #{run['id']}" in stdout
    assert run["counts"] == {"descriptors_deleted": len(faces_before), "face_sets": 1}
    ok(run_cli(home, "export", str(tmp_path / "after")))
    before, after = _tables(tmp_path / "before"), _tables(tmp_path / "after")
    assert "faces.csv" in after and after == before, "the tables do not read descriptors"

    again = ok(run_cli(home, "faces", "purge-descriptors", "--yes"))
    assert "nothing to delete" in again
    assert len(facedb.runs(home, "faces purge-descriptors")) == 1, "no run when there is nothing to delete"


def test_without_yes_it_asks_and_a_no_deletes_nothing(refreshed, tmp_path):
    home = _copy(refreshed, tmp_path / "home")
    stored = len(facedb.faces(home))

    refused = _answering(home, "n\n")

    assert f"Delete {stored} face descriptor(s) from 1 face set(s)" in refused.stdout
    line = error_line(refused)
    assert "nothing was deleted" in line and "--yes" in line
    assert all(len(face["embedding"]) == 128 for face in facedb.faces(home))
    assert facedb.runs(home, "faces purge-descriptors") == []

    ok(_answering(home, "y\n"))
    assert all(face["embedding"] == [] for face in facedb.faces(home))


@pytest.fixture(scope="module")
def purged(refreshed, tmp_path_factory) -> Path:
    """A copy of the refreshed home after the purge (treated as read-only)."""
    home = _copy(refreshed, tmp_path_factory.mktemp("purged") / "home")
    ok(run_cli(home, "faces", "purge-descriptors", "--yes"))
    return home


def test_detect_with_the_same_settings_says_the_descriptors_were_purged(purged, tmp_path):
    home = _copy(purged, tmp_path / "home")
    faces = len(facedb.faces(home))
    [run] = facedb.runs(home, "faces purge-descriptors")

    stdout = ok(run_cli(home, "faces", "detect", *INLINE))

    assert "0 image(s) to process" in stdout
    assert f"{faces} face(s) of result set" in stdout and "have no descriptor" in stdout
    assert f"purge-descriptors` (run #{run['id']})" in stdout and "does not compute them again" in stdout
    assert all(face["embedding"] == [] for face in facedb.faces(home)), "nothing silently recomputed"


def test_train_from_catalog_on_dlib_says_it_needs_descriptors(purged, tmp_path):
    home = _copy(purged, tmp_path / "home")
    labelled = [face["id"] for face in facedb.faces(home)]
    _execute(home, "INSERT INTO face_labels (face_id, label, labelled_by, labelled_at, purpose) VALUES "
                         "(?, ?, 'test', '2024-05-01 12:00:00.000000', 'training')",
                   [(face_id, ("female", "male")[face_id % 2]) for face_id in labelled])
    out = tmp_path / "M"

    line = error_line(run_cli(home, "classify", "train", "--base", "none", "--from-catalog", "--out", str(out)))

    assert f"{len(labelled)} face(s) have no stored descriptor" in line
    assert "training on the dlib backbone" in line and "--backbone vggface" in line
    assert not out.exists()


def test_predict_with_another_dlib_model_says_it_needs_descriptors(purged, tmp_path):
    home = _copy(purged, tmp_path / "home")
    from postercensus.classify.models.modelfolder import default_model_folder

    model = shutil.copytree(default_model_folder(), tmp_path / "renamed")
    card = json.loads((model / "model.json").read_text(encoding="utf-8"))
    (model / "model.json").write_text(json.dumps(card | {"model_id": "renamed-gender"}), encoding="utf-8")
    before = _predictions(home)

    line = error_line(run_cli(home, "classify", "predict", "--model", str(model)))

    assert f"{len(facedb.faces(home))} face(s) have no stored descriptor" in line
    assert "predicting with renamed-gender (dlib backbone)" in line and "VGGFace" in line
    assert _predictions(home) == before
    assert facedb.runs(home, "classify")[-1]["parameters"]["model_id"] != "renamed-gender", "no run started"


def test_help_names_what_is_deleted_and_what_is_kept():
    text = " ".join(CliRunner().invoke(app, ["faces", "purge-descriptors", "--help"]).stdout.split())
    assert "Delete every stored face descriptor" in text and "identify a person" in text
    assert "Boxes, landmarks, aligned crops, predictions, labels" in text and "--yes" in text
