"""Schema versions and the steps between them.

A catalogue is a researcher's long-lived record: a new postercensus release must upgrade it
in place. Each step is a function run once, in order, inside one transaction; the version
reached is stored in `schema_version`. Later stages append their steps here.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Connection, Engine, inspect, select, text

from postercensus.catalog import schema

Step = Callable[[Connection], None]


def _create_spine(connection: Connection) -> None:
    """Version 1: sources, runs, items (+ versions) and images."""
    spine = [
        schema.sources,
        schema.runs,
        schema.items,
        schema.item_versions,
        schema.images,
    ]
    schema.metadata.create_all(connection, tables=spine)


def _create_faces(connection: Connection) -> None:
    """Version 2: face result sets, the per-image scan log and the faces themselves."""
    schema.metadata.create_all(connection, tables=[schema.face_sets, schema.face_scans, schema.faces])


def _create_classify(connection: Connection) -> None:
    """Version 3: registered classifiers, their predictions and people's labels of faces."""
    tables = [schema.classifier_models, schema.predictions, schema.face_labels]
    schema.metadata.create_all(connection, tables=tables)


def _create_text(connection: Connection) -> None:
    """Version 4: text mentions and their scan log, catalogue settings, and items.source_keywords.

    source_keywords keeps the keywords before the synonym map, so a changed map can be applied
    to every stored item again. Catalogues created before version 4 start it from `keywords`
    (the best record of what the source said); a catalogue created at version 4 already has
    the column from step 1, which builds `items` from the current schema.
    """
    tables = [schema.mentions, schema.text_scans, schema.catalog_settings]
    schema.metadata.create_all(connection, tables=tables)
    if "source_keywords" not in {column["name"] for column in inspect(connection).get_columns("items")}:
        column_type = schema.items.c.source_keywords.type.compile(dialect=connection.dialect)
        connection.execute(text(f"ALTER TABLE items ADD COLUMN source_keywords {column_type}"))
    connection.execute(schema.items.update().where(schema.items.c.source_keywords.is_(None))
                       .values(source_keywords=schema.items.c.keywords))


def _create_problems(connection: Connection) -> None:
    """Version 5: the problems each source's or stage's latest run reported (refresh exit codes).

    Catalogues from before start empty: the first refresh after the upgrade reports its
    problems as new once (older runs stored only messages, which are no stable keys).
    """
    schema.metadata.create_all(connection, tables=[schema.problems])


def _face_alignment(connection: Connection) -> None:
    """Version 6: faces.aligned_by and faces.detector_landmarks (YuNet and MTCNN give five points).

    Every face stored before version 6 was aligned from dlib's 68-point shape. A catalogue
    created at version 6 or later already has both columns from step 2.
    """
    present = {column["name"] for column in inspect(connection).get_columns("faces")}
    for column in (schema.faces.c.aligned_by, schema.faces.c.detector_landmarks):
        if column.name not in present:
            column_type = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f"ALTER TABLE faces ADD COLUMN {column.name} {column_type}"))
    connection.execute(schema.faces.update().where(schema.faces.c.aligned_by.is_(None)).values(aligned_by="dlib68"))


def _coders_and_samples(connection: Connection) -> None:
    """Version 7: hand labels per coder and purpose, and validation samples.

    face_labels held one row per face; it now holds one per coder, face and purpose, so its key
    changes and the table is rebuilt (SQLite cannot change a primary key in place). Every label
    stored before was made to train (the labelling page's queue), so it keeps its coder and gets
    the purpose `training`. A catalogue created at version 7 already has the new table from step 3.
    """
    schema.metadata.create_all(connection, tables=[schema.validation_samples, schema.validation_sample_faces])
    present = {column["name"] for column in inspect(connection).get_columns("face_labels")}
    if "purpose" in present:
        return
    connection.execute(text("ALTER TABLE face_labels RENAME TO face_labels_v6"))
    if connection.dialect.name == "postgresql":  # the old primary key's name would clash with the new one's
        connection.execute(text("ALTER TABLE face_labels_v6 RENAME CONSTRAINT face_labels_pkey TO face_labels_v6_pkey"))
    schema.metadata.create_all(connection, tables=[schema.face_labels])
    connection.execute(text(
        "INSERT INTO face_labels (face_id, label, labelled_by, labelled_at, purpose) "
        f"SELECT face_id, label, labelled_by, labelled_at, '{schema.LabelPurpose.TRAINING}' FROM face_labels_v6"))
    connection.execute(text("DROP TABLE face_labels_v6"))


STEPS: list[Step] = [_create_spine, _create_faces, _create_classify, _create_text, _create_problems, _face_alignment,
                     _coders_and_samples]
LATEST_VERSION = len(STEPS)


def current_version(connection: Connection) -> int:
    """The version a catalogue is at (0 for an empty database)."""
    if not inspect(connection).has_table("schema_version"):
        return 0
    return connection.execute(select(schema.schema_version.c.version)).scalar() or 0


def migrate(engine: Engine) -> int:
    """Bring the catalogue to LATEST_VERSION; returns the version it started at."""
    with engine.begin() as connection:
        schema.metadata.create_all(connection, tables=[schema.schema_version])
        start = current_version(connection)
        if start > LATEST_VERSION:
            raise RuntimeError(
                f"this catalogue is at schema version {start}, newer than this postercensus "
                f"understands ({LATEST_VERSION}); upgrade postercensus"
            )
        for step in STEPS[start:]:
            step(connection)
        if start == 0:
            connection.execute(schema.schema_version.insert().values(version=LATEST_VERSION))
        elif start < LATEST_VERSION:
            connection.execute(schema.schema_version.update().values(version=LATEST_VERSION))
    return start
