"""`load_rgb`: whatever an archive scanned → upright 8-bit RGB, or a BadImage with a reason.

Also `process_image`, which must turn every BadImage into a per-image `.error` instead of
raising, so one bad scan never stops a run.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from postercensus.faces.imageload import BadImage, load_rgb
from postercensus.faces.pipeline import process_image
from postercensus.faces.settings import FaceSettings
from tests.support.badimages import bomb_png, header_only_png, truncated_jpeg
from tests.support.images import make_jpeg
from tests.support.posters import Poster, assert_finds_faces, small_poster

ORIENTATION = 0x0112


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def gradient_rgb(width: int = 120, height: int = 80) -> np.ndarray:
    x = np.linspace(0, 255, width)[None, :]
    y = np.linspace(0, 255, height)[:, None]
    return np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)),
                     np.full((height, width), 90.0)], axis=2).astype(np.uint8)


def _assert_rgb(array: np.ndarray, width: int, height: int) -> None:
    assert array.dtype == np.uint8
    assert array.shape == (height, width, 3)
    assert array.flags["C_CONTIGUOUS"]


# -- formats that must load ------------------------------------------------------------------

def test_plain_rgb_jpeg_and_png():
    rgb = gradient_rgb()
    for data in (_encode(Image.fromarray(rgb), "PNG"), _encode(Image.fromarray(rgb), "JPEG", quality=95)):
        loaded = load_rgb(data)
        _assert_rgb(loaded, 120, 80)
        assert np.abs(loaded.astype(int) - rgb).mean() < 3


def test_cmyk_jpeg_becomes_rgb_with_the_same_colours():
    rgb = gradient_rgb()
    data = _encode(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "CMYK"

    loaded = load_rgb(data)

    _assert_rgb(loaded, 120, 80)
    assert np.abs(loaded.astype(int) - rgb).mean() < 4


def test_16_bit_png_is_stretched_to_the_full_8_bit_range():
    ramp = np.linspace(1000, 41000, 120)[None, :].repeat(80, axis=0).astype(np.uint16)
    data = _encode(Image.fromarray(ramp), "PNG")
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "I;16"

    loaded = load_rgb(data)

    _assert_rgb(loaded, 120, 80)
    assert (loaded[:, :, 0] == loaded[:, :, 1]).all() and (loaded[:, :, 1] == loaded[:, :, 2]).all()
    assert loaded.min() == 0, "the darkest used value becomes black"
    assert loaded.max() == 255, (
        f"the brightest used value must become white (0..255 stretch), got {loaded.max()}: "
        "faces/imageload.py truncates the scaled floats with astype(uint8) instead of rounding"
    )
    assert (np.diff(loaded[0, :, 0].astype(int)) >= 0).all(), "brightness order is kept"


def test_grayscale_becomes_three_equal_channels():
    gray = gradient_rgb()[:, :, 0]
    loaded = load_rgb(_encode(Image.fromarray(gray, mode="L"), "PNG"))

    _assert_rgb(loaded, 120, 80)
    assert (loaded[:, :, 0] == gray).all() and (loaded[:, :, 1] == gray).all() and (loaded[:, :, 2] == gray).all()


def test_palette_with_transparency_is_composited_on_white():
    image = Image.new("P", (40, 30), 1)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    image.paste(0, (0, 0, 20, 30))  # index 0 is transparent: the left half
    data = _encode(image, "PNG", transparency=0)
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "P" and "transparency" in check.info

    loaded = load_rgb(data)

    _assert_rgb(loaded, 40, 30)
    assert (loaded[:, :20] == 255).all(), "transparent pixels become white, not palette black"
    assert (loaded[:, 20:] == (200, 30, 30)).all()


def test_rgba_is_composited_on_white():
    rgba = np.zeros((30, 40, 4), dtype=np.uint8)
    rgba[:, :, :3] = (10, 120, 200)
    rgba[:, 20:, 3] = 255  # left half fully transparent
    loaded = load_rgb(_encode(Image.fromarray(rgba, mode="RGBA"), "PNG"))

    assert (loaded[:, :20] == 255).all()
    assert (loaded[:, 20:] == (10, 120, 200)).all()


def _block_means_differ(a: np.ndarray, b: np.ndarray, block: int = 20) -> float:
    """Mean absolute difference of block×block averages (JPEG noise averages out; a turned image does not)."""
    assert a.shape == b.shape
    height, width = (a.shape[0] // block) * block, (a.shape[1] // block) * block

    def means(x: np.ndarray) -> np.ndarray:
        return x[:height, :width].astype(np.float64).reshape(height // block, block, width // block, block, 3).mean(axis=(1, 3))

    return float(np.abs(means(a) - means(b)).mean())


@pytest.fixture(scope="module")
def upright(shared_data: Path) -> Poster:
    return small_poster(shared_data, 3)


@pytest.mark.parametrize("orientation,stored_as", [
    (6, Image.Transpose.ROTATE_90),  # 6: the viewer turns it 90° clockwise
    (8, Image.Transpose.ROTATE_270),  # 8: 90° counter-clockwise
    (3, Image.Transpose.ROTATE_180),
])
def test_exif_rotated_photo_is_turned_upright_and_its_faces_found_there(upright, orientation, stored_as):
    stored = upright.image.transpose(stored_as)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    data = _encode(stored, "JPEG", quality=95, exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as check:
        assert check.size == stored.size and check.getexif()[ORIENTATION] == orientation

    loaded = load_rgb(data)

    width, height = upright.size
    _assert_rgb(loaded, width, height)
    assert _block_means_differ(loaded, upright.rgb()) < 3, "pixels match the upright poster"
    if orientation == 3:
        assert _block_means_differ(loaded, upright.rgb()[::-1, ::-1]) > 10, "and not the stored (upside-down) one"
    result = process_image(data, FaceSettings(), describe=False)
    assert result.error is None
    assert (result.width, result.height) == (width, height)
    assert_finds_faces([face.box for face in result.faces], upright.placements)


# -- bytes that must be refused --------------------------------------------------------------

BAD = {
    "truncated JPEG": (truncated_jpeg, "truncated"),
    "JPEG cut inside its header": (lambda: make_jpeg(300, 200, seed=4, noise=True)[:300], "corrupt or truncated"),
    "zero bytes": (lambda: b"", "empty file"),
    "text": (lambda: b"file,left,top\nthis is not a picture\n" * 10, "not an image"),
    "HTML error page": (lambda: b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "not an image"),
    "decompression bomb": (bomb_png, "decompression bomb"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_unreadable_bytes_raise_bad_image_with_a_reason(kind):
    make, reason = BAD[kind]

    with pytest.raises(BadImage, match=reason):
        load_rgb(make())


@pytest.mark.parametrize("kind", list(BAD))
def test_process_image_returns_the_error_instead_of_raising(kind):
    make, reason = BAD[kind]

    result = process_image(make(), FaceSettings())

    assert result.error is not None and reason in result.error
    assert result.faces == []


def test_bomb_header_is_refused_from_its_header_alone():
    data = bomb_png()
    assert len(data) < 1000, "3.6 G pixels claimed in under a kilobyte"

    with pytest.raises(BadImage, match=r"decompression bomb") as refused:
        load_rgb(data)
    assert "60000x60000" in str(refused.value) or "3600000000" in str(refused.value), "the message names the size"


def test_max_pixels_cap_refuses_a_normal_image_over_it():
    data = make_jpeg(300, 200, seed=1)

    with pytest.raises(BadImage, match=r"300x200 pixels exceeds the cap of 59,999"):
        load_rgb(data, max_pixels=59_999)
    assert load_rgb(data, max_pixels=60_000).shape == (200, 300, 3)

    result = process_image(data, FaceSettings(max_pixels=59_999))
    assert result.error is not None and "exceeds the cap" in result.error
    assert process_image(data, FaceSettings(max_pixels=60_000)).error is None


def test_max_pixels_above_pillows_own_limit_is_honoured():
    """A 95-megapixel scan (e.g. A1 at 400 dpi) is under the default cap of 200 M pixels.

    It must not be refused as a "decompression bomb": the file here is cut after its header,
    so the right answer is "truncated". Pillow's own MAX_IMAGE_PIXELS (≈89.5 M) must not
    silently replace the configured cap.
    """
    data = header_only_png(10_000, 9_500, colour_type=0)  # 8-bit greyscale: 95 MB if decoded
    settings = FaceSettings()
    assert 10_000 * 9_500 < settings.max_pixels

    with pytest.raises(BadImage) as refused:
        load_rgb(data, settings.max_pixels)

    message = str(refused.value)
    assert "decompression bomb" not in message and "exceeds" not in message, (
        f"a 95 MP image under max_pixels={settings.max_pixels:,} was refused as a bomb: {message}"
    )
    assert "truncated" in message


@pytest.mark.parametrize("size", [(1, 1), (5, 5), (3000, 4), (4, 3000)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_tiny_and_extreme_images_never_raise(size):
    data = _encode(Image.new("RGB", size, (128, 128, 128)), "PNG")
    for settings in (FaceSettings(), FaceSettings(detector="ensemble", tile=128, resize=0.1)):
        result = process_image(data, settings)

        assert result.error is None and result.faces == []
        assert (result.width, result.height) == size
