"""Training, saving and loading a classifier on the VGGFace VGG16 backbone, `--fine-tune` included.

rcmalli's real weights are never downloaded: the module writes its own weights file in their
legacy Keras 2 layout (tests/support/legacyh5.py) from a VGG16 with seeded random weights. The
backbone runs at its real 224 px input, which costs about half a second per face on a shared
CPU, so the generated set is as small as a grouped three-way split allows: 10 posters (two of
them with two faces), light horizontal stripes for one label and dark vertical ones for the
other, split 1/3 held out and the rest halved into fit and validation. With so few faces the
heads are confident, so probabilities are also compared relatively (see
`_assert_same_probabilities`), and the weights themselves are compared exactly.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from postercensus.classify.models import modelfolder
from postercensus.classify.models.backbones import DlibBackbone, VggFaceBackbone, make_backbone
from postercensus.classify.models.classifier import load_classifier
from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.models.h5weights import WEIGHTS_FILES, WeightsError, sha256_of
from postercensus.classify.models.head import HeadSettings
from postercensus.classify.train.labelled import LabelledDataError
from postercensus.classify.train.training import TrainOptions, save, train
from postercensus.classify.train.trainingset import TrainingSet

LABELS = ("female", "male")
HEAD = HeadSettings(max_epochs=15, patience=5, fine_tune_epochs=1)
# 1/3 held out (3 folds) and the rest halved (2 folds): with 5 posters per label every part gets both labels.
SPLITS = {"test_share": 1 / 3, "validation_share": 0.5}
WEIGHTED_VGG16_LAYERS = [f"conv{block}_{index}" for block, convolutions in enumerate((2, 2, 3, 3, 3), start=1)
                         for index in range(1, convolutions + 1)]


# -- generated weights and faces ---------------------------------------------------------------

def _random_weights(model, seed: int) -> dict[str, list[np.ndarray]]:
    """Seeded LeCun-scaled kernels, so activations neither vanish nor explode through 13 ReLUs.

    The conv5 kernels are centred per output channel and get a positive bias: their inputs are
    post-ReLU (all >= 0), so an uncentred kernel leaves some channels negative for every face,
    and a pool5 feature that is exactly 0 on all fit faces makes the head's Normalization
    divide by ~0 on the next face that lights it up.
    """
    rng = np.random.default_rng(seed)
    weights = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        kernel_shape, bias_shape = (tuple(v.shape) for v in layer.weights)
        kernel = rng.normal(0.0, np.sqrt(1.0 / np.prod(kernel_shape[:-1])), kernel_shape)
        bias = rng.normal(0.0, 0.01, bias_shape)
        if layer.name.startswith("conv5_"):
            kernel -= kernel.mean(axis=(0, 1, 2), keepdims=True)
            bias += 0.5
        weights[layer.name] = [kernel.astype(np.float32), bias.astype(np.float32)]
        layer.set_weights(weights[layer.name])
    return weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> tuple[Path, dict[str, list[np.ndarray]]]:
    """(an rcmalli-layout notop VGG16 weights file, its arrays by layer), ~60 MB, written once."""
    from postercensus.classify.models.vggface import build_vggface
    from tests.support.legacyh5 import save_legacy_weights

    model = build_vggface("vgg16")
    assert model.input.shape == (None, 224, 224, 3)
    arrays = _random_weights(model, seed=20240501)
    path = save_legacy_weights(model, tmp_path_factory.mktemp("weights") / WEIGHTS_FILES["vgg16"])
    return path, arrays


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _crop(label: str, rng: np.random.Generator, size: int = 224) -> bytes:
    """female: light, horizontal stripes; male: dark, vertical stripes; brightness, stripe width and noise vary."""
    period = int(rng.integers(16, 40))
    stripes = (np.arange(size) + int(rng.integers(period))) % period < period // 2
    pattern = np.tile(stripes[:, None], (1, size)) if label == "female" else np.tile(stripes[None, :], (size, 1))
    level = rng.uniform(150.0, 210.0) if label == "female" else rng.uniform(45.0, 105.0)
    grey = level + np.where(pattern, 35.0, -35.0) + rng.normal(0.0, 15.0, (size, size))
    return _jpeg(np.repeat(grey[:, :, None], 3, axis=2))


def _samples(labels: list[str], seed: int) -> list[FaceSample]:
    rng = np.random.default_rng(seed)
    return [FaceSample(rng.normal(0.0, 0.1, 128).astype(np.float32), crop_jpeg=_crop(label, rng)) for label in labels]


@pytest.fixture(scope="module")
def data() -> TrainingSet:
    """10 posters, 5 per label; posters 0 and 1 have two faces (a poster's faces share its label)."""
    posters = [(f"{150000 + p}", LABELS[p % 2], 2 if p < 2 else 1) for p in range(10)]
    groups = [group for group, _, faces in posters for _ in range(faces)]
    labels = [label for _, label, faces in posters for _ in range(faces)]
    names = [f"{group}_{i}.jpg" for group, _, faces in posters for i in range(faces)]
    return TrainingSet(_samples(labels, seed=1), labels, groups, names, source={"data": "generated 224 px stripes"})


NEW_LABELS = ["female", "male"]


@pytest.fixture(scope="module")
def new_samples() -> list[FaceSample]:
    return _samples(NEW_LABELS, seed=77)


def _train_and_save(data: TrainingSet, weights_path: Path, folder: Path, fine_tune: bool):
    backbone = make_backbone("vggface-vgg16", weights=weights_path)
    assert isinstance(backbone, VggFaceBackbone)
    trained = train(data, backbone, TrainOptions(head=HEAD, fine_tune=fine_tune, **SPLITS), folder.name)
    return backbone, trained, save(trained, folder, data)


@pytest.fixture(scope="module")
def plain(data, weights, tmp_path_factory):
    """(backbone, trained model, model folder, version) trained on frozen VGGFace features."""
    folder = tmp_path_factory.mktemp("models") / "vggface-plain"
    backbone, trained, version = _train_and_save(data, weights[0], folder, fine_tune=False)
    return backbone, trained, folder, version


@pytest.fixture(scope="module")
def fine(data, weights, tmp_path_factory):
    """(backbone, trained model, model folder, version) with `--fine-tune` (one epoch on the last block)."""
    folder = tmp_path_factory.mktemp("models") / "vggface-fine"
    backbone, trained, version = _train_and_save(data, weights[0], folder, fine_tune=True)
    return backbone, trained, folder, version


def _kernels(network) -> dict[str, np.ndarray]:
    return {name: network.get_layer(name).get_weights()[0] for name in WEIGHTED_VGG16_LAYERS}


def _some_unsaturated(probabilities: np.ndarray) -> bool:
    """Whether some probability is far enough inside (0, 1) for an `atol=1e-5` comparison to mean something."""
    return bool(((probabilities > 1e-4) & (probabilities < 1 - 1e-4)).any())


def _assert_same_probabilities(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal to 1e-5, and the small ones (down to 1e-10) also relatively: confident heads push most towards 0."""
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    np.testing.assert_allclose(actual, expected, rtol=1e-2, atol=1e-10)


def _assert_loaded_predicts_as_trained(classifier, trained, data, new_samples, expected_new: np.ndarray) -> np.ndarray:
    """One batch through the loaded model: the held-out faces as at training (and as its card
    stores them), then faces neither model has seen as `expected_new`; returns the latter."""
    held_out = [data.samples[i] for i in trained.held_out]
    probabilities = classifier.probabilities(held_out + new_samples)
    _assert_same_probabilities(probabilities[:len(held_out)], trained.probabilities)
    np.testing.assert_allclose(probabilities[:len(held_out)], trained.card.held_out_predictions["probabilities"],
                               atol=1e-5)
    _assert_same_probabilities(probabilities[len(held_out):], expected_new)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert _some_unsaturated(probabilities)
    return probabilities[len(held_out):]


# -- tests -------------------------------------------------------------------------------------

def test_training_on_vggface_features_saves_a_model_that_loads_with_the_same_probabilities(
        plain, data, weights, new_samples):
    backbone, trained, folder, version = plain
    weights_path, original = weights
    card = trained.card.to_dict()

    assert card["backbone"] == {"name": "vggface-vgg16", "architecture": "vgg16",
                                "weights_file": WEIGHTS_FILES["vgg16"], "weights_sha256": sha256_of(weights_path),
                                "dimensions": 512}
    assert card["fine_tuned"] is False and "fine_tune" not in card["training"]["history"]
    assert 1 <= card["training"]["history"]["epochs_run"] <= HEAD.max_epochs
    parts = card["training"]
    assert parts["fit"]["faces"] + parts["validation"]["faces"] + parts["held_out"]["faces"] == len(data.samples)
    for part in ("fit", "validation", "held_out"):
        assert set(parts[part]["per_label"]) == set(LABELS), part
    assert card["evaluation"]["n"] == len(trained.held_out) > 0
    # a frozen backbone is untouched by training the head
    for name, kernel in _kernels(backbone.network).items():
        np.testing.assert_array_equal(kernel, original[name][0], err_msg=name)

    classifier = load_classifier(folder, weights=weights_path)

    for name in (modelfolder.CARD_FILE, modelfolder.HEAD_FILE, modelfolder.FISHERFACES_FILE):
        assert (folder / name).is_file(), name
    assert not (folder / modelfolder.FINE_TUNED_FILE).exists()
    assert classifier.card.to_dict() == card and classifier.version == version
    assert classifier.fine_tuned is None and isinstance(classifier.backbone, VggFaceBackbone)
    assert classifier.backbone.weights_sha256 == card["backbone"]["weights_sha256"]
    expected_new = trained.head.predict(backbone.features(new_samples), verbose=0)
    new_probabilities = _assert_loaded_predicts_as_trained(classifier, trained, data, new_samples, expected_new)
    assert [LABELS[k] for k in new_probabilities.argmax(axis=1)] == NEW_LABELS


def test_fine_tuning_changes_only_the_last_block_and_the_head_and_loads_back(
        fine, data, weights, new_samples):
    backbone, trained, folder, version = fine
    weights_path, original = weights
    card = trained.card.to_dict()

    assert card["fine_tuned"] is True
    assert card["backbone"]["weights_file"] == WEIGHTS_FILES["vgg16"]
    assert card["backbone"]["weights_sha256"] == sha256_of(weights_path)
    assert card["training"]["history"]["fine_tune"]["epochs_run"] == HEAD.fine_tune_epochs
    assert (folder / modelfolder.FINE_TUNED_FILE).is_file()
    assert trained.fine_tuned is not None
    trained_kernels = _kernels(backbone.network)
    for name, kernel in trained_kernels.items():
        if name.startswith("conv5_"):
            assert not np.array_equal(kernel, original[name][0]), f"{name} was not fine-tuned"
        else:
            np.testing.assert_array_equal(kernel, original[name][0], err_msg=f"{name} is frozen yet changed")
    # the head went on learning inside the fine-tuned model, and it is that head that was saved
    assert trained.fine_tuned.get_layer("head") is trained.head

    classifier = load_classifier(folder, weights=weights_path)

    assert classifier.card.to_dict() == card and classifier.version == version
    assert classifier.fine_tuned is not None
    loaded_kernels = _kernels(classifier.backbone.network)
    np.testing.assert_array_equal(loaded_kernels["conv1_1"], original["conv1_1"][0])
    assert not np.array_equal(loaded_kernels["conv5_3"], original["conv5_3"][0])
    for name in WEIGHTED_VGG16_LAYERS:
        np.testing.assert_array_equal(loaded_kernels[name], trained_kernels[name], err_msg=name)
    for mine, theirs in zip(classifier.fine_tuned.get_layer("head").get_weights(), trained.head.get_weights(),
                            strict=True):
        np.testing.assert_array_equal(mine, theirs)
    expected_new = trained.fine_tuned.predict(backbone.pixels(new_samples), verbose=0)
    _assert_loaded_predicts_as_trained(classifier, trained, data, new_samples, expected_new)


def test_a_different_weights_file_is_refused_by_its_sha256(plain, weights, tmp_path):
    _, trained, folder, _ = plain
    weights_path, _ = weights
    # the same published name and architecture, one value different: another release, or a damaged copy
    other = tmp_path / "other" / WEIGHTS_FILES["vgg16"]
    other.parent.mkdir()
    shutil.copyfile(weights_path, other)
    with h5py.File(other, "r+") as h5:
        bias = h5["conv1_1"]["conv1_1/bias:0"]
        bias[0] = bias[0] + 1.0

    with pytest.raises(WeightsError, match="SHA-256") as raised:
        load_classifier(folder, weights=other)

    message = str(raised.value)
    assert str(other) in message
    assert sha256_of(other) in message and trained.card.backbone.weights_sha256 in message
    # the right file is still found by its published name in a search folder
    found = load_classifier(folder, search_dirs=[tmp_path / "nothing here", weights_path.parent])
    assert found.backbone.weights == weights_path


def test_fine_tune_with_the_dlib_backbone_says_it_needs_a_vggface_backbone(data):
    options = TrainOptions(head=HeadSettings(max_epochs=2, patience=1), fine_tune=True, **SPLITS)

    with pytest.raises(LabelledDataError,
                       match=r"--fine-tune needs a VGGFace backbone \(vggface-vgg16 or vggface-resnet50\)"):
        train(data, DlibBackbone(), options, "dlib-fine-tune")
