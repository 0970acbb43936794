"""`analyze`: the tables recomputed into <home>/analysis/ only when the catalogue has changed.

The catalogue's fingerprint (the last run of any other stage that did some work, the row counts of everything a table
reads, and the latest human label and item change, which no run records) is stored beside the
CSVs; an unchanged fingerprint means the cached tables are still exactly what a fresh run would
write, so nothing is done. The fingerprint is written last: a killed run leaves no false claim.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from analysis.export import export
from analysis.load import load_tables
from catalog import schema
from catalog.atomicwrite import write_atomically
from catalog.runs import recorded_run, start_run
from postercensus.config import HomeConfig

STAGE = "analyze"
FINGERPRINT_FILE = "fingerprint.json"
TABLES_DIRNAME = "analysis"  # <home>/analysis: the default place of the cached tables
_NOT_WORK = {"unchanged", "images_reused"}  # harvest counts of records and images seen again, unchanged
_COUNTED = (schema.items, schema.images, schema.faces, schema.classifier_models, schema.predictions,
            schema.face_labels, schema.mentions)


def _last_run_with_work(connection: Connection) -> int | None:
    """The newest run of another stage that counted anything: a scheduled refresh that found
    nothing new records runs with all-zero counts, and those must not invalidate the tables."""
    runs = schema.runs
    rows = connection.execute(select(runs.c.id, runs.c.counts).where(runs.c.stage != STAGE).order_by(runs.c.id.desc()))
    for run_id, counts in rows:
        if any(value for key, value in (counts or {}).items() if key not in _NOT_WORK):
            return run_id
    return None


def catalogue_fingerprint(engine: Engine) -> dict[str, Any]:
    """What the tables depend on, cheap to compute: equal fingerprints give equal tables."""
    with engine.connect() as connection:
        last_run = _last_run_with_work(connection)
        counts = {table.name: connection.execute(select(func.count()).select_from(table)).scalar()
                  for table in _COUNTED}
        labelled = connection.execute(select(func.max(schema.face_labels.c.labelled_at))).scalar()
        updated = connection.execute(select(func.max(schema.items.c.updated_at))).scalar()
    return {"last_run_id": last_run, "counts": counts,
            "last_labelled_at": None if labelled is None else str(labelled),
            "last_item_update": None if updated is None else str(updated)}


@dataclass
class AnalyzeReport:
    """What `analyze` did; `unchanged` means the cache was current and nothing was written."""

    outdir: Path
    fingerprint: dict[str, Any]
    unchanged: bool = False
    run_id: int | None = None
    paths: list[Path] = field(default_factory=list)
    status: str = "running"
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"files": len(self.paths)}


def _cached(outdir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((outdir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def analyze(engine: Engine, home: Path, outdir: Path | None = None) -> AnalyzeReport:
    """Recompute every table into `outdir` (default <home>/analysis) unless the catalogue is unchanged."""
    outdir = Path(outdir) if outdir is not None else Path(home) / TABLES_DIRNAME
    # the demo flag is printed into codebook.md and provenance.json: marking a home recomputes them
    report = AnalyzeReport(outdir, {**catalogue_fingerprint(engine), "demo": HomeConfig.load(Path(home)).demo})
    if _cached(outdir) == report.fingerprint:
        report.unchanged = True
        return report
    report.run_id = start_run(engine, STAGE, {"outdir": str(outdir), "fingerprint": report.fingerprint})
    with recorded_run(engine, report.run_id, report):
        report.paths = export(load_tables(engine, home), outdir)
        write_atomically(outdir / FINGERPRINT_FILE, json.dumps(report.fingerprint, indent=2).encode("utf-8"))
    return report
