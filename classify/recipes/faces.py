"""Labelled faces for the default model's recipe and the classify benchmarks: NK poster crops, UTKFace
photographs and MetFaces painted faces.

Describing ten thousand faces takes minutes, so samples (descriptor, aligned crop, whether a face
was detected, why not, which landmarks aligned it) are cached per file list in an .npz under
--cache; the cache key is the list of files and the face settings, so a changed list or setting
recomputes. `load_faces` finds faces as `classify train` and the face stage do (`stage_face_settings()`:
the stage's default detector and landmarks); `faces_found` counts what another setting finds.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from postercensus.classify.recipes.data import progress
from postercensus.classify.models.facesamples import FaceSample, samples_from_files, stage_face_settings
from postercensus.classify.train.labelled import group_of
from postercensus.faces.executors import make_executor
from postercensus.faces.pipeline import process_image
from postercensus.faces.settings import FaceSettings

DEFAULT_CACHE = Path("/tmp/postercensus-classify-cache")
UTK_SAMPLE_SEED = 0


@dataclass
class LabelledFaces:
    paths: list[Path]
    labels: list[str]
    groups: list[str]
    extra: list[dict[str, str]]  # UTKFace's race and age columns ({} for NK and MetFaces)
    samples: list[FaceSample]


FileRow = tuple[Path, str, str, dict[str, str]]  # path, label, group, extra columns


def _grouped_folder(folder: Path) -> list[FileRow]:
    return [(path, label, group_of(path), {}) for label in ("female", "male")
            for path in sorted((folder / label).glob("*.jpg"))]


def nk_files(data: Path) -> list[FileRow]:
    """(path, label, group = poster id, {}) for the NK poster face crops."""
    return _grouped_folder(data / "nk-poster-faces" / "train")


def metfaces_files(data: Path) -> list[FileRow]:
    """(path, label, group = object id, {}) for the MetFaces painted-face crops. Its `male` is the
    source's `not-female` (it includes some children): read it as "not labelled female"."""
    return _grouped_folder(data / "metfaces-faces")


def utk_files(data: Path, limit: int | None = None) -> list[FileRow]:
    """(path, label, group = file, race and age) for UTKFace (one face per photo: its own group);
    with `limit`, that many photos drawn with a fixed seed (kept in file order)."""
    folder = data / "utkface"
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: row["file"])
    files = [(folder / "images" / row["file"], row["gender"], row["file"], {"race": row["race"], "age": row["age"]})
             for row in rows if (folder / "images" / row["file"]).is_file() and row["gender"] in ("female", "male")]
    if limit is not None and limit < len(files):
        chosen = np.random.default_rng(UTK_SAMPLE_SEED).choice(len(files), limit, replace=False)
        files = [files[i] for i in sorted(chosen)]
    return files


def _cache_file(cache: Path, name: str, paths: list[Path], settings: FaceSettings, kind: str = "") -> Path:
    # The box scale enlarges only the reported box: crops, descriptors and which face is largest stay.
    described_by = {key: value for key, value in settings.parameters().items() if key != "box_scale"}
    key = json.dumps({"files": [str(p.resolve()) for p in paths], "settings": described_by})
    return cache / f"{name}{kind}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"


def load_faces(name: str, files: list[FileRow], cache: Path = DEFAULT_CACHE, workers: int | None = None,
               settings: FaceSettings | None = None) -> LabelledFaces:
    """Samples for every readable file, found and described with `settings` (default: as the face stage
    finds them), from the cache when it has them."""
    settings = settings or stage_face_settings()
    paths = [row[0] for row in files]
    cached = _cache_file(cache, name, paths, settings)
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as stored:
            keep = stored["keep"]
            reasons = [str(r) or None for r in stored["reasons"]] if "reasons" in stored else [None] * len(keep)
            aligned = [str(a) or None for a in stored["aligned_by"]] if "aligned_by" in stored else [None] * len(keep)
            samples = [FaceSample(d, crop_jpeg=bytes(c), detected=bool(f), fallback_reason=r, aligned_by=a)
                       for d, c, f, r, a in zip(stored["descriptors"], stored["crops"], stored["detected"],
                                                reasons, aligned)]
    else:
        progress(f"describing {len(paths)} {name} faces with {settings.detector} (cached afterwards in {cached})")
        found: dict[Path, FaceSample] = {}
        executor = make_executor(workers, None)
        try:
            for done, (path, sample) in enumerate(samples_from_files(paths, executor, lambda p, m: progress(f"{p}: {m}"),
                                                                     settings), 1):
                found[path] = sample
                if done % 500 == 0:
                    progress(f"  {done}/{len(paths)}")
        finally:
            executor.close()
        keep = np.array([path in found for path in paths])
        samples = [found[path] for path in paths if path in found]
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(cached, keep=keep, descriptors=np.stack([s.descriptor for s in samples]),
                 detected=np.array([s.detected for s in samples]), crops=_pack([s.crop_bytes() for s in samples]),
                 reasons=np.array([s.fallback_reason or "" for s in samples]),
                 aligned_by=np.array([s.aligned_by or "" for s in samples]))
    kept = [row for row, ok in zip(files, keep) if ok]
    return LabelledFaces([r[0] for r in kept], [r[1] for r in kept], [r[2] for r in kept], [r[3] for r in kept], samples)


def faces_found(name: str, files: list[FileRow], settings: FaceSettings, cache: Path = DEFAULT_CACHE) -> np.ndarray:
    """Per file, whether `settings` find at least one face in it (detection only; cached)."""
    paths = [row[0] for row in files]
    cached = _cache_file(cache, name, paths, settings, "-found")
    if cached.is_file():
        with np.load(cached) as stored:
            return stored["found"]
    progress(f"detecting faces in {len(paths)} {name} crops with {settings.detector} (cached in {cached})")
    found = np.array([bool(process_image(path.read_bytes(), settings, describe=False).faces) for path in paths])
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cached, found=found)
    return found


def _pack(crops: list[bytes]) -> np.ndarray:
    """Variable-length JPEG bytes as one fixed-width byte array (npz without pickles).

    NumPy drops trailing NUL bytes of such strings on reading; a JPEG ends with FF D9, never NUL.
    """
    width = max(len(c) for c in crops)
    return np.array(crops, dtype=f"S{width}")
