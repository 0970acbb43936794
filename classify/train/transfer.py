"""Transfer: a researcher's labelled faces added to the faces a base model was trained on.

A few hundred faces of one collection cannot train a head as good as one trained on eleven
thousand; but the eleven thousand are not that collection. So `classify train` fits the head on
the base model's training faces (its `base_faces.npz`: dlib descriptors, labels, domains, groups)
together with the researcher's, and keeps the base's depicted-face CNNs and their share of the
ensemble. The base faces are weighted so that each domain (photos, posters, paintings) counts
the same in total, one base face weighing 1 on average; each of the researcher's faces weighs
`own_weight`, chosen from OWN_WEIGHTS by grouped cross-validation over the researcher's own
training faces: the weight whose ensemble is most accurate on the held-out folds (ties: the
smaller weight, the one that leans least on a few faces). Early stopping watches a validation
split of the researcher's faces plus a grouped slice of the base.

The base's calibration does not carry over: a head refitted with a collection's faces is biased
differently on it (the base's posters shift would over-correct), so the transferred model's
calibration (a temperature and an equal-recall shift, `classify.train.calibration`) is refitted on the
researcher's own training faces, on the chosen weight's out-of-fold predictions from that same
cross-validation (no face's prediction came from a head that saw it; no extra fit), measured in
benchmarks/results/classify_transfer_bias.txt. It is stored under every domain of the card:
the researcher's faces are the collection the model will label, whatever it is declared to depict.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from postercensus.classify.models import modelfolder
from postercensus.classify.models.basefaces import BaseFaces
from postercensus.classify.train.calibration import EQUAL_RECALL, Calibration, fit_calibration
from postercensus.classify.models.classifier import ensemble_probabilities
from postercensus.classify.models.cnnbackbone import CnnBackbone
from postercensus.classify.train.domains import DOMAINS
from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.models.head import HeadSettings
from postercensus.classify.train.labelled import LabelledDataError
from postercensus.classify.train.metrics import evaluate_predictions
from postercensus.classify.models.modelcard import Ensemble, ModelCard
from postercensus.catalog.stage import Progress
from postercensus.classify.models.progress import Step, ignore, quiet
from postercensus.classify.train.splits import grouped_folds, grouped_holdout
from postercensus.classify.train.training import train_head

NO_BASE = "none"
OWN_WEIGHTS = (1.0, 3.0, 10.0, 30.0)
WEIGHT_FOLDS = 3  # grouped folds over the researcher's training faces that choose the weight
# The weight's cross-validation fits twelve heads: on at most this many base faces (every domain
# kept in proportion), with the researcher's weight scaled so their faces keep the same share of
# the total weight as in the final fit on the whole base. On the default's 11,179 faces the
# choice then costs about a quarter of the time.
WEIGHT_CV_BASE_FACES = 3000
BASE_VALIDATION_SHARE = 0.1  # of the base's groups, watched (with the own validation faces) for early stopping
CALIBRATION = EQUAL_RECALL  # refitted on the own faces' out-of-fold predictions (measured against temperature alone)


def domain_balanced_weights(domains: Sequence[str]) -> np.ndarray:
    """One weight per face: every domain totals the same, and the mean weight is 1.

    Ten thousand photographs would otherwise drown two hundred posters in the base itself.
    """
    counts = Counter(domains)
    return np.array([len(domains) / (len(counts) * counts[domain]) for domain in domains], dtype=np.float32)


def base_sample(faces: BaseFaces, limit: int, seed: int) -> tuple[BaseFaces, float]:
    """At most about `limit` base faces, whole groups drawn (seeded) from each domain in proportion,
    and the factor (sample size / base size) that keeps a researcher's faces' share of the total
    weight: with the mean base weight 1, their share is n·w / (base size + n·w)."""
    if len(faces.labels) <= limit:
        return faces, 1.0
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for domain in sorted(set(faces.domains)):
        members: dict[str, list[int]] = {}
        for index, (face_domain, group) in enumerate(zip(faces.domains, faces.groups)):
            if face_domain == domain:
                members.setdefault(group, []).append(index)
        wanted = round(limit * sum(map(len, members.values())) / len(faces.labels))
        taken: list[int] = []
        for group in rng.permutation(sorted(members)):
            if len(taken) >= wanted:
                break
            taken += members[str(group)]
        keep += taken
    keep.sort()
    sample = BaseFaces(faces.descriptors[keep], [faces.labels[i] for i in keep], [faces.domains[i] for i in keep],
                       [faces.groups[i] for i in keep])
    return sample, len(keep) / len(faces.labels)


@dataclass
class CombinedFit:
    """A head fitted on base faces + own faces: the base faces' rows come first in the features."""

    head: Any
    history: dict[str, Any]


