"""`faces scan`: detect faces in a folder of images without a catalogue, one CSV row per face.

For trying detector settings on a sample before a full run, or for using postercensus'
detectors in another project. Boxes only: no landmarks, crops or embeddings.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.imagefiles import IMAGE_SUFFIXES
from postercensus.faces.executors import FaceExecutor, Job
from postercensus.faces.settings import FaceSettings

CSV_COLUMNS = ("file", "left", "top", "right", "bottom", "score", "detector")


@dataclass
class ScanReport:
    images: int = 0
    faces: int = 0
    errors: list[str] = field(default_factory=list)


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _jobs(folder: Path, files: list[Path], report: ScanReport) -> Iterator[Job]:
    for path in files:
        relative = path.relative_to(folder).as_posix()
        try:
            yield relative, path.read_bytes()
        except OSError as error:
            report.errors.append(f"{relative}: cannot read ({error.strerror or error})")


def scan_folder(folder: Path, files: list[Path], out: Path, settings: FaceSettings, executor: FaceExecutor,
                progress: Callable[[int], None] | None = None) -> ScanReport:
    """Write one row per face found in `files` (from `image_files(folder)`) to `out`.

    Rows are sorted by file, then position; `file` is relative to `folder`.
    """
    report = ScanReport()
    rows: list[tuple] = []
    for relative, result in executor.run(_jobs(folder, files, report), settings, describe=False):
        report.images += 1
        if result.error:
            report.errors.append(f"{relative}: {result.error}")
        for face in result.faces:
            box = face.box
            rows.append((relative, box.left, box.top, box.right, box.bottom, round(box.score, 4), "+".join(box.detectors)))
        report.faces += len(result.faces)
        if progress:
            progress(1)
    rows.sort(key=lambda row: (row[0], row[2], row[1]))
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    write_atomically(out, text.getvalue().encode("utf-8"))
    return report
