"""The harvest stage: one source's records and images into the catalogue, as a `Stage`.

`refresh` makes one per source registered in postercensus.toml; the `harvest` commands make one
from the options they were given, with `register`: the source is written to postercensus.toml
once its first contact succeeded (never before, so a mistake is not refreshed every night).
Either way `run_harvest` does the work and its `HarvestFacts` are the StageReport's `facts`, for printing.
"""
from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from rich.console import Console

from postercensus.catalog.home import Home
from postercensus.catalog.stage import Progress, StageReport, with_run_problems
from postercensus.harvest.http import HttpClient, HttpSettings
from postercensus.harvest.records import Harvester
from postercensus.harvest.runner import HarvestFacts, run_harvest
from postercensus.harvest.sources import harvester_from_params

DOWNLOADS = 4  # parallel image downloads per source, the `harvest` commands' default
REPORTED_COUNTS = ("new", "updated", "deleted", "problems", "images_stored", "images_failed", "images_missing")


class HarvestSource:
    """Harvest one source: built from its postercensus.toml entry (`from_entry`) or given ready."""

    requires: tuple[str, ...] = ()

    def __init__(self, harvester: Harvester, client: HttpClient, *, workers: int = DOWNLOADS,
                 overrides: dict[str, Any] | None = None, console: Console | None = None,
                 register: bool = False) -> None:
        self.harvester = harvester
        self.client = client
        self.workers = workers
        self.overrides = overrides
        self.console = console
        self.register = register
        self.name = f"harvest {harvester.source_key()}"

    @classmethod
    def from_entry(cls, source: Mapping[str, Any], console: Console | None = None) -> HarvestSource:
        """The source as registered (`[[sources]]`: key, kind, params); a HarvestError names a broken entry."""
        client = HttpClient(HttpSettings())
        return cls(harvester_from_params(source.get("kind", ""), source.get("params", {}), client), client,
                   console=console)

    def settings(self, home: Home) -> dict[str, Any]:
        return {"kind": self.harvester.kind, "params": self.harvester.params()}

    def pending(self, home: Home) -> None:
        """Unknown until the source is asked: a harvest always runs."""
        return None

    def run(self, home: Home, progress: Progress | None = None) -> StageReport[HarvestFacts]:
        """Harvest; the rich console shows the harvest's own two-phase progress (records, then images)."""
        harvested = run_harvest(home.catalog, self.harvester, self.client, home.image_files, workers=self.workers,
                                overrides=self.overrides, console=self.console,
                                on_contact=(lambda: self._register(home)) if self.register else None)
        counts = {key: harvested.counts.get(key, 0) for key in REPORTED_COUNTS}
        note = harvested.listing_error or ""
        if not harvested.contacted:  # a refresh cannot tell an outage from a source that is wrong for good
            where, key = shlex.quote(str(home.path)), shlex.quote(harvested.source_key)
            note += f" (if the source itself is wrong: `postercensus --home {where} source remove {key}`)"
        report = StageReport(self.name, harvested.status, counts, note, harvested.run_id,
                             harvested.item_errors, facts=harvested)
        return with_run_problems(home.engine, report)

    def _register(self, home: Home) -> None:
        """Write the source's entry (key, kind, options) to postercensus.toml for `refresh`."""
        home.config.register_source(self.harvester.source_key(), self.harvester.kind, self.harvester.params())
