"""Bytes that look like image files but are not readable ones, for the face stage's error paths."""
from __future__ import annotations

import struct
import zlib

from tests.support.images import make_jpeg


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def header_only_png(width: int, height: int, colour_type: int = 2) -> bytes:
    """A PNG whose IHDR claims width×height but whose pixel data is a few hundred bytes.

    Written by hand, so building it never allocates the claimed image (a decompression bomb's
    shape when the size is huge; a truncated file otherwise). colour_type 2 = RGB, 0 = grey.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 300)) + _png_chunk(b"IEND", b""))


def bomb_png() -> bytes:
    """A 60000×60000 PNG header (3.6 G pixels) in under 1 kB."""
    return header_only_png(60_000, 60_000)


def truncated_jpeg(seed: int = 4) -> bytes:
    """A noisy 300×200 JPEG cut in the middle of its scan data."""
    data = make_jpeg(300, 200, seed=seed, noise=True)
    return data[: len(data) // 2]
