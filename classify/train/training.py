"""Train a classifier on labelled faces and write its model folder, evaluation included.

The faces are split by group (poster or item) three ways: a held-out test share that only the
final evaluation sees (its confusion matrix is what corrected shares are computed from), a
validation share for early stopping, and the rest to fit. The Fisherfaces baseline is fitted on
the same training faces and judged on the same held-out ones. The SHA-256 of every image on the
fit and validation sides is kept with the model, so evaluating it later on faces it has already
seen is found out instead of flattering it.
"""
from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from postercensus.catalog import __version__
from postercensus.catalog.atomicwrite import write_atomically
from postercensus.classify.models import modelfolder
from postercensus.classify.models.backbones import Backbone, VggFaceBackbone
from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.models.fisherfaces import Fisherfaces, pixels_of
from postercensus.classify.models.head import HeadSettings, build_head, fine_tune_model, fit
from postercensus.classify.train.labelled import LabelledDataError, check_label_set
from postercensus.classify.train.metrics import evaluate_predictions
from postercensus.classify.models.modelcard import ModelCard
from postercensus.catalog.stage import Progress
from postercensus.classify.models.progress import Step, ignore, quiet
from postercensus.classify.train.report import contact_sheets, render_html
from postercensus.classify.train.splits import grouped_holdout
from postercensus.classify.train.trainingset import TrainingSet

if TYPE_CHECKING:
    from postercensus.classify.train.transfer import TransferBase


@dataclass(frozen=True)
class TrainOptions:
    head: HeadSettings = HeadSettings()
    test_share: float = 0.2
    validation_share: float = 0.15
    fine_tune: bool = False


@dataclass
class TrainedModel:
    card: ModelCard
    head: Any
    fine_tuned: Any | None
    fisherfaces: Fisherfaces
    held_out: np.ndarray  # indices of the evaluation faces
    probabilities: np.ndarray  # on the held-out faces
    training_images: list[str] | None  # SHA-256 of the fit and validation faces' images; None if unknown
    base_folder: Path | None = None  # the model transferred from, whose CNN files the folder copies


def _require_every_label(labels: list[str], indices: np.ndarray, label_set: tuple[str, ...], part: str) -> None:
    present = {labels[i] for i in indices}
    missing = [label for label in label_set if label not in present]
    if missing:
        raise LabelledDataError(
            f"too few posters labelled {', '.join(missing)} to keep some for {part}; "
            "label faces of that label from more posters"
        )


def fisher_report(fisher: Fisherfaces, samples: list[FaceSample], true: list[str], labels: tuple[str, ...]) -> dict[str, Any]:
    """The baseline's figures on these faces (no probabilities, so no calibration)."""
    one_hot = np.eye(len(labels))[fisher.predict(pixels_of(samples))]
    report = evaluate_predictions(true, one_hot, labels)
    return {key: report[key] for key in ("n", "accuracy", "balanced_accuracy", "per_class", "confusion")}


def held_out_predictions(true: list[str], probabilities: np.ndarray) -> dict[str, Any]:
    return {"true": list(true), "probabilities": np.round(probabilities, 5).tolist()}


