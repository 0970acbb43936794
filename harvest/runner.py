"""Running one harvest: first contact → events → catalogue batches → image files → a run record.

Every harvester shares this loop, so incremental behaviour, batching (one transaction per
batch), per-image error reporting and provenance are the same for OAI-PMH, IIIF, CSV and
folders. The watermark advances only when the whole listing was read, so a failed or killed
run is simply repeated next time; upserts make the repeat add nothing twice.

The first event is read before anything is stored: that is the source's first contact (a CSV's
header and columns, an OAI-PMH server's first page, a IIIF manifest). A source that fails it is
left as it was: a new one gets no catalogue row and is not registered (a mistyped URL or column
must not be refreshed every night), a known one keeps its stored options; only the failed run is
recorded, so `status` shows what happened.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from postercensus.catalog.imagefiles import ImageFiles, InvalidImage
from postercensus.catalog.problems import Problem, ProblemKind
from postercensus.catalog.runs import RunStatus, finish_run, start_run
from postercensus.catalog.schema import ImageStatus
from postercensus.catalog.sources import source_id_of
from postercensus.catalog.store import Catalog, PendingImage
from postercensus.harvest.checks import date_warning, identifier_problem
from postercensus.harvest.http import FetchError, HttpClient
from postercensus.harvest.records import (
    Harvester,
    HarvestError,
    HarvestEvent,
    HarvestedItem,
    RecordProblem,
    SourceNote,
    is_http_url,
)

ITEM_BATCH = 100
MAX_IMAGE_ATTEMPTS = 3


@dataclass
class HarvestFacts:
    """What a harvest did, for the closing summary and the run record: every count, the first
    contact, a stopped listing, missing files and the source's notes. It fills as the harvest
    goes, and is carried as the `facts` of the harvest stage's `StageReport` (`harvest.stage`)."""

    run_id: int
    source_key: str
    counts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    listing_error: str | None = None
    problems: list[Problem] = field(default_factory=list)  # the errors about items and the missing files, keyed
    notes: list[str] = field(default_factory=list)  # what the source said about itself (harvest.records.SourceNote)
    contacted: bool = True  # False: the first contact failed, nothing was read and nothing registered

    def report_problem(self, kind: str, key: str, message: str) -> None:
        """An error about one record or image: said in `errors`, and kept under its key across runs."""
        self.problems.append(Problem(kind, key, message))
        self.errors.append(message)

    @property
    def item_errors(self) -> list[str]:
        """The errors about single records and images; a stopped listing is `listing_error`, said on its own."""
        return [message for message in self.errors if message != _listing_stopped(self.listing_error)]

    @property
    def status(self) -> str:
        if self.listing_error:
            return RunStatus.FAILED
        return RunStatus.PARTIAL if self.errors or self.missing_files else RunStatus.OK


def _listing_stopped(listing_error: str | None) -> str:
    return f"listing stopped: {listing_error}"


def run_harvest(
    catalog: Catalog,
    harvester: Harvester,
    client: HttpClient,
    image_files: ImageFiles,
    *,
    workers: int = 4,
    overrides: dict[str, Any] | None = None,
    console: Console | None = None,
    on_contact: Callable[[], None] | None = None,
) -> HarvestFacts:
    """Harvest `harvester` into `catalog`, then fetch the images it listed (or that are owed).

    `overrides` are this run's one-off options (e.g. an explicit `--from`): recorded with the
    run for provenance, but not part of the source's stored definition. `on_contact` is called
    once the first contact succeeded and the source is stored (the harvest commands register
    the source in postercensus.toml there); a failed first contact returns a report with
    `contacted` False and its `listing_error`.
    """
    console = console or Console(stderr=True)
    params = harvester.params()
    key = harvester.source_key()
    known = source_id_of(catalog.engine, key)
    since = catalog.watermark(known) if known is not None else None
    run_parameters = {**params, "since": since, **(overrides or {})}
    events = harvester.events(since)
    with Progress(SpinnerColumn(), TextColumn("reading the source"), console=console, transient=True):
        try:
            head = list(islice(events, 1))
        except HarvestError as error:  # said once, by whoever reads the report: no bar left behind
            return _contact_failed(catalog, harvester, key, known, run_parameters, error)
    location = params.get("url") or params.get("path", "")
    source_id = catalog.ensure_source(key, harvester.kind, location, params)
    if on_contact is not None:
        on_contact()
    run_id = start_run(catalog.engine, f"harvest.{harvester.kind}", run_parameters, source_id)
    report = HarvestFacts(run_id, key)
    with _progress(console) as progress:
        task = progress.add_task("records", total=None)
        try:
            _store_items(catalog, chain(head, events), source_id, run_id, report, progress, task)
            _fetch_images(catalog, source_id, client, image_files, workers, report, progress)
            if report.listing_error is None:
                catalog.finish_source_harvest(source_id, harvester.watermark())
        except BaseException as error:
            report.errors.append(f"run interrupted: {type(error).__name__}: {error}")
            finish_run(catalog.engine, run_id, RunStatus.FAILED, dict(report.counts), report.errors, report.problems)
            raise
    missing = [problem.message for problem in report.problems if problem.kind == ProblemKind.IMAGE_MISSING]
    finish_run(catalog.engine, run_id, report.status, dict(report.counts), report.errors + missing, report.problems)
    return report


