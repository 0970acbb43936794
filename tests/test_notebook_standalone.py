"""One image or one text, without a home: `pc.find_faces`, `pc.perceived_gender`, `pc.mentions`.

Each answer is checked against what the CLI writes for the same input: `faces scan`'s boxes,
`classify predict`'s stored predictions, `text phrases`' rows. The images are generated posters
with real NK faces (../shared/data); the library functions behind `text phrases` and `classify
evaluate` are called from Python and compared with the commands' files.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import postercensus as pc
from postercensus.classify.models.classifier import load_classifier
from postercensus.classify.train.evaluation import evaluation_report, write_evaluation
from postercensus.classify.train.folderdata import load_labelled_folder
from postercensus.classify.train.labelled import list_labelled_files
from postercensus.classify.train.overlap import overlap_lines
from postercensus.faces.executors import InlineExecutor
from postercensus.text.phrases import MissingColumn, write_phrases
from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings
from tests.support import facedb
from tests.support.cli import ok, run_cli
from tests.support.posters import FACES_DIR, Poster, assert_finds_faces

REPO = Path(__file__).resolve().parents[1]
INLINE = ("--workers", "1")
POSTERS = {"poster0": 0, "poster1": 1}  # two generated posters, two real NK faces each
DEFAULT_LABELS = ["female", "male"]  # the shipped model's label set
EXIF_ORIENTATION = 0x0112
ROTATE_90_CLOCKWISE_TO_VIEW = 6



def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def poster_folder(shared_data, tmp_path_factory) -> tuple[Path, dict[str, Poster]]:
    folder = tmp_path_factory.mktemp("posters") / "posters"
    return folder, facedb.write_posters(folder, shared_data, POSTERS)


# -- find_faces -----------------------------------------------------------------------------------

def test_find_faces_gives_the_same_faces_for_a_path_a_pil_image_and_an_array(poster_folder):
    folder, posters = poster_folder
    path = folder / "poster0.jpg"

    faces = pc.find_faces(path)
    with Image.open(path) as image:
        from_image = pc.find_faces(image)
        from_array = pc.find_faces(np.asarray(image.convert("RGB")))

    assert_finds_faces([face.box for face in faces], posters["poster0"].placements)
    assert from_image == faces and from_array == faces and pc.find_faces(str(path)) == faces
    assert all(face.detectors == ("yunet",) and len(face.landmarks) == 5 for face in faces), "the default detector"


def test_find_faces_boxes_are_the_boxes_faces_scan_writes(poster_folder, tmp_path):
    folder, posters = poster_folder
    out = tmp_path / "faces.csv"
    ok(run_cli(tmp_path / "home", "faces", "scan", str(folder), "--out", str(out), *INLINE))
    rows = _read_csv(out)

    for name in posters:
        written = [((int(row["left"]), int(row["top"]), int(row["right"]), int(row["bottom"])), float(row["score"]),
                    row["detector"]) for row in rows if row["file"] == f"{name}.jpg"]
        found = [(face.box, round(face.score, 4), "+".join(face.detectors)) for face in pc.find_faces(folder / f"{name}.jpg")]
        assert len(found) == 2 and sorted(found) == sorted(written), name


def test_a_pil_image_is_turned_upright_by_its_exif_tag_as_its_file_is(poster_folder, tmp_path):
    _, posters = poster_folder
    poster = posters["poster0"]
    sideways = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATE_90_CLOCKWISE_TO_VIEW
    poster.image.rotate(90, expand=True).save(sideways, quality=92, exif=exif)

    faces = pc.find_faces(sideways)
    with Image.open(sideways) as image:
        assert pc.find_faces(image) == faces
    assert_finds_faces([face.box for face in faces], poster.placements), "boxes in the upright poster's pixels"


@pytest.mark.parametrize("image", [42, b"\xff\xd8 not a path", np.zeros((40, 40), np.uint8),
                                   np.zeros((40, 40, 3), np.float32), np.zeros((40, 40, 4), np.uint8)],
                         ids=["int", "bytes", "grey array", "float array", "rgba array"])
def test_anything_but_a_path_a_pil_image_or_an_rgb_array_is_a_type_error(image):
    with pytest.raises(TypeError, match="RGB array"):
        pc.find_faces(image)
    with pytest.raises(TypeError, match="RGB array"):
        pc.perceived_gender(image)


def test_a_file_that_cannot_be_read_is_an_error_naming_it(tmp_path):
    notes = tmp_path / "notes.jpg"
    notes.write_text("my notes, not a scan\n" * 20)
    missing = tmp_path / "missing.jpg"

    with pytest.raises(ValueError, match=re.escape(str(notes))):
        pc.find_faces(notes)
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        pc.find_faces(missing)


# -- perceived_gender -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def predicted_home(poster_folder, tmp_path_factory) -> Path:
    """A home after `harvest folder`, `faces detect` and `classify predict` (all defaults) on the posters."""
    folder, _ = poster_folder
    home = tmp_path_factory.mktemp("predicted") / "home"
    ok(run_cli(home, "harvest", "folder", str(folder)))
    ok(run_cli(home, "faces", "detect", *INLINE))
    ok(run_cli(home, "classify", "predict"))
    return home


def _stored_predictions(home: Path, sha256: str) -> list[dict]:
    rows = facedb.query(home, "SELECT faces.left, faces.top, faces.right, faces.bottom, predictions.label, "
                              "predictions.probabilities, predictions.model_id, predictions.model_version "
                              "FROM predictions JOIN faces ON faces.id = predictions.face_id "
                              "WHERE faces.image_sha256 = ? ORDER BY faces.face_index", sha256)
    return [dict(row) | {"probabilities": json.loads(row["probabilities"])} for row in rows]


def test_perceived_gender_gives_what_classify_predict_stores_for_the_image(poster_folder, predicted_home):
    folder, posters = poster_folder
    images = facedb.stored_images(predicted_home)

    for name in posters:
        frame = pc.perceived_gender(folder / f"{name}.jpg")
        stored = _stored_predictions(predicted_home, images[f"{name}.jpg"].sha256)

        assert len(frame) == len(stored) == 2, "one row per face"
        assert [c for c in frame.columns if c.startswith("p_")] == [f"p_{label}" for label in DEFAULT_LABELS]
        probabilities = frame[[f"p_{label}" for label in DEFAULT_LABELS]].to_numpy()
        assert probabilities.sum(axis=1) == pytest.approx(1.0)
        assert list(frame[["left", "top", "right", "bottom"]].itertuples(index=False, name=None)) == \
            [(row["left"], row["top"], row["right"], row["bottom"]) for row in stored]
        assert list(frame["label"]) == [row["label"] for row in stored]
        assert probabilities == pytest.approx(
            np.array([[row["probabilities"][label] for label in DEFAULT_LABELS] for row in stored]), abs=1e-5)
        assert set(frame["model_id"]) == {stored[0]["model_id"]} and set(frame["model_version"]) == {stored[0]["model_version"]}


def test_perceived_gender_calibrates_for_the_domain_asked(poster_folder):
    folder, _ = poster_folder
    path = folder / "poster1.jpg"

    posters = pc.perceived_gender(path)
    paintings = pc.perceived_gender(path, domain="paintings")

    assert list(paintings["label"]) == list(posters["label"]), "a temperature never changes the top label"
    assert not np.allclose(paintings["probability"], posters["probability"])
    assert posters["model_version"][0].endswith("-posters") and paintings["model_version"][0].endswith("-paintings")
    with pytest.raises(ValueError, match="unknown domain 'murals'"):
        pc.perceived_gender(path, domain="murals")


def test_the_default_model_is_found_outside_the_repository(tmp_path):
    """Tests run with the checkout on sys.path; a notebook elsewhere has only the installed package."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", "from postercensus.classify.models.modelfolder import resolve; "
                           "print(resolve('default'))"], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == REPO / "classify" / "default_model"