def validation_split(labels: list[str], groups: list[str], rest: np.ndarray, share: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) indices within `rest`, split by group for early stopping."""
    fit_part, validation_part = grouped_holdout([labels[i] for i in rest], [groups[i] for i in rest], share, seed)
    return rest[fit_part], rest[validation_part]


def train_head(features: np.ndarray, y: np.ndarray, n_classes: int, fit_idx: np.ndarray,
               validation_idx: np.ndarray, settings: HeadSettings,
               weights: np.ndarray | None = None, advance: Progress = ignore) -> tuple[Any, dict[str, Any]]:
    """A head fitted on `fit_idx` (each face weighted by `weights`, default 1), stopped early on
    `validation_idx`, `advance(1)` after each epoch; (model, training history)."""
    head = build_head(features[fit_idx], n_classes, settings)
    history = fit(head, (features[fit_idx], y[fit_idx]), (features[validation_idx], y[validation_idx]),
                  settings, n_classes, settings.max_epochs, None if weights is None else weights[fit_idx], advance)
    return head, history


def training_images(samples: list[FaceSample], indices: np.ndarray) -> list[str] | None:
    """Sorted distinct SHA-256 of the images behind these faces; None when any face lacks one
    (a partial list would let an evaluation call seen faces unseen)."""
    hashes = [samples[i].image_sha256 for i in indices]
    if any(digest is None for digest in hashes):
        return None
    return sorted(set(hashes))


def train(data: TrainingSet, backbone: Backbone, options: TrainOptions, model_id: str,
          step: Step = quiet, base: TransferBase | None = None) -> TrainedModel:
    """Fit head (+ optional fine-tune) and baseline; evaluate both on the held-out groups.

    With a `base`, the head is fitted on the base's faces plus these (classify.train.transfer) and the
    model keeps the base's CNNs; the held-out evaluation is still on these faces alone, with the
    calibration refitted on these faces' out-of-fold predictions (the card's `domains`).
    Each long part is announced through `step` (features, epochs, held-out faces), so a caller
    can show how far it is: with VGGFace or many faces these take minutes.
    """
    if options.fine_tune and not isinstance(backbone, VggFaceBackbone):
        raise LabelledDataError("--fine-tune needs a VGGFace backbone (vggface-vgg16 or vggface-resnet50)")
    if base is not None and (backbone.name != "dlib" or options.fine_tune):
        raise LabelledDataError("transfer from a base model needs the dlib backbone without --fine-tune; "
                                "use --base none to train another backbone on your faces alone")
    label_set = check_label_set(data.labels, "the labelled data")
    if base is not None:
        from postercensus.classify.train.transfer import check_labels

        check_labels(base, data.labels)
        label_set = base.labels
        options = replace(options, head=base.head_settings(options.head))
    y = np.array([label_set.index(label) for label in data.labels])
    seed = options.head.seed
    try:
        rest, held_out = grouped_holdout(data.labels, data.groups, options.test_share, seed)
        fit_idx, validation_idx = validation_split(data.labels, data.groups, rest, options.validation_share, seed + 1)
    except ValueError as error:
        raise LabelledDataError(f"cannot split the labelled faces by poster: {error}") from error
    _require_every_label(data.labels, held_out, label_set, "evaluation")
    _require_every_label(data.labels, validation_idx, label_set, "validation")

    features = backbone.features(data.samples, step(f"features for {len(data.samples)} faces ({backbone.name})",
                                                      "faces", len(data.samples)))
    transfer_entry = None
    calibrated: dict[str, Any] = {}  # with a base: the card's `domains`, the calibration refitted on these faces
    if base is None:
        head, history = train_head(features, y, len(label_set), fit_idx, validation_idx, options.head,
                                   advance=step(f"training the head on {len(fit_idx)} faces, validating on "
                                                f"{len(validation_idx)} (early stopping may end it before the last epoch)",
                                                "epochs", options.head.max_epochs))
    else:
        from postercensus.classify.train.transfer import transfer

        transferred = transfer(base, features, y, data.samples, data.labels, data.groups, fit_idx, validation_idx,
                               options.head, step)
        head, history = transferred.head, transferred.history
        transfer_entry = transferred.card_entry(base, [data.samples[i].image_sha256 for i in held_out])
    fine_tuned = None
    if options.fine_tune:
        fine_tuned = fine_tune_model(backbone.network, head, backbone.architecture, options.head)
        pixels = {name: backbone.pixels([data.samples[i] for i in idx])
                  for name, idx in (("fit", fit_idx), ("validation", validation_idx))}
        history["fine_tune"] = fit(fine_tuned, (pixels["fit"], y[fit_idx]), (pixels["validation"], y[validation_idx]),
                                   options.head, len(label_set), options.head.fine_tune_epochs,
                                   advance=step("fine-tuning the backbone's last block", "epochs",
                                                options.head.fine_tune_epochs))
        probabilities = backbone.run(fine_tuned, [data.samples[i] for i in held_out],
                                     step(f"evaluating on {len(held_out)} held-out faces", "faces", len(held_out)))
    elif base is not None:
        cnns = transferred.cnn_probabilities
        uncalibrated = base.combine(head.predict(features[held_out], verbose=0),
                                    None if cnns is None else cnns[:, held_out])
        calibrated = transferred.card_domains([data.labels[i] for i in held_out], uncalibrated, label_set)
        # what predicting applies: the calibration refitted on the own faces (as the domain entries store it)
        probabilities = np.array(next(iter(calibrated["domains"].values()))["held_out_predictions"]["probabilities"])
    else:
        probabilities = head.predict(features[held_out], verbose=0)
    true_held_out = [data.labels[i] for i in held_out]
    evaluation = evaluate_predictions(true_held_out, probabilities, label_set)

    step("fitting the Fisherfaces baseline", "", None)
    train_idx = np.concatenate([fit_idx, validation_idx])
    images = training_images(data.samples, train_idx)
    if base is not None and images is not None:
        from_base = modelfolder.read_training_images(base.folder)  # the base's faces trained this head too
        images = None if from_base is None else sorted(from_base | set(images))
    fisher = Fisherfaces.fit(pixels_of([data.samples[i] for i in train_idx]), y[train_idx], label_set)
    baseline = fisher_report(fisher, [data.samples[i] for i in held_out], true_held_out, label_set)

    def described(indices: np.ndarray) -> dict[str, Any]:
        return {"faces": len(indices), "groups": len({data.groups[i] for i in indices}),
                "per_label": dict(sorted(Counter(data.labels[i] for i in indices).items()))}

    card = {
        "format": 1,
        "model_id": model_id,
        "labels": list(label_set),
        "backbone": backbone.describe(),
        "fine_tuned": bool(options.fine_tune),
        "head": options.head.to_dict(),
        "training": {**data.source, "fit": described(fit_idx), "validation": described(validation_idx),
                     "held_out": described(held_out), "faces_taken_whole": sum(not s.detected for s in data.samples),
                     "history": history, **training_images_entry(images)},
        "transfer": transfer_entry,
        **({"ensemble": base.ensemble.to_dict()} if base is not None and base.ensemble else {}),
        "evaluation": evaluation,
        # Kept whole so corrected shares can rebuild the confusion matrix at any threshold.
        "held_out_predictions": held_out_predictions(true_held_out, probabilities),
        **calibrated,
        "baseline_fisherfaces": baseline,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "postercensus_version": __version__,
    }
    return TrainedModel(ModelCard.from_dict(card), head, fine_tuned, fisher, held_out, probabilities, images,
                        None if base is None else base.folder)


def training_images_entry(images: list[str] | None) -> dict[str, Any]:
    """The card's pointer to the training-image hashes (none when they are unknown)."""
    if images is None:
        return {}
    return {"images_sha256": {"file": modelfolder.TRAINING_IMAGES_FILE, "images": len(images)}}


