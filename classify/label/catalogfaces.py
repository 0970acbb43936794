"""The catalogue side of classify: labelled faces to train on, faces to predict, predictions to store.

Predictions are keyed by (face, model id, model version): a new model predicts beside the old
one instead of overwriting it, and rerunning the same model only touches faces it has not seen.
A changed threshold relabels stored predictions without running the model again.

A stored label is the decision rule (`metrics.decide`) at the threshold of the run that stored or
relabelled it: the same rule at the same default (`[classify] threshold`) as the tables, which
decide again from the stored probabilities so that a view may choose another threshold. There is
one threshold per home; the stored label is its cached decision, never a second rule.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, exists, func, select

from postercensus.catalog import schema
from postercensus.catalog.runs import utcnow
from postercensus.catalog.schema import OTHER_LABEL, UNCERTAIN_LABEL, LabelPurpose
from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.models.modelcard import ModelCard
from postercensus.classify.train.trainingset import TrainingSet
from postercensus.faces.descriptors import DescriptorsPurged, without_descriptor

PAGE = 256


@dataclass
class CatalogFace:
    face_id: int
    sample: FaceSample


def _sample(row: Any, home: Path) -> FaceSample:
    return FaceSample(np.asarray(row.embedding, dtype=np.float32), crop_path=home / row.crop_path,
                      image_sha256=row.image_sha256)


def reads_descriptors(backbone_name: str) -> bool:
    """Whether a backbone's features are the stored dlib descriptors (VGGFace reads the crops)."""
    return backbone_name == "dlib"


def require_descriptors(samples: list[FaceSample], what: str, hint: str) -> None:
    """Refuse, before any work, to feed faces whose descriptors were purged to `what`: an empty
    descriptor would otherwise fail deep in numpy, or train on nothing, with no word of why."""
    missing = sum(sample.descriptor.size == 0 for sample in samples)
    if missing:
        raise DescriptorsPurged(missing, what, hint)


def _item_of_face():
    """face id → one item holding its image (the lowest id when several items share the bytes)."""
    images = schema.images
    return (
        select(schema.faces.c.id.label("face_id"), func.min(images.c.item_id).label("item_id"))
        .join(images, images.c.sha256 == schema.faces.c.image_sha256)
        .group_by(schema.faces.c.id)
        .subquery()
    )


