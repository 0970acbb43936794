"""`dashboard build` as a stage: the offline page of the home's tables, skipped while current."""
from __future__ import annotations

from pathlib import Path

from postercensus.analysis.filters import Filters
from postercensus.analysis.load import load_tables
from postercensus.analysis.selection import matched
from postercensus.analysis.stage import WrittenFacts, WrittenReport, written_after_tables
from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus
from postercensus.catalog.stage import Progress
from postercensus.dashboards.page import build_page


class BuildDashboard:
    """The page into `out` (default <home>/dashboard.html); a filtered page is always written."""

    name = "dashboard build"
    requires: tuple[str, ...] = ("analyze",)

    def __init__(self, out: Path | None = None, filters: Filters | None = None) -> None:
        self.out = out
        self.filters = filters

    def page(self, home: Home) -> Path:
        return self.out if self.out is not None else home.layout.dashboard

    def settings(self, home: Home) -> dict[str, object]:
        return {"out": str(self.page(home)), "filters": self.filters}

    def pending(self, home: Home) -> int:
        """1 when the page must be written, else 0."""
        return 0 if self.filters is None and written_after_tables(self.page(home), home) else 1

    def run(self, home: Home, progress: Progress | None = None) -> WrittenReport:
        out = self.page(home)
        if not self.pending(home):
            return WrittenReport(self.name, RunStatus.OK, {"pages": 0}, f"{out} is current", facts=WrittenFacts())
        tables, filters = load_tables(home), self.filters or Filters()
        found = matched(tables, filters)  # FilterError (a StageError) when the filters keep nothing
        build_page(tables, out, filters)
        if progress:
            progress(1)
        return WrittenReport(self.name, RunStatus.OK, {"pages": 1}, str(out), facts=WrittenFacts([out], found))
