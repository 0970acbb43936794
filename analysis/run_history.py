"""What the run records say beyond provenance.json: when each source was harvested, which software
versions the stages ran with, and how each validation sample was drawn.

A methods section has to name the harvest dates of every collection and the versions of the
libraries that produced the figures; `analysis.load` records the runs by stage without their
source or their versions (provenance.json stays small), so the methods report reads them here, in
one query per table, and only when a report is asked for.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from postercensus.catalog import schema
from postercensus.catalog.runs import RunStatus

HARVEST_STAGE = "harvest"  # harvest runs are recorded as "harvest.<kind>" (harvest.csv, harvest.oai …)
FINISHED = (RunStatus.OK, RunStatus.PARTIAL)  # runs whose results the catalogue holds


@dataclass(frozen=True)
class SourceHarvests:
    """One source's harvest runs: how many ended with each status, the first start and the last finish."""

    source: str
    statuses: dict[str, int]
    first_started: datetime | None
    last_finished: datetime | None


@dataclass(frozen=True)
class ValidationDesign:
    """How a validation sample was drawn (`classify.label.validation.draw_sample`)."""

    name: str
    design: str  # simple | stratified
    stratify_by: str | None
    strata: dict[str, dict[str, int]]  # stratum → {"population": N_h, "drawn": n_h}
    seed: int
    created_at: datetime
    extended_at: datetime | None


@dataclass(frozen=True)
class RunHistory:
    """The run records (stage, source key, status, times, versions) and the validation samples' designs."""

    runs: pd.DataFrame
    samples: tuple[ValidationDesign, ...]

    @classmethod
    def read(cls, engine: Engine) -> RunHistory:
        runs, sources, samples = schema.runs, schema.sources, schema.validation_samples
        with engine.connect() as connection:
            rows = connection.execute(
                select(runs.c.stage, sources.c.key.label("source"), runs.c.status, runs.c.started_at,
                       runs.c.finished_at, runs.c.versions)
                .outerjoin(sources, sources.c.id == runs.c.source_id).order_by(runs.c.id)).all()
            drawn = connection.execute(select(samples.c.name, samples.c.design, samples.c.stratify_by,
                                              samples.c.strata, samples.c.seed, samples.c.created_at,
                                              samples.c.extended_at).order_by(samples.c.created_at)).all()
        frame = pd.DataFrame([row._asdict() for row in rows],
                             columns=["stage", "source", "status", "started_at", "finished_at", "versions"])
        return cls(frame, tuple(ValidationDesign(**row._asdict()) for row in drawn))

    def harvests(self, source: str) -> SourceHarvests:
        """The harvest runs of one source (sources.key)."""
        runs = self.runs[self.runs["stage"].str.startswith(HARVEST_STAGE) & self.runs["source"].eq(source)]
        finished = runs["finished_at"].dropna()
        return SourceHarvests(source, {str(k): int(v) for k, v in runs["status"].value_counts(sort=False).items()},
                              _stamp(runs["started_at"].min()) if len(runs) else None,
                              _stamp(finished.max()) if len(finished) else None)

    def software(self) -> list[tuple[str, str, list[str]]]:
        """(package, version, stages whose finished runs recorded it) for every version recorded, in the
        order the run records list the packages: a package run at two versions has two rows, so a
        catalogue built over an upgrade says so instead of naming one version."""
        seen: dict[tuple[str, str], list[str]] = {}
        finished = self.runs[self.runs["status"].isin(FINISHED)]
        for stage, versions in zip(finished["stage"], finished["versions"]):
            for package, version in (versions or {}).items():
                stages = seen.setdefault((package, str(version)), [])
                if stage not in stages:
                    stages.append(stage)
        return [(package, version, stages) for (package, version), stages in seen.items()]

    def designs(self, names: Iterable[str]) -> list[ValidationDesign]:
        """The designs of the named samples, in the order they were drawn."""
        wanted = set(names)
        return [sample for sample in self.samples if sample.name in wanted]


def _stamp(value: Any) -> datetime | None:
    """A stored time as a datetime (None when missing)."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()
