"""A labelled folder → a TrainingSet: every file's face found (below the detector's cut if need be,
taken whole only when none is found at any score) and described."""
from __future__ import annotations

from pathlib import Path

from postercensus.catalog.stage import Progress
from postercensus.classify.models.facesamples import samples_from_files
from postercensus.classify.train.labelled import LabelledDataError, LabelledFile
from postercensus.classify.train.trainingset import TrainingSet
from postercensus.faces.executors import FaceExecutor
from postercensus.faces.settings import FaceSettings


def load_labelled_folder(folder: Path, files: list[LabelledFile], executor: FaceExecutor,
                         advance: Progress, errors: list[str],
                         settings: FaceSettings | None = None) -> TrainingSet:
    """Faces of `files` (from `list_labelled_files(folder)`), in file order, found with `settings`
    (by default as the face stage finds them); unreadable ones go to `errors`."""
    by_path = {row.path: row for row in files}

    def failed(path: Path, message: str) -> None:
        errors.append(f"{path}: {message}")
        advance(1)

    found = {}
    for path, sample in samples_from_files([row.path for row in files], executor, failed, settings):
        found[path] = sample
        advance(1)
    rows = [row for row in files if row.path in found]
    if not rows:
        raise LabelledDataError(f"no readable images under {folder}")
    samples = [found[row.path] for row in rows]
    return TrainingSet(
        samples=samples,
        labels=[row.label for row in rows],
        groups=[row.group for row in rows],
        names=[str(row.path.relative_to(folder)) for row in rows],
        source={"data": str(folder), "files": len(by_path), "unreadable": len(by_path) - len(rows),
                "faces_below_score_cut": sum(sample.below_score_cut for sample in samples)},
    )

