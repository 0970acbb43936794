"""`postercensus faces detect|scan|purge-descriptors`: find faces in the catalogue's images, or in a
folder; delete the stored face descriptors (they identify people)."""
from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from postercensus.faces.descriptors import (faces_without_descriptor, last_purge_run, purge_descriptors,
                                           stored_descriptors)
from postercensus.faces.models import ModelMissing
from postercensus.faces.scan import image_files, scan_folder
from postercensus.faces.settings import DETECTOR_NAMES, MEMBER_NAMES, FaceSettings, threshold_settings
from postercensus.catalog.settings import active_settings
from postercensus.faces.stage import DetectFaces
from postercensus.cli.commandapp import CommandApp
from postercensus.cli.context import CommandError, existing_home, writable_file
from postercensus.cli.terminal import face_executor, print_errors, progress_bar

faces_app = CommandApp(
    help="Find faces: detect (with upsampling), align to 224 px crops and embed. `detect` works "
    "on the catalogue's images and only on those not yet processed with the same settings; "
    "`scan` writes boxes for a folder of images to a CSV; `purge-descriptors` deletes every stored "
    "face descriptor (they identify people).",
    no_args_is_help=True,
)

DEFAULTS = FaceSettings()

Detector = Annotated[str, typer.Option("--detector", help=f"One of {', '.join(DETECTOR_NAMES)} (ensemble: the --members vote, see --min-votes).")]
Upsample = Annotated[int, typer.Option("--upsample", help="Times dlib doubles the image before HOG/CNN detection (finds smaller faces, ~4x slower each).")]
Resize = Annotated[float, typer.Option("--resize", help="Resize factor applied before detection (the seed study used 2.5).")]
Tile = Annotated[int, typer.Option("--tile", help="Detect on overlapping tiles of this many pixels (0: off); for small faces on large scans.")]
Threshold = Annotated[Optional[str], typer.Option("--threshold", show_default=False, help=(
    f"Score cut of the detector used: hog's SVM offset (default {DEFAULTS.threshold}; below 0 finds more, weaker "
    f"faces), yunet's or mtcnn's face probability (defaults {DEFAULTS.yunet_threshold}, {DEFAULTS.mtcnn_threshold}). "
    "When several ensemble members have one, name each: hog=-0.4,yunet=0.7."))]
Members = Annotated[str, typer.Option("--members", help=f"Comma-separated ensemble members from {', '.join(MEMBER_NAMES)}.")]
MinVotes = Annotated[int, typer.Option("--min-votes", help="Ensemble: keep only faces found by at least this many members (the default 2 means two detectors must agree: not a union; 1 keeps every member's faces).")]
BoxScale = Annotated[float, typer.Option("--box-scale", help=(
    "Store and report each face box this many times as wide and tall about its centre, clipped to the "
    "image (1: the detector's own box). Detectors box the inner face, brows to chin; people drawing a face "
    "box take in forehead and hair (on the hand-boxed paintings a median 1.38x wider and 1.34x taller than "
    "YuNet's boxes), so the detector's box would undercount how much of a poster a face fills; the default "
    "was chosen by cross-validation over painters. Landmarks, the aligned crop and the descriptor always use "
    "the detector's own box."))]
