"""The predict stage run: catalogue faces not yet seen by this model version → `predictions`.

Each prediction stores the full probability vector, the top label and the margin (top minus
second), and its label under the run's threshold (`uncertain` below it). The model and its
evaluation are registered first, so every stored prediction can be traced and corrected.

When the model's card calibrates per domain (`classify.train.domains`), the probabilities are
calibrated with the declared domain's temperature before they are stored, under a version that
names the domain, and the card registered with them records it: a changed domain predicts anew,
and the analysis corrects with the errors of the domain the stored probabilities were made for.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus, recorded_run, start_run, utcnow
from postercensus.catalog.settings import active_settings
from postercensus.catalog.stage import Progress, StageReport, with_run_problems
from postercensus.classify.train import domains
from postercensus.classify.activeset import ActivePredictions, ClassifySettings, predictions_named
from postercensus.classify.label.catalogfaces import CatalogFace, PredictionStore
from postercensus.classify.models.classifier import Classifier, load_classifier
from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.train.metrics import decide
from postercensus.classify.models.modelcard import ModelCard

STAGE = "classify"
NAME = "classify predict"


@dataclass(frozen=True)
class PredictFacts:
    """Which predictions a run made: the model and the prediction version (`ClassifySettings.identity`:
    the model's version and the domain; stored as `model_version`)."""

    model_id: str
    identity: str


# counts: predicted, relabelled (stored predictions whose label changed with the threshold) and
# one count per label of the new predictions
PredictReport = StageReport[PredictFacts]


def _new_report(run_id: int, model_id: str, version: str) -> PredictReport:
    return PredictReport(NAME, RunStatus.RUNNING, {"predicted": 0, "relabelled": 0}, run_id=run_id,
                         facts=PredictFacts(model_id, version))


def _rows(page: list[CatalogFace], probabilities: np.ndarray, classifier: Classifier, version: str,
          threshold: float, run_id: int) -> list[dict]:
    labels = classifier.labels
    decided = decide(probabilities, labels, threshold)
    ordered = np.sort(probabilities, axis=1)
    now = utcnow()
    return [
        {
            "face_id": face.face_id,
            "model_id": classifier.model_id,
            "model_version": version,
            "label": label,
            "top_label": labels[int(p.argmax())],
            "probability": round(float(p.max()), 6),
            "margin": round(float(top[-1] - top[-2]), 6),
            "probabilities": {name: round(float(v), 6) for name, v in zip(labels, p)},
            "threshold": threshold,
            "run_id": run_id,
            "predicted_at": now,
        }
        for face, p, top, label in zip(page, probabilities, ordered, decided)
    ]


def calibrated_probabilities(classifier: Classifier, samples: Sequence[FaceSample], domain: str) -> np.ndarray:
    """(faces, labels): what `classify predict` stores for these faces, the model's probabilities
    calibrated for `domain` (one rule for the catalogue and for `pc.perceived_gender`)."""
    return domains.calibrate(classifier.card, classifier.probabilities(samples), domain)


def run_predictions(engine: Engine, store: PredictionStore, classifier: Classifier, threshold: float,
                    progress: Progress | None = None, domain: str = domains.DEFAULT_DOMAIN) -> PredictReport:
    """Predict every pending face page by page; a face whose crop cannot be read is reported and retried later.

    `domain` picks the card's calibration (ignored by a card without domains)."""
    card = classifier.card
    version = domains.prediction_version(card, classifier.version, domain)
    store.require_pending_descriptors(classifier.model_id, version, card.backbone_name)
    run_id = start_run(engine, STAGE, _parameters(classifier.model_id, version, threshold, classifier.folder,
                                                  card, domain))
    report = _new_report(run_id, classifier.model_id, version)
    with recorded_run(engine, run_id, report):
        registered = domains.with_applied_calibration(card, domain)
        store.register(classifier.model_id, version, registered, str(classifier.folder))
        report.count("relabelled", store.apply_threshold(classifier.model_id, version, threshold))
        for page in store.pending(classifier.model_id, version):
            readable = _readable(page, classifier, report)
            probabilities = calibrated_probabilities(classifier, [f.sample for f in readable], domain)
            rows = _rows(readable, probabilities, classifier, version, threshold, run_id)
            store.insert(rows)
            report.count("predicted", len(rows))
            for row in rows:
                report.count(row["label"])
            if progress:
                progress(len(page))
    return report


def record_nothing_new(engine: Engine, named: ActivePredictions, threshold: float, domain: str) -> PredictReport:
    """The run of a refresh that found every face labelled by this version (the prediction version,
    domain included) at this threshold.

    Provenance without the cost: the model (TensorFlow) is never loaded for it.
    """
    run_id = start_run(engine, STAGE, _parameters(named.model_id, named.version, threshold, named.folder,
                                                  named.card, domain))
    report = _new_report(run_id, named.model_id, named.version)
    with recorded_run(engine, run_id, report):
        pass
    return report


def _parameters(model_id: str, version: str, threshold: float, folder: Path, card: ModelCard | Mapping[str, Any],
                domain: str) -> dict[str, object]:
    """The run record's parameters: the model, the threshold and the calibration of the domain the
    probabilities were calibrated for, as the card gives it (temperature and equal-recall shift per
    label; shift None where the card has none, temperature 1 for a card without domains)."""
    calibration = domains.calibration(card, domain)
    shift = calibration.to_dict(ModelCard.of(card).label_list).get("shift") if calibration.shift else None
    return {"model_id": model_id, "model_version": version, "threshold": threshold, "model_location": str(folder),
            "domain": domain, "temperature": calibration.temperature, "shift": shift}


def _readable(page: list[CatalogFace], classifier: Classifier, report: PredictReport) -> list[CatalogFace]:
    """Faces whose inputs the model can use (a dlib head alone needs no crop at all)."""
    if not classifier.needs_crops:
        return page
    readable = []
    for face in page:
        try:
            face.sample.crop_bytes()
        except OSError as error:
            report.errors.append(f"face {face.face_id}: cannot read its crop ({error.strerror or error})")
            continue
        readable.append(face)
    return readable


class PredictGenders:
    """The classify stage for refresh, the CLI and notebooks: the active `[classify]` settings unless given.

    When every face already has this version's prediction at this threshold, the run is recorded
    without loading the model (TensorFlow costs seconds a nightly refresh need not spend).
    """

    name = NAME
    requires: tuple[str, ...] = ("faces detect",)

    def __init__(self, settings: ClassifySettings | None = None, weights: Path | None = None) -> None:
        self._settings = settings
        self.weights = weights
        self._named: tuple[ClassifySettings, ActivePredictions] | None = None

    def settings(self, home: Home) -> ClassifySettings:
        return self._settings if self._settings is not None else active_settings(home, ClassifySettings)

    def named(self, home: Home) -> ActivePredictions:
        """What the settings name, worked out once per settings: the model version hashes the
        model folder (14 MB for the default), and `pending`, `run` and the CLI all ask."""
        settings = self.settings(home)
        if self._named is None or self._named[0] != settings:
            self._named = settings, predictions_named(settings)
        return self._named[1]

    def pending(self, home: Home) -> int:
        named = self.named(home)
        return PredictionStore(home.engine, home.path).count_pending(named.model_id, named.version)

    def run(self, home: Home, progress: Progress | None = None) -> PredictReport:
        settings, named = self.settings(home), self.named(home)
        store = PredictionStore(home.engine, home.path)
        if self.weights is None and store.up_to_date(named.model_id, named.version, settings.threshold):
            report = record_nothing_new(home.engine, named, settings.threshold, settings.domain)
            report.note = f"every face has a {named.model_id} prediction (model not loaded)"
        else:
            classifier = load_classifier(settings.model, self.weights, [home.layout.weights])
            report = run_predictions(home.engine, store, classifier, settings.threshold, progress, settings.domain)
        return with_run_problems(home.engine, report)
