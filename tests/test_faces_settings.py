"""FaceSettings: validation, the parameter hash that names a result set, and the detector chain."""
from __future__ import annotations

import re

import pytest

from postercensus.faces import models
from postercensus.faces.detectors import CnnDetector, EnsembleDetector, HaarDetector, HogDetector, Resized, Tiled
from postercensus.faces.settings import FaceSettings, build_detector
from postercensus.faces.yunet import YunetDetector


def test_parameter_hash_is_16_hex_digits_and_stable():
    first, second = FaceSettings().identity(), FaceSettings().identity()

    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert first == second


@pytest.mark.parametrize("changed", [
    {"upsample": 0}, {"resize": 2.5}, {"tile": 1024}, {"threshold": -0.5}, {"detector": "cnn"},
    {"detector": "haar"}, {"detector": "hog"}, {"min_votes": 1}, {"members": ("hog", "cnn")}, {"aligned_size": 160},
])
def test_every_setting_that_shapes_results_changes_the_hash(changed):
    vote = {"detector": "ensemble"}  # the HOG + Haar vote: every one of these settings shapes its results
    assert FaceSettings(**{**vote, **changed}).identity() != FaceSettings(**vote).identity()


def test_the_default_yunet_hash_follows_its_threshold_and_scale_only():
    default = FaceSettings().identity()
    assert FaceSettings(yunet_threshold=0.5).identity() != default
    assert FaceSettings(resize=0.5).identity() != default
    assert FaceSettings(upsample=0, threshold=-0.2, min_votes=1).identity() == default  # not YuNet's


def test_box_scale_enters_the_hash_only_when_it_is_not_the_detectors_own_box():
    own = FaceSettings(box_scale=1.0)

    assert "box_scale" not in own.parameters()  # result sets named before the setting existed keep their names
    assert FaceSettings().parameters()["box_scale"] == 1.4  # the default enlarges
    hashes = {FaceSettings(box_scale=scale).identity() for scale in (1.0, 1.2, 1.4)}
    assert len(hashes) == 3
    assert "box_scale" not in FaceSettings(detector="hog", box_scale=1.0).parameters()


@pytest.mark.parametrize("same_a,same_b", [
    ({"detector": "haar", "upsample": 0}, {"detector": "haar", "upsample": 2}),  # Haar has no upsampling
    ({"detector": "haar", "threshold": -1.0}, {"detector": "haar"}),  # nor a HOG threshold
    ({"detector": "cnn", "threshold": -1.0}, {"detector": "cnn"}),
    ({"detector": "hog", "members": ("haar",)}, {"detector": "hog"}),  # members: ensemble only
    ({"detector": "hog", "min_votes": 1}, {"detector": "hog"}),
])
def test_settings_a_detector_does_not_use_leave_the_hash_alone(same_a, same_b):
    assert FaceSettings(**same_a).identity() == FaceSettings(**same_b).identity()


def test_ensemble_members_and_votes_are_part_of_its_hash():
    base = FaceSettings(detector="ensemble", members=("hog", "haar"), min_votes=1)

    assert FaceSettings(detector="ensemble", members=("hog", "cnn")).identity() != base.identity()
    assert FaceSettings(detector="ensemble", members=("hog", "haar"), min_votes=2).identity() != base.identity()
    assert FaceSettings(detector="ensemble", members=("hog", "haar"), threshold=-0.3).identity() != base.identity()


def test_model_versions_are_part_of_the_hash(monkeypatch):
    before = FaceSettings().identity()
    upgraded = {**models.model_versions(), "dlib": "99.0"}
    monkeypatch.setattr(models, "model_versions", lambda: upgraded)

    assert FaceSettings().identity() != before


@pytest.mark.parametrize("bad,message", [
    ({"detector": "yolo"}, "unknown detector 'yolo'; choose one of hog, cnn, haar, yunet, mtcnn, ensemble"),
    ({"members": ("hog", "yolo")}, "unknown ensemble member(s) yolo"),
    ({"upsample": -1}, "--upsample must be between 0 and 4"),
    ({"upsample": 5}, "--upsample must be between 0 and 4"),
    ({"resize": 0.05}, "--resize must be between 0.1 and 8"),
    ({"resize": 9}, "--resize must be between 0.1 and 8"),
    ({"tile": 100}, "--tile must be 0 (off) or at least 128"),
    ({"box_scale": 0.4}, "--box-scale must be between 0.5 and 3"),
    ({"box_scale": 3.5}, "--box-scale must be between 0.5 and 3"),
    ({"min_votes": 0}, "--min-votes"),
    ({"detector": "ensemble", "members": ("hog", "haar"), "min_votes": 3}, "--min-votes"),
])
def test_invalid_settings_are_refused_with_the_option_named(bad, message):
    with pytest.raises(ValueError) as refused:
        FaceSettings(**bad)
    assert message in str(refused.value)


def test_build_detector_chains_member_ensemble_resize_and_tiles():
    default = build_detector(FaceSettings())
    assert isinstance(default, YunetDetector) and default.threshold == 0.7
    vote = build_detector(FaceSettings(detector="ensemble"))
    assert isinstance(vote, EnsembleDetector) and vote.min_votes == 2
    assert [type(member) for member in vote.members] == [HogDetector, HaarDetector]
    assert isinstance(build_detector(FaceSettings(detector="hog")), HogDetector)
    assert build_detector(FaceSettings(detector="hog", upsample=2, threshold=-0.2)).upsample == 2
    assert isinstance(build_detector(FaceSettings(detector="cnn")), CnnDetector)
    assert isinstance(build_detector(FaceSettings(detector="haar")), HaarDetector)

    chain = build_detector(FaceSettings(detector="ensemble", members=("hog", "cnn", "haar"), min_votes=2,
                                        resize=2.5, tile=512))

    assert isinstance(chain, Tiled) and chain.tile == 512
    assert isinstance(chain.inner, Resized) and chain.inner.factor == 2.5
    ensemble = chain.inner.inner
    assert isinstance(ensemble, EnsembleDetector) and ensemble.min_votes == 2
    assert [type(m) for m in ensemble.members] == [HogDetector, CnnDetector, HaarDetector]
    assert chain.name == "ensemble"
