"""The Keras 3 VGGFace backbones and the loader for rcmalli's legacy HDF5 weight files.

No real weights are downloaded: the tests write their own rcmalli-layout files from models
with random weights (tests/support/legacyh5.py) and check they load back exactly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from postercensus.classify.models.h5weights import (
    WEIGHTS_ENV,
    WeightsError,
    check_sha256,
    keras_layer_name,
    load_weights_by_name,
    locate_weights,
    rcmalli_layer_name,
    sha256_of,
)
from postercensus.classify.models.vggface import (
    ARCHITECTURES,
    BGR_MEANS,
    FEATURE_SIZES,
    WEIGHTS_FILES,
    build_vggface,
    freeze_all_but_last_block,
    last_block_layers,
    preprocess,
)
from tests.support.legacyh5 import model_layer_weights, save_legacy_weights, write_legacy_layers

# Names read from rcmalli/keras-vggface's models.py (the `/` ones are spelled with `.` in Keras 3).
RCMALLI_NAMES = {
    "vgg16": ["conv1_1", "conv1_2", "pool1", "conv3_3", "conv4_3", "pool4", "conv5_1", "conv5_3", "pool5"],
    "resnet50": [
        "conv1/7x7_s2", "conv1/7x7_s2/bn",
        "conv2_1_1x1_reduce", "conv2_1_1x1_reduce/bn", "conv2_1_3x3", "conv2_1_1x1_increase/bn",
        "conv2_1_1x1_proj", "conv2_1_1x1_proj/bn", "conv3_4_3x3/bn", "conv4_6_1x1_increase",
        "conv5_1_1x1_proj/bn", "conv5_3_1x1_reduce", "conv5_3_1x1_increase", "conv5_3_1x1_increase/bn",
    ],
}
WEIGHTED_LAYERS = {"vgg16": 13, "resnet50": 53 + 53}  # convolutions (+ one BatchNormalization each)
INPUT_SHAPE = (64, 64, 3)  # weights do not depend on the input size; small inputs keep the tests fast


@pytest.fixture(scope="module", params=ARCHITECTURES)
def architecture(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def backbone(architecture: str):
    """One freshly built model per architecture; tests that load weights into it come after those that read it."""
    return build_vggface(architecture, input_shape=INPUT_SHAPE)


@pytest.fixture(scope="module")
def saved(architecture: str, tmp_path_factory):
    """A second model with perturbed random weights, saved in rcmalli's layout, and its outputs on a batch."""
    source = build_vggface(architecture, input_shape=INPUT_SHAPE)
    rng = np.random.default_rng(7)
    for layer in source.layers:
        layer.set_weights([_perturbed(variable.name, np.asarray(variable), rng) for variable in layer.weights])
    path = tmp_path_factory.mktemp(architecture) / WEIGHTS_FILES[architecture]
    save_legacy_weights(source, path)
    batch = rng.uniform(-128, 128, (2, *INPUT_SHAPE)).astype("float32")
    output = np.asarray(source(batch, training=False))
    assert np.isfinite(output).all() and output.std() > 0  # else equal outputs would prove nothing
    return path, model_layer_weights(source), batch, output


