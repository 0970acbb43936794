"""Small generated images for tests that need real, decodable image bytes."""
from __future__ import annotations

import io

from PIL import Image


def make_jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A valid JPEG whose colour depends on `seed`, so different seeds hash differently."""
    colour = ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256)
    image = Image.new("RGB", (width, height), colour)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()
