"""The face stage: stored images not yet scanned with these settings → faces in the catalogue.

Incremental by (image content hash, face set identity): a second run with the same settings does
nothing, other settings build a second result set beside the first. The stage reads image bytes
lazily and hands them to the executor; it alone writes crops and catalogue rows.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.home import Home
from postercensus.catalog.layout import CROPS_DIRNAME
from postercensus.catalog.runs import RunStatus, recorded_run, start_run
from postercensus.catalog.settings import active_settings
from postercensus.catalog.stage import Progress, StageError, StageReport, with_run_problems
from postercensus.faces.executors import FaceExecutor, Job, make_executor
from postercensus.faces.pipeline import ImageFaces
from postercensus.faces.settings import FaceSettings
from postercensus.faces.store import FaceStore, StoredImageRef

STAGE = "faces"
# images_unreadable: the stored file is gone; not recorded, retried next run
COUNTS = ("images_scanned", "images_failed", "images_unreadable", "faces")


@dataclass(frozen=True)
class FaceFacts:
    """What a face run worked on: the face set's identity (`FaceSettings.identity`)."""

    identity: str


FaceReport = StageReport[FaceFacts]


def crop_relative_path(identity: str, sha256: str, index: int) -> str:
    return f"{CROPS_DIRNAME}/{identity}/{sha256[:2]}/{sha256}_{index}.jpg"


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
        return self._settings if self._settings is not None else active_settings(home, FaceSettings)

    def pending(self, home: Home) -> int:
        """Stored images without a scan by these settings (registers the face set on first use)."""
        store = FaceStore(home.engine)
        return store.count_pending(store.ensure_set(self.settings(home)))

    def run(self, home: Home, progress: Progress | None = None) -> FaceReport:
        try:
            executor = self.executor or make_executor(self.workers, self.scheduler)
        except ConnectionError as error:
            raise StageError(str(error), "check the --scheduler address, or leave it out to run here") from error
        try:
            report = self.scan(home, executor, progress)
        finally:
            if self.executor is None:
                executor.close()
        return with_run_problems(home.engine, report)

    def scan(self, home: Home, executor: FaceExecutor, progress: Progress | None = None) -> FaceReport:
        """Scan every pending image with `executor` under a run record (the executor stays open)."""
        settings, store = self.settings(home), FaceStore(home.engine)
        identity = store.ensure_set(settings)
        parameters = {**settings.parameters(), "parameter_hash": identity, "executor": executor.description}
        run_id = start_run(home.engine, STAGE, parameters)
        report = FaceReport(self.name, RunStatus.RUNNING, dict.fromkeys(COUNTS, 0), run_id=run_id,
                            facts=FaceFacts(identity))
        with recorded_run(home.engine, run_id, report):
            for image, result in executor.run(_jobs(home.path, store, identity, report), settings):
                _save(home.path, store, image, result, report)
                if progress:
                    progress(1)
        return report


def _jobs(home: Path, store: FaceStore, identity: str, report: FaceReport) -> Iterator[Job]:
    for image in store.pending_images(identity):
        try:
            data = (home / image.path).read_bytes()
        except OSError as error:
            report.count("images_unreadable")
            report.errors.append(f"{image.path}: cannot read the stored file ({error.strerror or error})")
            continue
        yield image, data


def _save(home: Path, store: FaceStore, image: StoredImageRef, result: ImageFaces, report: FaceReport) -> None:
    identity = report.facts.identity
    crop_paths = [crop_relative_path(identity, image.sha256, i) for i in range(len(result.faces))]
    for face, relative in zip(result.faces, crop_paths):
        write_atomically(home / relative, face.crop_jpeg)
    store.record(image, identity, report.run_id, result, crop_paths)
    report.count("images_scanned")
    report.count("faces", len(result.faces))
    if result.error:
        report.count("images_failed")
        report.errors.append(f"{image.path}: {result.error}")
