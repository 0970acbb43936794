"""`analyze`: the tables recomputed into <home>/analysis/ only when what they are computed from has changed.

The fingerprint names what the tables are computed from, cheap to compute: the result sets
`load_tables` chooses (face set, model versions, text version), a summary of every table it
reads (row counts, newest ids and change times, so an added, removed or rewritten row shows)
and the code version. It is stored beside the CSVs; an unchanged fingerprint means the cached
tables are exactly what a fresh run would write, so nothing is done, whatever the stages' runs
counted (a refresh retries the same missing files every night; that changes no table). It
never looks at the runs themselves. The fingerprint is written last: a killed run leaves no false claim.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, case, func, select

from postercensus.analysis.active import ActiveSets
from postercensus.analysis.export import export
from postercensus.analysis.load import load_tables, result_sets
from postercensus.catalog import __version__, schema
from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus, recorded_run, start_run
from postercensus.catalog.schema import ImageStatus
from postercensus.catalog.stage import StageReport

STAGE = "analyze"
NAME = "analyze"  # the stage's name in refresh (`analysis.stage.Analyze`)
FINGERPRINT_FILE = "fingerprint.json"


def _summaries(connection: Connection) -> dict[str, Any]:
    """Per table the analysis reads: counts and the newest id or change time, grouped where an
    update rewrites a row in place (an image's status, a prediction's label for a new threshold)."""
    items, images, scans = schema.items, schema.images, schema.face_scans
    faces, predictions, labels, models = schema.faces, schema.predictions, schema.face_labels, schema.classifier_models
    queries: dict[str, Select] = {
        # an item's update, deletion or restoration sets updated_at; the synonym map's rewrite of
        # keywords is dated in catalog_settings
        "items": select(func.count(), func.max(items.c.id), func.max(items.c.updated_at)),
        "sources": select(func.count(), func.max(schema.sources.c.id)),
        # a retried missing or failed image changes only attempts and fetched_at, which no table reads
        "images": select(images.c.status, func.count(), func.max(images.c.id),
                         func.max(case((images.c.status == ImageStatus.OK, images.c.fetched_at))))
        .group_by(images.c.status).order_by(images.c.status),
        "face_scans": select(scans.c.parameter_hash, scans.c.status, func.count(), func.max(scans.c.id))
        .group_by(scans.c.parameter_hash, scans.c.status).order_by(scans.c.parameter_hash, scans.c.status),
        "faces": select(func.count(), func.max(faces.c.id)),
        "predictions": select(predictions.c.model_id, predictions.c.model_version, predictions.c.label,
                              predictions.c.threshold, func.count(), func.max(predictions.c.id))
        .group_by(predictions.c.model_id, predictions.c.model_version, predictions.c.label, predictions.c.threshold)
        .order_by(predictions.c.model_id, predictions.c.model_version, predictions.c.label, predictions.c.threshold),
        "face_labels": select(labels.c.label, func.count(), func.max(labels.c.labelled_at))
        .group_by(labels.c.label).order_by(labels.c.label),
        "classifier_models": select(func.count(), func.max(models.c.registered_at)),
        "mentions": select(schema.mentions.c.version_hash, func.count(), func.max(schema.mentions.c.id))
        .group_by(schema.mentions.c.version_hash).order_by(schema.mentions.c.version_hash),
        "catalog_settings": select(func.count(), func.max(schema.catalog_settings.c.updated_at)),
    }
    return {name: [[_plain(value) for value in row] for row in connection.execute(query)]
            for name, query in queries.items()}


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: times (and anything else not a number or text) as their text."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def catalogue_fingerprint(engine: Engine, active: ActiveSets) -> dict[str, Any]:
    """What the tables are computed from: equal fingerprints give equal tables."""
    with engine.connect() as connection:
        return {"code_version": __version__, "result_sets": result_sets(connection, active),
                "tables": _summaries(connection)}


@dataclass
class AnalyzeFacts:
    """What `analyze` wrote, and where: `unchanged` means the cache was current and nothing was
    written (no run is recorded then); `paths` are the files written."""

    outdir: Path
    fingerprint: dict[str, Any]
    unchanged: bool = False
    paths: list[Path] = field(default_factory=list)


AnalyzeReport = StageReport[AnalyzeFacts]


def _cached(outdir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((outdir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def current_fingerprint(home: Home) -> dict[str, Any]:
    """The fingerprint the tables of `home` would be written with now (its active sets and demo flag:
    the flag is printed into codebook.md and provenance.json, so marking a home recomputes them)."""
    return {**catalogue_fingerprint(home.engine, ActiveSets.of(home.config)), "demo": home.config.demo}


def tables_current(home: Home, outdir: Path | None = None) -> bool:
    """Whether the cached tables are exactly what a fresh analyze would write."""
    return _cached(Path(outdir) if outdir is not None else home.layout.tables) == current_fingerprint(home)


def analyze(home: Home, outdir: Path | None = None) -> AnalyzeReport:
    """Recompute every table into `outdir` (default <home>/analysis) unless the catalogue is unchanged."""
    outdir = Path(outdir) if outdir is not None else home.layout.tables
    facts = AnalyzeFacts(outdir, current_fingerprint(home))
    if _cached(outdir) == facts.fingerprint:
        facts.unchanged = True
        return AnalyzeReport(NAME, RunStatus.OK, {"files": 0}, f"catalogue unchanged: {outdir} is current",
                             facts=facts)
    run_id = start_run(home.engine, STAGE, {"outdir": str(outdir), "fingerprint": facts.fingerprint})
    report = AnalyzeReport(NAME, RunStatus.RUNNING, {"files": 0}, str(outdir), run_id, facts=facts)
    with recorded_run(home.engine, run_id, report):
        facts.paths = export(load_tables(home), outdir)
        report.counts["files"] = len(facts.paths)
        write_atomically(outdir / FINGERPRINT_FILE, json.dumps(facts.fingerprint, indent=2).encode("utf-8"))
    return report
