"""Labelled faces for the classify benchmarks and the default model: NK poster crops and UTKFace.

Describing ten thousand faces takes minutes, so samples (descriptor, aligned crop, whether a face
was detected) are cached per file list in an .npz under --cache; the cache key is the list of
files and the face settings, so a changed list or setting recomputes.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench_support import progress
from classify.facesamples import FOLDER_FACE_SETTINGS, FaceSample, samples_from_files
from classify.labelled import group_of
from faces.executors import make_executor

DEFAULT_CACHE = Path("/tmp/postercensus-classify-cache")


@dataclass
class LabelledFaces:
    paths: list[Path]
    labels: list[str]
    groups: list[str]
    extra: list[dict[str, str]]  # UTKFace's race and age columns ({} for NK)
    samples: list[FaceSample]


FileRow = tuple[Path, str, str, dict[str, str]]  # path, label, group, extra columns


def nk_files(data: Path) -> list[FileRow]:
    """(path, label, group = poster id, {}) for the NK poster face crops."""
    folder = data / "nk-poster-faces" / "train"
    return [(path, label, group_of(path), {}) for label in ("female", "male")
            for path in sorted((folder / label).glob("*.jpg"))]


def utk_files(data: Path) -> list[FileRow]:
    """(path, label, group = file, race and age) for UTKFace (one face per photo: its own group)."""
    folder = data / "utkface"
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: row["file"])
    return [(folder / "images" / row["file"], row["gender"], row["file"], {"race": row["race"], "age": row["age"]}) for row in rows
            if (folder / "images" / row["file"]).is_file() and row["gender"] in ("female", "male")]


def _cache_file(cache: Path, name: str, paths: list[Path]) -> Path:
    key = json.dumps({"files": [str(p) for p in paths], "settings": FOLDER_FACE_SETTINGS.parameters()})
    return cache / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"


def load_faces(name: str, files: list[FileRow], cache: Path = DEFAULT_CACHE,
               workers: int | None = None) -> LabelledFaces:
    """Samples for every readable file, from the cache when it has them."""
    paths = [row[0] for row in files]
    cached = _cache_file(cache, name, paths)
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as stored:
            keep = stored["keep"]
            samples = [FaceSample(d, crop_jpeg=bytes(c), detected=bool(f))
                       for d, c, f in zip(stored["descriptors"], stored["crops"], stored["detected"])]
    else:
        progress(f"describing {len(paths)} {name} faces (cached afterwards in {cached})")
        found: dict[Path, FaceSample] = {}
        executor = make_executor(workers, None)
        try:
            for done, (path, sample) in enumerate(samples_from_files(paths, executor, lambda p, m: progress(f"{p}: {m}")), 1):
                found[path] = sample
                if done % 500 == 0:
                    progress(f"  {done}/{len(paths)}")
        finally:
            executor.close()
        keep = np.array([path in found for path in paths])
        samples = [found[path] for path in paths if path in found]
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(cached, keep=keep, descriptors=np.stack([s.descriptor for s in samples]),
                 detected=np.array([s.detected for s in samples]), crops=_pack([s.crop_bytes() for s in samples]))
    kept = [row for row, ok in zip(files, keep) if ok]
    return LabelledFaces([r[0] for r in kept], [r[1] for r in kept], [r[2] for r in kept], [r[3] for r in kept], samples)


def _pack(crops: list[bytes]) -> np.ndarray:
    """Variable-length JPEG bytes as one fixed-width byte array (npz without pickles).

    NumPy drops trailing NUL bytes of such strings on reading; a JPEG ends with FF D9, never NUL.
    """
    width = max(len(c) for c in crops)
    return np.array(crops, dtype=f"S{width}")
