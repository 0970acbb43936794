"""`refresh`: every registered harvest, then every later stage, each on what changed only.

The stages are incremental on their own; this module only runs them in order under the home's
refresh lock and decides what a failure means. Harvests of different sources are independent,
and a failed harvest keeps what it read (the next refresh retries it), so it does not hold back
the stages after it: they work on what the catalogue holds. A failed processing stage skips the
stages that read its results (see DEPENDS) and leaves everything earlier in place, so the next
refresh simply continues. Each stage records its own run in the catalogue, as when run by hand.
A refresh killed outright (kill -9, power cut) is repaired by the next one: under the lock it
marks the killed process's open runs interrupted and removes its temp files before any stage.
Only news makes a refresh exit 2: a problem about an item that the previous run of the same
source or stage did not report. Problems that stand from earlier runs are summarised, exit 0.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from postercensus.catalog.problems import KindCount, run_problem_counts
from postercensus.catalog.runs import RunStatus, close_interrupted_runs
from postercensus.catalog.tempfiles import sweep_orphans
from postercensus.context import AppContext
from postercensus.runlock import refresh_lock
from postercensus.terminal import face_executor

EXPORT_DIRNAME = "export"
DASHBOARD_FILENAME = "dashboard.html"
HARVEST_DOWNLOADS = 4  # parallel image downloads per source, the `harvest` commands' default
SKIPPED = "skipped"

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL, EXIT_RUNNING = 0, 1, 2, 3

FACES, CLASSIFY, TEXT, ANALYZE, EXPORT, DASHBOARD = (
    "faces detect", "classify predict", "text extract", "analyze", "export", "dashboard build")
# stage → the stages whose results it reads: it is skipped when one of them failed or was skipped
DEPENDS: dict[str, tuple[str, ...]] = {
    FACES: (), CLASSIFY: (FACES,), TEXT: (), ANALYZE: (FACES, CLASSIFY, TEXT), EXPORT: (ANALYZE,),
    DASHBOARD: (ANALYZE,),
}


@dataclass
class StageResult:
    """One line of the summary: a stage's status (a RunStatus value or `skipped`), counts, a note,
    and the problems its run reported (new or standing), by kind."""

    stage: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""
    problems: list[KindCount] = field(default_factory=list)

    @property
    def new_problems(self) -> int:
        return sum(kind.new for kind in self.problems)


@dataclass
class RefreshReport:
    stages: list[StageResult]
    export_dir: Path
    dashboard: Path

    @property
    def exit_code(self) -> int:
        """0 all ok, also with only standing problems; 1 a stage failed (others may be skipped);
        2 finished, with a problem that the previous run of its source or stage did not report."""
        if any(result.status == RunStatus.FAILED for result in self.stages):
            return EXIT_FAILED
        return EXIT_PARTIAL if any(result.new_problems for result in self.stages) else EXIT_OK


def run_refresh(context: AppContext, scheduler: str | None = None, workers: int | None = None,
                console: Console | None = None) -> RefreshReport:
    """Harvest every source in postercensus.toml, then faces → classify → text → analyze → export → dashboard.

    Raises runlock.RefreshRunning, having done nothing, when another refresh holds this home.
    """
    console = console or Console(stderr=True)
    home = context.home
    report = RefreshReport([], home / EXPORT_DIRNAME, home / DASHBOARD_FILENAME)
    with refresh_lock(home):
        _clear_interrupted(context, console)
        for source in context.config.sources:
            name = f"harvest {source.get('key', source.get('kind', '?'))}"
            report.stages.append(_attempt(name, lambda: _harvest(context, source, console), console))
        steps: dict[str, Callable[[], StageResult]] = {
            FACES: lambda: _faces(context, scheduler, workers),
            CLASSIFY: lambda: _classify(context),
            TEXT: lambda: _text(context),
            ANALYZE: lambda: _analyze(context),
            EXPORT: lambda: _export(context, report.export_dir),
            DASHBOARD: lambda: _dashboard(context, report.dashboard),
        }
        finished: dict[str, str] = {}
        for name, step in steps.items():
            blocked = [needed for needed in DEPENDS[name] if finished[needed] in (RunStatus.FAILED, SKIPPED)]
            if blocked:
                result = StageResult(name, SKIPPED, note=f"{blocked[0]} did not finish; runs next refresh")
            else:
                result = _attempt(name, step, console)
            finished[name] = result.status
            report.stages.append(result)
    return report


def _written_folders(context: AppContext) -> Iterator[Path]:
    """Where the stages write files: the home, incoming images, the tables, the export and the crops."""
    from postercensus.analysis.cache import TABLES_DIRNAME
    from postercensus.faces.stage import CROPS_DIRNAME

    home = context.home
    yield from (home, context.image_files.incoming, home / TABLES_DIRNAME, home / EXPORT_DIRNAME)
    for folder, _, _ in os.walk(home / CROPS_DIRNAME):
        yield Path(folder)


def _clear_interrupted(context: AppContext, console: Console) -> None:
    """Close the run records and remove the temp files of a process killed before it could."""
    closed = close_interrupted_runs(context.catalog.engine, "refresh")
    if closed:
        console.print(f"marked {len(closed)} run(s) left open by a killed process as interrupted: "
                      + ", ".join(f"#{run_id}" for run_id in closed), highlight=False)
    removed = sweep_orphans(_written_folders(context))
    if removed:
        console.print(f"removed {len(removed)} temp file(s) left by a killed process", highlight=False)


def _attempt(name: str, step: Callable[[], StageResult], console: Console) -> StageResult:
    """Run one stage; an exception becomes a failed result so the refresh can go on with what does not need it."""
    console.print(f"[bold]{name}[/bold] …", highlight=False)
    try:
        result = step()
    except Exception as error:  # any stage's failure: reported and retried next time, never fatal here
        console.print(f"[red]{name} failed[/red]: {type(error).__name__}: {error}", highlight=False)
        return StageResult(name, RunStatus.FAILED, note=f"{type(error).__name__}: {error}")
    return replace(result, stage=name)


def _with_problems(context: AppContext, result: StageResult, run_id: int) -> StageResult:
    """`result` with the problems its run reported, and a note saying how many are new."""
    problems = run_problem_counts(context.catalog.engine, run_id)
    if not problems:
        return result
    new, standing = sum(kind.new for kind in problems), sum(kind.standing for kind in problems)
    note = f"{new:,} new problem(s), {standing:,} standing; stored with run #{run_id}"
    return replace(result, problems=problems, note="; ".join(filter(None, (result.note, note))))


def _harvest(context: AppContext, source: Mapping[str, Any], console: Console) -> StageResult:
    from postercensus.harvest.http import HttpClient, HttpSettings
    from postercensus.harvest.runner import run_harvest
    from postercensus.harvest.sources import harvester_from_params

    client = HttpClient(HttpSettings())
    harvester = harvester_from_params(source.get("kind", ""), source.get("params", {}), client)
    harvested = run_harvest(context.catalog, harvester, client, context.image_files,
                            workers=HARVEST_DOWNLOADS, console=console)
    keys = ("new", "updated", "deleted", "problems", "images_stored", "images_failed", "images_missing")
    counts = {key: harvested.counts.get(key, 0) for key in keys}
    return _with_problems(context, StageResult("", harvested.status, counts, harvested.listing_error or ""),
                          harvested.run_id)


def _faces(context: AppContext, scheduler: str | None, workers: int | None) -> StageResult:
    from postercensus.faces.settings import FaceSettings
    from postercensus.faces.stage import FaceStage

    with face_executor(workers, scheduler) as executor:
        done = FaceStage(context.catalog.engine, context.home, FaceSettings()).run(executor)
    return _with_problems(context, StageResult("", done.status, done.counts()), done.run_id)


def _classify(context: AppContext) -> StageResult:
    """The model, threshold and domain of `[classify]` in postercensus.toml (default: the shipped model,
    threshold 0, posters)."""
    from postercensus.classify import domains, modelfolder
    from postercensus.classify.catalogfaces import PredictionStore
    from postercensus.classify.classifier import load_classifier
    from postercensus.classify.predictstage import record_nothing_new, run_predictions

    section = context.config.data.get("classify", {})
    threshold = float(section.get("threshold", 0.0))
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"{context.config.path}: [classify] threshold must lie between 0 and 1 (got {threshold})")
    model = section.get("model", "default")
    domain = context.config.classify_domain
    engine = context.catalog.engine
    store = PredictionStore(engine, context.home)
    folder = modelfolder.resolve(model)
    card = modelfolder.read_card(folder)
    model_id = card["model_id"]
    version = domains.prediction_version(card, modelfolder.model_version(folder), domain)
    note = ""
    if store.up_to_date(model_id, version, threshold):
        temperature = domains.temperature(card, domain)
        done = record_nothing_new(engine, model_id, version, folder, threshold, domain, temperature)
        note = f"every face has a {model_id} prediction (model not loaded)"
    else:
        classifier = load_classifier(model, None, [context.home / "weights"])
        done = run_predictions(engine, store, classifier, threshold, domain=domain)
    counts = {"predicted": done.predicted, "relabelled": done.relabelled}
    return _with_problems(context, StageResult("", done.status, counts, note), done.run_id)


def _text(context: AppContext) -> StageResult:
    from postercensus.text.pipeline import TextPipeline, TextSettings
    from postercensus.text.stage import TextStage

    pipeline = TextPipeline(TextSettings.from_config(context.config.text))
    context.catalog.apply_keyword_synonyms()
    done = TextStage(context.catalog.engine, pipeline).run()
    counts = {"items": done.items, "mentions": done.mentions}
    return _with_problems(context, StageResult("", done.status, counts), done.run_id)


def _analyze(context: AppContext) -> StageResult:
    from postercensus.analysis.cache import analyze

    done = analyze(context.catalog.engine, context.home)
    if done.unchanged:
        return StageResult("", RunStatus.OK, {"files": 0}, f"catalogue unchanged: {done.outdir} is current")
    return StageResult("", done.status, done.counts(), str(done.outdir))


def _tables_written(context: AppContext) -> Path:
    """The file analyze writes last: outputs older than it were made from older tables."""
    from postercensus.analysis.cache import FINGERPRINT_FILE, TABLES_DIRNAME

    return context.home / TABLES_DIRNAME / FINGERPRINT_FILE


def _current(output: Path, context: AppContext) -> bool:
    tables = _tables_written(context)
    return output.exists() and tables.exists() and output.stat().st_mtime_ns >= tables.stat().st_mtime_ns


def _export(context: AppContext, outdir: Path) -> StageResult:
    from postercensus.analysis.export import export
    from postercensus.analysis.load import load_tables

    if _current(outdir / "provenance.json", context):  # export writes provenance.json last
        return StageResult("", RunStatus.OK, {"files": 0}, f"{outdir} is current")
    paths = export(load_tables(context.catalog.engine, context.home), outdir)
    return StageResult("", RunStatus.OK, {"files": len(paths)}, str(outdir))


def _dashboard(context: AppContext, out: Path) -> StageResult:
    from postercensus.analysis.load import load_tables
    from postercensus.dashboards.page import build_page

    if _current(out, context):
        return StageResult("", RunStatus.OK, {"pages": 0}, f"{out} is current")
    build_page(load_tables(context.catalog.engine, home=context.home), out)
    return StageResult("", RunStatus.OK, {"pages": 1}, str(out))