def fit_with_base(base: BaseFaces, base_y: np.ndarray, base_fit: np.ndarray, base_validation: np.ndarray,
                  own_features: np.ndarray, own_y: np.ndarray, own_fit: np.ndarray, own_validation: np.ndarray,
                  own_weight: float, n_classes: int, settings: HeadSettings,
                  advance: Progress = ignore) -> CombinedFit:
    """A head on the base's `base_fit` faces (domain-balanced) and the own `own_fit` faces (each
    `own_weight`), stopped early on `base_validation` + `own_validation`."""
    offset = len(base_y)
    features = np.concatenate([base.descriptors, own_features]).astype(np.float32)
    y = np.concatenate([base_y, own_y])
    weights = np.concatenate([domain_balanced_weights(base.domains),
                              np.full(len(own_y), own_weight, dtype=np.float32)])
    head, history = train_head(features, y, n_classes, np.concatenate([base_fit, own_fit + offset]),
                               np.concatenate([base_validation, own_validation + offset]), settings, weights, advance)
    return CombinedFit(head, history)


@dataclass
class TransferBase:
    """A model to transfer from: its base faces, its CNNs and the share they have in its ensemble."""

    folder: Path
    card: ModelCard
    version: str
    faces: BaseFaces
    cnns: list[CnnBackbone] = field(default_factory=list)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.card.label_list)

    @property
    def ensemble(self) -> Ensemble | None:
        """The base card's `ensemble` entry, which a transferred model keeps (None: head alone)."""
        ensemble = self.card.ensemble
        return ensemble if ensemble is not None and ensemble.to_dict() else None

    @property
    def cnn_share(self) -> float:
        return self.card.cnn_share

    def cnn_probabilities(self, samples: Sequence[FaceSample]) -> np.ndarray | None:
        """The CNNs' probabilities per CNN, (cnns, n, labels); None when the base has no CNNs."""
        if not self.cnns:
            return None
        return np.stack([cnn.probabilities(samples) for cnn in self.cnns])

    def combine(self, head_probabilities: np.ndarray, cnn_probabilities: np.ndarray | None) -> np.ndarray:
        """The ensemble's probabilities, as the saved model will compute them."""
        if cnn_probabilities is None:
            return head_probabilities
        return ensemble_probabilities(head_probabilities, list(cnn_probabilities), self.cnn_share)

    def describe(self) -> dict[str, str]:
        return {"model_id": self.card.name, "version": self.version}

    def head_settings(self, settings: HeadSettings) -> HeadSettings:
        """`settings` with the base recipe's batch size: the head now learns from the base's thousands
        of faces too, and a batch of 32 would make every epoch (of up to 13 fits) several times slower."""
        batch = self.card.head.batch_size if self.card.head else None
        return settings if batch is None else replace(settings, batch_size=int(batch))

    def seen(self, images: Sequence[str | None]) -> int | None:
        """How many of these faces' images trained the base (None when unknown: a face without a
        hash, or a base without its training_sha256.txt). Such faces in the held-out evaluation
        flatter it: the head was fitted on them through the base."""
        trained = modelfolder.read_training_images(self.folder)
        if trained is None or any(image is None for image in images):
            return None
        return sum(image in trained for image in images)


