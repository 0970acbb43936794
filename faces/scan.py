"""`faces scan`: detect faces in a folder of images without a catalogue, one CSV row per face.

For trying detector settings on a sample before a full run, or for using postercensus'
detectors in another project. Boxes only: no landmarks, crops or embeddings. It keeps no run
record, but reports as every stage does (`catalog.stage.StageReport`: images and faces counted).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from postercensus.catalog.stage import Progress, StageReport
from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.imagefiles import IMAGE_SUFFIXES
from postercensus.catalog.runs import RunStatus
from postercensus.faces.executors import FaceExecutor, Job
from postercensus.faces.settings import FaceSettings

CSV_COLUMNS = ("file", "left", "top", "right", "bottom", "score", "detector")


NAME = "faces scan"


@dataclass(frozen=True)
class ScanFacts:
    """Where the boxes were written."""

    out: Path


ScanReport = StageReport[ScanFacts]


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
                progress: Progress | None = None) -> ScanReport:
    """Write one row per face found in `files` (from `image_files(folder)`) to `out`.

    Rows are sorted by file, then position; `file` is relative to `folder`.
    """
    report = ScanReport(NAME, RunStatus.RUNNING, {"images": 0, "faces": 0}, facts=ScanFacts(out))
    rows: list[tuple] = []
    for relative, result in executor.run(_jobs(folder, files, report), settings, describe=False):
        report.count("images")
        if result.error:
            report.errors.append(f"{relative}: {result.error}")
        for face in result.faces:
            box = face.box
            rows.append((relative, box.left, box.top, box.right, box.bottom, round(box.score, 4), "+".join(box.detectors)))
        report.count("faces", len(result.faces))
        if progress:
            progress(1)
    rows.sort(key=lambda row: (row[0], row[2], row[1]))
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    write_atomically(out, text.getvalue().encode("utf-8"))
    report.status = RunStatus.PARTIAL if report.errors else RunStatus.OK
    return report
