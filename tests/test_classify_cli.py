"""`postercensus classify train|evaluate|predict` end to end, as a user types them.

Training uses real NK face crops (../shared/data/nk-poster-faces) copied into FOLDER/<label>/
with their names kept, so faces group by poster as in real use; predicting uses a home whose
faces were found by `faces detect` on generated posters with real NK faces. What the commands
stored is read back with plain sqlite3 and json, not through the code under test.

The head's epoch cap is lowered for this module (see `quick_training`): the commands run the
same code, the tests just do not wait for up to 300 epochs on a shared CPU.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from tests.support import facedb
from tests.support.facedb import query
from tests.support.cli import error_line, ok, run_cli
from tests.support.posters import FACES_DIR, HOG_ONLY_FACE, VERIFIED_FACES, match

INLINE = ("--workers", "1")
LABELS = ["female", "male"]
CONTRACT_KEYS = {"accuracy", "balanced_accuracy", "n", "per_class", "confusion", "ece"}
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)




def _execute(home: Path, sql: str, rows: list[tuple]) -> None:
    connection = sqlite3.connect(home / "catalog.sqlite")
    try:
        connection.executemany(sql, rows)
        connection.commit()
    finally:
        connection.close()


@pytest.fixture(scope="module", autouse=True)
def quick_training():
    """At most 60 epochs (patience 10) instead of 300 (patience 20), for every command in this module."""
    from postercensus.classify.models.head import HeadSettings

    names = [field.name for field in dataclasses.fields(HeadSettings)]
    defaults = dict(zip(names, HeadSettings.__init__.__defaults__))
    defaults.update(max_epochs=60, patience=10)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HeadSettings.__init__, "__defaults__", tuple(defaults[name] for name in names))
        yield


# -- labelled folders of real crops -------------------------------------------------------------

def _poster_of(name: str) -> str:
    return Path(name).stem.split("_")[0]


@pytest.fixture(scope="module")
def nk_folders(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """(train, evaluate): 25 + 8 crops per label, every crop from a poster no other crop comes from.

    The crops pasted on the catalogue's posters are left out, so `predict` sees faces the model
    never trained on.
    """
    source = shared_data / FACES_DIR
    taken = {_poster_of(face) for face in (*VERIFIED_FACES, HOG_ONLY_FACE)}
    root = tmp_path_factory.mktemp("labelled")
    chosen: dict[str, list[Path]] = {}
    for label in LABELS:
        chosen[label] = []
        for path in sorted((source / label).glob("*.jpg")):
            if _poster_of(path.name) not in taken and len(chosen[label]) < 33:
                taken.add(_poster_of(path.name))
                chosen[label].append(path)
        assert len(chosen[label]) == 33, f"the NK set has fewer distinct {label} posters than expected"
    for part, files in (("train", slice(0, 25)), ("evaluate", slice(25, 33))):
        for label in LABELS:
            (root / part / label).mkdir(parents=True)
            for path in chosen[label][files]:
                shutil.copyfile(path, root / part / label / path.name)
    return root / "train", root / "evaluate"


@pytest.fixture(scope="module")
def model(nk_folders, tmp_path_factory) -> tuple[Path, str, str]:
    """(model folder, its version, train's stdout) after `classify train` on the real crops.

    A third of the posters is held out (not the default fifth): 17 faces instead of 10 make the
    held-out figures this module checks (better than chance, a usable confusion matrix) less of a
    coin toss for a head trained on some thirty faces."""
    train_folder, _ = nk_folders
    out = tmp_path_factory.mktemp("models") / "nk-gender"
    stdout = ok(run_cli(tmp_path_factory.mktemp("unused") / "home", "classify", "train", "--base", "none", str(train_folder),
                         "--out", str(out), "--test-share", "0.3", *INLINE))
    found = re.search(r"model nk-gender version ([0-9a-f]{16}): labels female, male", stdout)
    assert found, stdout
    return out, found.group(1), stdout


def _sha256_of_files(folder: Path) -> set[str]:
    return {hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*.jpg")}


def _assert_offline_html(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert not EXTERNAL.findall(page), f"external links in {path}: {EXTERNAL.findall(page)[:3]}"
    return page


def test_train_writes_the_model_folder_and_says_where(model, nk_folders):
    out, version, stdout = model
    train_folder, _ = nk_folders

    for name in ("model.json", "head.keras", "fisherfaces.npz", "evaluation.html"):
        assert (out / name).is_file(), name
    assert not (out / "fine_tuned.weights.h5").exists()
    assert f"written: {out} (evaluation page: {out / 'evaluation.html'})" in stdout
    assert re.search(r"held-out posters \(\d+ faces\): accuracy [01]\.\d{3}, balanced accuracy [01]\.\d{3}; "
                     r"Fisherfaces baseline [01]\.\d{3} / [01]\.\d{3}", stdout), stdout
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert card["model_id"] == "nk-gender", "the --out folder's name by default"
    assert card["transfer"] is None, "--base none: the labelled faces alone"
    assert card["labels"] == LABELS and card["backbone"]["name"] == "dlib"
    training = card["training"]
    assert training["data"] == str(train_folder) and training["files"] == 50 and training["unreadable"] == 0
    assert training["fit"]["faces"] + training["validation"]["faces"] + training["held_out"]["faces"] == 50
    assert training["held_out"]["per_label"].keys() == {"female", "male"}
    assert card["head"]["max_epochs"] == 60, "this module's quick training"
    held_out = card["evaluation"]["n"]
    assert held_out == training["held_out"]["faces"] == len(card["held_out_predictions"]["true"])
    assert card["evaluation"]["balanced_accuracy"] >= 0.6, "dlib descriptors of real faces carry the label"
    # the images it was fitted and early-stopped on, by SHA-256: never a held-out one
    trained_on = training["fit"]["faces"] + training["validation"]["faces"]
    assert training["images_sha256"] == {"file": "training_sha256.txt", "images": trained_on}
    listed = (out / "training_sha256.txt").read_text(encoding="ascii").splitlines()
    assert listed == sorted(listed) and len(set(listed)) == len(listed) == trained_on
    assert set(listed) < _sha256_of_files(train_folder), "only training-folder images, and not all of them"
    page = _assert_offline_html(out / "evaluation.html")
    assert "data:image/jpeg;base64," in page, "contact sheets are inlined"
    assert "Fisherfaces" in page


def test_evaluate_writes_a_report_whose_numbers_agree_with_its_confusion_matrix(model, nk_folders, tmp_path):
    out, version, _ = model
    _, evaluate_folder = nk_folders
    report_json, report_html = tmp_path / "reports" / "R.json", tmp_path / "R.html"
    (tmp_path / "reports").mkdir()

    stdout = ok(run_cli(tmp_path / "home", "classify", "evaluate", str(out), str(evaluate_folder),
                         "--json", str(report_json), "--html", str(report_html), "--threshold", "0.8", *INLINE))

    assert f"written: {report_json} and {report_html}" in stdout
    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert CONTRACT_KEYS <= set(report), CONTRACT_KEYS - set(report)
    assert report["model_id"] == "nk-gender" and report["model_version"] == version
    assert report["n"] == 16
    assert set(report["per_class"]) == set(LABELS)
    for scores in report["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
    assert report["confusion"]["labels"] == LABELS
    matrix = report["confusion"]["matrix"]
    assert len(matrix) == 2 and all(len(row) == 2 for row in matrix)
    # recompute every figure from the report's own confusion matrix (rows = truth)
    total = sum(map(sum, matrix))
    assert total == report["n"]
    assert report["accuracy"] == pytest.approx((matrix[0][0] + matrix[1][1]) / total, abs=1e-4)
    recalls = []
    for k, label in enumerate(LABELS):
        row = sum(matrix[k])
        column = matrix[0][k] + matrix[1][k]
        scores = report["per_class"][label]
        assert scores["support"] == row == 8
        recall = matrix[k][k] / row
        precision = matrix[k][k] / column if column else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert scores["recall"] == pytest.approx(recall, abs=1e-4)
        assert scores["precision"] == pytest.approx(precision, abs=1e-4)
        assert scores["f1"] == pytest.approx(f1, abs=1e-4)
        recalls.append(recall)
    assert report["balanced_accuracy"] == pytest.approx(sum(recalls) / 2, abs=1e-4)
    assert 0.0 <= report["ece"] <= 1.0
    assert sum(row["n"] for row in report["reliability"]) == 16
    # the threshold's confusion: same faces per true label, spread over the labels and `uncertain`
    decision = report["decision_confusion"]
    assert decision["predicted"] == LABELS + ["uncertain"]
    assert [sum(row) for row in decision["matrix"]] == [sum(row) for row in matrix]
    assert report["distribution"]["true"] == {"female": 8, "male": 8}
    assert report["accuracy"] >= 0.6, "a dlib head tells most real NK faces apart"
    # none of these faces trained the model, and the report says so (known, not assumed)
    overlap = report["training_overlap"]
    assert (overlap["known"], overlap["count"], overlap["share"]) == (True, 0, 0.0)
    assert overlap["unseen"] == {"faces": 16, "accuracy": report["accuracy"],
                                 "balanced_accuracy": report["balanced_accuracy"]}
    assert "training overlap: none of the 16 faces is an image the model was trained on" in stdout
    assert "warning" not in stdout
    page = _assert_offline_html(report_html)
    assert "data:image/jpeg;base64," in page
    assert "Training overlap" in page


def test_evaluating_on_the_training_folder_warns_and_reports_the_unseen_faces_alone(model, nk_folders, tmp_path):
    out, _, _ = model
    train_folder, _ = nk_folders
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    trained_on = card["training"]["images_sha256"]["images"]
    report_json, report_html = tmp_path / "R.json", tmp_path / "R.html"

    stdout = ok(run_cli(tmp_path / "home", "classify", "evaluate", str(out), str(train_folder),
                         "--json", str(report_json), "--html", str(report_html), *INLINE))

    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert report["n"] == 50
    overlap = report["training_overlap"]
    assert overlap["known"] and overlap["count"] == trained_on and overlap["training_images"] == trained_on
    assert overlap["share"] == pytest.approx(trained_on / 50, abs=1e-4)
    # the unseen faces are exactly the ones training held out: the same figures as the card's
    held_out = card["evaluation"]
    assert overlap["unseen"]["faces"] == held_out["n"] == 50 - trained_on
    assert overlap["unseen"]["accuracy"] == pytest.approx(held_out["accuracy"], abs=1e-4)
    assert overlap["unseen"]["balanced_accuracy"] == pytest.approx(held_out["balanced_accuracy"], abs=1e-4)
    share = f"{trained_on / 50:.1%}"
    assert (f"warning: {trained_on} of 50 faces ({share}) are images the model was trained on; "
            "figures that include them overstate how it does on new faces") in stdout
    assert (f"unseen faces only ({held_out['n']}): accuracy {overlap['unseen']['accuracy']:.3f}, "
            f"balanced accuracy {overlap['unseen']['balanced_accuracy']:.3f}") in stdout
    page = _assert_offline_html(report_html)
    assert f"warning: {trained_on} of 50 faces ({share}) are images the model was trained on" in page


def test_a_model_without_a_training_image_list_has_an_unknown_overlap(model, nk_folders, tmp_path):
    """Models trained before the list was kept: the overlap is unknown, never claimed to be 0."""
    out, _, _ = model
    train_folder, _ = nk_folders
    old = tmp_path / "old-model"
    shutil.copytree(out, old)
    (old / "training_sha256.txt").unlink()
    card = json.loads((old / "model.json").read_text(encoding="utf-8"))
    del card["training"]["images_sha256"]
    (old / "model.json").write_text(json.dumps(card), encoding="utf-8")

    stdout = ok(run_cli(tmp_path / "home", "classify", "evaluate", str(old), str(train_folder),
                         "--json", str(tmp_path / "R.json"), "--html", str(tmp_path / "R.html"), *INLINE))

    overlap = json.loads((tmp_path / "R.json").read_text(encoding="utf-8"))["training_overlap"]
    assert overlap["known"] is False and overlap["count"] is None and overlap["share"] is None
    assert overlap["unseen"] is None
    assert "training overlap unknown: this model did not record its training images" in stdout
    assert "none of the" not in stdout
    assert "training overlap unknown" in (tmp_path / "R.html").read_text(encoding="utf-8")


def test_the_shipped_model_knows_the_nk_faces_that_trained_it(shared_data, tmp_path):
    """The reproduction of issue 13: NK crops trained the default model; their mirror images (other
    bytes, the same faces) are images it never saw."""
    folder = tmp_path / "faces"
    for label in LABELS:
        (folder / label).mkdir(parents=True)
        for path in sorted((shared_data / FACES_DIR / label).glob("*.jpg"))[:3]:
            shutil.copyfile(path, folder / label / f"nk-{path.name}")
        for path in sorted((shared_data / FACES_DIR / label).glob("*.jpg"))[3:5]:
            with Image.open(path) as image:
                image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / label / f"mirrored-{path.name}")

    stdout = ok(run_cli(tmp_path / "home", "classify", "evaluate", "default", str(folder),
                         "--json", str(tmp_path / "R.json"), *INLINE))

    overlap = json.loads((tmp_path / "R.json").read_text(encoding="utf-8"))["training_overlap"]
    assert (overlap["known"], overlap["count"], overlap["share"]) == (True, 6, 0.6)
    assert overlap["unseen"]["faces"] == 4
    assert "warning: 6 of 10 faces (60.0%) are images the model was trained on" in stdout
    assert "unseen faces only (4): accuracy " in stdout


def test_evaluate_draws_progress_bars_on_a_terminal_and_leaves_no_blank_line_elsewhere(small_folder, model, tmp_path,
                                                                                      monkeypatch):
    out, _, _ = model
    args = ("classify", "evaluate", str(out), str(small_folder), "--json", str(tmp_path / "R.json"), *INLINE)

    plain = ok(run_cli(tmp_path / "home", *args))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    drawn = ok(run_cli(tmp_path / "home", *args))

    assert plain.startswith("nk-gender on 4 faces: accuracy"), "no bar and no blank line when not a terminal"
    assert "faces" in drawn and "classifying" in drawn and "4/4" in drawn


# -- clear errors ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_folder(nk_folders, tmp_path_factory) -> Path:
    """Two crops per label: enough to get past reading the folder."""
    _, evaluate_folder = nk_folders
    folder = tmp_path_factory.mktemp("small") / "faces"
    for label in LABELS:
        (folder / label).mkdir(parents=True)
        for path in sorted((evaluate_folder / label).glob("*.jpg"))[:2]:
            shutil.copyfile(path, folder / label / path.name)
    return folder


def test_an_empty_label_folder_is_an_error_naming_it(small_folder, tmp_path):
    folder = tmp_path / "faces"
    shutil.copytree(small_folder, folder)
    for path in (folder / "male").iterdir():
        path.unlink()

    line = error_line(run_cli(tmp_path / "home", "classify", "train", "--base", "none", str(folder), "--out", str(tmp_path / "M"), *INLINE))

    assert f"the label folder {folder / 'male'} holds no images" in line
    assert not (tmp_path / "M").exists()


def test_a_single_class_folder_is_an_error(small_folder, tmp_path):
    folder = tmp_path / "faces"
    shutil.copytree(small_folder / "female", folder / "female")

    line = error_line(run_cli(tmp_path / "home", "classify", "train", "--base", "none", str(folder), "--out", str(tmp_path / "M"), *INLINE))

    assert "single label (female)" in line and "at least two" in line
    assert not (tmp_path / "M" / "model.json").exists()


def test_a_missing_weights_file_is_an_error_naming_it(small_folder, tmp_path):
    weights = tmp_path / "nowhere" / "rcmalli_vggface_tf_notop_vgg16.h5"

    line = error_line(run_cli(tmp_path / "home", "classify", "train", "--base", "none", str(small_folder), "--out", str(tmp_path / "M"),
                          "--backbone", "vggface-vgg16", "--weights", str(weights), *INLINE))

    assert str(weights) in line and "--weights" in line
    assert not (tmp_path / "M" / "model.json").exists()


def test_evaluating_a_model_folder_that_does_not_exist_is_an_error(small_folder, tmp_path):
    missing = tmp_path / "no-such-model"

    line = error_line(run_cli(tmp_path / "home", "classify", "evaluate", str(missing), str(small_folder),
                          "--json", str(tmp_path / "R.json"), *INLINE))

    assert f"{missing} is not a model folder" in line and "classify train" in line
    assert not (tmp_path / "R.json").exists()


@pytest.mark.parametrize("source", [(), ("FOLDER", "--from-catalog")], ids=["neither", "both"])
def test_train_needs_exactly_one_of_a_folder_and_the_catalogue(small_folder, tmp_path, source):
    args = tuple(str(small_folder) if arg == "FOLDER" else arg for arg in source)

    line = error_line(run_cli(tmp_path / "home", "classify", "train", "--base", "none", *args, "--out", str(tmp_path / "M")))

    assert "give either a labelled FOLDER or --from-catalog" in line
    assert not (tmp_path / "M").exists()


# -- predicting over a catalogue -----------------------------------------------------------------

POSTERS = {f"poster{i}": i for i in range(9)}  # 9 items: enough to hold some out and validate


@pytest.fixture(scope="module")
def faces_home(shared_data, tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """A home after `harvest folder` and `faces detect` on 9 generated posters (two faces each),
    and the true label of every stored face (from the crop pasted where it was found)."""
    folder = tmp_path_factory.mktemp("posters") / "posters"
    posters = facedb.write_posters(folder, shared_data, POSTERS)
    home = tmp_path_factory.mktemp("faces") / "home"
    ok(run_cli(home, "harvest", "folder", str(folder)))
    ok(run_cli(home, "faces", "detect", *INLINE))
    images = facedb.stored_images(home)
    truth: dict[int, str] = {}
    for name, poster in posters.items():
        mine = [face for face in facedb.faces(home) if face["image_sha256"] == images[f"{name}.jpg"].sha256]
        found, stray = match([facedb.box_of(face) + (face["id"],) for face in mine], poster.placements)
        assert not stray and all(len(hits) == 1 for hits in found), (name, found, stray)
        for placement, [hit] in zip(poster.placements, found):
            truth[hit[4]] = placement.face.split("/")[0]
    assert len(truth) == 2 * len(POSTERS)
    return home, truth


def _copy_home(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def _predictions(home: Path) -> list[dict]:
    rows = query(home, "SELECT id, face_id, model_id, model_version, label, top_label, probability, margin, "
                        "probabilities, threshold FROM predictions ORDER BY face_id")
    return [dict(row) | {"probabilities": json.loads(row["probabilities"])} for row in rows]


@pytest.fixture(scope="module")
def predicted(faces_home, model, tmp_path_factory) -> tuple[Path, str]:
    """A copy of `faces_home` after one `classify predict --model M` (treated as read-only)."""
    home = _copy_home(faces_home[0], tmp_path_factory.mktemp("predicted") / "home")
    return home, ok(run_cli(home, "classify", "predict", "--model", str(model[0])))


def test_predict_stores_one_prediction_per_face_and_registers_the_model(predicted, faces_home, model):
    home, stdout = predicted
    out, version, _ = model
    truth = faces_home[1]

    rows = _predictions(home)

    assert f"model nk-gender version {version}: {len(truth)} face(s) to label" in stdout
    assert f"predictions: {len(truth)} new, 0 relabelled for threshold 0.0" in stdout
    assert "corrected share" in stdout
    assert [row["face_id"] for row in rows] == sorted(truth), "one prediction per face"
    for row in rows:
        assert (row["model_id"], row["model_version"], row["threshold"]) == ("nk-gender", version, 0.0)
        probabilities = row["probabilities"]
        assert set(probabilities) == set(LABELS)
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-4)
        top = max(probabilities, key=probabilities.get)
        assert row["top_label"] == top and row["label"] == top, "threshold 0: always the top label"
        assert row["probability"] == pytest.approx(probabilities[top], abs=1e-6)
        assert row["margin"] == pytest.approx(probabilities[top] - min(probabilities.values()), abs=1e-5)
    right = sum(row["top_label"] == truth[row["face_id"]] for row in rows)
    assert right >= len(rows) // 2, f"only {right} of {len(rows)} faces labelled right"
    [registered] = [dict(row) for row in query(home, "SELECT * FROM classifier_models")]
    assert (registered["model_id"], registered["model_version"]) == ("nk-gender", version)
    assert registered["backbone"] == "dlib"
    assert json.loads(registered["labels"]) == LABELS
    assert registered["location"] == str(out)
    card = json.loads(registered["card"])
    assert card["evaluation"]["confusion"]["labels"] == LABELS and "held_out_predictions" in card
    [run] = facedb.runs(home, "classify")
    assert run["status"] == "ok"
    assert run["counts"]["predicted"] == len(truth) and run["parameters"]["model_version"] == version


def test_a_second_run_predicts_nothing_new_and_a_higher_threshold_only_relabels(predicted, model, tmp_path):
    home = _copy_home(predicted[0], tmp_path / "home")
    before = _predictions(home)

    again = ok(run_cli(home, "classify", "predict", "--model", str(model[0])))

    assert "0 face(s) to label" in again and "predictions: 0 new, 0 relabelled" in again
    assert _predictions(home) == before

    unsure = [row["face_id"] for row in before if row["probability"] < 0.99]
    assert unsure, "premise: some catalogue faces are predicted with less than 0.99"
    stricter = ok(run_cli(home, "classify", "predict", "--model", str(model[0]), "--threshold", "0.99"))

    assert f"predictions: 0 new, {len(unsure)} relabelled for threshold 0.99" in stricter
    after = _predictions(home)
    assert [row["id"] for row in after] == [row["id"] for row in before], "no new rows"
    for old, new in zip(before, after):
        assert new["threshold"] == 0.99
        assert new["label"] == ("uncertain" if old["face_id"] in unsure else old["top_label"])
        assert {k: new[k] for k in ("top_label", "probability", "margin", "probabilities")} == \
               {k: old[k] for k in ("top_label", "probability", "margin", "probabilities")}
    assert len(query(home, "SELECT * FROM classifier_models")) == 1


# -- training on the catalogue's labels ----------------------------------------------------------

def _label_faces(home: Path, labels: dict[int, str]) -> None:
    _execute(home, "INSERT INTO face_labels (face_id, label, labelled_by, labelled_at) VALUES (?, ?, 'test', "
                   "'2024-05-01 12:00:00.000000')", sorted(labels.items()))


def test_train_from_catalog_uses_the_labelled_faces_and_leaves_out_other(faces_home, tmp_path):
    home = _copy_home(faces_home[0], tmp_path / "home")
    truth = dict(faces_home[1])
    other = max(truth)  # one face a person said is not a face (or none of the labels)
    _label_faces(home, truth | {other: "other"})
    out = tmp_path / "M2"

    stdout = ok(run_cli(home, "classify", "train", "--base", "none", "--from-catalog", "--out", str(out)))

    assert f"written: {out}" in stdout
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert card["model_id"] == "M2" and card["labels"] == LABELS, "`other` is not a label to learn"
    assert card["transfer"] is None
    training = card["training"]
    assert training["data"] == "catalogue labels"
    assert training["faces_labelled"] == len(truth) - 1
    assert training["fit"]["faces"] + training["validation"]["faces"] + training["held_out"]["faces"] == len(truth) - 1
    assert training["fit"]["groups"] + training["validation"]["groups"] + training["held_out"]["groups"] == len(POSTERS)
    # catalogue faces record the poster image they were cut from: one image per poster here
    listed = set((out / "training_sha256.txt").read_text(encoding="ascii").split())
    assert listed < {image.sha256 for image in facedb.stored_images(home).values()}
    assert len(listed) == training["images_sha256"]["images"] == training["fit"]["groups"] + training["validation"]["groups"]
    assert (out / "head.keras").is_file() and (out / "fisherfaces.npz").is_file()
    _assert_offline_html(out / "evaluation.html")


def test_train_from_catalog_without_labels_says_to_label_some(faces_home, tmp_path):
    home = _copy_home(faces_home[0], tmp_path / "home")

    line = error_line(run_cli(home, "classify", "train", "--base", "none", "--from-catalog", "--out", str(tmp_path / "M")))
    assert "no labelled faces in the catalogue yet" in line and "classify label" in line

    _label_faces(home, {face_id: "other" for face_id in faces_home[1]})
    line = error_line(run_cli(home, "classify", "train", "--base", "none", "--from-catalog", "--out", str(tmp_path / "M")))
    assert "classify label" in line, "faces marked `other` only are no labelled faces either"
    assert not (tmp_path / "M").exists()

    _execute(home, "UPDATE face_labels SET label = ?, purpose = 'validation' WHERE face_id = ?",
             [(label, face_id) for face_id, label in faces_home[1].items()])
    line = error_line(run_cli(home, "classify", "train", "--base", "none", "--from-catalog", "--out", str(tmp_path / "M")))
    assert f"{len(faces_home[1])} face(s) with validation labels were left out" in line
    assert "--include-validation" in line


def test_train_from_catalog_with_too_few_posters_labelled_says_so(faces_home, tmp_path):
    home = _copy_home(faces_home[0], tmp_path / "home")
    truth = faces_home[1]
    _label_faces(home, {face_id: truth[face_id] for face_id in sorted(truth)[:6]})  # three posters

    line = error_line(run_cli(home, "classify", "train", "--base", "none", "--from-catalog", "--out", str(tmp_path / "M")))

    assert "cannot split the labelled faces by poster" in line and "label faces from more posters" in line
    assert not (tmp_path / "M" / "model.json").exists()