def _perturbed(variable: str, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Values unlike a fresh build's (BatchNormalization starts at 1/0/0/1) that keep activations finite."""
    if variable in ("gamma", "moving_variance"):
        return rng.uniform(0.5, 1.5, values.shape).astype(values.dtype)
    if variable in ("beta", "moving_mean"):
        return rng.normal(0, 0.1, values.shape).astype(values.dtype)
    return (values + rng.normal(0, 0.1 * (values.std() or 1), values.shape)).astype(values.dtype)


def test_feature_size_and_rcmalli_layer_names(architecture: str, backbone) -> None:
    assert backbone.output.shape == (None, FEATURE_SIZES[architecture])
    names = {layer.name for layer in backbone.layers}
    assert {keras_layer_name(name) for name in RCMALLI_NAMES[architecture]} <= names
    assert sum(1 for layer in backbone.layers if layer.weights) == WEIGHTED_LAYERS[architecture]


def test_default_input_is_224(architecture: str) -> None:
    assert build_vggface(architecture, pooling=None).input.shape == (None, 224, 224, 3)


def test_names_round_trip_to_rcmalli_spelling() -> None:
    assert keras_layer_name("conv1/7x7_s2/bn") == "conv1.7x7_s2.bn"
    assert rcmalli_layer_name("conv1.7x7_s2.bn") == "conv1/7x7_s2/bn"


def test_legacy_weights_load_by_name_exactly(architecture: str, backbone, saved) -> None:
    path, expected, batch, expected_output = saved
    gamma_or_kernel = next(layer for layer in backbone.layers if layer.weights)
    assert not np.array_equal(gamma_or_kernel.get_weights()[0], expected[rcmalli_layer_name(gamma_or_kernel.name)][0][1])

    loaded = load_weights_by_name(backbone, path)

    assert len(loaded) == WEIGHTED_LAYERS[architecture]
    for layer in backbone.layers:
        for actual, (_, wanted) in zip(layer.get_weights(), expected[rcmalli_layer_name(layer.name)], strict=True):
            np.testing.assert_array_equal(actual, wanted)
    np.testing.assert_allclose(np.asarray(backbone(batch, training=False)), expected_output, rtol=1e-5, atol=1e-5)


def test_extra_top_layers_in_a_full_model_file_are_ignored(tmp_path: Path) -> None:
    model = build_vggface("vgg16", input_shape=INPUT_SHAPE)
    top = {"fc6": [("kernel", np.ones((8, 4), "float32")), ("bias", np.zeros(4, "float32"))], "fc8/softmax": []}
    path = save_legacy_weights(model, tmp_path / "rcmalli_vggface_tf_vgg16.h5", extra_layers=top,
                               model_weights_group=True)
    assert "fc6" not in load_weights_by_name(build_vggface("vgg16", input_shape=INPUT_SHAPE), path)


def test_a_backbone_nested_in_a_head_model_loads(tmp_path: Path) -> None:
    import keras

    backbone = build_vggface("vgg16", input_shape=INPUT_SHAPE)
    head = keras.Sequential([keras.Input(INPUT_SHAPE), backbone, keras.layers.Dense(1, name="gender")])
    kernel = np.full((3, 3, 512, 512), 0.5, "float32")
    path = write_legacy_layers(tmp_path / "w.h5", {"conv5_3": [("kernel", kernel), ("bias", np.ones(512, "float32"))]})
    assert load_weights_by_name(head, path) == ["conv5_3"]
    np.testing.assert_array_equal(backbone.get_layer("conv5_3").get_weights()[0], kernel)


def test_wrong_shape_names_the_layer_and_leaves_the_model_untouched(tmp_path: Path) -> None:
    model = build_vggface("vgg16", input_shape=INPUT_SHAPE)
    before = model.get_layer("conv1_1").get_weights()
    path = write_legacy_layers(tmp_path / "bad.h5", {
        "conv1_1": [("kernel", np.ones((3, 3, 3, 64), "float32")), ("bias", np.ones(64, "float32"))],
        "conv5_3": [("kernel", np.ones((3, 3, 512, 7), "float32")), ("bias", np.ones(7, "float32"))],
    })
    with pytest.raises(WeightsError, match=r"conv5_3.*\(3, 3, 512, 7\).*\(3, 3, 512, 512\)"):
        load_weights_by_name(model, path)
    np.testing.assert_array_equal(model.get_layer("conv1_1").get_weights()[0], before[0])


def test_file_for_another_architecture_matches_nothing(tmp_path: Path) -> None:
    path = write_legacy_layers(tmp_path / "other.h5", {"fc6": [("kernel", np.ones((2, 2), "float32"))]})
    with pytest.raises(WeightsError, match="not a VGGFace weights file for vgg16"):
        load_weights_by_name(build_vggface("vgg16", input_shape=INPUT_SHAPE), path)


def test_non_hdf5_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / WEIGHTS_FILES["vgg16"]
    path.write_text("<html>404 Not Found</html>")
    with pytest.raises(WeightsError, match=r"rcmalli_vggface_tf_notop_vgg16\.h5.*HDF5.*--weights") as raised:
        load_weights_by_name(build_vggface("vgg16", input_shape=INPUT_SHAPE), path)
    assert str(path) in str(raised.value)


def test_missing_file_says_where_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "env"))
    with pytest.raises(WeightsError) as raised:
        locate_weights("resnet50", None, [tmp_path / "models"])
    message = str(raised.value)
    for phrase in ("rcmalli_vggface_tf_notop_resnet50.h5", str(tmp_path / "models"), str(tmp_path / "env"),
                   str(tmp_path / "home" / ".keras" / "models" / "vggface"),
                   "https://github.com/rcmalli/keras-vggface/releases", "v2.0", "--weights FILE",
                   f"put it in {tmp_path / 'models'}"):
        assert phrase in message
    with pytest.raises(WeightsError, match=r"nope\.h5.*--weights"):
        locate_weights("vgg16", tmp_path / "nope.h5", [])


