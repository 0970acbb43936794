"""Content-addressed image files under `<home>/images/`.

A file's name is its SHA-256, so the same image harvested twice (or from two sources) is
stored once, a half-written file never has a final name (temp file + atomic rename), and a
catalogue row can always be checked against the bytes it points to.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from dataclasses import dataclass
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from PIL import Image, UnidentifiedImageError

from postercensus.catalog.layout import IMAGES_DIRNAME, HomeLayout
from postercensus.catalog.tempfiles import make_temp

# Our own cap, checked on the header before any decoding. Pillow refuses images over twice its
# MAX_IMAGE_PIXELS (~179 M) by itself, so the cap is kept under that: one rule, one message.
DEFAULT_MAX_PIXELS = 175_000_000
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".webp", ".bmp", ".jp2")
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "TIFF": "tif", "WEBP": "webp",
               "BMP": "bmp", "JPEG2000": "jp2", "MPO": "jpg"}


class InvalidImage(ValueError):
    """The bytes are not an image Pillow can read (or exceed the pixel cap)."""


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    relative_path: str
    format: str
    width: int
    height: int
    bytes: int
    already_stored: bool


@contextmanager
def open_capped(source: Path | BinaryIO, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[Image.Image]:
    """Pillow's Image.open, refusing images over `max_pixels` before decoding them.

    Every failure to open becomes InvalidImage with a reason a researcher can act on.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our cap decides
            image = Image.open(source)
    except UnidentifiedImageError as error:
        raise InvalidImage("not an image (Pillow cannot identify the format)") from error
    except Image.DecompressionBombError as error:
        raise InvalidImage(f"decompression bomb refused: {error}") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"corrupt or truncated image: {error}") from error
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise InvalidImage(
                f"{width}x{height} pixels exceeds the cap of {max_pixels:,} (possible decompression bomb)"
            )
        yield image


def inspect_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[str, int, int]:
    """(format, width, height) after Pillow has verified and fully decoded the file, else InvalidImage."""
    if path.stat().st_size == 0:
        raise InvalidImage("empty file (0 bytes)")
    try:
        with open_capped(path, max_pixels) as image:
            width, height = image.size
            image.verify()
        with open_capped(path, max_pixels) as image:
            image.load()  # verify() does not decode JPEG data: a cut-off file only fails here
            return image.format or "unknown", width, height
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, InvalidImage):
            raise
        raise InvalidImage(f"corrupt or truncated image: {error}") from error


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ImageFiles:
    """The folder of stored images; adopts verified temp files under their hash."""

    def __init__(self, home: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        layout = HomeLayout(home)
        self.root = layout.images
        self.incoming = layout.incoming
        self.max_pixels = max_pixels

    def adopt(self, temp_file: Path) -> StoredImage:
        """Verify `temp_file`, move it to its content address (or drop it if already there)."""
        try:
            image_format, width, height = inspect_image(temp_file, self.max_pixels)
            sha256 = _sha256_of(temp_file)
            size = temp_file.stat().st_size
            extension = _EXTENSIONS.get(image_format, image_format.lower())
            relative = Path(IMAGES_DIRNAME) / sha256[:2] / sha256[2:4] / f"{sha256}.{extension}"
            target = self.root.parent / relative
            already = target.exists()
            if not already:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp_file, target)
            return StoredImage(sha256, relative.as_posix(), image_format, width, height, size, already)
        finally:
            temp_file.unlink(missing_ok=True)

    def copy_in(self, source: Path) -> StoredImage:
        """Store a local file (the user's original stays untouched)."""
        handle, temp = make_temp(self.incoming)
        os.close(handle)
        try:
            shutil.copyfile(source, temp)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return self.adopt(temp)