def load_base(base: str) -> TransferBase | None:
    """The model named by `--base` (`default` or a model folder); None for `none`.

    A model without base faces cannot be transferred from: the error says to use `--base none`.
    """
    if base == NO_BASE:
        return None
    folder = modelfolder.resolve(base)
    faces = BaseFaces.load(folder)
    name = "the default model" if base == modelfolder.DEFAULT_MODEL else str(folder)
    if faces is None:
        raise LabelledDataError(f"{name} has no base faces ({modelfolder.BASE_FACES_FILE}) to transfer from; "
                                "train on your faces alone with --base none, or give --base a model folder that has them")
    card = modelfolder.read_card(folder)
    if card.backbone_name != "dlib":
        raise LabelledDataError(f"{name} is not a dlib model; transfer needs one (or use --base none)")
    return TransferBase(folder, card, modelfolder.model_version(folder), faces,
                        [CnnBackbone.load(folder, stem) for stem in card.cnn_members])


def check_labels(base: TransferBase, labels: Sequence[str]) -> None:
    """The researcher's labels must be the base's: a head cannot learn a label the base faces lack."""
    if set(labels) != set(base.labels):
        raise LabelledDataError(f"the labelled faces have labels {', '.join(sorted(set(labels)))} but the base model "
                                f"{base.card.name} has {', '.join(base.labels)}; transfer needs the same labels "
                                "(or use --base none)")


