"""Stored face descriptors are sensitive data: deleting them, and telling what needs them.

A face's descriptor (the 128 floats of dlib's face ResNet, `faces.embedding`) is made to tell one
person from another: with it, faces of the same living person can be found across a collection
and matched to photographs outside it. Boxes, landmarks and crops answer "how many faces, where,
how big"; only the perceived-gender head on the dlib backbone and catalogue training read the
descriptor. `purge_descriptors` deletes every one of them and keeps the rest, so the tables,
export and dashboards work on as before.

A purged descriptor is stored as an empty list, what the face pipeline returns for a face it did
not describe (`process_image(describe=False)`): the column stays NOT NULL, no schema change.
Nothing computes a purged descriptor again (`faces detect` skips images it scanned with the same
settings, and says how many of the set's faces have none); a new face set does.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, Text, cast, func, select

from postercensus.catalog import schema
from postercensus.catalog.runs import RunStatus, recorded_run, start_run
from postercensus.catalog.stage import StageError, StageReport

STAGE = "faces purge-descriptors"
PURGED_JSON = "[]"  # how a face without a descriptor stores its embedding (JSON text)


@dataclass(frozen=True)
class PurgeFacts:
    """Descriptors deleted per face set (parameter hash → faces whose descriptor was deleted)."""

    by_set: dict[str, int]


PurgeReport = StageReport[PurgeFacts]


def without_descriptor() -> ColumnElement[bool]:
    """The SQL condition "this face has no descriptor" (its embedding is the empty JSON list)."""
    return cast(schema.faces.c.embedding, Text) == PURGED_JSON


def _descriptors_by_set(connection: Connection) -> dict[str, int]:
    faces = schema.faces
    return dict(connection.execute(
        select(faces.c.parameter_hash, func.count()).where(~without_descriptor())
        .group_by(faces.c.parameter_hash).order_by(faces.c.parameter_hash)).all())


def stored_descriptors(engine: Engine) -> dict[str, int]:
    """Faces that still have a descriptor, per face set (only sets that have any): what a purge
    would delete, for its question before it deletes anything."""
    with engine.connect() as connection:
        return _descriptors_by_set(connection)


def purge_descriptors(engine: Engine) -> PurgeReport:
    """Delete every stored face descriptor of the catalogue, under a run record of its own.

    One transaction: either every descriptor is gone or none is (a kill mid-way leaves them all,
    and the run `running` until the next refresh marks it interrupted). Boxes, landmarks, crops,
    predictions and labels are not touched.
    """
    faces = schema.faces
    run_id = start_run(engine, STAGE, {"deletes": "faces.embedding (every face set)"})
    report = PurgeReport(STAGE, RunStatus.RUNNING, {"descriptors_deleted": 0}, run_id=run_id, facts=PurgeFacts({}))
    with recorded_run(engine, run_id, report):
        with engine.begin() as connection:
            by_set = _descriptors_by_set(connection)
            connection.execute(faces.update().where(~without_descriptor()).values(embedding=[]))
        report.facts = PurgeFacts(by_set)
        report.count("descriptors_deleted", sum(by_set.values()))
        report.count("face_sets", len(by_set))
    return report


def faces_without_descriptor(engine: Engine, parameter_hash: str | None = None) -> int:
    """How many faces (of the set `parameter_hash`, or of every set) have no descriptor."""
    faces = schema.faces
    query = select(func.count()).select_from(faces).where(without_descriptor())
    if parameter_hash is not None:
        query = query.where(faces.c.parameter_hash == parameter_hash)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def last_purge_run(engine: Engine) -> int | None:
    """The id of the latest purge run, to name it when something finds descriptors missing."""
    runs = schema.runs
    with engine.connect() as connection:
        return connection.execute(select(func.max(runs.c.id)).where(runs.c.stage == STAGE)).scalar()


class DescriptorsPurged(StageError):
    """Work that reads stored descriptors met faces whose descriptors were purged."""

    def __init__(self, missing: int, what: str, hint: str) -> None:
        super().__init__(f"{missing} face(s) have no stored descriptor (deleted by `postercensus faces "
                         f"purge-descriptors`), and {what} reads them", hint)
        self.missing = missing
