"""Small generated images for tests that need real, decodable image bytes."""
from __future__ import annotations

import io
import random

from PIL import Image


def make_jpeg(width: int = 64, height: int = 48, seed: int = 0, noise: bool = False) -> bytes:
    """A valid JPEG whose colour depends on `seed`, so different seeds hash differently.

    `noise=True` fills it with random pixels, so the compressed scan data is large (for
    tests that cut a file in the middle of its pixel data).
    """
    if noise:
        image = Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))
    else:
        colour = ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256)
        image = Image.new("RGB", (width, height), colour)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()
