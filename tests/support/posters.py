"""Generated "posters": a noisy gradient background with real NK face crops pasted at known places.

The crops are real 112×112 faces from ../shared/data/nk-poster-faces (named <poster id>_<n>.jpg).
`VERIFIED_FACES` lists crops that dlib's HOG detector (upsample 1) and OpenCV's frontal Haar
cascade each find on their own, also when enlarged to 160 px on a plain background, so a test
that misses one of them measures the code under test and not a borderline face. Every crop in
the list is a different person except where noted.

A pasted crop's square is the expected box: a detector's box for that face has its centre
inside it (detectors box the inner face, smaller than the crop's square).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

FACES_DIR = Path("nk-poster-faces") / "train"

VERIFIED_FACES = (
    "female/132848_0.jpg",
    "male/132832_0.jpg",
    "female/133013_0.jpg",
    "male/132994_0.jpg",
    "female/132791_0.jpg",
    "male/132907_0.jpg",
    "female/132906_0.jpg",
    "male/132823_0.jpg",
    "female/132959_0.jpg",
    "male/132869_0.jpg",
    "female/132808_0.jpg",
    "male/132920_0.jpg",
)

# Found by HOG (score ≈ 1.9 at 150–180 px) but by neither Haar cascade: an ensemble with
# min_votes=2 must drop it.
HOG_ONLY_FACE = "female/132870_0.jpg"

BACKGROUNDS = (
    ((230, 210, 170), (120, 60, 50)),  # cream to brown
    ((40, 70, 120), (200, 200, 220)),  # navy to pale blue
    ((210, 230, 200), (60, 110, 60)),  # pale green to dark green
    ((240, 240, 240), (90, 90, 90)),  # white to grey
)


@dataclass(frozen=True)
class Placement:
    """One face crop pasted as a size×size square with its top-left corner at (left, top)."""

    face: str  # relative to FACES_DIR, e.g. "female/132848_0.jpg"
    left: int
    top: int
    size: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.left, self.top, self.left + self.size, self.top + self.size

    def contains(self, x: float, y: float) -> bool:
        left, top, right, bottom = self.box
        return left <= x < right and top <= y < bottom


@dataclass
class Poster:
    image: Image.Image
    placements: tuple[Placement, ...]

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def rgb(self) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(self.image.convert("RGB"), dtype=np.uint8))

    def jpeg(self, quality: int = 92) -> bytes:
        buffer = io.BytesIO()
        self.image.convert("RGB").save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()

    def save(self, path: Path, quality: int = 92) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.jpeg(quality))
        return path


def face_path(shared_data: Path, face: str) -> Path:
    return shared_data / FACES_DIR / face


def background(width: int, height: int, seed: int = 0, colours: tuple | None = None, noise: float = 8.0) -> Image.Image:
    """A vertical two-colour gradient with Gaussian noise (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    top, bottom = colours or BACKGROUNDS[seed % len(BACKGROUNDS)]
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    pixels = np.array(top, dtype=np.float64) * (1 - ramp) + np.array(bottom, dtype=np.float64) * ramp
    pixels = np.broadcast_to(pixels, (height, width, 3)) + rng.normal(0.0, noise, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")


def make_poster(shared_data: Path, placements: Sequence[Placement], size: tuple[int, int] = (900, 1200),
                seed: int = 0, colours: tuple | None = None, noise: float = 8.0) -> Poster:
    """A width×height poster with each placement's crop resized (bicubic) and pasted."""
    image = background(size[0], size[1], seed, colours, noise)
    for placement in placements:
        with Image.open(face_path(shared_data, placement.face)) as crop:
            face = crop.convert("RGB").resize((placement.size, placement.size), Image.BICUBIC)
        image.paste(face, (placement.left, placement.top))
    return Poster(image, tuple(placements))


def standard_poster(shared_data: Path) -> Poster:
    """900×1200, four faces of 120–200 px well apart: the detectors' common test image."""
    return make_poster(shared_data, [
        Placement(VERIFIED_FACES[0], 100, 150, 180),
        Placement(VERIFIED_FACES[1], 550, 200, 150),
        Placement(VERIFIED_FACES[2], 300, 700, 120),
        Placement(VERIFIED_FACES[3], 600, 850, 200),
    ], seed=0)


def small_poster(shared_data: Path, index: int, size: tuple[int, int] = (600, 800)) -> Poster:
    """One of a family of distinct 600×800 posters with two faces each (for CLI runs).

    Poster `index` uses faces 2·index and 2·index+1 of VERIFIED_FACES (cycling), its own
    background and positions, so every poster has different bytes.
    """
    count = len(VERIFIED_FACES)
    first, second = VERIFIED_FACES[(2 * index) % count], VERIFIED_FACES[(2 * index + 1) % count]
    shift = (index * 37) % 80
    return make_poster(shared_data, [
        Placement(first, 60 + shift, 80, 170),
        Placement(second, 330 - shift, 470, 150),
    ], size=size, seed=index)


# -- comparing detections with the placements -------------------------------------------------

def _centre(box) -> tuple[float, float]:
    if hasattr(box, "centre"):
        return box.centre
    left, top, right, bottom = box[:4]
    return (left + right) / 2, (top + bottom) / 2


def match(boxes: Iterable, placements: Sequence[Placement]) -> tuple[list[list], list]:
    """(boxes whose centre lies in each placement, boxes that lie in none)."""
    found: list[list] = [[] for _ in placements]
    stray: list = []
    for box in boxes:
        x, y = _centre(box)
        hits = [i for i, p in enumerate(placements) if p.contains(x, y)]
        if hits:
            found[hits[0]].append(box)
        else:
            stray.append(box)
    return found, stray


def assert_finds_faces(boxes: Sequence, placements: Sequence[Placement], max_stray: int = 0) -> list:
    """Each placement has exactly one box centred in it, and at most `max_stray` boxes elsewhere.

    Returns the matched box for each placement, in placement order.
    """
    found, stray = match(boxes, placements)
    missing = [placements[i] for i, hits in enumerate(found) if not hits]
    doubled = [(placements[i], hits) for i, hits in enumerate(found) if len(hits) > 1]
    assert not missing, f"no box centred in {missing}; boxes: {list(boxes)}"
    assert not doubled, f"more than one box per face: {doubled}"
    assert len(stray) <= max_stray, f"{len(stray)} box(es) away from every pasted face: {stray}"
    return [hits[0] for hits in found]
