"""Where the 68-point aligner puts the nose tip and mouth corners: the source of faces.align.CANONICAL_POINTS.

Every NK poster face (../shared/data/nk-poster-faces, 112 px crops, enlarged to 200 px on a
grey canvas) that HOG finds once is aligned as `faces detect` aligns it without detector
landmarks (eyes of dlib's 68-point shape on the canonical line); the script prints where the
eye centres, the nose tip (point 30) and the outer mouth corners (48, 54) land, as the median
over faces, in pixels of the 224 px crop and as fractions of it. The eyes land exactly on the
canonical line by construction; the other three are what the five-point alignment aims for.

    python benchmarks/faces_canonical_points.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import NK_FACES, require_data  # noqa: E402
from postercensus.faces.align import ALIGNED_SIZE, alignment_matrix, shape_of, shape_points  # noqa: E402
from postercensus.faces.detectors import HogDetector  # noqa: E402

NAMES = ("image-left eye", "image-right eye", "nose tip", "image-left mouth corner", "image-right mouth corner")


def aligned_points(path: Path, detector: HogDetector) -> np.ndarray | None:
    """The five points of one face in its 68-point-aligned crop, or None unless HOG finds exactly one face."""
    canvas = Image.new("RGB", (400, 400), (200, 200, 200))
    with Image.open(path) as crop:
        canvas.paste(crop.convert("RGB").resize((200, 200), Image.BICUBIC), (100, 100))
    rgb = np.asarray(canvas).copy()
    boxes = detector.detect(rgb)
    if len(boxes) != 1:
        return None
    points68 = shape_points(shape_of(rgb, boxes[0], 68))
    chosen = np.array([points68[36:42].mean(axis=0), points68[42:48].mean(axis=0), points68[30], points68[48],
                       points68[54]])
    return np.c_[chosen, np.ones(5)] @ alignment_matrix(points68).T


def main() -> None:
    require_data(NK_FACES)
    detector = HogDetector(1)
    found = [points for path in sorted(NK_FACES.rglob("*.jpg")) if (points := aligned_points(path, detector)) is not None]
    median = np.median(np.array(found), axis=0)
    print(f"{len(found)} faces; median position in the {ALIGNED_SIZE} px crop (pixels, fractions):")
    for name, (x, y) in zip(NAMES, median):
        print(f"  {name:26s} {x:6.1f} {y:6.1f}   {x / ALIGNED_SIZE:.3f} {y / ALIGNED_SIZE:.3f}")


if __name__ == "__main__":
    main()
