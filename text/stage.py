"""The text stage: items with new or changed descriptions → gendered mentions in the catalogue.

Incremental by (item, text version, description hash): a second run does nothing, an edited
description is scanned again and its old mentions replaced, and a changed lexicon, model or
boilerplate list (a new text version, `TextSettings.identity`) scans every item into a new result
set beside the old one, which stays for comparison. Pages of items go through
`TextPipeline.process`, so spaCy batches them with nlp.pipe.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus, recorded_run, start_run
from postercensus.catalog.settings import active_settings
from postercensus.catalog.stage import Progress, StageError, StageReport, with_run_problems
from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings
from postercensus.text.store import PendingText, TextStore

STAGE = "text"
# items: descriptions scanned, empty ones included; in_title: mentions inside a quoted title of a
# work ("The Women"); warnings: e.g. a description truncated to max_chars, each also in `errors`
COUNTS = ("items", "mentions", "in_title", "warnings")


@dataclass(frozen=True)
class TextFacts:
    """What a text run worked on and found: the text version (`TextSettings.identity`) and the
    mentions outside quoted titles per gender (also counted as `mentions_<gender>`)."""

    identity: str
    genders: Counter[str] = field(default_factory=Counter)


TextReport = StageReport[TextFacts]


def run_parameters(pipeline: TextPipeline) -> dict[str, Any]:
    """What the run record keeps: the settings as configured and the pipeline's versions."""
    return {**pipeline.settings.to_config(), "version": pipeline.version(), "version_hash": pipeline.version_hash()}


def active_pipeline(home: Home) -> TextPipeline:
    """The spaCy pipeline of the home's `[text]` settings (the catalogue is not opened: `text phrases`
    needs none). A missing model is a StageError already (`text.nlp.ModelNotInstalled`)."""
    return _pipeline(active_settings(home, TextSettings), home)


def _pipeline(settings: TextSettings, home: Home) -> TextPipeline:
    try:
        return TextPipeline(settings)
    except (TypeError, ValueError) as error:
        raise StageError(f"{home.layout.config}: [text] {error}", "fix or remove that setting") from error


class ExtractMentions:
    """The text stage for refresh, the CLI and notebooks: the home's `[text]` settings unless given
    a pipeline (whose settings it then runs with).

    The spaCy pipeline is loaded on first use and kept, so `pending` and `run` load it once.
    """

    name = "text extract"
    requires: tuple[str, ...] = ()

    def __init__(self, pipeline: TextPipeline | None = None, batch_size: int = 64) -> None:
        self._pipeline = pipeline
        self.batch_size = batch_size

    def settings(self, home: Home) -> TextSettings:
        return self._pipeline.settings if self._pipeline is not None else active_settings(home, TextSettings)

    def pipeline(self, home: Home) -> TextPipeline:
        if self._pipeline is None:
            self._pipeline = active_pipeline(home)
        return self._pipeline

    def pending(self, home: Home) -> int:
        return TextStore(home.engine).count_pending(self.pipeline(home).version_hash())

    def run(self, home: Home, progress: Progress | None = None) -> TextReport:
        pipeline, store = self.pipeline(home), TextStore(home.engine)
        run_id = start_run(home.engine, STAGE, run_parameters(pipeline))
        report = TextReport(self.name, RunStatus.RUNNING, dict.fromkeys(COUNTS, 0), run_id=run_id,
                            facts=TextFacts(pipeline.version_hash()))
        with recorded_run(home.engine, run_id, report):
            for page in store.pending(report.facts.identity):
                self._scan(pipeline, store, page, report)
                if progress:
                    progress(len(page))
        return with_run_problems(home.engine, report)

    def _scan(self, pipeline: TextPipeline, store: TextStore, page: list[PendingText], report: TextReport) -> None:
        results = list(pipeline.process([item.text for item in page], batch_size=self.batch_size))
        store.record(page, [r.mentions for r in results], [r.warning for r in results], report.facts.identity,
                     report.run_id)
        report.count("items", len(page))
        for item, result in zip(page, results):
            report.count("mentions", len(result.mentions))
            report.count("in_title", sum(m.in_title for m in result.mentions))
            for mention in result.mentions:
                if not mention.in_title:  # titles are no people
                    report.facts.genders[mention.gender] += 1
                    report.count(f"mentions_{mention.gender}")
            if result.warning:
                report.count("warnings")
                report.errors.append(f"item {item.source_item_id}: {result.warning}")