def save(trained: TrainedModel, folder: Path, data: TrainingSet) -> str:
    """Write the model folder (with the held-out evaluation page); returns the model's version."""
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / modelfolder.FINE_TUNED_FILE
    if stale.exists() and trained.fine_tuned is None:
        stale.unlink()
    trained.head.save(folder / modelfolder.HEAD_FILE)
    if trained.fine_tuned is not None:
        trained.fine_tuned.save_weights(folder / modelfolder.FINE_TUNED_FILE)
    trained.fisherfaces.save(folder / modelfolder.FISHERFACES_FILE)
    copy_cnn_files(trained.base_folder, trained.card.cnn_members, folder)
    if trained.training_images is None:
        (folder / modelfolder.TRAINING_IMAGES_FILE).unlink(missing_ok=True)  # a previous model's list
    else:
        modelfolder.write_training_images(folder, trained.training_images)
    modelfolder.write_card(folder, trained.card)
    held_out = [int(i) for i in trained.held_out]
    card = trained.card
    report = {**(card.evaluation.to_dict() if card.evaluation else {}), "baseline_fisherfaces": card.baseline_fisherfaces,
              "contact_sheets": contact_sheets([data.labels[i] for i in held_out], trained.probabilities,
                                               card.label_list, [data.names[i] for i in held_out])}
    page = render_html(report, [data.samples[i] for i in held_out], f"{card.name}: held-out evaluation")
    write_atomically(folder / modelfolder.EVALUATION_PAGE, page.encode("utf-8"))
    return modelfolder.model_version(folder)


def copy_cnn_files(source: Path | None, stems: list[str], folder: Path) -> None:
    """Copy the ensemble's CNN files from the base model into `folder`, and remove a previous
    model's CNN files that the new card does not name (they would change its version)."""
    for stale in modelfolder.cnn_files(folder):
        if stale.name not in {f"{stem}{suffix}" for stem in stems
                              for suffix in (modelfolder.CNN_WEIGHTS_SUFFIX, modelfolder.CNN_SETTINGS_SUFFIX)}:
            stale.unlink()
    for stem in stems:
        assert source is not None, "a card with CNN members comes from a base model"
        for suffix in (modelfolder.CNN_WEIGHTS_SUFFIX, modelfolder.CNN_SETTINGS_SUFFIX):
            shutil.copyfile(source / f"{stem}{suffix}", folder / f"{stem}{suffix}")
