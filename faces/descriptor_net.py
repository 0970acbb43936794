"""dlib's 128-d face descriptor network, evaluated with NumPy from dlib's own model file.

Why: the dlib build here has no BLAS, and its ResNet costs about 130 ms per face, three quarters
of `faces detect` on paintings. The same network with the same weights, written as im2col and
matrix products on NumPy's OpenBLAS, gives the same 128 numbers to float32 rounding (largest
difference 4.5e-7 over the 591 faces of the paintings set; tests/test_faces_descriptor_net.py
compares both on real faces) in about a fifth of the time (20–25 ms per face). dlib still cuts the 150 px chip (`get_face_chips`), so the input is the
pixels dlib's own `compute_face_descriptor` feeds its network.

The weights are read from `dlib_face_recognition_resnet_model_v1.dat` in dlib's serialization
(dlib/serialize.h): an integer is a control byte (byte count in the low 4 bits, sign in bit 7)
and that many little-endian bytes; a string is its length and its bytes; a float is an integer
mantissa and exponent; a tensor (version 2) is its four dimensions and raw little-endian
float32 values. Layers are stored input first. The network is dlib's `anet_type`
(examples/dnn_face_recognition_ex.cpp); `_read_layers` checks each layer it reads against
that architecture, so a different file fails loudly instead of giving other numbers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

CHIP_SIZE = 150  # dlib's input_rgb_image_sized<150>
CHIP_PADDING = 0.25  # compute_face_descriptor's default padding around the 5-point face
# (filters, residual blocks after the downsampling one) of each level after the first: alevel3..alevel0
LEVELS = ((64, 3), (128, 2), (256, 2), (256, 0))
FIRST_LEVEL = (32, 3)  # alevel4: three residual blocks, no downsampling
_LAYER_NAME = re.compile(rb"con_4|affine_|fc_2|input_rgb_image_sized|max_pool_2|avg_pool_2")


class _Reader:
    """dlib's serialization format, read from a byte position onwards."""

    def __init__(self, data: bytes, position: int) -> None:
        self.data, self.position = data, position

    def integer(self) -> int:
        control = self.data[self.position]
        count = control & 0x0F
        value = int.from_bytes(self.data[self.position + 1:self.position + 1 + count], "little")
        self.position += 1 + count
        return -value if control & 0x80 else value

    def string(self) -> str:
        length = self.integer()
        text = self.data[self.position:self.position + length]
        self.position += length
        return text.decode("latin-1")

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        return mantissa * 2.0 ** exponent

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise ValueError(f"dlib tensor version {version}, expected 2")
        size = int(np.prod([self.integer() for _ in range(4)]))
        values = np.frombuffer(self.data, dtype="<f4", count=size, offset=self.position)
        self.position += 4 * size
        return values.astype(np.float32)


@dataclass
class _Conv:
    weights: np.ndarray  # (filters, channels, size, size) as stored; then (size·size·channels, filters)
    bias: np.ndarray
    size: int
    stride: int
    padding: int


@dataclass
class _Affine:  # a batch normalisation frozen into a per-channel scale and shift
    scale: np.ndarray
    shift: np.ndarray


@dataclass
class _Pool:
    size: int  # 0: the whole image (avg_pool_everything)
    stride: int
    padding: int


