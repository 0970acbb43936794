"""The VGGFace backbones (VGG16, ResNet50) rebuilt in Keras 3, laid out like rcmalli's keras-vggface.

keras-vggface does not import under Keras 3, yet its published weights are the ones worth
using. These builders reproduce its notop architectures with the same layer names (see
`classify.models.h5weights.keras_layer_name` for the one spelling change Keras 3 forces) and the same
layer settings (BatchNormalization defaults, bias-free ResNet convolutions, TF "same"
padding), so `classify.models.h5weights.load_weights_by_name` reproduces keras-vggface's features.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from postercensus.classify.models.h5weights import WEIGHTS_FILES, keras_layer_name, rcmalli_layer_name

ARCHITECTURES = ("vgg16", "resnet50")
FEATURE_SIZES = {"vgg16": 512, "resnet50": 2048}

# rcmalli's preprocess_input: version 1 (VGGFace, for VGG16) and version 2 (VGGFace2, for
# ResNet50) mean pixels, in the BGR order the Caffe-trained weights expect.
BGR_MEANS = {
    "vgg16": (93.5940, 104.7624, 129.1863),
    "resnet50": (91.4953, 103.8827, 131.0912),
}

# The block `--fine-tune` unfreezes: the last convolutional stage of either network.
_LAST_BLOCK_PREFIX = {"vgg16": "conv5_", "resnet50": "conv5_"}

_VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convolutions)
_RESNET50_STAGES = (  # (stage, bottleneck filters, blocks, stride of the first block)
    (2, (64, 64, 256), 3, 1),
    (3, (128, 128, 512), 4, 2),
    (4, (256, 256, 1024), 6, 2),
    (5, (512, 512, 2048), 3, 2),
)
_GLOBAL_POOLING = {"avg": layers.GlobalAveragePooling2D, "max": layers.GlobalMaxPooling2D}

__all__ = [
    "ARCHITECTURES",
    "BGR_MEANS",
    "FEATURE_SIZES",
    "WEIGHTS_FILES",
    "build_vggface",
    "freeze_all_but_last_block",
    "last_block_layers",
    "preprocess",
]


def _check_architecture(architecture: str) -> None:
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown VGGFace architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        )


def _vgg16(x: keras.KerasTensor) -> keras.KerasTensor:
    for block, (filters, convolutions) in enumerate(_VGG16_BLOCKS, start=1):
        for index in range(1, convolutions + 1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}_{index}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"pool{block}")(x)
    return x


def _conv_bn(x: keras.KerasTensor, filters: int, kernel: int, name: str, strides: int = 1,
             padding: str = "valid") -> keras.KerasTensor:
    """Bias-free convolution + BatchNormalization named `name` and `name/bn`, as converted from Caffe."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False,
                      name=keras_layer_name(name))(x)
    return layers.BatchNormalization(axis=-1, name=keras_layer_name(f"{name}/bn"))(x)


def _bottleneck(x: keras.KerasTensor, filters: tuple[int, int, int], stage: int, block: int,
                strides: int) -> keras.KerasTensor:
    """One ResNet50 bottleneck; the first block of a stage projects the shortcut (`_1x1_proj`).

    As in Caffe's ResNet (and rcmalli's port) the stride sits on the 1×1 reduce convolution.
    """
    reduce_filters, middle_filters, out_filters = filters
    prefix = f"conv{stage}_{block}"
    y = _conv_bn(x, reduce_filters, 1, f"{prefix}_1x1_reduce", strides=strides)
    y = layers.ReLU(name=keras_layer_name(f"{prefix}_1x1_reduce/relu"))(y)
    y = _conv_bn(y, middle_filters, 3, f"{prefix}_3x3", padding="same")
    y = layers.ReLU(name=keras_layer_name(f"{prefix}_3x3/relu"))(y)
    y = _conv_bn(y, out_filters, 1, f"{prefix}_1x1_increase")
    shortcut = _conv_bn(x, out_filters, 1, f"{prefix}_1x1_proj", strides=strides) if block == 1 else x
    y = layers.Add(name=f"{prefix}_add")([y, shortcut])
    return layers.ReLU(name=keras_layer_name(f"{prefix}/relu"))(y)


