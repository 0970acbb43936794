"""Detections per (detector run, image), computed once and kept on disk so benchmark reruns are cheap.

A run is either a FaceSettings (postercensus' detection-only path, as `faces scan` runs it) or
the seed pipeline. Each run's boxes and per-image seconds go to one JSON-lines file under
$POSTERCENSUS_BENCH_CACHE (default /tmp/postercensus-bench-cache, outside the repository),
named by the image set and the settings' parameter hash (parameters + model versions), and
appended image by image, so an interrupted grid resumes where it stopped.

The hash does not cover the detector code: after changing faces/ detection code, delete the
folder (or pass --fresh to the benchmark) so no stale box is scored.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench_support import progress

from postercensus.faces.boxes import Box
from postercensus.faces.settings import FaceSettings

CACHE = Path(os.environ.get("POSTERCENSUS_BENCH_CACHE", "/tmp/postercensus-bench-cache"))
SEED_KEY = "seed-v1"


@dataclass
class Detected:
    """One image's boxes (original pixels) and the seconds the run took on it (decode included)."""

    boxes: list[Box]
    seconds: float


class Source(Protocol):
    key: str  # names the cache file: changes whenever what is detected changes

    def detect(self, path: Path) -> list[Box]: ...


class SettingsSource:
    """FaceSettings through faces.pipeline.process_image(describe=False), one image at a time."""

    def __init__(self, settings: FaceSettings) -> None:
        self.settings = settings
        self.key = settings.identity()

    def detect(self, path: Path) -> list[Box]:
        from postercensus.faces.pipeline import process_image

        result = process_image(path.read_bytes(), self.settings, describe=False)
        if result.error:
            progress(f"  {path.name}: {result.error}")
        return [face.box for face in result.faces]


class SeedSource:
    """The seed study's pipeline (benchmarks/seed_pipeline.py), landmarks and alignment included."""

    key = SEED_KEY

    def __init__(self) -> None:
        self._pipeline = None

    def detect(self, path: Path) -> list[Box]:
        if self._pipeline is None:
            from seed_pipeline import SeedPipeline

            self._pipeline = SeedPipeline()
        return [Box(f.left, f.top, f.right, f.bottom, 0.0, ("seed",)) for f in self._pipeline.run(path)]


def _encode(box: Box) -> list:
    return [box.left, box.top, box.right, box.bottom, round(box.score, 4), list(box.detectors)]


def _decode(values: list) -> Box:
    left, top, right, bottom, score, detectors = values
    return Box(left, top, right, bottom, score, tuple(detectors))


def clear() -> None:
    shutil.rmtree(CACHE, ignore_errors=True)


def detections(set_name: str, source: Source, images: Iterable[tuple[str, Path]], label: str = "") -> dict[str, Detected]:
    """`source`'s detections on every (key, path), from the cache where present, else computed and appended.

    The first image computed in this process is detected once untimed, so model loading is not
    charged to an image.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    file = CACHE / f"{set_name}-{source.key}.jsonl"
    found: dict[str, Detected] = {}
    if file.exists():
        for line in file.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by an interrupted run
                continue
            found[record["image"]] = Detected([_decode(b) for b in record["boxes"]], record["seconds"])
    missing = [(key, path) for key, path in images if key not in found]
    if missing:
        progress(f"  {label or source.key}: detecting {len(missing)} {set_name} images")
        source.detect(missing[0][1])
        with file.open("a") as handle:
            for index, (key, path) in enumerate(missing, 1):
                start = time.perf_counter()
                boxes = source.detect(path)
                seconds = time.perf_counter() - start
                found[key] = Detected(boxes, seconds)
                handle.write(json.dumps({"image": key, "seconds": round(seconds, 5), "boxes": [_encode(b) for b in boxes]}) + "\n")
                handle.flush()
                if index % 100 == 0:
                    progress(f"    {index}/{len(missing)}")
    return found