def test_perceived_gender_of_an_image_without_faces_is_an_empty_table_with_the_columns():
    frame = pc.perceived_gender(np.full((240, 320, 3), 200, np.uint8))

    assert frame.empty and {"left", "top", "right", "bottom", "label", "p_female", "p_male"} <= set(frame.columns)


# -- mentions -------------------------------------------------------------------------------------

PHRASE = "a woman tractor driver and two male workers"
TEXTS = {
    "tractor": PHRASE,
    "boilerplate": "1 print : silkscreen, color. | Poster showing a woman welder and her husband.",
    "title": 'Poster for "The Women" with a mother and child.',
}


def _write_texts(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(TEXTS.items())
    return path


def test_mentions_finds_the_woman_tractor_driver_and_the_male_workers():
    found = pc.mentions(PHRASE)

    assert [(m.gender, m.trigger, m.role, m.role_lemma) for m in found] == [
        ("female", "woman", "tractor driver", "tractor driver"), ("male", "male", "workers", "worker")]
    assert [PHRASE[m.start:m.end] for m in found] == ["woman", "male"]
    assert not any(m.in_title for m in found)


def test_mentions_are_the_rows_text_phrases_writes(tmp_path, home):
    out = tmp_path / "phrases.csv"
    ok(run_cli(home, "text", "phrases", "--csv", str(_write_texts(tmp_path / "texts.csv")), "--column", "text",
                "--id-column", "id", "--out", str(out), "--include-titles"))
    rows = _read_csv(out)

    expected = [{"id": key, **{column: "" if getattr(m, column) is None else str(getattr(m, column))
                               for column in list(rows[0])[1:]}}
                for key, text in TEXTS.items() for m in pc.mentions(text)]
    assert rows == expected and len(rows) == 6


def test_mentions_warns_when_the_text_is_not_english_and_refuses_what_is_not_text():
    with pytest.warns(UserWarning, match="does not look English"):
        assert pc.mentions("Une femme et son enfant dans le jardin de la maison avec les ouvriers") == []
    with pytest.raises(TypeError, match="expected a str"):
        pc.mentions(None)


# -- the commands' work, from Python --------------------------------------------------------------

def test_write_phrases_writes_what_text_phrases_writes(tmp_path, home):
    source = _write_texts(tmp_path / "texts.csv")
    by_command, by_python = tmp_path / "command.csv", tmp_path / "python.csv"
    stdout = ok(run_cli(home, "text", "phrases", "--csv", str(source), "--column", "text", "--id-column", "id",
                         "--out", str(by_command)))

    report = write_phrases(TextPipeline(TextSettings()), source, "text", by_python, id_column="id")

    assert by_python.read_bytes() == by_command.read_bytes()
    assert f"mentions: {report.counts['mentions']} in {report.counts['rows']} row(s) (female 3, male 2)" in stdout
    assert report.facts.genders == {"female": 3, "male": 2} and report.status == "ok"
    with pytest.raises(MissingColumn, match="no column 'description'"):
        write_phrases(TextPipeline(TextSettings()), source, "description", tmp_path / "none.csv")
    assert not (tmp_path / "none.csv").exists()


def test_evaluation_report_is_the_report_classify_evaluate_writes(shared_data, tmp_path):
    folder = tmp_path / "faces"
    for label in DEFAULT_LABELS:
        (folder / label).mkdir(parents=True)
        for path in sorted((shared_data / FACES_DIR / label).glob("*.jpg"))[:3]:
            shutil.copyfile(path, folder / label / path.name)
    json_out, html_out = tmp_path / "command.json", tmp_path / "python.html"
    stdout = ok(run_cli(tmp_path / "home", "classify", "evaluate", "default", str(folder), "--json", str(json_out),
                         "--threshold", "0.7", *INLINE))

    classifier = load_classifier("default")
    errors: list[str] = []
    data = load_labelled_folder(folder, list_labelled_files(folder), InlineExecutor(), lambda n: None, errors)
    report = evaluation_report(classifier, data, folder, threshold=0.7)
    write_evaluation(report, data, "default on faces", tmp_path / "python.json", html_out)

    assert not errors
    assert json.loads((tmp_path / "python.json").read_text()) == json.loads(json_out.read_text())
    assert f"on {report['n']} faces: accuracy {report['accuracy']:.3f}" in stdout and report["n"] == 6
    assert all(line in stdout for line in overlap_lines(report["training_overlap"], report["n"]))
    assert html_out.read_text(encoding="utf-8").startswith("<!doctype html>")