def labelled_training_set(engine: Engine, home: Path, include_validation: bool = False) -> TrainingSet:
    """Faces people labelled (other / not a face left out), grouped by item so splits never leak a poster.

    A face with a validation label is left out unless `include_validation` (it would train the
    model its sample is meant to measure); several coders' labels of a face are resolved as the
    validation labels are (`classify.label.validation.resolve_labels`). The card records the faces
    trained on, so `validation_labels_used_in_training` can tell later.
    """
    from postercensus.classify.label.validation import resolve_labels

    faces, labels = schema.faces, schema.face_labels
    item_of = _item_of_face()
    validated = select(labels.c.face_id).where(labels.c.purpose == LabelPurpose.VALIDATION)
    codings = select(labels.c.face_id.label("face"), labels.c.label, labels.c.labelled_by.label("coder"),
                     labels.c.labelled_at)
    if not include_validation:
        codings = codings.where(labels.c.face_id.not_in(validated))
    with engine.connect() as connection:
        coded = connection.execute(codings).all()
        left_out = connection.execute(select(func.count(func.distinct(labels.c.face_id)))
                                      .where(labels.c.purpose == LabelPurpose.VALIDATION)).scalar_one()
    resolved = resolve_labels(pd.DataFrame([row._asdict() for row in coded],
                                           columns=["face", "label", "coder", "labelled_at"]))
    chosen = {row.face: row.label for row in resolved.itertuples() if row.label != OTHER_LABEL}
    query = (
        select(faces.c.id, faces.c.embedding, faces.c.crop_path, faces.c.image_sha256, item_of.c.item_id)
        .join(item_of, item_of.c.face_id == faces.c.id)
        .where(faces.c.id.in_(sorted(chosen)))
        .order_by(faces.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all() if chosen else []
        validation_ids = set(connection.execute(validated).scalars())
    return TrainingSet(
        samples=[_sample(row, home) for row in rows],
        labels=[chosen[row.id] for row in rows],
        groups=[f"item {row.item_id}" for row in rows],
        names=[f"face {row.id}" for row in rows],
        source={"data": "catalogue labels", "faces_labelled": len(rows),
                "catalogue_faces": [[row.id, row.image_sha256] for row in rows],
                "validation_labels": {"included": include_validation,
                                      "faces": sum(row.id in validation_ids for row in rows),
                                      "faces_left_out": 0 if include_validation else left_out}},
    )


class PredictionStore:
    def __init__(self, engine: Engine, home: Path) -> None:
        self.engine = engine
        self.home = home

    def register(self, model_id: str, version: str, card: ModelCard | Mapping[str, Any], location: str) -> None:
        """Record the model and its card once per version (analysis corrects shares with its confusion matrix)."""
        card = ModelCard.of(card)
        table = schema.classifier_models
        with self.engine.begin() as connection:
            known = connection.execute(select(table.c.model_id).where(
                table.c.model_id == model_id, table.c.model_version == version)).first()
            if known is None:
                connection.execute(table.insert().values(
                    model_id=model_id, model_version=version, backbone=card.backbone_name,
                    labels=card.label_list, card=card.to_dict(), location=location, registered_at=utcnow()))

    def _pending(self, model_id: str, version: str):
        predictions = schema.predictions
        return ~exists().where(and_(predictions.c.face_id == schema.faces.c.id, predictions.c.model_id == model_id,
                                    predictions.c.model_version == version))

    def count_pending(self, model_id: str, version: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(schema.faces)
                                      .where(self._pending(model_id, version))).scalar_one()

    def require_pending_descriptors(self, model_id: str, version: str, backbone_name: str) -> None:
        """Refuse to predict with a descriptor-reading model when faces it has not predicted have
        no descriptor (purged): checked before the run starts, so no run fails half-way."""
        if not reads_descriptors(backbone_name):
            return
        with self.engine.connect() as connection:
            missing = connection.execute(select(func.count()).select_from(schema.faces)
                                         .where(self._pending(model_id, version), without_descriptor())).scalar_one()
        if missing:
            raise DescriptorsPurged(missing, f"predicting with {model_id} (dlib backbone)",
                                    "keep the stored predictions, which the tables read, or predict with a "
                                    "VGGFace-backbone model, which reads the crops; faces found by a new face set "
                                    "have descriptors again")

    def up_to_date(self, model_id: str, version: str, threshold: float) -> bool:
        """True when this model version is registered, has predicted every face, all at `threshold`.

        Lets a scheduled refresh skip loading the model (TensorFlow) when there is nothing to do.
        """
        predictions, models = schema.predictions, schema.classifier_models
        with self.engine.connect() as connection:
            registered = connection.execute(select(models.c.model_id).where(
                models.c.model_id == model_id, models.c.model_version == version)).first()
            relabel = connection.execute(select(predictions.c.id).where(
                predictions.c.model_id == model_id, predictions.c.model_version == version,
                predictions.c.threshold != threshold).limit(1)).first()
        return registered is not None and relabel is None and self.count_pending(model_id, version) == 0

    def pending(self, model_id: str, version: str) -> Iterator[list[CatalogFace]]:
        """Pages of faces this model version has not predicted, by face id (restartable after a kill)."""
        faces = schema.faces
        after = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(faces.c.id, faces.c.embedding, faces.c.crop_path, faces.c.image_sha256)
                    .where(self._pending(model_id, version), faces.c.id > after)
                    .order_by(faces.c.id).limit(PAGE)).all()
            if not rows:
                return
            after = rows[-1].id
            yield [CatalogFace(row.id, _sample(row, self.home)) for row in rows]

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """One page of predictions in one transaction: a killed run loses at most the page in flight."""
        if rows:
            with self.engine.begin() as connection:
                connection.execute(schema.predictions.insert(), rows)

    def label_counts(self, model_id: str, version: str) -> dict[str, int]:
        """Faces per stored label for this model version, faces people marked `other` left out
        (by the one label a face counts with however many coders labelled it, as the tables do:
        `classify.label.validation.resolve_labels`)."""
        from postercensus.classify.label.validation import resolve_labels

        predictions, labels = schema.predictions, schema.face_labels
        with self.engine.connect() as connection:
            coded = connection.execute(select(labels.c.face_id.label("face"), labels.c.label,
                                              labels.c.labelled_by.label("coder"), labels.c.labelled_at)).all()
            rows = connection.execute(
                select(predictions.c.face_id, predictions.c.label)
                .where(predictions.c.model_id == model_id, predictions.c.model_version == version)).all()
        resolved = resolve_labels(pd.DataFrame([row._asdict() for row in coded],
                                               columns=["face", "label", "coder", "labelled_at"]))
        not_a_face = set(resolved.loc[resolved["label"] == OTHER_LABEL, "face"])
        return dict(Counter(label for face_id, label in rows if face_id not in not_a_face))

    def summary(self) -> list[dict[str, Any]]:
        """Per registered model: faces per stored label (for `status`)."""
        models, predictions = schema.classifier_models, schema.predictions
        with self.engine.connect() as connection:
            registered = connection.execute(select(models.c.model_id, models.c.model_version, models.c.backbone)
                                            .order_by(models.c.registered_at)).all()
            counts = connection.execute(
                select(predictions.c.model_id, predictions.c.model_version, predictions.c.label, func.count())
                .group_by(predictions.c.model_id, predictions.c.model_version, predictions.c.label)).all()
        return [
            {"model_id": model.model_id, "model_version": model.model_version, "backbone": model.backbone,
             "labels": {label: n for model_id, version, label, n in counts
                        if (model_id, version) == (model.model_id, model.model_version)}}
            for model in registered
        ]

    def apply_threshold(self, model_id: str, version: str, threshold: float) -> int:
        """Relabel this model's stored predictions for a new threshold; returns how many changed.

        The tables never read these labels (they decide from the probabilities at the home's
        `[classify] threshold`); relabelling keeps `status` and the predict report on the same
        rule once the threshold is the active one (`predict --activate`, `refresh`)."""
        predictions = schema.predictions
        changed = 0
        with self.engine.begin() as connection:
            rows = connection.execute(select(predictions.c.id, predictions.c.top_label, predictions.c.probability,
                                             predictions.c.label)
                                      .where(predictions.c.model_id == model_id, predictions.c.model_version == version,
                                             predictions.c.threshold != threshold)).all()
            for row in rows:
                label = row.top_label if row.probability >= threshold else UNCERTAIN_LABEL
                changed += label != row.label
                connection.execute(predictions.update().where(predictions.c.id == row.id)
                                   .values(label=label, threshold=threshold))
        return changed