def _read_layers(data: bytes) -> list[object]:
    """The layers with parameters (and the pools), input first, as stored in the file."""
    layers: list[object] = []
    position = 0
    while match := _LAYER_NAME.search(data, position):
        reader = _Reader(data, match.start() - 2)  # a name under 256 bytes: two bytes of length
        name = reader.string()
        if name != match.group().decode():
            raise ValueError(f"dlib descriptor file: {match.group()!r} at byte {match.start()} is not a layer name")
        if name == "con_4":
            params = reader.tensor()
            filters, rows, columns, stride, _, padding, _ = (reader.integer() for _ in range(7))
            channels = (params.size - filters) // (filters * rows * columns)
            weights = params[:filters * channels * rows * columns].reshape(filters, channels, rows, columns)
            layers.append(_Conv(weights, params[weights.size:], rows, stride, padding))
        elif name == "affine_":
            params = reader.tensor()
            layers.append(_Affine(params[:params.size // 2], params[params.size // 2:]))
        elif name == "fc_2":
            outputs, inputs = reader.integer(), reader.integer()
            layers.append(reader.tensor().reshape(inputs, outputs))
        elif name == "input_rgb_image_sized":
            layers.append(np.array([reader.real() for _ in range(3)], dtype=np.float32))  # mean R, G, B
        else:  # max_pool_2, avg_pool_2
            rows, _, stride, _, padding, _ = (reader.integer() for _ in range(6))
            layers.append(_Pool(rows, stride, padding))
        position = reader.position
    return layers


class DescriptorNet:
    """dlib's face ResNet: 150×150 RGB chips → 128-d descriptors (the `loss_metric` output, unnormalised)."""

    def __init__(self, model_file: Path) -> None:
        layers = iter(_read_layers(model_file.read_bytes()))
        self.mean = self._expect(layers, np.ndarray, "input mean")
        self.stem = (self._conv(layers, 32, 7, 2), self._expect(layers, _Affine, "affine"))
        self.stem_pool = self._expect(layers, _Pool, "max pool")
        self.levels = [[self._block(layers, FIRST_LEVEL[0], down=False) for _ in range(FIRST_LEVEL[1])]]
        for filters, repeats in LEVELS:
            level = [self._block(layers, filters, down=True)]
            level += [self._block(layers, filters, down=False) for _ in range(repeats)]
            self.levels.append(level)
        if self._expect(layers, _Pool, "average over everything").size != 0:
            raise ValueError("dlib descriptor file: expected avg_pool_everything before the last layer")
        self.projection = self._expect(layers, np.ndarray, "fc weights")
        if self.projection.shape != (256, 128) or next(layers, None) is not None:
            raise ValueError("dlib descriptor file: expected a 256 → 128 fc layer at the end")

    @staticmethod
    def _expect(layers, kind: type, what: str):
        layer = next(layers, None)
        if not isinstance(layer, kind):
            raise ValueError(f"dlib descriptor file: expected {what}, found {type(layer).__name__}")
        return layer

    def _conv(self, layers, filters: int, size: int, stride: int) -> _Conv:
        conv = self._expect(layers, _Conv, "convolution")
        if conv.weights.shape[0] != filters or conv.weights.shape[2:] != (size, size) or conv.stride != stride:
            raise ValueError(f"dlib descriptor file: unexpected convolution {conv.weights.shape}, stride {conv.stride}")
        # (filters, channels, rows, columns) → (rows·columns·channels, filters): the im2col product's order
        conv.weights = np.ascontiguousarray(conv.weights.transpose(2, 3, 1, 0).reshape(-1, filters))
        return conv

    def _block(self, layers, filters: int, down: bool):
        """One residual block: conv (stride 2 when down) → affine → relu → conv → affine (+ the shortcut's pool when down)."""
        first = (self._conv(layers, filters, 3, 2 if down else 1), self._expect(layers, _Affine, "affine"))
        second = (self._conv(layers, filters, 3, 1), self._expect(layers, _Affine, "affine"))
        pool = self._expect(layers, _Pool, "shortcut average pool") if down else None
        return first, second, pool

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        """(n, 150, 150, 3) uint8 RGB chips → (n, 128) float32 descriptors."""
        x = (chips.astype(np.float32) - self.mean) / np.float32(256)  # dlib's input_rgb_image scaling
        x = np.maximum(_affine(_convolve(x, self.stem[0]), self.stem[1]), 0)
        x = _pool(x, self.stem_pool, np.max)
        for level in self.levels:
            for first, second, pool in level:
                y = np.maximum(_affine(_convolve(x, first[0]), first[1]), 0)
                y = _affine(_convolve(y, second[0]), second[1])
                x = np.maximum(_add(y, x if pool is None else _pool(x, pool, np.mean)), 0)
        return x.mean(axis=(1, 2)) @ self.projection


def _convolve(x: np.ndarray, conv: _Conv) -> np.ndarray:
    """dlib's con_ (cross-correlation, zero padding) on (n, rows, columns, channels) as one matrix product."""
    p = conv.padding
    if p:
        x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    windows = sliding_window_view(x, (conv.size, conv.size), axis=(1, 2))[:, ::conv.stride, ::conv.stride]
    n, rows, columns = windows.shape[:3]
    # (row, column, channel) order, as the weights: the copy reads whole runs of channels
    columns_matrix = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * rows * columns, -1)
    return (columns_matrix @ conv.weights + conv.bias).reshape(n, rows, columns, -1)


def _affine(x: np.ndarray, affine: _Affine) -> np.ndarray:
    return x * affine.scale + affine.shift


def _pool(x: np.ndarray, pool: _Pool, reduce) -> np.ndarray:
    if pool.padding:
        raise ValueError("padded pooling is not part of dlib's face descriptor network")
    windows = sliding_window_view(x, (pool.size, pool.size), axis=(1, 2))[:, ::pool.stride, ::pool.stride]
    return reduce(windows, axis=(4, 5))


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's add_prev: the sum over the larger of each dimension, missing entries counted as zero.

    A downsampling block's shortcut can be one row and column larger than its convolutions'
    output (e.g. 4×4 against 3×3 after an 8×8 input) and has half the channels.
    """
    out = np.zeros(tuple(max(i, j) for i, j in zip(a.shape, b.shape)), dtype=np.float32)
    out[:, :a.shape[1], :a.shape[2], :a.shape[3]] += a
    out[:, :b.shape[1], :b.shape[2], :b.shape[3]] += b
    return out


@lru_cache(maxsize=None)
def descriptor_net(model_file: Path) -> DescriptorNet:
    return DescriptorNet(model_file)
