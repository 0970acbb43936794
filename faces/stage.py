"""The face stage run: stored images not yet scanned with these settings → faces in the catalogue.

Incremental by (image content hash, parameter hash): a second run with the same settings does
nothing, other settings build a second result set beside the first. The client reads image
bytes lazily and hands them to the executor; it alone writes crops and catalogue rows.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.home import Home
from postercensus.catalog.layout import CROPS_DIRNAME
from postercensus.catalog.runs import RunStatus, recorded_run, start_run
from postercensus.catalog.stage import Progress, StageError, StageReport, with_run_problems
from postercensus.faces.executors import FaceExecutor, Job, make_executor
from postercensus.faces.pipeline import ImageFaces
from postercensus.faces.settings import FaceSettings
from postercensus.faces.store import FaceStore, StoredImageRef

STAGE = "faces"
ProgressCallback = Callable[[int], None]


@dataclass
class FaceStageReport:
    parameter_hash: str
    run_id: int
    status: str = RunStatus.OK
    images_scanned: int = 0
    images_failed: int = 0
    images_unreadable: int = 0  # the stored file is gone: not recorded, retried next run
    faces: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"images_scanned": self.images_scanned, "images_failed": self.images_failed,
                "images_unreadable": self.images_unreadable, "faces": self.faces}


def crop_relative_path(parameter_hash: str, sha256: str, index: int) -> str:
    return f"{CROPS_DIRNAME}/{parameter_hash}/{sha256[:2]}/{sha256}_{index}.jpg"


class FaceStage:
    def __init__(self, engine: Engine, home: Path, settings: FaceSettings) -> None:
        self.engine = engine
        self.home = home
        self.settings = settings
        self.store = FaceStore(engine)
        self.parameter_hash = self.store.ensure_set(settings)

    def pending_count(self) -> int:
        return self.store.count_pending(self.parameter_hash)

    def _jobs(self, report: FaceStageReport) -> Iterator[Job]:
        for image in self.store.pending_images(self.parameter_hash):
            try:
                data = (self.home / image.path).read_bytes()
            except OSError as error:
                report.images_unreadable += 1
                report.errors.append(f"{image.path}: cannot read the stored file ({error.strerror or error})")
                continue
            yield image, data

    def _save(self, image: StoredImageRef, result: ImageFaces, run_id: int, report: FaceStageReport) -> None:
        crop_paths = [crop_relative_path(self.parameter_hash, image.sha256, i) for i in range(len(result.faces))]
        for face, relative in zip(result.faces, crop_paths):
            write_atomically(self.home / relative, face.crop_jpeg)
        self.store.record(image, self.parameter_hash, run_id, result, crop_paths)
        report.images_scanned += 1
        report.faces += len(result.faces)
        if result.error:
            report.images_failed += 1
            report.errors.append(f"{image.path}: {result.error}")

    def run(self, executor: FaceExecutor, progress: ProgressCallback | None = None) -> FaceStageReport:
        parameters = {**self.settings.parameters(), "parameter_hash": self.parameter_hash,
                      "executor": executor.description}
        run_id = start_run(self.engine, STAGE, parameters)
        report = FaceStageReport(self.parameter_hash, run_id)
        with recorded_run(self.engine, run_id, report):
            for image, result in executor.run(self._jobs(report), self.settings):
                self._save(image, result, run_id, report)
                if progress:
                    progress(1)
        return report


def active_face_settings(home: Home) -> FaceSettings:
    """The settings of the home's active face set: its `[faces]` table (empty: the defaults)."""
    try:
        return FaceSettings.from_table(home.active("faces"))
    except (TypeError, ValueError) as error:
        raise StageError(f"{home.layout.config}: [faces] {error}", "fix or remove the [faces] table") from error


class DetectFaces:
    """The face stage for refresh, the CLI and notebooks: the active face set unless given settings.

    `executor` is an open face executor (local processes, inline or a Dask cluster) the caller
    owns; without one, `run` opens one for the run (`workers` local processes, default all cores,
    or the Dask cluster at `scheduler`) and closes it after.
    """

    name = "faces detect"
    requires: tuple[str, ...] = ()

    def __init__(self, settings: FaceSettings | None = None, executor: FaceExecutor | None = None,
                 workers: int | None = None, scheduler: str | None = None) -> None:
        self._settings = settings
        self.executor = executor
        self.workers, self.scheduler = workers, scheduler

    def settings(self, home: Home) -> FaceSettings:
        return self._settings if self._settings is not None else active_face_settings(home)

    def worker(self, home: Home) -> FaceStage:
        """The incremental worker for these settings (registers the face set on first use)."""
        return FaceStage(home.engine, home.path, self.settings(home))

    def pending(self, home: Home) -> int:
        return self.worker(home).pending_count()

    def run(self, home: Home, progress: Progress | None = None) -> StageReport:
        worker = self.worker(home)
        try:
            executor = self.executor or make_executor(self.workers, self.scheduler)
        except ConnectionError as error:
            raise StageError(str(error), "check the --scheduler address, or leave it out to run here") from error
        try:
            done = worker.run(executor, progress)
        finally:
            if self.executor is None:
                executor.close()
        report = StageReport(self.name, done.status, done.counts(), run_id=done.run_id, errors=done.errors,
                             details={"parameter_hash": done.parameter_hash})
        return with_run_problems(home.engine, report)
