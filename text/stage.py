"""The text stage run: items with new or changed descriptions → gendered mentions in the catalogue.

Incremental by (item, pipeline version hash, description hash): a second run does nothing, an
edited description is scanned again and its old mentions replaced, and a changed lexicon,
model or boilerplate list (a new version hash) scans every item into a new result set beside
the old one, which stays for comparison. Pages of items go through `TextPipeline.process`, so
spaCy batches them with nlp.pipe.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus, recorded_run, start_run
from postercensus.catalog.stage import Progress, StageError, StageReport, with_run_problems
from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings
from postercensus.text.store import PendingText, TextStore

STAGE = "text"
ProgressCallback = Callable[[int], None]


@dataclass
class TextStageReport:
    run_id: int
    version_hash: str
    status: str = RunStatus.OK
    items: int = 0  # descriptions scanned, empty ones included
    mentions: int = 0
    in_title: int = 0  # mentions inside a quoted title of a work ("The Women")
    warnings: int = 0  # e.g. a description truncated to max_chars; each is also in `errors`
    genders: Counter = field(default_factory=Counter)  # mentions outside quoted titles, per gender
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"items": self.items, "mentions": self.mentions, "in_title": self.in_title,
                "warnings": self.warnings, **{f"mentions_{g}": n for g, n in sorted(self.genders.items())}}


def run_parameters(pipeline: TextPipeline) -> dict[str, Any]:
    """What the run record keeps: the settings as configured and the pipeline's versions."""
    return {**pipeline.settings.run_settings(), "version": pipeline.version(), "version_hash": pipeline.version_hash()}


class TextStage:
    def __init__(self, engine: Engine, pipeline: TextPipeline, batch_size: int = 64) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.store = TextStore(engine)
        self.version_hash = pipeline.version_hash()

    def pending_count(self) -> int:
        return self.store.count_pending(self.version_hash)

    def _scan(self, page: list[PendingText], run_id: int, report: TextStageReport) -> None:
        results = list(self.pipeline.process([item.text for item in page], batch_size=self.batch_size))
        self.store.record(page, [r.mentions for r in results], [r.warning for r in results], self.version_hash, run_id)
        report.items += len(page)
        for item, result in zip(page, results):
            report.mentions += len(result.mentions)
            report.in_title += sum(m.in_title for m in result.mentions)
            report.genders.update(m.gender for m in result.mentions if not m.in_title)  # titles are no people
            if result.warning:
                report.warnings += 1
                report.errors.append(f"item {item.source_item_id}: {result.warning}")

    def run(self, progress: ProgressCallback | None = None) -> TextStageReport:
        run_id = start_run(self.engine, STAGE, run_parameters(self.pipeline))
        report = TextStageReport(run_id, self.version_hash)
        with recorded_run(self.engine, run_id, report):
            for page in self.store.pending(self.version_hash):
                self._scan(page, run_id, report)
                if progress:
                    progress(len(page))
        return report


def active_text_settings(home: Home) -> TextSettings:
    """The home's active text settings: its `[text]` table (model, lexicon, categories, boilerplate)."""
    try:
        return TextSettings.from_config(home.active("text"))
    except (TypeError, ValueError) as error:
        raise StageError(f"{home.layout.config}: [text] {error}", "fix or remove that setting") from error


def active_pipeline(home: Home) -> TextPipeline:
    """The spaCy pipeline of the home's `[text]` settings (the catalogue is not opened: `text phrases`
    needs none). A missing model is a StageError already (`text.nlp.ModelNotInstalled`)."""
    try:
        return TextPipeline(active_text_settings(home))
    except (TypeError, ValueError) as error:
        raise StageError(f"{home.layout.config}: [text] {error}", "fix or remove that setting") from error


class ExtractMentions:
    """The text stage for refresh, the CLI and notebooks, with the home's `[text]` settings.

    The spaCy pipeline is loaded on first use and kept, so `pending` and `run` load it once.
    """

    name = "text extract"
    requires: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._worker: TextStage | None = None

    def settings(self, home: Home) -> TextSettings:
        return active_text_settings(home)

    def worker(self, home: Home) -> TextStage:
        if self._worker is None:
            self._worker = TextStage(home.engine, active_pipeline(home))
        return self._worker

    def pending(self, home: Home) -> int:
        return self.worker(home).pending_count()

    def run(self, home: Home, progress: Progress | None = None) -> StageReport:
        done = self.worker(home).run(progress)
        report = StageReport(self.name, done.status, {"items": done.items, "mentions": done.mentions},
                             run_id=done.run_id, errors=done.errors,
                             details={"version_hash": done.version_hash, "in_title": done.in_title,
                                      "genders": dict(done.genders)})
        return with_run_problems(home.engine, report)
