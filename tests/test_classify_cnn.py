"""The depicted-face CNN and what feeds it: drawing-style augmentation, faces found as the face
stage finds them (with the whole-crop fallback and its reason), and temperature scaling.

The CNN trains for two short epochs on real MetFaces crops from ../shared/data (skipped without
it): what is checked is that training runs, and that a saved model reloads and predicts exactly
the same probabilities and embeddings, not how accurate so little training is.
"""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from postercensus.classify.models import augment
from postercensus.classify.train.calibration import apply_temperature, fit_temperature
from postercensus.classify.models.facesamples import FaceSample, sample_from_result, stage_face_settings
from postercensus.classify.train.metrics import evaluate_predictions
from postercensus.faces.pipeline import AlignedBy, process_image

TRANSFORMS = augment.STYLES + tuple(transform for transform, _ in augment.INDEPENDENT)


def _face_like(size: int = 48, seed: int = 0) -> np.ndarray:
    """A generated RGB image with smooth shading and edges (augmentations act on both)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.stack([200 * x, 150 * y, 100 + 80 * x * y], axis=-1)
    base[size // 4:size // 2, size // 4:3 * size // 4] = 30  # a dark band: an edge to keep
    return (base + rng.normal(0, 6, base.shape)).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.__name__)
def test_each_augmentation_keeps_shape_and_dtype_and_is_fixed_by_its_seed(transform):
    image = _face_like()
    first = transform(image.copy(), np.random.default_rng(7))
    again = transform(image.copy(), np.random.default_rng(7))
    assert first.shape == image.shape and first.dtype == np.uint8
    assert np.array_equal(first, again)


def test_a_batch_of_augmented_views_is_fixed_by_its_seed_and_changes_with_it():
    batch = np.stack([_face_like(seed=k) for k in range(6)])
    views = augment.augment_batch(batch, seed=3)
    assert views.shape == batch.shape and views.dtype == np.uint8
    assert np.array_equal(views, augment.augment_batch(batch, seed=3))
    assert not np.array_equal(views, augment.augment_batch(batch, seed=4))
    assert not np.array_equal(views, batch)


def test_greyscale_posterise_and_flip_do_what_they_say():
    image = _face_like()
    rng = np.random.default_rng(0)
    grey = augment.greyscale(image, np.random.default_rng(1)).astype(float).reshape(-1, 3)
    # one ink: every channel is the same luminance times that ink's tint
    assert min(np.corrcoef(grey[:, 0], grey[:, c])[0, 1] for c in (1, 2)) > 0.99
    posterised = augment.posterise(image, rng)
    assert all(len(np.unique(posterised[..., c])) <= 5 for c in range(3))
    assert np.array_equal(augment.flip(image, rng), image[:, ::-1])


# -- faces found as the face stage finds them ----------------------------------------------------

def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _sample(data: bytes, detector: str) -> FaceSample:
    settings = stage_face_settings(detector)
    return sample_from_result(data, process_image(data, settings), settings)


def test_stage_face_settings_follow_the_face_stage_default():
    from postercensus.faces.settings import FaceSettings

    assert stage_face_settings() == FaceSettings()
    assert stage_face_settings("yunet").detector == "yunet"


def test_a_crop_without_a_face_is_described_whole_with_the_reason_recorded():
    data = _jpeg(np.full((112, 112, 3), 128, np.uint8))
    sample = _sample(data, "yunet")
    assert not sample.detected
    assert sample.fallback_reason is not None and "yunet" in sample.fallback_reason
    assert sample.descriptor.shape == (128,)
    assert sample.crop_rgb(64).shape == (64, 64, 3)


def test_a_real_crop_is_found_and_aligned_by_the_detectors_five_points(shared_data: Path):
    path = sorted((shared_data / "nk-poster-faces" / "train" / "male").glob("*.jpg"))[0]
    sample = _sample(path.read_bytes(), "yunet")
    assert sample.detected and sample.fallback_reason is None
    assert sample.aligned_by == AlignedBy.DETECTOR5


# -- the CNN ---------------------------------------------------------------------------------------

def _metfaces(shared_data: Path, per_label: int) -> tuple[list[FaceSample], np.ndarray]:
    samples, labels = [], []
    for k, label in enumerate(("female", "male")):
        for path in sorted((shared_data / "metfaces-faces" / label).glob("*.jpg"))[:per_label]:
            samples.append(FaceSample(np.zeros(128, np.float32), crop_path=path))
            labels.append(k)
    return samples, np.array(labels)


def test_the_cnn_trains_on_real_crops_and_reloads_to_the_same_probabilities(shared_data: Path, tmp_path: Path):
    from postercensus.classify.models.cnnbackbone import CnnBackbone, CnnSettings, train_cnn

    samples, y = _metfaces(shared_data, 16)
    settings = CnnSettings(size=32, widths=(16, 24), repeats=(1, 1), embedding=16, epochs=2, epoch_size=48,
                           batch_size=16)
    reader = CnnBackbone(None, settings, ("female", "male"))
    model = train_cnn(reader.pixels(samples), y, settings, sample_weight=np.linspace(1, 2, len(y)))
    trained = CnnBackbone(model, settings, ("female", "male"))
    probabilities = trained.probabilities(samples)
    assert probabilities.shape == (len(samples), 2)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    features = trained.features(samples)
    assert features.shape == (len(samples), 16) and features.dtype == np.float32

    trained.save(tmp_path / "cnn")
    reloaded = CnnBackbone.load(tmp_path / "cnn")
    assert reloaded.settings == settings and reloaded.flips
    assert np.allclose(reloaded.probabilities(samples), probabilities, atol=1e-6)
    assert np.allclose(reloaded.features(samples), features, atol=1e-5)
    assert reloaded.describe()["name"] == "cnn-depicted"


def test_test_time_flips_average_a_face_with_its_mirror(shared_data: Path):
    from postercensus.classify.models.cnnbackbone import build_cnn, CnnSettings, predict_pixels

    samples, _ = _metfaces(shared_data, 2)
    settings = CnnSettings(size=32, widths=(8, 8), repeats=(1, 1), embedding=8)
    model = build_cnn(settings)
    pixels = np.stack([s.crop_rgb(32) for s in samples])
    plain, mirrored = predict_pixels(model, pixels, flips=False), predict_pixels(model, pixels[:, :, ::-1], flips=False)
    assert np.allclose(predict_pixels(model, pixels, flips=True), (plain + mirrored) / 2, atol=1e-6)


def _exported(model) -> dict[str, np.ndarray]:
    """A Keras model's weights as train_depicted_cnn.py exports a PyTorch network's."""
    from postercensus.classify.models.cnnbackbone import EXPORTED_WEIGHTS

    return {f"{layer.name}/{name}": value for layer in model.layers
            for name, value in zip(EXPORTED_WEIGHTS.get(type(layer).__name__, ()), layer.get_weights())}


def test_exported_weights_load_by_layer_name_and_a_missing_one_is_named(shared_data: Path):
    from postercensus.classify.models.cnnbackbone import CnnSettings, build_cnn, load_exported_weights, predict_pixels

    samples, _ = _metfaces(shared_data, 2)
    pixels = np.stack([s.crop_rgb(32) for s in samples])
    source = build_cnn(CnnSettings(size=32, widths=(8, 8), repeats=(1, 1), embedding=8, seed=1))
    target = build_cnn(CnnSettings(size=32, widths=(8, 8), repeats=(1, 1), embedding=8, seed=2))
    weights = _exported(source)
    assert not np.allclose(predict_pixels(source, pixels), predict_pixels(target, pixels))
    load_exported_weights(target, weights)
    assert np.allclose(predict_pixels(source, pixels), predict_pixels(target, pixels), atol=1e-6)
    del weights["bn1_0/moving_variance"]
    with pytest.raises(ValueError, match="bn1_0/moving_variance"):
        load_exported_weights(target, weights)


def test_an_ensemble_folder_averages_the_head_and_its_cnns_and_versions_their_files(shared_data: Path,
                                                                                    tmp_path: Path):
    from postercensus.classify.models import modelfolder
    from postercensus.classify.models.classifier import ensemble_probabilities, load_classifier
    from postercensus.classify.models.cnnbackbone import CnnBackbone, CnnSettings, build_cnn
    from postercensus.classify.models.head import HeadSettings, build_head

    samples, y = _metfaces(shared_data, 3)
    rng = np.random.default_rng(0)
    for sample in samples:
        sample.descriptor = rng.normal(0, 0.1, 128).astype(np.float32)
    head = build_head(np.stack([s.descriptor for s in samples]), 2, HeadSettings())
    head.save(tmp_path / modelfolder.HEAD_FILE)
    settings = CnnSettings(size=32, widths=(8, 8), repeats=(1, 1), embedding=8)
    cnns = [CnnBackbone(build_cnn(replace(settings, seed=seed)), settings, ("female", "male")) for seed in (1, 2)]
    for k, cnn in enumerate(cnns):
        cnn.save(tmp_path, f"cnn-{k + 1}")
    modelfolder.write_card(tmp_path, {"model_id": "ensemble-test", "labels": ["female", "male"],
                                      "backbone": {"name": "dlib"},
                                      "ensemble": {"cnn_share": 0.4, "cnn_members": ["cnn-1", "cnn-2"]}})
    classifier = load_classifier(tmp_path)
    assert classifier.needs_crops and len(classifier.cnns) == 2
    expected = ensemble_probabilities(head.predict(np.stack([s.descriptor for s in samples]), verbose=0),
                                      [cnn.probabilities(samples) for cnn in cnns], 0.4)
    assert np.allclose(classifier.probabilities(samples), expected, atol=1e-5)

    version = modelfolder.model_version(tmp_path)
    (tmp_path / "cnn-2.json").write_text((tmp_path / "cnn-2.json").read_text().replace("true", "false"))
    assert modelfolder.model_version(tmp_path) != version  # a member's file is part of the version


# -- temperature scaling ---------------------------------------------------------------------------

def test_a_temperature_fitted_on_one_fold_lowers_the_calibration_error_of_another():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    correct = rng.random(2000) < 0.8  # 80 % right, but always 99 % sure: over-confident
    predicted = np.where(correct, y, 1 - y)
    probabilities = np.where(predicted[:, None] == np.arange(2), 0.99, 0.01)
    fit_part, held_out = np.arange(1000), np.arange(1000, 2000)
    temperature = fit_temperature(probabilities[fit_part], y[fit_part])
    assert temperature > 1
    labels = ("female", "male")
    true = [labels[k] for k in y[held_out]]
    before = evaluate_predictions(true, probabilities[held_out], labels)
    after = evaluate_predictions(true, apply_temperature(probabilities[held_out], temperature), labels)
    assert after["ece"] < before["ece"] / 3
    assert after["accuracy"] == before["accuracy"]  # the decisions stay
