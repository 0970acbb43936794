"""Image bytes → an 8-bit RGB array the detectors can read, or a per-image error.

Posters arrive as whatever the archive scanned: CMYK JPEGs, 16-bit TIFFs, grayscale, palette
PNGs with transparency, phone photos rotated by an EXIF tag. Each is brought to upright 8-bit
RGB here, once, so every detector sees the same pixels; anything unreadable becomes a
`BadImage` with a reason instead of stopping the run.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

from postercensus.catalog.imagefiles import DEFAULT_MAX_PIXELS, InvalidImage, open_capped

BadImage = InvalidImage  # the face stage's name for it: these bytes cannot be turned into a picture


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float scans: stretch the used range to 0..255 instead of clipping to white
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        image = Image.fromarray(np.rint((values - low) * scale).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


def upright_rgb(image: Image.Image) -> np.ndarray:
    """An opened image as an upright H×W×3 uint8 array (EXIF rotation applied); raises BadImage.

    Also for a picture already in memory (`pc.find_faces` given a PIL image), so it reaches the
    detectors as the same pixels its file would.
    """
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        return np.ascontiguousarray(np.asarray(_to_rgb(upright), dtype=np.uint8))
    except (OSError, SyntaxError, ValueError) as error:
        raise BadImage(f"corrupt or truncated image: {error}") from error


def load_rgb(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode `data` into an upright H×W×3 uint8 array; raises BadImage."""
    if not data:
        raise BadImage("empty file (0 bytes)")
    with open_capped(io.BytesIO(data), max_pixels) as image:
        return upright_rgb(image)