@dataclass
class TransferResult:
    head: Any
    history: dict[str, Any]
    own_weight: float
    weights_tried: dict[float, float]  # weight → ensemble accuracy on the own held-out folds
    cnn_probabilities: np.ndarray | None  # the base CNNs' probabilities of every own face
    calibration: Calibration  # refitted on the own faces' out-of-fold predictions at the chosen weight
    calibration_faces: int  # how many own faces it was fitted on

    def card_entry(self, base: TransferBase, held_out_images: Sequence[str | None]) -> dict[str, Any]:
        """The card's `transfer` entry; `held_out_images`: the held-out faces' image hashes."""
        return {"base": base.describe(), "own_weight": self.own_weight,
                "weights_tried": {f"{w:g}": accuracy for w, accuracy in self.weights_tried.items()},
                "base_faces": len(base.faces.labels), "held_out_faces_seen_by_base": base.seen(held_out_images),
                "calibration_refitted": {"method": self.calibration.method, "faces": self.calibration_faces,
                                         "on": f"out-of-fold predictions of your training faces ({WEIGHT_FOLDS}-fold "
                                               "grouped CV of the weight, the chosen weight)"}}

    def card_domains(self, true: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
        """The card's `domains` (and a note saying what they are): the refitted calibration and the
        held-out faces' predictions (`true`, their uncalibrated `probabilities`) under every domain,
        shaped as the default card's entries so `domains.calibrate` and the share correction use them
        whatever domain the home declares. The held-out faces never entered the calibration's fit,
        so their figures are cross-fitted."""
        raw = np.asarray(probabilities, dtype=float)
        calibrated = np.round(self.calibration.apply(raw), 5)
        after = evaluate_predictions(list(true), calibrated, labels)
        before = evaluate_predictions(list(true), raw, labels)
        entry = {**self.calibration.to_dict(list(labels)),
                 "held_out_predictions": {"true": list(true), "probabilities": calibrated.tolist(),
                                          "uncalibrated": np.round(raw, 5).tolist()},
                 "n": after["n"], "accuracy": after["accuracy"], "balanced_accuracy": after["balanced_accuracy"],
                 "recall": after["recall"], "recall_gap": after["recall_gap"], "ece": after["ece"],
                 "ece_before_calibration": before["ece"], "recall_before_calibration": before["recall"],
                 "cross_fitted": True, "calibration_faces": self.calibration_faces}
        note = (f"calibration refitted on {self.calibration_faces} of your training faces' out-of-fold predictions "
                f"(the base's does not carry over); the same entry under every domain: it is of your collection, "
                f"whatever it is declared to depict")
        return {"domains": {domain: entry for domain in DOMAINS}, "domains_note": note}


def transfer(base: TransferBase, own_features: np.ndarray, own_y: np.ndarray, own_samples: Sequence[FaceSample],
             own_labels: Sequence[str], own_groups: Sequence[str], fit_idx: np.ndarray, validation_idx: np.ndarray,
             settings: HeadSettings, step: Step = quiet, weights: Sequence[float] = OWN_WEIGHTS) -> TransferResult:
    """Choose the own faces' weight by grouped CV over `fit_idx` ∪ `validation_idx`, refit the
    calibration on that weight's out-of-fold predictions of those faces, then fit the head on the
    base + own `fit_idx` with that weight (early stopping on own `validation_idx`)."""
    labels = base.labels
    base_y = np.array([labels.index(label) for label in base.faces.labels])
    base_fit, base_validation = grouped_holdout(base.faces.labels, base.faces.groups, BASE_VALIDATION_SHARE,
                                                settings.seed)
    step(f"base CNNs on {len(own_samples)} faces", "", None)
    cnn_probabilities = base.cnn_probabilities(own_samples)
    train_part = np.sort(np.concatenate([fit_idx, validation_idx]))
    try:
        folds = grouped_folds([own_labels[i] for i in train_part], [own_groups[i] for i in train_part],
                              WEIGHT_FOLDS, settings.seed)
    except ValueError as error:
        raise LabelledDataError(f"cannot choose the weight of your faces by poster: {error}") from error
    advance = step(f"choosing the weight of your faces ({', '.join(f'{w:g}' for w in weights)}) and refitting the "
                   f"calibration by {WEIGHT_FOLDS}-fold "
                   f"grouped CV on {len(train_part)} faces + {min(len(base_y), WEIGHT_CV_BASE_FACES)} base faces",
                   "fits", len(weights) * WEIGHT_FOLDS)
    cv_base, cv_scale = base_sample(base.faces, WEIGHT_CV_BASE_FACES, settings.seed)
    cv_base_y = np.array([labels.index(label) for label in cv_base.labels])
    cv_base_fit, cv_base_validation = grouped_holdout(cv_base.labels, cv_base.groups, BASE_VALIDATION_SHARE,
                                                      settings.seed)
    out_of_fold = {w: np.zeros((len(own_y), len(labels))) for w in weights}
    for fold in folds:
        tested = train_part[fold]
        rest = np.setdiff1d(train_part, tested)
        try:
            inner_fit, inner_validation = grouped_holdout([own_labels[i] for i in rest], [own_groups[i] for i in rest],
                                                          0.2, settings.seed + 1)
        except ValueError as error:
            raise LabelledDataError(f"cannot choose the weight of your faces by poster: {error}") from error
        for w in weights:
            fitted = fit_with_base(cv_base, cv_base_y, cv_base_fit, cv_base_validation, own_features, own_y,
                                   rest[inner_fit], rest[inner_validation], w * cv_scale, len(labels), settings)
            head = fitted.head.predict(own_features[tested], verbose=0)
            cnn = None if cnn_probabilities is None else cnn_probabilities[:, tested]
            out_of_fold[w][tested] = base.combine(head, cnn)
            advance(1)
    tried = {w: round(float((out_of_fold[w][train_part].argmax(axis=1) == own_y[train_part]).mean()), 4)
             for w in weights}
    chosen = min(weights, key=lambda w: (-tried[w], w))
    calibration = fit_calibration(out_of_fold[chosen][train_part], own_y[train_part], CALIBRATION)
    final = fit_with_base(base.faces, base_y, base_fit, base_validation, own_features, own_y, fit_idx, validation_idx,
                          chosen, len(labels), settings,
                          step(f"training the head on {len(base_fit)} base + {len(fit_idx)} of your faces "
                               f"(weight {chosen:g}), validating on {len(base_validation)} + {len(validation_idx)}",
                               "epochs", settings.max_epochs))
    return TransferResult(final.head, final.history, chosen, tried, cnn_probabilities, calibration, len(train_part))
