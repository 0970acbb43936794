"""Faces in scene paintings cut as the face stage cuts them (classify/recipes/scenes.py, the default model's `scenes` calibration).

The hand-drawn boxes of ../shared/data/painting-faces say where a labelled face is; the crop the
classifier sees must be the face stage's own (its detection, its alignment), so a hand box takes
the detected face it overlaps, and only a hand box no detection matches is described from itself.
"""
from __future__ import annotations

import importlib
import io

import numpy as np
import pytest
from PIL import Image

from postercensus.classify.models.facesamples import stage_face_settings
from postercensus.faces.pipeline import process_image

@pytest.fixture(scope="module")
def scene_faces():
    return importlib.import_module("postercensus.classify.recipes.scenes")


def test_hand_boxes_take_the_detection_they_overlap_most_one_to_one(scene_faces):
    detected = [(100, 100, 200, 200), (110, 110, 210, 210), (400, 400, 440, 440)]
    hand = [(105, 105, 205, 205),  # overlaps both of the first two; the second more
            (95, 95, 195, 195),  # overlaps both; the first more
            (600, 600, 700, 700)]  # overlaps nothing
    assert scene_faces.match_boxes(detected, hand) == {0: 1, 1: 0}
    # a detection inside a hand box but covering under 0.3 of their union is no match
    assert scene_faces.match_boxes([(0, 0, 10, 10)], [(0, 0, 40, 40)]) == {}
    assert scene_faces.match_boxes([], hand) == {}


def test_a_matched_face_is_the_stages_own_crop_and_an_unmatched_hand_box_is_described_from_itself(
        scene_faces, shared_data, tmp_path):
    face = sorted((shared_data / "utkface" / "images").glob("*.jpg"))[0]
    canvas = Image.new("RGB", (640, 480), (200, 190, 170))
    with Image.open(face) as image:
        canvas.paste(image.convert("RGB"), (60, 80))  # a 200 px face at (60, 80)
    path = tmp_path / "Some_Painter_1.jpg"
    canvas.save(path, quality=95)
    settings = stage_face_settings()
    stage = process_image(path.read_bytes(), settings)
    assert len(stage.faces) == 1, "the stage finds the pasted face"

    faces = scene_faces.scene_faces_of(path, [((50.0, 60.0, 270.0, 290.0), "female"),
                                              ((420.0, 100.0, 600.0, 300.0), "male")], settings)

    matched, hand = faces
    assert (matched.matched, matched.label, matched.painter) == (True, "female", "painter")
    np.testing.assert_array_equal(matched.sample.descriptor, np.asarray(stage.faces[0].embedding, dtype=np.float32))
    assert matched.sample.crop_bytes() == stage.faces[0].crop_jpeg, "the stage's aligned crop, not the hand box"
    assert (hand.matched, hand.label) == (False, "male")
    with Image.open(io.BytesIO(hand.sample.crop_bytes())) as crop:
        assert crop.size == (settings.aligned_size, settings.aligned_size)