Workers = Annotated[Optional[int], typer.Option("--workers", min=1, help="Local worker processes (default: all cores; 1 runs in this process).", show_default=False)]
Scheduler = Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address (tcp://HOST:PORT): run on that cluster instead of local processes.", show_default=False)]


def _settings(detector: str, upsample: int, resize: float, tile: int, threshold: str | None, members: str,
              min_votes: int, box_scale: float) -> FaceSettings:
    try:
        settings = FaceSettings(
            detector=detector, upsample=upsample, resize=resize, tile=tile,
            members=tuple(name.strip() for name in members.split(",") if name.strip()), min_votes=min_votes,
            box_scale=box_scale,
        )
        if threshold is not None:
            settings = replace(settings, **threshold_settings(threshold, settings.detectors_used()))
        return settings
    except ValueError as error:
        raise CommandError(str(error)) from error


Activate = Annotated[bool, typer.Option("--activate", help=(
    "Make these settings the active face set: written to \\[faces] in postercensus.toml, then used by refresh, "
    "analyze, export and both dashboards (a refresh never changes it)."))]


@faces_app.command()
def detect(
    ctx: typer.Context,
    detector: Detector = DEFAULTS.detector,
    upsample: Upsample = DEFAULTS.upsample,
    resize: Resize = DEFAULTS.resize,
    tile: Tile = DEFAULTS.tile,
    threshold: Threshold = None,
    members: Members = ",".join(DEFAULTS.members),
    min_votes: MinVotes = DEFAULTS.min_votes,
    box_scale: BoxScale = DEFAULTS.box_scale,
    activate: Activate = False,
    workers: Workers = None,
    scheduler: Scheduler = None,
) -> None:
    """Detect, align and embed faces in every stored image not yet processed with these settings.

    Each setting is its own result set (named by a parameter hash), so runs with other settings
    sit beside earlier ones. The tables read the active set (\\[faces] in postercensus.toml, default
    settings when absent); --activate makes this run's settings the active ones.
    Example: postercensus faces detect --upsample 2 --detector hog --activate
    """
    settings = _settings(detector, upsample, resize, tile, threshold, members, min_votes, box_scale)
    context = existing_home(ctx)  # after the options' own checks, before any worker starts
    console = Console(soft_wrap=True)
    with face_executor(workers, scheduler) as executor:
        try:
            stage = DetectFaces(settings, executor)
            pending = stage.pending(context)
            console.print(f"result set {settings.identity()}: {pending} image(s) to process on "
                          f"{executor.description}")
            with progress_bar(console) as progress:
                task = progress.add_task("faces", total=pending)
                report = stage.run(context, lambda n: progress.advance(task, n))
        except ModelMissing as error:
            raise CommandError(f"{error} (nothing was recorded for the remaining images)") from error
        except (BrokenProcessPool, OSError) as error:  # a worker killed (memory?) or a cluster lost
            raise CommandError(
                f"the face run stopped: {type(error).__name__}: {error} — every image finished so far is "
                "stored; run the same command again to continue (try fewer --workers if memory ran out)"
            ) from error
    counts, identity = report.counts, report.facts.identity
    console.print(
        f"[bold]faces[/bold]: {counts['faces']} found in {counts['images_scanned']} image(s); "
        f"{counts['images_failed']} image(s) could not be read, {counts['images_unreadable']} stored file(s) missing"
    )
    console.print(f"catalogue: {context.database_display}  (run #{report.run_id}, result set {identity})")
    console.print(f"aligned crops: {context.layout.crops / identity}")
    if activate:
        context.activate("faces", settings.to_config())
    if settings == active_settings(context, FaceSettings):
        console.print(f"active face set: {identity} (the tables read it; [faces] in {context.layout.config})",
                      markup=False, highlight=False)
    else:
        console.print(f"not the active face set: the tables read the [faces] settings in {context.layout.config}; "
                      "run again with --activate to use this one", markup=False, highlight=False)
    purged = faces_without_descriptor(context.engine, parameter_hash=identity)
    if purged:
        console.print(f"{purged} face(s) of result set {identity} have no descriptor: deleted by "
                      f"`faces purge-descriptors` (run #{last_purge_run(context.engine)}); detect does not compute "
                      "them again for images it has scanned. The tables do not need them; training on the dlib "
                      "backbone and predicting with a dlib-based model do (docs: methodology-faces).",
                      markup=False, highlight=False)
    print_errors(console, report.errors)


@faces_app.command()
def scan(
    folder: Annotated[Path, typer.Argument(help="Folder of images (searched recursively).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: file,left,top,right,bottom,score,detector.", show_default=False)],
    detector: Detector = DEFAULTS.detector,
    upsample: Upsample = DEFAULTS.upsample,
    resize: Resize = DEFAULTS.resize,
    tile: Tile = DEFAULTS.tile,
    threshold: Threshold = None,
    members: Members = ",".join(DEFAULTS.members),
    min_votes: MinVotes = DEFAULTS.min_votes,
    box_scale: BoxScale = DEFAULTS.box_scale,
    workers: Workers = None,
    scheduler: Scheduler = None,
) -> None:
    """Write one CSV row per face found in a folder of images (no catalogue needed).

    Example: postercensus faces scan ./sample --out sample-faces.csv --upsample 2
    """
    if not folder.is_dir():
        raise CommandError(f"folder not found: {folder}")
    writable_file(out, "--out")
    settings = _settings(detector, upsample, resize, tile, threshold, members, min_votes, box_scale)
    try:
        settings.model_versions()  # a missing yunet/mtcnn package is reported before any worker starts
    except ModelMissing as error:
        raise CommandError(str(error)) from error
    console = Console(soft_wrap=True)
    files = image_files(folder)
    with face_executor(workers, scheduler) as executor, progress_bar(console) as progress:
        task = progress.add_task("images", total=len(files))
        try:
            report = scan_folder(folder, files, out, settings, executor, lambda n: progress.advance(task, n))
        except ModelMissing as error:
            raise CommandError(str(error)) from error
    console.print(f"[bold]faces[/bold]: {report.counts['faces']} found in {report.counts['images']} image(s) under {folder}")
    console.print(f"written: {out}")
    print_errors(console, report.errors)


@faces_app.command("purge-descriptors")
def purge_descriptors_command(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking for confirmation.")] = False,
) -> None:
    """Delete every stored face descriptor (the 128 numbers per face that identify a person), in every face set.

    Boxes, landmarks, aligned crops, predictions, labels and the tables stay as they are. Training
    on the dlib backbone and predicting with a dlib-based model need descriptors and say so afterwards;
    `faces detect` does not compute them again for images it has already scanned with the same settings.
    Recorded as a run. Example: postercensus --home H faces purge-descriptors --yes
    """
    context = existing_home(ctx)
    console = Console(soft_wrap=True)
    stored = stored_descriptors(context.engine)
    if not stored:
        console.print("no face descriptors are stored: nothing to delete", markup=False, highlight=False)
        return
    if not yes and not typer.confirm(
            f"Delete {sum(stored.values())} face descriptor(s) from {len(stored)} face set(s) in "
            f"{context.database_display}? This cannot be undone", default=False):
        raise CommandError("nothing was deleted (not confirmed)", "answer y, or add --yes")
    report = purge_descriptors(context.engine)
    by_set = report.facts.by_set if report.facts else {}
    console.print(f"deleted {report.counts['descriptors_deleted']} face descriptor(s) (run #{report.run_id}):",
                  markup=False, highlight=False)
    for identity, count in by_set.items():
        console.print(f"  result set {identity}: {count}", markup=False, highlight=False)
    console.print("boxes, landmarks, crops, predictions and labels are kept; the tables, export and dashboards "
                  "work as before", markup=False, highlight=False)
