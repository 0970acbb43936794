"""The keyword step: every item's keywords mapped through the home's `[keywords] synonyms`.

A stage of its own (not a side effect of the text stage) because the tables, the export and both
dashboards filter on the mapped keywords whether or not any text is extracted.
"""
from __future__ import annotations

from dataclasses import dataclass

from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus
from postercensus.catalog.stage import Progress, StageReport


@dataclass(frozen=True)
class KeywordFacts:
    """Whether the synonym map was applied (False: it had not changed since it last was)."""

    applied: bool


KeywordReport = StageReport[KeywordFacts]


class RemapKeywords:
    name = "keywords"
    requires: tuple[str, ...] = ()

    def settings(self, home: Home) -> dict[str, str]:
        return home.config.keyword_synonyms

    def pending(self, home: Home) -> int:
        """1 when the synonym map changed since it was last applied, else 0."""
        return 0 if home.catalog.keyword_synonyms_applied() else 1

    def run(self, home: Home, progress: Progress | None = None) -> KeywordReport:
        changed = home.catalog.apply_keyword_synonyms()
        if progress:
            progress(1)
        if changed is None:
            return KeywordReport(self.name, RunStatus.OK, {"items_changed": 0}, "synonym map unchanged",
                                 facts=KeywordFacts(applied=False))
        return KeywordReport(self.name, RunStatus.OK, {"items_changed": changed},
                             f"synonym map from {home.layout.config} applied", facts=KeywordFacts(applied=True))