def test_weights_are_found_in_search_dirs_then_env_then_keras_cache(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = tmp_path / ".keras" / "models" / "vggface"
    cache.mkdir(parents=True)
    (cache / WEIGHTS_FILES["vgg16"]).write_bytes(b"x")
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert locate_weights("vgg16", None, [tmp_path / "empty"]) == cache / WEIGHTS_FILES["vgg16"]
    env = tmp_path / "env"
    env.mkdir()
    (env / WEIGHTS_FILES["vgg16"]).write_bytes(b"x")
    monkeypatch.setenv(WEIGHTS_ENV, str(env))
    assert locate_weights("vgg16", None, []) == env / WEIGHTS_FILES["vgg16"]
    explicit = tmp_path / "mine.h5"
    explicit.write_bytes(b"x")
    assert locate_weights("vgg16", explicit, [env]) == explicit


def test_sha256_check(tmp_path: Path) -> None:
    path = tmp_path / "w.h5"
    path.write_bytes(b"abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_of(path) == digest
    check_sha256(path, None)
    check_sha256(path, digest.upper())
    with pytest.raises(WeightsError, match="w.h5.*SHA-256"):
        check_sha256(path, "0" * 64)


def test_preprocess_flips_to_bgr_and_subtracts_the_version_means(architecture: str) -> None:
    pixel = np.array([[[[200, 100, 50]]]], dtype=np.uint8)  # R, G, B
    out = preprocess(pixel, architecture)
    blue_mean, green_mean, red_mean = {"vgg16": (93.5940, 104.7624, 129.1863),
                                       "resnet50": (91.4953, 103.8827, 131.0912)}[architecture]
    assert BGR_MEANS[architecture] == (blue_mean, green_mean, red_mean)
    assert out.dtype == np.float32 and out.shape == (1, 1, 1, 3)
    np.testing.assert_allclose(out[0, 0, 0], [50 - blue_mean, 100 - green_mean, 200 - red_mean], rtol=1e-6)
    with pytest.raises(ValueError):
        preprocess(np.zeros((4, 4, 3), np.uint8), architecture)


def test_only_the_last_block_stays_trainable(architecture: str, backbone) -> None:
    trainable = freeze_all_but_last_block(backbone, architecture)
    block = last_block_layers(backbone, architecture)
    assert all(rcmalli_layer_name(layer.name).startswith("conv5_") for layer in block)
    expected = {layer.name for layer in block if "bn" not in layer.name.split(".")}
    assert {layer.name for layer in trainable} == expected
    assert {layer.name for layer in backbone.layers if layer.trainable} == expected
    assert {layer.name for layer in backbone.layers if layer.trainable and layer.weights} == {
        "vgg16": {"conv5_1", "conv5_2", "conv5_3"},
        "resnet50": {f"conv5_{b}_{part}" for b in (1, 2, 3) for part in ("1x1_reduce", "3x3", "1x1_increase")}
        | {"conv5_1_1x1_proj"},
    }[architecture]
    assert backbone.trainable_weights and all(
        rcmalli_layer_name(v.path).startswith("conv5_") for v in backbone.trainable_weights
    )
