"""Every face of the catalogue with one model's prediction, made once per model: what selections decide.

A selection keeps the faces of its items and decides each at its min_probability. Merging 200,000
faces with their predictions, and comparing their labels as text, costs more than a dashboard
view's every other step, so it is done once per model and loaded faces frame (kept on the tables,
read-only), and a selection decides its faces from integer codes of the top labels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from postercensus.analysis.load import PREDICTION_COLUMNS, Tables
from postercensus.analysis.validation_labels import ModelValidation
from postercensus.catalog.schema import OTHER_LABEL, UNCERTAIN_LABEL


@dataclass(frozen=True)
class ModelFaces:
    """frame: one row per face × item of the catalogue, `other` faces left out, with the model's
    prediction (empty where it made none). The arrays follow its rows: item_ids, face_ids, the top
    label as a position in `labels` (-1: no prediction) and its probability. `labels` are the top
    labels, then `uncertain`."""

    frame: pd.DataFrame
    item_ids: np.ndarray
    face_ids: np.ndarray
    top_labels: np.ndarray
    probability: np.ndarray
    labels: tuple[str, ...]
    validation: ModelValidation | None = None  # the face set's validation labels, for this model

    @classmethod
    def of(cls, faces: pd.DataFrame, model_id: str | None, validation: ModelValidation | None = None) -> ModelFaces:
        """From the loaded faces (`Tables.faces`: a row per face × item × model that predicted it)."""
        kept = faces[faces["human_label"].ne(OTHER_LABEL)]
        located = kept.drop(columns=PREDICTION_COLUMNS).drop_duplicates(["face_id", "item_id"])
        predicted = kept.loc[kept["model_id"].eq(model_id), ["face_id", "item_id", *PREDICTION_COLUMNS]]
        frame = located.merge(predicted, on=["face_id", "item_id"], how="left")
        codes, names = pd.factorize(frame["top_label"].astype(object))
        labels = tuple(names) + ((UNCERTAIN_LABEL,) if UNCERTAIN_LABEL not in names else ())
        return cls(frame, frame["item_id"].to_numpy(), frame["face_id"].to_numpy(), codes,
                   frame["probability"].astype(float).to_numpy(), labels, validation)

    def decide(self, rows: np.ndarray, min_probability: float) -> np.ndarray:
        """The decisions of the faces at `rows` (a mask) as positions in `labels`: the top label,
        `uncertain` below min_probability, -1 where the model has not predicted the face."""
        top = self.top_labels[rows]
        confident = self.probability[rows] >= min_probability  # NaN: not confident
        return np.where(top < 0, -1, np.where(confident, top, self.labels.index(UNCERTAIN_LABEL)))

    def validation_decisions(self, min_probability: float) -> pd.DataFrame | None:
        """The validation labels with `decided`: the model's decision of each validated face at
        min_probability (None where it has not predicted the face, or the face is on no counted
        item), the same rule as the counts they correct; None without validation labels."""
        if self.validation is None:
            return None
        rows = np.isin(self.face_ids, self.validation.labels["face"].to_numpy())
        names = np.array([*self.labels, None], dtype=object)[self.decide(rows, min_probability)]
        decided = dict(zip(self.face_ids[rows].tolist(), names))  # a face on two items: one decision
        labels = self.validation.labels
        return labels.assign(decided=[decided.get(int(face)) for face in labels["face"]])

    def faces(self, rows: np.ndarray, decisions: np.ndarray) -> pd.DataFrame:
        """The rows at `rows` (a mask) with their `label` the decisions (None: not decided)."""
        faces = self.frame[rows].reset_index(drop=True)
        labels = np.array([*self.labels, None], dtype=object)[decisions]  # -1: the last, None
        faces["label"] = pd.Series(labels, index=faces.index, dtype=object)  # text, None: not decided
        return faces


def model_faces(tables: Tables, model_id: str | None) -> ModelFaces:
    """`ModelFaces` of the tables' faces for `model_id`, made once per model and faces frame."""
    kept = tables.derived.get(("faces", model_id))
    if kept is None or kept[0] is not tables.faces:  # not made yet, or the frame was replaced since
        kept = (tables.faces, ModelFaces.of(tables.faces, model_id, tables.validation.get(model_id)))
        tables.derived[("faces", model_id)] = kept
    return kept[1]
