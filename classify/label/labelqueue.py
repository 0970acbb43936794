"""The labelling loop's catalogue side: which faces to show next, and people's labels of them.

For training, faces are queued most-uncertain first (smallest prediction margin), because a
person's label helps the classifier most where the model is least sure. For validation, the
queue is a random sample's faces in the sample's random order, with no prediction attached (a
coder who sees the model's guess anchors on it). Labels are kept per coder and purpose. Plain
SQLAlchemy Core, so the same queries run on SQLite and PostgreSQL.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, case, delete, exists, func, insert, null, select, update
from sqlalchemy.sql import Select

from postercensus.catalog import schema
from postercensus.catalog.runs import utcnow
from postercensus.catalog.schema import ImageStatus, LabelPurpose

Model = tuple[str, str]  # (model_id, model_version)


@dataclass(frozen=True)
class QueuedFace:
    """One face waiting for a label, with what the page shows around it."""

    face_id: int
    crop_path: str  # relative to the home
    image_path: str  # relative to the home: the poster the face was found on
    box: tuple[int, int, int, int]  # left, top, right, bottom in the poster's (upright) pixels
    item_title: str | None
    landing_url: str | None
    predicted_label: str | None  # the model's top label (not "uncertain"), None without a prediction
    probability: float | None  # of predicted_label
    margin: float | None  # top minus second probability


def _chosen_images():
    """One stored image per content hash: faces are keyed by sha256 and several image rows (two
    items holding the same file) may share one, which would otherwise queue a face twice."""
    images = schema.images
    return (
        select(images.c.sha256, func.min(images.c.id).label("image_id"))
        .where(images.c.status == ImageStatus.OK, images.c.sha256.is_not(None), images.c.path.is_not(None))
        .group_by(images.c.sha256)
        .subquery("chosen_images")
    )


def faces_with_context() -> Select:
    """faces → their chosen image → its item; faces on no stored image are not part of the corpus."""
    faces, images, items = schema.faces, schema.images, schema.items
    chosen = _chosen_images()
    return (
        select(faces.c.id, faces.c.crop_path, images.c.path, faces.c.left, faces.c.top, faces.c.right,
               faces.c.bottom, items.c.title, items.c.landing_url)
        .select_from(faces)
        .join(chosen, chosen.c.sha256 == faces.c.image_sha256)
        .join(images, images.c.id == chosen.c.image_id)
        .join(items, items.c.id == images.c.item_id)
    )


def _unlabelled():
    """No label of any coder or purpose: a validation face must not be queued for training either."""
    labels = schema.face_labels
    return ~exists().where(labels.c.face_id == schema.faces.c.id)


def _not_coded_by(coder: str):
    labels = schema.face_labels
    return ~exists().where(labels.c.face_id == schema.faces.c.id, labels.c.labelled_by == coder,
                           labels.c.purpose == LabelPurpose.VALIDATION)


def latest_model(connection: Connection) -> Model | None:
    """The most recently registered model that has predicted anything: the default to sort by."""
    models, predictions = schema.classifier_models, schema.predictions
    row = connection.execute(
        select(models.c.model_id, models.c.model_version)
        .where(exists().where(and_(predictions.c.model_id == models.c.model_id,
                                   predictions.c.model_version == models.c.model_version)))
        .order_by(models.c.registered_at.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.model_id, row.model_version)


def next_faces(engine: Engine, limit: int, model: Model | None = None,
               exclude: set[int] | None = None) -> list[QueuedFace]:
    """Up to `limit` unlabelled faces, smallest margin of `model` first, unpredicted faces last.

    `exclude` holds faces the page already has queued or skipped, so a prefetch adds new ones.
    """
    faces, predictions = schema.faces, schema.predictions
    with engine.connect() as connection:
        model = model or latest_model(connection)
        query = faces_with_context().where(_unlabelled())
        if exclude:
            query = query.where(faces.c.id.not_in(sorted(exclude)))
        if model is None:
            query = query.add_columns(*(null().label(name) for name in ("top_label", "probability", "margin")))
            query = query.order_by(faces.c.id)
        else:
            query = query.outerjoin(predictions, and_(
                predictions.c.face_id == faces.c.id,
                predictions.c.model_id == model[0],
                predictions.c.model_version == model[1],
            )).add_columns(predictions.c.top_label, predictions.c.probability, predictions.c.margin)
            # NULLS LAST spelled portably: SQLite and PostgreSQL disagree on where NULL sorts.
            query = query.order_by(case((predictions.c.margin.is_(None), 1), else_=0), predictions.c.margin,
                                   faces.c.id)
        rows = connection.execute(query.limit(limit)).all()
    return [
        QueuedFace(
            face_id=row.id, crop_path=row.crop_path, image_path=row.path,
            box=(row.left, row.top, row.right, row.bottom), item_title=row.title, landing_url=row.landing_url,
            predicted_label=row.top_label, probability=row.probability, margin=row.margin,
        )
        for row in rows
    ]


def sample_faces(engine: Engine, sample: str, coder: str, limit: int,
                 exclude: set[int] | None = None) -> list[QueuedFace]:
    """Up to `limit` faces of the validation sample that `coder` has not labelled, in the sample's
    random order, without any prediction (the page must not anchor the coder on the model)."""
    faces, members = schema.faces, schema.validation_sample_faces
    query = (faces_with_context().join(members, members.c.face_id == faces.c.id)
             .where(members.c.sample == sample, _not_coded_by(coder)).order_by(members.c.position))
    if exclude:
        query = query.where(faces.c.id.not_in(sorted(exclude)))
    with engine.connect() as connection:
        rows = connection.execute(query.limit(limit)).all()
    return [QueuedFace(face_id=row.id, crop_path=row.crop_path, image_path=row.path,
                       box=(row.left, row.top, row.right, row.bottom), item_title=row.title,
                       landing_url=row.landing_url, predicted_label=None, probability=None, margin=None)
            for row in rows]


def count_sample_remaining(engine: Engine, sample: str, coder: str) -> int:
    """Faces of the sample `coder` still has to label."""
    members = schema.validation_sample_faces
    query = (faces_with_context().join(members, members.c.face_id == schema.faces.c.id)
             .where(members.c.sample == sample, _not_coded_by(coder)).subquery())
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(query)).scalar_one()


def face_files(engine: Engine, face_id: int) -> tuple[str, str] | None:
    """(crop path, poster path), both relative to the home, or None for an unknown face."""
    with engine.connect() as connection:
        row = connection.execute(faces_with_context().where(schema.faces.c.id == face_id)).first()
    return None if row is None else (row.crop_path, row.path)


def count_unlabelled(engine: Engine) -> int:
    """How many faces the queue still holds, for the page's progress line."""
    query = faces_with_context().where(_unlabelled()).subquery()
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(query)).scalar_one()