def _resnet50(x: keras.KerasTensor) -> keras.KerasTensor:
    x = _conv_bn(x, 64, 7, "conv1/7x7_s2", strides=2, padding="same")
    x = layers.ReLU(name=keras_layer_name("conv1/relu_7x7_s2"))(x)
    x = layers.MaxPooling2D(3, strides=2, name=keras_layer_name("pool1/3x3_s2"))(x)
    for stage, filters, blocks, first_strides in _RESNET50_STAGES:
        for block in range(1, blocks + 1):
            x = _bottleneck(x, filters, stage, block, strides=first_strides if block == 1 else 1)
    return x


def build_vggface(architecture: str, input_shape: tuple[int, int, int] = (224, 224, 3),
                  pooling: str | None = "avg") -> keras.Model:
    """The notop VGGFace `architecture` with random weights, ready for `load_weights_by_name`.

    `pooling="avg"` (or `"max"`) gives one feature vector per face (FEATURE_SIZES: 512 for
    vgg16, pooled after pool5 as keras-vggface does; 2048 for resnet50, which equals rcmalli's
    7×7 `avg_pool` at 224×224 and also works for other sizes). `pooling=None` returns the last
    feature map.
    """
    _check_architecture(architecture)
    if pooling is not None and pooling not in _GLOBAL_POOLING:
        raise ValueError(f"pooling must be 'avg', 'max' or None, not {pooling!r}")
    inputs = keras.Input(shape=input_shape, name="image")
    x = _vgg16(inputs) if architecture == "vgg16" else _resnet50(inputs)
    if pooling is not None:
        x = _GLOBAL_POOLING[pooling](name=f"global_{pooling}_pool")(x)
    return keras.Model(inputs, x, name=f"vggface_{architecture}")


def preprocess(crops: np.ndarray, architecture: str) -> np.ndarray:
    """uint8 RGB crops (N×H×W×3) → float32 input as rcmalli's `preprocess_input` makes it.

    Channels are flipped to BGR and the training set's mean pixel is subtracted (version 1
    means for vgg16, version 2 for resnet50). Working in float32 from the start avoids the
    uint8 wrap-around that rcmalli's in-place subtraction would suffer on integer input.
    """
    _check_architecture(architecture)
    crops = np.asarray(crops)
    if crops.ndim != 4 or crops.shape[-1] != 3:
        raise ValueError(f"expected RGB crops shaped N×H×W×3, got {crops.shape}")
    bgr = crops[..., ::-1].astype(np.float32)
    return bgr - np.asarray(BGR_MEANS[architecture], dtype=np.float32)


def last_block_layers(model: keras.Model, architecture: str) -> list[keras.layers.Layer]:
    """The layers of the last convolutional block (`conv5_*`): what a fine-tune unfreezes."""
    _check_architecture(architecture)
    prefix = _LAST_BLOCK_PREFIX[architecture]
    block = [layer for layer in model.layers if rcmalli_layer_name(layer.name).startswith(prefix)]
    if not block:
        raise ValueError(f"model {model.name} has no {prefix}* layers: not a VGGFace {architecture} backbone")
    return block


def freeze_all_but_last_block(model: keras.Model, architecture: str) -> list[keras.layers.Layer]:
    """Freeze everything except the last block's non-BatchNormalization layers; return those.

    BatchNormalization stays frozen even inside the last block: a frozen BN layer runs in
    inference mode in Keras 3, so the small fine-tuning batches cannot corrupt the moving
    statistics learned on millions of faces.
    """
    trainable = [layer for layer in last_block_layers(model, architecture)
                 if not isinstance(layer, layers.BatchNormalization)]
    keep = {id(layer) for layer in trainable}
    for layer in model.layers:
        layer.trainable = id(layer) in keep
    return trainable
