"""A model judged on a labelled folder: the report `classify evaluate` writes, from Python too.

The report holds what a researcher cites (accuracy, balanced accuracy, per-label scores,
confusion, calibration), what qualifies it (how many faces trained the model, the model card's
per-domain figures, faces taken whole), the Fisherfaces baseline when the model has one, and
the contact sheets of its best and worst calls.

The probabilities are calibrated for the domain asked (`classify.train.domains`: the card's scale and
shift for posters, paintings, scenes or photos), as `classify predict` stores them: the shift
changes decisions, so the figures a researcher cites are those of the labels the catalogue gets.
Recall per label and the gap between them say whether the model misses one label more.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from postercensus.catalog.atomicwrite import write_atomically
from postercensus.classify.models.classifier import Classifier
from postercensus.classify.train.domains import DEFAULT_DOMAIN, calibrate, calibration, domain_figures, has_domains
from postercensus.classify.train.labelled import LabelledDataError
from postercensus.classify.train.metrics import evaluate_predictions
from postercensus.classify.models.modelfolder import read_training_images
from postercensus.classify.train.overlap import training_overlap
from postercensus.catalog.stage import Progress
from postercensus.classify.models.progress import ignore
from postercensus.classify.train.report import contact_sheets, render_html
from postercensus.classify.train.training import fisher_report
from postercensus.classify.train.trainingset import TrainingSet


def evaluation_report(classifier: Classifier, data: TrainingSet, folder: Path, threshold: float | None = None,
                      advance: Progress = ignore, domain: str = DEFAULT_DOMAIN) -> dict[str, Any]:
    """The evaluation of `classifier` on `data` (the faces of the labelled `folder`, from
    `load_labelled_folder`), with its probabilities calibrated for `domain` (when the card calibrates
    per domain), and the confusion matrix under `threshold` too when one is given.

    `advance` counts the faces classified. Raises LabelledDataError when the folder has labels
    the model does not know (its figures would be meaningless), ValueError for a domain the card
    does not calibrate, ModelFolderError when the model's list of training images cannot be read.
    """
    unknown = sorted(set(data.labels) - set(classifier.labels))
    if unknown:
        raise LabelledDataError(f"{folder} has label folder(s) {', '.join(unknown)} that the model does not know "
                                f"(its labels: {', '.join(classifier.labels)})")
    applied = calibration(classifier.card, domain).to_dict(classifier.labels) if has_domains(classifier.card) else None
    probabilities = calibrate(classifier.card, classifier.probabilities(data.samples, advance), domain)
    training_images = read_training_images(classifier.folder)
    report = evaluate_predictions(data.labels, probabilities, classifier.labels, threshold)
    report.update(model_id=classifier.model_id, model_version=classifier.version, folder=str(folder),
                  domain=domain if applied else None, calibration=applied,
                  model_card_domains=domain_figures(classifier.card),
                  faces_taken_whole=sum(not s.detected for s in data.samples),
                  faces_below_score_cut=sum(s.below_score_cut for s in data.samples),
                  training_overlap=training_overlap([s.image_sha256 for s in data.samples], training_images,
                                                    data.labels, probabilities, classifier.labels))
    if classifier.fisherfaces is not None:
        report["baseline_fisherfaces"] = fisher_report(classifier.fisherfaces, data.samples, data.labels, classifier.labels)
    report["contact_sheets"] = contact_sheets(data.labels, probabilities, classifier.labels, data.names)
    return report


def write_evaluation(report: dict[str, Any], data: TrainingSet, title: str, json_out: Path,
                     html_out: Path | None = None) -> None:
    """The report as JSON at `json_out`, and as a self-contained page with the faces' contact
    sheets at `html_out` when given; each written atomically."""
    write_atomically(json_out, json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8"))
    if html_out:
        write_atomically(html_out, render_html(report, data.samples, title).encode("utf-8"))
