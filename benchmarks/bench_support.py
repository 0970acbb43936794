"""What the face benchmarks share: the data folder, progress, timing, tables and synthetic posters.

Every benchmark reads the real data under ../shared/data (never copied into the repository) and
compares against a baseline run in the same invocation, so only the helpers that make those runs
comparable live here.
"""
from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from postercensus.classify.recipes.data import DATA, progress, require_data  # noqa: F401  (the recipe's, shared)

NK_FACES = DATA / "nk-poster-faces" / "train"
POSTER_SIZE = (800, 1100)  # width, height: a typical digitised poster's proportions
BACKGROUNDS = 4  # reused, so thousands of posters cost one paste and one JPEG encode each
POSTER_QUALITY = 85


@dataclass
class Stopwatch:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    """Wall-clock seconds of the `with` body (wall clock: process pools work outside this process)."""
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


def cpu_count() -> int:
    """Cores this process may use: every parallel figure is relative to it."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def per_minute(count: int, seconds: float) -> float:
    return count * 60 / seconds if seconds > 0 else float("inf")


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}×" if baseline else "n/a"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> None:
    """A plain aligned text table: first column left-aligned, the numbers right-aligned."""
    cells = [list(map(str, headers))] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        )

    if title:
        print(title)
    print(line(cells[0]))
    print("  ".join("-" * width for width in widths))
    for row in cells[1:]:
        print(line(row))
    print()


def _background(rng: np.random.Generator) -> np.ndarray:
    """A vertical two-colour gradient with mild 8-px block noise: some texture, no faces.

    Mild, because strong noise makes HOG with a negative threshold propose boxes everywhere,
    which would time the noise rather than the posters.
    """
    width, height = POSTER_SIZE
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    weights = np.linspace(0, 1, height)[:, None, None]
    gradient = top * (1 - weights) + bottom * weights
    noise = rng.normal(0, 8, (-(-height // 8), -(-width // 8), 3)).repeat(8, axis=0).repeat(8, axis=1)
    return np.clip(gradient + noise[:height, :width], 0, 255).astype(np.uint8)


class PosterFactory:
    """Synthetic posters: a reused background with 1–3 NK poster face crops pasted at random places.

    The RNG is seeded, so a run makes the same posters every time; crops are taken in turn, so
    every one of the 220 is used before any repeats. Each poster differs (positions, scales),
    which keeps a content-addressed image store from collapsing them into one file.
    """

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.backgrounds = [Image.fromarray(_background(self.rng)) for _ in range(BACKGROUNDS)]
        self.crops = [Image.open(path).convert("RGB") for path in sorted(NK_FACES.glob("*/*.jpg"))]
        if not self.crops:
            raise FileNotFoundError(f"no face crops under {NK_FACES}")
        self.next_crop = 0

    def _paste_face(self, poster: Image.Image) -> None:
        crop = self.crops[self.next_crop % len(self.crops)]
        self.next_crop += 1
        edge = int(crop.width * self.rng.uniform(1.0, 2.5))
        face = crop.resize((edge, edge), Image.BILINEAR)
        left = int(self.rng.integers(0, poster.width - edge))
        top = int(self.rng.integers(0, poster.height - edge))
        poster.paste(face, (left, top))

    def poster(self, index: int) -> bytes:
        """Poster number `index` as JPEG bytes."""
        poster = self.backgrounds[index % len(self.backgrounds)].copy()
        for _ in range(int(self.rng.integers(1, 4))):
            self._paste_face(poster)
        buffer = io.BytesIO()
        poster.save(buffer, format="JPEG", quality=POSTER_QUALITY)
        return buffer.getvalue()


def synthetic_posters(count: int, seed: int = 0) -> list[bytes]:
    """`count` synthetic posters in memory (for runs that time detection, not file reading)."""
    factory = PosterFactory(seed)
    return [factory.poster(index) for index in range(count)]


def write_posters(folder: Path, count: int, seed: int = 0) -> None:
    """Write `count` synthetic posters as poster-00000.jpg … into `folder`."""
    factory = PosterFactory(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"poster-{index:05d}.jpg").write_bytes(factory.poster(index))
        if (index + 1) % 500 == 0:
            progress(f"  wrote {index + 1}/{count} posters")
