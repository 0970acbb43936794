"""`analyze` and `export` as stages: the tables cached in the home, and the published export of them.

The export (and the dashboard page, `dashboards.stage`) is current when it was written after the
tables' fingerprint, which `analyze` writes last: an output older than it was made from older tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from postercensus.analysis.cache import FINGERPRINT_FILE, NAME, AnalyzeReport, analyze, tables_current
from postercensus.analysis.export import PROVENANCE_FILE, export
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import load_tables
from postercensus.analysis.selection import matched
from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus
from postercensus.catalog.stage import Progress, StageReport


@dataclass(frozen=True)
class WrittenFacts:
    """What an export or a dashboard page wrote (nothing while current): the files and what the
    filters kept (`analysis.selection.matched`; None when nothing was written)."""

    paths: list[Path] = field(default_factory=list)
    matched: str | None = None


WrittenReport = StageReport[WrittenFacts]


def written_after_tables(output: Path, home: Home) -> bool:
    """Whether `output` exists and is no older than the tables it was made from."""
    tables = home.layout.tables / FINGERPRINT_FILE
    return output.exists() and tables.exists() and output.stat().st_mtime_ns >= tables.stat().st_mtime_ns


class Analyze:
    """Every table into <home>/analysis/, when what they are computed from changed."""

    name = NAME
    requires: tuple[str, ...] = ("faces detect", "classify predict", "text extract", "keywords")

    def settings(self, home: Home) -> dict[str, str]:
        return {"outdir": str(home.layout.tables)}

    def pending(self, home: Home) -> int:
        """1 when the tables are stale, else 0."""
        return 0 if tables_current(home) else 1

    def run(self, home: Home, progress: Progress | None = None) -> AnalyzeReport:
        report = analyze(home)
        if progress:
            progress(1)
        return report


class Export:
    """The tables (filtered, if filters are given) with codebook.md and provenance.json, into `outdir`.

    Unfiltered into the home's export folder it is skipped while current; a filtered export is
    always written, as its filters are not recorded in the tables' fingerprint.
    """

    name = "export"
    requires: tuple[str, ...] = ("analyze",)

    def __init__(self, outdir: Path | None = None, filters: Filters | None = None) -> None:
        self.outdir = outdir
        self.filters = filters

    def settings(self, home: Home) -> dict[str, object]:
        return {"outdir": str(self.folder(home)), "filters": self.filters}

    def folder(self, home: Home) -> Path:
        return self.outdir if self.outdir is not None else home.layout.export

    def pending(self, home: Home) -> int:
        """1 when the export must be written, else 0 (provenance.json is written last)."""
        current = self.filters is None and written_after_tables(self.folder(home) / PROVENANCE_FILE, home)
        return 0 if current else 1

    def run(self, home: Home, progress: Progress | None = None) -> WrittenReport:
        outdir = self.folder(home)
        if not self.pending(home):
            return WrittenReport(self.name, RunStatus.OK, {"files": 0}, f"{outdir} is current", facts=WrittenFacts())
        tables, filters = load_tables(home), self.filters or Filters()
        found = matched(tables, filters)  # FilterError (a StageError) when the filters keep nothing
        paths = export(tables, outdir, filters)
        if progress:
            progress(1)
        return WrittenReport(self.name, RunStatus.OK, {"files": len(paths)}, str(outdir),
                             facts=WrittenFacts(paths, found))
