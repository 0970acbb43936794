"""The registered stages, in the order `refresh` runs them (each after the stages it requires).

The one place that knows every stage: `refresh`, `status` and the notebook API take them from
here; each stage package defines its own (`harvest.stage`, `faces.stage`, …) against the
protocol in `catalog.stage`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from postercensus.catalog.home import Home
from postercensus.catalog.stage import Progress, Stage, StageReport


class BrokenSource:
    """A registered source whose entry cannot be turned into a harvester: it fails with the reason
    when run, and the other stages go on (the refresh summary names it)."""

    requires: tuple[str, ...] = ()

    def __init__(self, source: Mapping[str, Any], error: Exception) -> None:
        self.name = f"harvest {source.get('key', source.get('kind', '?'))}"
        self.error = error

    def settings(self, home: Home) -> Mapping[str, Any]:
        return {}

    def pending(self, home: Home) -> None:
        return None

    def run(self, home: Home, progress: Progress | None = None) -> StageReport:
        raise self.error


def harvest_stages(home: Home, console: Console | None = None) -> list[Stage]:
    """One harvest per source in postercensus.toml."""
    from postercensus.harvest.stage import HarvestSource

    stages: list[Stage] = []
    for source in home.config.sources:
        try:
            stages.append(HarvestSource.from_entry(source, console))
        except Exception as error:  # a broken entry fails its own stage only
            stages.append(BrokenSource(source, error))
    return stages


def processing_stages(scheduler: str | None = None, workers: int | None = None) -> list[Stage]:
    """Every stage after the harvests, with the home's active settings."""
    from postercensus.analysis.stage import Analyze, Export
    from postercensus.catalog.keywordstage import RemapKeywords
    from postercensus.classify.predictstage import PredictGenders
    from postercensus.dashboards.stage import BuildDashboard
    from postercensus.faces.stage import DetectFaces
    from postercensus.text.stage import ExtractMentions

    return [DetectFaces(workers=workers, scheduler=scheduler), PredictGenders(), RemapKeywords(), ExtractMentions(),
            Analyze(), Export(), BuildDashboard()]


def refresh_stages(home: Home, scheduler: str | None = None, workers: int | None = None,
                   console: Console | None = None) -> list[Stage]:
    """What `refresh` runs, in order."""
    return [*harvest_stages(home, console), *processing_stages(scheduler, workers)]