def set_label(engine: Engine, face_id: int, label: str, labelled_by: str,
              purpose: str = LabelPurpose.TRAINING, sample: str | None = None) -> str | None:
    """Store the coder's `label` for the face and purpose, replacing their earlier one (never a
    second row); returns that earlier label so the page's undo can put it back. Raises
    LookupError for a face the catalogue does not hold."""
    faces, labels = schema.faces, schema.face_labels
    values = {"label": label, "labelled_at": utcnow(), "sample": sample}
    key = and_(labels.c.face_id == face_id, labels.c.labelled_by == labelled_by, labels.c.purpose == purpose)
    with engine.begin() as connection:
        if connection.execute(select(faces.c.id).where(faces.c.id == face_id)).first() is None:
            raise LookupError(f"no face {face_id}")
        previous = connection.execute(select(labels.c.label).where(key)).scalar()
        if previous is None:
            connection.execute(insert(labels).values(face_id=face_id, labelled_by=labelled_by, purpose=purpose,
                                                     **values))
        else:
            connection.execute(update(labels).where(key).values(**values))
    return previous


def clear_label(engine: Engine, face_id: int, labelled_by: str | None = None,
                purpose: str = LabelPurpose.TRAINING) -> None:
    """Remove the coder's (None: every coder's) label of the face for this purpose, returning it to the queue."""
    labels = schema.face_labels
    statement = delete(labels).where(labels.c.face_id == face_id, labels.c.purpose == purpose)
    if labelled_by is not None:
        statement = statement.where(labels.c.labelled_by == labelled_by)
    with engine.begin() as connection:
        connection.execute(statement)


def label_counts(engine: Engine, purpose: str = LabelPurpose.TRAINING, coder: str | None = None,
                 sample: str | None = None) -> dict[str, int]:
    """Labels per label for a purpose (and coder, and sample), e.g. {"female": 3, "male": 5, "other": 1}."""
    labels = schema.face_labels
    query = select(labels.c.label, func.count()).where(labels.c.purpose == purpose).group_by(labels.c.label)
    if coder is not None:
        query = query.where(labels.c.labelled_by == coder)
    if sample is not None:
        query = query.where(labels.c.face_id.in_(select(schema.validation_sample_faces.c.face_id)
                                                 .where(schema.validation_sample_faces.c.sample == sample)))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return {label: count for label, count in rows}
