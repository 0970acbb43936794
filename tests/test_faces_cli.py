"""`postercensus faces scan|detect` end to end, on generated posters with real NK faces.

`scan` reads a folder and writes a CSV; `detect` works on a home filled by `harvest folder`,
stores faces, crops and embeddings per result set, is incremental per (image, settings), and
must keep going past unreadable or vanished stored files.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from postercensus.faces.executors import DaskFaceExecutor
from tests.support import facedb
from tests.support.cli import ok, run_cli, status
from tests.support.badimages import bomb_png, truncated_jpeg
from tests.support.posters import Poster, assert_finds_faces, match, small_poster

CSV_HEADER = ["file", "left", "top", "right", "bottom", "score", "detector"]
INLINE = ("--workers", "1")
# The previous default, stated: the detect tests below check the dlib path (68-point alignment) and result sets
HOG_HAAR_VOTE = ("--detector", "ensemble", "--members", "hog,haar", "--threshold", "-0.6", "--min-votes", "2")



def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


# -- faces scan ------------------------------------------------------------------------------

BAD_FILES = {
    "broken/truncated.jpg": (truncated_jpeg, "truncated"),
    "empty.jpg": (lambda: b"", "empty file"),
    "notes.jpg": (lambda: b"these are my notes, not a scan\n" * 20, "not an image"),
    "bomb.png": (bomb_png, "decompression bomb"),
}


@pytest.fixture(scope="module")
def scan_folder(tmp_path_factory, shared_data) -> tuple[Path, dict[str, Poster]]:
    """Two good posters (one in a subfolder), every bad kind of file, and a non-image file."""
    folder = tmp_path_factory.mktemp("scan") / "sample"
    posters = {"front.jpg": small_poster(shared_data, 4), "sub/back.jpg": small_poster(shared_data, 5)}
    for name, poster in posters.items():
        poster.save(folder / name)
    for name, (make, _) in BAD_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(make())
    (folder / "README.txt").write_text("not looked at: no image suffix")
    return folder, posters


def test_scan_writes_one_row_per_face_relative_to_the_folder_and_reports_bad_files(scan_folder, tmp_path):
    folder, posters = scan_folder
    out = tmp_path / "results" / "faces.csv"

    result = run_cli(tmp_path / "unused-home", "faces", "scan", str(folder), "--out", str(out), *INLINE)

    stdout = ok(result)
    rows = _read_csv(out)
    assert rows[0] == CSV_HEADER
    body = rows[1:]
    assert {row[0] for row in body} == set(posters), "only the good images have faces; paths relative to FOLDER"
    for name, poster in posters.items():
        boxes = [tuple(int(v) for v in row[1:5]) for row in body if row[0] == name]
        assert_finds_faces(boxes, poster.placements, max_stray=0)
    assert all(row[6] == "yunet" for row in body), "the default (YuNet) names its detector"
    assert body == sorted(body, key=lambda row: (row[0], int(row[2]), int(row[1])))
    assert f"{len(body)} found in 6 image(s)" in stdout, "4 bad files and 2 posters were read; README.txt was not"
    assert f"written: {out}" in stdout
    assert f"{len(BAD_FILES)} problem(s)" in stdout
    for name, (_, reason) in BAD_FILES.items():
        assert any(name in line and reason in line for line in stdout.splitlines()), (name, stdout)
    assert "README.txt" not in stdout
    assert not list(out.parent.glob("*.part")), "no temp file left beside the CSV"


def test_scan_with_the_ensemble_names_every_detector(scan_folder, tmp_path):
    folder, posters = scan_folder
    out = tmp_path / "ensemble.csv"

    ok(run_cli(tmp_path / "home", "faces", "scan", str(folder), "--out", str(out), *INLINE,
                "--detector", "ensemble", "--members", "hog,haar"))

    body = _read_csv(out)[1:]
    for name, poster in posters.items():
        rows = [row for row in body if row[0] == name]
        found, stray = match([tuple(int(v) for v in row[1:5]) for row in rows], poster.placements)
        assert [len(hits) for hits in found] == [1] * len(poster.placements) and stray == [], rows
        assert {row[6] for row in rows} == {"hog+haar"}


def test_scan_with_yunet_in_the_ensemble_names_both_finders(scan_folder, tmp_path):
    folder, posters = scan_folder
    out = tmp_path / "yunet.csv"

    ok(run_cli(tmp_path / "home", "faces", "scan", str(folder), "--out", str(out), *INLINE,
                "--detector", "ensemble", "--members", "hog,yunet", "--min-votes", "1", "--threshold", "hog=0,yunet=0.7"))

    rows = _read_csv(out)
    assert rows[0] == CSV_HEADER
    for name, poster in posters.items():
        mine = [row for row in rows[1:] if row[0] == name]
        found, stray = match([tuple(int(v) for v in row[1:5]) for row in mine], poster.placements)
        assert [len(hits) for hits in found] == [1] * len(poster.placements) and stray == [], mine
        assert {row[6] for row in mine} == {"hog+yunet"}


def test_detect_with_yunet_records_the_detectors_points_and_the_alignment_they_made(harvested, posters_folder, tmp_path):
    home = copy_home(harvested, tmp_path / "home")

    stdout = ok(run_cli(home, "faces", "detect", *INLINE, "--detector", "yunet", "--threshold", "0.7"))

    [face_set] = facedb.face_sets(home)
    assert face_set["parameter_hash"] in stdout
    assert json.loads(face_set["parameters"])["yunet_threshold"] == 0.7
    assert "threshold" not in json.loads(face_set["parameters"]), "HOG's threshold is not used"
    assert len(json.loads(face_set["model_versions"])["yunet_onnx_sha256"]) == 16
    rows = facedb.faces(home)
    images = facedb.stored_images(home)
    for name, poster in posters_folder[1].items():
        mine = [row for row in rows if row["image_sha256"] == images[name].sha256]
        assert_finds_faces([facedb.box_of(row) for row in mine], poster.placements, max_stray=0)
    for row in rows:
        assert row["aligned_by"] == "detector5" and row["detectors"] == ["yunet"]
        assert len(row["detector_landmarks"]) == 5 and row["landmarks68"] == [] and len(row["embedding"]) == 128
        left_eye, right_eye = row["detector_landmarks"][:2]
        assert row["left"] < left_eye[0] < right_eye[0] < row["right"]
        assert (home / row["crop_path"]).is_file()


@pytest.mark.parametrize("args,message", [
    (("--detector", "ensemble", "--members", "hog,yunet", "--threshold", "0.5"), "hog and yunet score on different scales"),
    (("--detector", "yunet", "--threshold", "1.5"), "--threshold for yunet must be a probability between 0 and 1"),
    (("--detector", "haar", "--threshold", "yunet=0.5"), "yunet is not among the detectors used (haar)"),
])
def test_a_threshold_that_fits_no_detector_is_an_error(tmp_path, args, message):
    for command in (("faces", "detect"), ("faces", "scan", str(tmp_path), "--out", str(tmp_path / "o.csv"))):
        result = run_cli(tmp_path / "home", *command, *args, *INLINE)

        assert result.exit_code == 1, result.output
        assert message in result.stderr and "Traceback" not in result.output


def test_faces_stored_before_schema_6_are_marked_aligned_by_dlib68(detected, tmp_path):
    import sqlite3

    from postercensus.catalog.database import default_url, open_engine
    from postercensus.catalog.migrations import LATEST_VERSION

    home = copy_home(detected[0], tmp_path / "home")
    before = facedb.faces(home)
    raw = sqlite3.connect(home / "catalog.sqlite")  # the catalogue as a version-5 postercensus left it
    raw.execute("ALTER TABLE faces DROP COLUMN aligned_by")
    raw.execute("ALTER TABLE faces DROP COLUMN detector_landmarks")
    raw.execute("UPDATE schema_version SET version = 5")
    raw.commit()
    raw.close()

    open_engine(default_url(home)).dispose()

    after = facedb.faces(home)
    assert facedb.rows(home, "SELECT version FROM schema_version") == [(LATEST_VERSION,)]
    assert [row["aligned_by"] for row in after] == ["dlib68"] * len(before)
    assert [row["detector_landmarks"] for row in after] == [None] * len(before)
    assert [row["embedding"] for row in after] == [row["embedding"] for row in before]


def test_scan_of_a_folder_without_images_writes_just_the_header(tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    out = tmp_path / "out.csv"

    stdout = ok(run_cli(tmp_path / "home", "faces", "scan", str(empty), "--out", str(out), *INLINE))

    assert _read_csv(out) == [CSV_HEADER]
    assert "0 found in 0 image(s)" in stdout


# -- faces detect on a harvested home ----------------------------------------------------------

POSTER_NAMES = {"poster0": 0, "poster1": 1, "series/poster2": 2}


@pytest.fixture(scope="module")
def posters_folder(tmp_path_factory, shared_data) -> tuple[Path, dict[str, Poster]]:
    folder = tmp_path_factory.mktemp("posters") / "posters"
    posters = facedb.write_posters(folder, shared_data, POSTER_NAMES)
    return folder, {f"{name}.jpg": poster for name, poster in posters.items()}


@pytest.fixture(scope="module")
def harvested(tmp_path_factory, posters_folder) -> Path:
    """A home after `harvest folder` (no faces yet); tests copy it instead of harvesting again."""
    folder, posters = posters_folder
    home = tmp_path_factory.mktemp("harvested") / "home"
    result = run_cli(home, "harvest", "folder", str(folder))
    assert result.exit_code == 0, result.output
    assert set(facedb.stored_images(home)) == set(posters)
    return home


def copy_home(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


@pytest.fixture(scope="module")
def detected(tmp_path_factory, harvested) -> tuple[Path, str]:
    """A copy of `harvested` after one `faces detect --workers 1` with the HOG + Haar vote (treated as read-only)."""
    home = copy_home(harvested, tmp_path_factory.mktemp("detected") / "home")
    result = run_cli(home, "faces", "detect", *INLINE, *HOG_HAAR_VOTE)
    assert result.exit_code == 0, result.output
    return home, result.stdout


def test_detect_stores_every_face_with_crop_embedding_and_detectors(detected, posters_folder):
    home, stdout = detected
    _, posters = posters_folder
    [face_set] = facedb.face_sets(home)
    parameter_hash = face_set["parameter_hash"]
    rows = facedb.faces(home)
    images = facedb.stored_images(home)

    assert f"result set {parameter_hash}: 3 image(s) to process on 1 process" in stdout
    assert f"{len(rows)} found in 3 image(s)" in stdout
    assert face_set["detector"] == "ensemble"
    assert json.loads(face_set["parameters"])["upsample"] == 1
    assert json.loads(face_set["parameters"])["members"] == ["hog", "haar"]
    assert set(json.loads(face_set["model_versions"])) >= {"dlib", "opencv", "face_recognition_models"}
    for name, poster in posters.items():
        mine = [row for row in rows if row["image_sha256"] == images[name].sha256]
        assert_finds_faces([facedb.box_of(row) for row in mine], poster.placements, max_stray=0)
        assert [row["face_index"] for row in mine] == list(range(len(mine)))
    for row in rows:
        assert row["parameter_hash"] == parameter_hash
        assert row["detectors"] == ["hog", "haar"]
        assert len(row["embedding"]) == 128 and all(isinstance(v, float) for v in row["embedding"])
        assert len(row["landmarks5"]) == 5 and len(row["landmarks68"]) == 68
        assert (row["aligned_by"], row["detector_landmarks"]) == ("dlib68", None)  # HOG and Haar give no points
        crop = home / row["crop_path"]
        assert crop.is_file(), crop
        assert crop.is_relative_to(home / "faces" / parameter_hash)
        assert crop.name.startswith(row["image_sha256"])
        assert crop.read_bytes()[:3] == b"\xff\xd8\xff"
    assert len(list((home / "faces" / parameter_hash).rglob("*.jpg"))) == len(rows)
    assert not list((home / "faces").rglob("*.part"))
    scans = facedb.face_scans(home)
    assert sorted(scan["image_sha256"] for scan in scans) == sorted(image.sha256 for image in images.values())
    assert {scan["status"] for scan in scans} == {"ok"}
    assert sum(scan["face_count"] for scan in scans) == len(rows)
    assert all((scan["width"], scan["height"]) == (600, 800) for scan in scans)
    [run] = facedb.runs(home, "faces")
    assert run["status"] == "ok"
    assert run["counts"] == {"images_scanned": 3, "images_failed": 0, "images_unreadable": 0, "faces": len(rows)}
    assert run["parameters"]["parameter_hash"] == parameter_hash


def test_second_identical_run_does_nothing_and_other_settings_add_a_second_result_set(detected, tmp_path):
    home = copy_home(detected[0], tmp_path / "home")
    [first_set] = facedb.face_sets(home)
    first_hash = first_set["parameter_hash"]
    first_faces = facedb.faces(home)
    first_crops = {row["crop_path"]: (home / row["crop_path"]).read_bytes() for row in first_faces}

    again = ok(run_cli(home, "faces", "detect", *INLINE, *HOG_HAAR_VOTE))

    assert f"result set {first_hash}: 0 image(s) to process" in again
    assert "0 found in 0 image(s)" in again
    assert facedb.faces(home) == first_faces
    assert len(facedb.face_scans(home)) == 3

    other = ok(run_cli(home, "faces", "detect", *INLINE, "--detector", "haar"))

    sets = facedb.face_sets(home)
    assert [s["parameter_hash"] for s in sets][0] == first_hash and len(sets) == 2
    second_hash = sets[1]["parameter_hash"]
    assert second_hash != first_hash and sets[1]["detector"] == "haar"
    assert f"result set {second_hash}: 3 image(s) to process" in other
    assert facedb.faces(home, first_hash) == first_faces, "the first result set is untouched"
    assert {p: (home / p).read_bytes() for p in first_crops} == first_crops
    second_faces = facedb.faces(home, second_hash)
    assert second_faces and all(row["detectors"] == ["haar"] for row in second_faces)
    assert all(row["crop_path"].startswith(f"faces/{second_hash}/") and (home / row["crop_path"]).is_file()
               for row in second_faces)
    assert len(facedb.face_scans(home, first_hash)) == len(facedb.face_scans(home, second_hash)) == 3

    listed = {s["parameter_hash"]: s for s in status(home)["face_sets"]}
    assert set(listed) == {first_hash, second_hash}
    assert listed[first_hash]["detector"] == "ensemble" and listed[second_hash]["detector"] == "haar"
    assert (listed[first_hash]["images_scanned"], listed[first_hash]["faces"]) == (3, len(first_faces))
    assert (listed[second_hash]["images_scanned"], listed[second_hash]["faces"]) == (3, len(second_faces))
    assert listed[first_hash]["images_failed"] == listed[second_hash]["images_failed"] == 0
    assert listed[first_hash]["parameters"]["upsample"] == 1
    plain = ok(run_cli(home, "status"))
    assert f"faces, result set {first_hash} (ensemble): {len(first_faces)} faces in 3 images" in plain
    assert f"faces, result set {second_hash} (haar): {len(second_faces)} faces in 3 images" in plain


def test_upsample_zero_is_its_own_result_set(detected, tmp_path):
    home = copy_home(detected[0], tmp_path / "home")

    ok(run_cli(home, "faces", "detect", *INLINE, *HOG_HAAR_VOTE, "--upsample", "0"))

    sets = facedb.face_sets(home)
    assert len(sets) == 2
    assert [json.loads(s["parameters"])["upsample"] for s in sets] == [1, 0]


def test_unreadable_and_vanished_stored_files_are_reported_and_the_rest_processed(harvested, posters_folder, tmp_path):
    home = copy_home(harvested, tmp_path / "home")
    folder, posters = posters_folder
    images = facedb.stored_images(home)
    truncated, deleted = images["poster0.jpg"], images["series/poster2.jpg"]
    stored = home / truncated.path
    stored.write_bytes(stored.read_bytes()[: stored.stat().st_size // 2])
    (home / deleted.path).unlink()

    stdout = ok(run_cli(home, "faces", "detect", *INLINE))

    assert "3 image(s) to process" in stdout
    assert "1 image(s) could not be read, 1 stored file(s) missing" in stdout
    assert "2 problem(s)" in stdout
    assert any(truncated.path in line and "truncated" in line for line in stdout.splitlines()), stdout
    assert any(deleted.path in line and "cannot read the stored file" in line for line in stdout.splitlines()), stdout
    scans = {scan["image_sha256"]: scan for scan in facedb.face_scans(home)}
    assert set(scans) == {truncated.sha256, images["poster1.jpg"].sha256}, "the deleted image has no scan row"
    assert scans[truncated.sha256]["status"] == "failed" and "truncated" in scans[truncated.sha256]["error"]
    assert scans[truncated.sha256]["face_count"] == 0
    good = scans[images["poster1.jpg"].sha256]
    assert good["status"] == "ok" and good["error"] is None and good["face_count"] == 2
    assert {row["image_sha256"] for row in facedb.faces(home)} == {images["poster1.jpg"].sha256}
    [run] = facedb.runs(home, "faces")
    assert run["status"] == "partial"
    assert run["counts"] == {"images_scanned": 2, "images_failed": 1, "images_unreadable": 1, "faces": 2}
    [listed] = status(home)["face_sets"]
    assert (listed["images_scanned"], listed["images_failed"], listed["faces"]) == (2, 1, 2)

    # the failed one is not retried; the vanished one is, and succeeds once the file is back
    still = ok(run_cli(home, "faces", "detect", *INLINE))
    assert "1 image(s) to process" in still and "1 stored file(s) missing" in still
    shutil.copyfile(folder / "series" / "poster2.jpg", home / deleted.path)

    back = ok(run_cli(home, "faces", "detect", *INLINE))

    assert "1 image(s) to process" in back and "2 found in 1 image(s)" in back
    restored = [row for row in facedb.faces(home) if row["image_sha256"] == deleted.sha256]
    assert_finds_faces([facedb.box_of(row) for row in restored], posters["series/poster2.jpg"].placements)
    assert len(facedb.face_scans(home)) == 3


def test_process_pool_finds_the_same_faces_as_one_process(detected, harvested, tmp_path):
    inline_home = detected[0]
    pool_home = copy_home(harvested, tmp_path / "home")

    stdout = ok(run_cli(pool_home, "faces", "detect", "--workers", "2", *HOG_HAAR_VOTE))

    assert "on 2 local processes" in stdout
    assert facedb.face_sets(pool_home)[0]["parameter_hash"] == facedb.face_sets(inline_home)[0]["parameter_hash"]
    inline, pool = facedb.faces(inline_home), facedb.faces(pool_home)
    key = lambda row: (row["image_sha256"], row["face_index"], facedb.box_of(row), tuple(row["detectors"]),
                       row["crop_path"])  # noqa: E731
    assert [key(row) for row in pool] == [key(row) for row in inline]
    for a, b in zip(inline, pool):
        assert max(abs(x - y) for x, y in zip(a["embedding"], b["embedding"])) < 1e-4
        assert abs(a["score"] - b["score"]) < 1e-6


# -- bad options -------------------------------------------------------------------------------

def test_unknown_detector_is_an_error_listing_the_choices(tmp_path):
    for args in (("faces", "detect"), ("faces", "scan", str(tmp_path), "--out", str(tmp_path / "o.csv"))):
        result = run_cli(tmp_path / "home", *args, "--detector", "yolo", *INLINE)

        assert result.exit_code == 1, result.output
        assert "Error: unknown detector 'yolo'" in result.stderr
        assert "hog, cnn, haar, yunet, mtcnn, ensemble" in result.stderr
        assert "Traceback" not in result.output


@pytest.mark.parametrize("args,message", [
    (("--upsample", "9"), "--upsample must be between 0 and 4"),
    (("--tile", "64"), "--tile must be 0 (off) or at least 128"),
    (("--detector", "ensemble", "--members", "hog,yolo"), "unknown ensemble member(s) yolo"),
    (("--detector", "ensemble", "--min-votes", "3"), "--min-votes must be between 1"),
])
def test_out_of_range_settings_are_errors(tmp_path, args, message):
    result = run_cli(tmp_path / "home", "faces", "detect", *args, *INLINE)

    assert result.exit_code == 1, result.output
    assert "Error:" in result.stderr and message in result.stderr


def test_scan_of_a_missing_folder_is_an_error(tmp_path):
    result = run_cli(tmp_path / "home", "faces", "scan", str(tmp_path / "nope"), "--out", str(tmp_path / "o.csv"))

    assert result.exit_code == 1
    assert "Error: folder not found" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    # the real connect timeout is 10 s; 2 s exercises the same failure path
    monkeypatch.setattr(DaskFaceExecutor.__init__, "__defaults__", (2.0,))
    folder = tmp_path / "images"
    folder.mkdir()
    assert run_cli(tmp_path / "home", "init").exit_code == 0  # `faces detect` reads an existing home only
    for args in (("faces", "detect"), ("faces", "scan", str(folder), "--out", str(tmp_path / "o.csv"))):
        result = run_cli(tmp_path / "home", *args, "--scheduler", "tcp://127.0.0.1:1")

        assert result.exit_code == 1, result.output
        assert "Error: cannot reach the Dask scheduler at tcp://127.0.0.1:1" in result.stderr
        assert "leave out --scheduler" in result.stderr
        assert "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()


def test_the_same_bytes_under_two_names_are_processed_once(shared_data, tmp_path):
    folder = tmp_path / "twice"
    poster = small_poster(shared_data, 9)
    poster.save(folder / "original.jpg")
    (folder / "copies").mkdir()
    shutil.copyfile(folder / "original.jpg", folder / "copies" / "duplicate.jpg")
    home = tmp_path / "home"
    ok(run_cli(home, "harvest", "folder", str(folder)))
    assert len({image.sha256 for image in facedb.stored_images(home).values()}) == 1

    stdout = ok(run_cli(home, "faces", "detect", *INLINE))

    assert "1 image(s) to process" in stdout
    assert len(facedb.face_scans(home)) == 1
    assert_finds_faces([facedb.box_of(row) for row in facedb.faces(home)], poster.placements)


def test_a_missing_model_stops_the_run_instead_of_failing_every_image(harvested, tmp_path, monkeypatch):
    """Without the landmark model no image can be described; that is the installation's fault,
    not the images'. The run must stop with `Error:` (the CLI has an `except ModelMissing` for
    this) instead of storing a permanent `failed` scan for every image, which a later run with
    the model installed would never retry."""
    from postercensus.faces import align, models

    def missing(file_name: str):
        raise models.ModelMissing(f"{file_name} is missing; reinstall face_recognition_models")

    monkeypatch.setattr(models, "dlib_model", missing)
    align._predictor.cache_clear()  # the predictors are cached per process; load them again
    home = copy_home(harvested, tmp_path / "home")
    try:
        result = run_cli(home, "faces", "detect", *INLINE)
    finally:
        align._predictor.cache_clear()

    failed = [scan for scan in facedb.face_scans(home) if scan["status"] == "failed"]
    assert failed == [], (
        f"{len(failed)} image(s) permanently marked failed because a model file is missing "
        f"(first error: {failed[0]['error'] if failed else ''}); exit code {result.exit_code}"
    )
    assert result.exit_code == 1, result.output
    assert "Error:" in result.stderr and "is missing" in result.stderr
