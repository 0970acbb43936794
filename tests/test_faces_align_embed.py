"""Alignment (eyes on the canonical line of a 224 px crop), landmarks and 128-d embeddings.

Faces are real NK crops pasted into generated posters, some posters rotated so the faces are
tilted; the aligned crop must level them again.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from postercensus.faces.align import (
    ALIGNED_SIZE,
    LEFT_EYE_POSITION,
    align_face,
    alignment_matrix,
    eye_centres,
    shape_of,
    shape_points,
)
from postercensus.faces.boxes import Box
from postercensus.faces.detectors import HogDetector
from postercensus.faces.pipeline import process_image
from postercensus.faces.settings import FaceSettings
from tests.support.posters import (
    VERIFIED_FACES,
    Placement,
    assert_finds_faces,
    make_poster,
    small_poster,
)

SIZE = ALIGNED_SIZE
LEFT_TARGET = np.array([LEFT_EYE_POSITION[0] * SIZE, LEFT_EYE_POSITION[1] * SIZE])  # (78.4, 78.4)
RIGHT_TARGET = np.array([(1 - LEFT_EYE_POSITION[0]) * SIZE, LEFT_EYE_POSITION[1] * SIZE])  # (145.6, 78.4)


def test_canonical_eye_line_is_the_seed_studys():
    assert SIZE == 224
    assert LEFT_EYE_POSITION == (0.35, 0.35)
    assert np.allclose(LEFT_TARGET, (78.4, 78.4)) and np.allclose(RIGHT_TARGET, (145.6, 78.4))


@pytest.fixture(scope="module", params=[0, 12, -15], ids=lambda a: f"tilt{a}")
def tilted(request, shared_data: Path):
    """(rgb, HOG boxes) of a two-face poster rotated by 0, 12 and -15 degrees."""
    poster = small_poster(shared_data, 0)
    image = poster.image.rotate(request.param, resample=Image.BICUBIC, expand=True, fillcolor=(200, 180, 150))
    rgb = np.ascontiguousarray(np.asarray(image))
    boxes = HogDetector(1).detect(rgb)
    assert len(boxes) == 2, boxes
    return rgb, boxes


def _apply(matrix: np.ndarray, point) -> np.ndarray:
    return matrix @ np.array([point[0], point[1], 1.0])


def _box_in_crop(matrix: np.ndarray, box: Box) -> Box:
    corners = np.array([[box.left, box.top, 1], [box.right, box.top, 1], [box.left, box.bottom, 1],
                        [box.right, box.bottom, 1]], dtype=np.float64) @ matrix.T
    return Box(int(corners[:, 0].min()), int(corners[:, 1].min()), int(corners[:, 0].max()),
               int(corners[:, 1].max()), 0.0, ("moved",)).clipped(SIZE, SIZE)


def test_alignment_matrix_moves_the_landmark_eyes_onto_the_canonical_line(tilted):
    rgb, boxes = tilted
    for box in boxes:
        for points in (68, 5):
            landmarks = shape_points(shape_of(rgb, box, points))
            assert landmarks.shape == (points, 2)
            matrix = alignment_matrix(landmarks)
            image_left, image_right = eye_centres(landmarks)

            assert matrix.shape == (2, 3)
            assert np.abs(_apply(matrix, image_left) - LEFT_TARGET).max() <= 1.0, (points, box)
            assert np.abs(_apply(matrix, image_right) - RIGHT_TARGET).max() <= 1.0, (points, box)


def test_aligned_crop_has_level_eyes_when_the_predictor_runs_again(tilted):
    rgb, boxes = tilted
    for box in boxes:
        landmarks = shape_points(shape_of(rgb, box, 68))
        crop = align_face(rgb, landmarks)

        assert crop.shape == (SIZE, SIZE, 3) and crop.dtype == np.uint8
        again = shape_points(shape_of(np.ascontiguousarray(crop), _box_in_crop(alignment_matrix(landmarks), box), 68))
        left, right = eye_centres(again)
        assert abs(left[1] - right[1]) <= 3.0, f"eyes not level in the aligned crop: {left}, {right}"
        assert np.abs(left - LEFT_TARGET).max() <= 4.0, left
        assert np.abs(right - RIGHT_TARGET).max() <= 4.0, right


def test_eye_centres_agree_between_the_5_and_68_point_predictors(tilted):
    rgb, boxes = tilted
    for box in boxes:
        eyes68 = eye_centres(shape_points(shape_of(rgb, box, 68)))
        eyes5 = eye_centres(shape_points(shape_of(rgb, box, 5)))
        for a, b in zip(eyes68, eyes5):
            assert np.hypot(*(a - b)) <= 0.1 * box.width, (eyes68, eyes5)
        assert eyes68[0][0] < eyes68[1][0], "the image-left eye comes first"


def test_eye_centres_refuse_other_landmark_counts():
    with pytest.raises(ValueError, match="5 or 68"):
        eye_centres(np.zeros((12, 2)))


# -- the whole description, through process_image ---------------------------------------------

@pytest.fixture(scope="module")
def two_posters(shared_data: Path):
    """The same two people in two posters: other positions, scales and backgrounds."""
    first = make_poster(shared_data, [
        Placement(VERIFIED_FACES[0], 100, 150, 180), Placement(VERIFIED_FACES[1], 550, 200, 150),
    ], size=(900, 1200), seed=0)
    second = make_poster(shared_data, [
        Placement(VERIFIED_FACES[1], 80, 500, 190), Placement(VERIFIED_FACES[0], 500, 700, 130),
    ], size=(800, 1000), seed=1)
    results = []
    for poster in (first, second):
        result = process_image(poster.jpeg(), FaceSettings(detector="ensemble"))  # HOG + Haar: the 68-point path
        assert result.error is None
        boxes = assert_finds_faces([face.box for face in result.faces], poster.placements)
        by_box = {face.box: face for face in result.faces}
        results.append({p.face: by_box[b] for p, b in zip(poster.placements, boxes)})
    return results


def test_described_faces_have_landmarks_embedding_and_a_224_crop(two_posters):
    for faces in two_posters:
        for face in faces.values():
            assert len(face.embedding) == 128 and all(isinstance(v, float) for v in face.embedding)
            assert len(face.landmarks5) == 5 and all(len(p) == 2 for p in face.landmarks5)
            assert len(face.landmarks68) == 68 and all(len(p) == 2 for p in face.landmarks68)
            box = face.box
            xs, ys = zip(*face.landmarks68)
            margin = box.width * 0.25
            assert box.left - margin <= min(xs) and max(xs) <= box.right + margin
            assert box.top - margin <= min(ys) and max(ys) <= box.bottom + margin
            with Image.open(io.BytesIO(face.crop_jpeg)) as crop:
                assert (crop.format, crop.size, crop.mode) == ("JPEG", (SIZE, SIZE), "RGB")
            assert 0.5 < float(np.linalg.norm(face.embedding)) < 2.0


def test_same_face_in_two_posters_is_closer_than_two_different_people(two_posters):
    first, second = two_posters
    a, b = VERIFIED_FACES[0], VERIFIED_FACES[1]

    def distance(x, y) -> float:
        return float(np.linalg.norm(np.array(x.embedding) - np.array(y.embedding)))

    same = [distance(first[a], second[a]), distance(first[b], second[b])]
    different = [distance(first[a], first[b]), distance(first[a], second[b]),
                 distance(first[b], second[a]), distance(second[a], second[b])]
    assert max(same) < min(different), (same, different)
    assert max(same) < 0.3, f"same pasted face should be well under dlib's 0.6: {same}"
    assert min(different) > 0.4, different


def test_aligned_size_setting_changes_the_crop(shared_data: Path):
    poster = small_poster(shared_data, 1)

    result = process_image(poster.jpeg(), FaceSettings(aligned_size=160))

    assert len(result.faces) == 2
    for face in result.faces:
        with Image.open(io.BytesIO(face.crop_jpeg)) as crop:
            assert crop.size == (160, 160)


def test_describe_false_returns_boxes_only(shared_data: Path):
    poster = small_poster(shared_data, 2)

    result = process_image(poster.jpeg(), FaceSettings(), describe=False)

    assert (result.width, result.height) == poster.size
    assert_finds_faces([face.box for face in result.faces], poster.placements)
    assert all(face.embedding == [] and face.crop_jpeg == b"" for face in result.faces)


def test_box_scale_enlarges_the_stored_box_only(shared_data: Path):
    """Landmarks, alignment, crop and descriptor come from the detector's own box at any box scale."""
    poster = small_poster(shared_data, 3)
    own = process_image(poster.jpeg(), FaceSettings(box_scale=1.0))
    scaled = process_image(poster.jpeg(), FaceSettings(box_scale=1.4))

    assert len(own.faces) == len(scaled.faces) == 2
    for before, after in zip(own.faces, scaled.faces):
        assert after.box.centre == pytest.approx(before.box.centre, abs=1)
        assert after.box.width == pytest.approx(1.4 * before.box.width, abs=1.5)
        assert after.box.height == pytest.approx(1.4 * before.box.height, abs=1.5)
        assert after.box.landmarks == before.box.landmarks
        assert (after.landmarks5, after.landmarks68, after.aligned_by) == (before.landmarks5, before.landmarks68,
                                                                           before.aligned_by)
        assert after.embedding == before.embedding
        assert after.crop_jpeg == before.crop_jpeg


def test_box_scale_clips_the_stored_box_to_the_image(shared_data: Path):
    """A face against the poster's corner: the enlarged box stops at the edges (`faces scan` boxes too)."""
    poster = make_poster(shared_data, [Placement(VERIFIED_FACES[0], 0, 0, 200)], size=(400, 500))

    own = process_image(poster.jpeg(), FaceSettings(box_scale=1.0), describe=False)
    scaled = process_image(poster.jpeg(), FaceSettings(box_scale=3.0), describe=False)

    (before,), (after,) = own.faces, scaled.faces
    assert (after.box.left, after.box.top) == (0, 0)
    assert after.box.right <= poster.size[0] and after.box.bottom <= poster.size[1]
    assert after.box.right == min(poster.size[0], round(before.box.centre[0] + 1.5 * before.box.width))
