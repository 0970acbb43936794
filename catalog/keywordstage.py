"""The keyword step: every item's keywords mapped through the home's `[keywords] synonyms`.

A stage of its own (not a side effect of the text stage) because the tables, the export and both
dashboards filter on the mapped keywords whether or not any text is extracted.
"""
from __future__ import annotations

from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus
from postercensus.catalog.stage import Progress, StageReport


class RemapKeywords:
    name = "keywords"
    requires: tuple[str, ...] = ()

    def settings(self, home: Home) -> dict[str, str]:
        return home.config.keyword_synonyms

    def pending(self, home: Home) -> int:
        """1 when the synonym map changed since it was last applied, else 0."""
        return 0 if home.catalog.keyword_synonyms_applied() else 1

    def run(self, home: Home, progress: Progress | None = None) -> StageReport:
        changed = home.catalog.apply_keyword_synonyms()
        if progress:
            progress(1)
        if changed is None:
            return StageReport(self.name, RunStatus.OK, {"items_changed": 0}, "synonym map unchanged",
                               details={"applied": False})
        return StageReport(self.name, RunStatus.OK, {"items_changed": changed},
                           f"synonym map from {home.layout.config} applied", details={"applied": True})