def _contact_failed(catalog: Catalog, harvester: Harvester, key: str, known: int | None,
                    run_parameters: dict[str, Any], error: HarvestError) -> HarvestFacts:
    """Record the failed first contact as a failed run, and change nothing else: a new source
    gets no row (the run names it in its parameters), a known one keeps its stored options."""
    parameters = run_parameters if known is not None else {**run_parameters, "source": key}
    run_id = start_run(catalog.engine, f"harvest.{harvester.kind}", parameters, known)
    report = HarvestFacts(run_id, key, listing_error=str(error), contacted=False)
    report.errors.append(_listing_stopped(report.listing_error))
    finish_run(catalog.engine, run_id, report.status, {}, report.errors, [])
    return report


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=False,
    )


def _store_items(catalog: Catalog, events: Iterator[HarvestEvent], source_id: int, run_id: int,
                 report: HarvestFacts, progress: Progress, task: TaskID) -> None:
    batch: list[HarvestedItem] = []
    stored = 0

    def flush() -> None:
        nonlocal stored
        if batch:
            report.counts.update(catalog.apply_items(source_id, run_id, batch))
            progress.advance(task, len(batch))
            stored += len(batch)
            batch.clear()

    try:
        for event in events:
            if isinstance(event, SourceNote):
                report.notes.append(event.message)
                continue
            if isinstance(event, HarvestedItem):
                event = identifier_problem(event) or event
            if isinstance(event, RecordProblem):
                report.counts["problems" if event.skipped else "warnings"] += 1
                message = f"{event.where}: {event.message}"
                kind = ProblemKind.RECORD_SKIPPED if event.skipped else ProblemKind.RECORD_WARNING
                report.report_problem(kind, message, message)
                continue
            warning = date_warning(event)
            if warning:
                report.counts["warnings"] += 1
                report.report_problem(ProblemKind.RECORD_WARNING, warning, warning)
            batch.append(event)
            if len(batch) >= ITEM_BATCH:
                flush()
    except HarvestError as error:
        report.listing_error = str(error)
        report.errors.append(_listing_stopped(report.listing_error))
    finally:
        flush()
    progress.update(task, total=stored)


def _fetch_images(catalog, source_id, client, image_files, workers, report: HarvestFacts, progress: Progress) -> None:
    task = progress.add_task("images", total=None)
    fetched = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for batch in catalog.images_to_fetch(source_id, MAX_IMAGE_ATTEMPTS):
            outcomes = list(pool.map(lambda pending: _fetch_one(pending, client, image_files), batch))
            catalog.record_images([(pending.image_id, outcome.values) for pending, outcome in zip(batch, outcomes)])
            for pending, outcome in zip(batch, outcomes):
                _count_image(report, pending, outcome)
            progress.advance(task, len(batch))
            fetched += len(batch)
    progress.update(task, total=fetched)


@dataclass(frozen=True)
class ImageOutcome:
    """One fetch's result: the image-row values, and whether the file was already stored."""

    values: dict[str, Any]
    already_stored: bool = False


def _count_image(report: HarvestFacts, pending: PendingImage, outcome: ImageOutcome) -> None:
    status = outcome.values["status"]
    if status == ImageStatus.OK:
        report.counts["images_reused" if outcome.already_stored else "images_stored"] += 1
        return
    report.counts[f"images_{status}"] += 1
    image = f"item {pending.source_item_id}: image {pending.origin}"  # the key: the error text may change
    if status == ImageStatus.MISSING:
        report.missing_files.append(pending.origin)
        report.problems.append(Problem(ProblemKind.IMAGE_MISSING, image, f"image file not found: {pending.origin}"))
        return
    report.report_problem(ProblemKind.IMAGE_FAILED, image, f"{image}: {outcome.values['error']}")


def _fetch_one(pending: PendingImage, client: HttpClient, image_files: ImageFiles) -> ImageOutcome:
    """Fetch or copy one image and verify it."""
    origin = pending.origin
    try:
        if is_http_url(origin):
            stored = image_files.adopt(client.download(origin, image_files.incoming))
        else:
            path = Path(origin)
            if not path.is_file():
                return ImageOutcome({"status": ImageStatus.MISSING, "error": f"local file not found: {origin}"})
            stored = image_files.copy_in(path)
    except (FetchError, InvalidImage, OSError) as error:
        return ImageOutcome({"status": ImageStatus.FAILED, "error": str(error)})
    values = {
        "status": ImageStatus.OK, "error": None, "sha256": stored.sha256, "path": stored.relative_path,
        "format": stored.format, "width": stored.width, "height": stored.height, "bytes": stored.bytes,
    }
    return ImageOutcome(values, stored.already_stored)
