"""MODEL_CARD.md, the human-readable card shipped beside model.json, written from the typed card.

Its own module, free of TensorFlow, so that the recipe (train_default, recalibrate_default) and a
test checking the shipped page against the shipped card render it the same way, quickly.
"""
from __future__ import annotations

from postercensus.classify.models.modelcard import DomainCalibration, Ensemble, HeadSpec, ModelCard, Training


def _recalls(recall: dict[str, float] | None) -> str:
    return " / ".join(f"{value:.1%}" for value in recall.values()) if recall else "–"


def _calibration(entry: DomainCalibration) -> str:
    shift = entry.shift
    moved = f", shift {'/'.join(f'{v:+.2f}' for v in shift.values())}" if shift else ""
    return f"T {entry.temperature}{moved}"


def model_card(card: ModelCard) -> str:
    """The human-readable model card shipped beside model.json."""
    rows = "\n".join(f"| {name} | {d.n} | {d.accuracy:.1%} | {d.balanced_accuracy:.1%} | "
                     f"{_recalls(d.recall_before_calibration)} | {_recalls(d.recall)} | "
                     f"{d.recall_gap or 0:+.3f} | {d.ece_before_calibration:.3f} | {d.ece:.3f} | "
                     f"{_calibration(d)} |" for name, d in (card.domains or {}).items())
    groups = "\n".join(f"| {kind}: {name} | {f['n']} | {f['accuracy']:.1%} | {f['balanced_accuracy']:.1%} |"
                       for kind, members in (card.evaluation_photographs or {})["by_group"].items()
                       for name, f in members.items())
    ensemble, training, head = card.ensemble or Ensemble(), card.training or Training(), card.head or HeadSpec()
    return f"""# Model card: {card.model_id} (postercensus default)

**What it does.** Labels a detected, aligned face with a *perceived* gender, `female` or `male`,
with a probability. Perceived gender is an annotation of how a face is depicted, not a person's
identity; the labels are the two used by the training data and by the seed study.

**Architecture.** An average of two members: dlib's 128-d face ResNet descriptor (computed by the
face stage) → Keras head (normalisation, Dense {head.hidden} ReLU, Dropout
{head.dropout}, softmax), weight {1 - ensemble.share:.1f}; and {len(ensemble.members)}
compact CNNs trained here on aligned 64 px crops of photographed, drawn and painted faces (each
~1.2 M weights, test-time mirror averaged), weight {ensemble.share:.1f} for their mean. The
share was chosen by grouped cross-validation. Predicting costs ~18 ms per face per CNN on one CPU
core beyond the descriptor the face stage already computed. Recipe:
`python -m postercensus.classify.recipes.train_default` (CNNs: `benchmarks/train_depicted_cnn.py`, on a GPU).

**Training data.** {training.faces} faces: {training.per_domain}; per label {training.per_label}.
UTKFace photographs, North Korean propaganda poster faces (Leiden University collection,
hand-labelled) and MetFaces painted-portrait faces (The Met; `male` there means "not labelled
female" and includes some children). Faces were found with the face stage's default detector;
{training.faces_taken_whole} crops had no face found and were described whole.

**Licence.** {card.licence}

## Evaluation (grouped 5-fold out-of-fold: UTKFace by file, NK by poster, MetFaces by object id, scenes by painter)

| domain | faces | accuracy | balanced accuracy | recall female / male before calibration | recall female / male | gap (female − male) | ECE before calibration | ECE after | calibration |
|---|---|---|---|---|---|---|---|---|---|
{rows}

`scenes` are faces in painted scenes (../shared/data/painting-faces, 636 hand-boxed faces in 463
paintings, cut as the face stage cuts them): the model never trained on them; they serve to
calibrate and evaluate only. Each domain's calibration is a shift of the male log-probability
that puts the decision where the two recalls are equal on the domain's out-of-fold faces, and a
temperature T fitted by likelihood around it, so the decision no longer favours men on depicted
faces (a temperature alone cannot move it:
`benchmarks/results/classify_calibration_shift.txt`); it is fitted on all the domain's
out-of-fold predictions, and the figures after it are cross-fitted (each fold calibrated by the
fit on the other folds' groups). `[classify] domain` picks which calibration `classify predict`
applies and whose out-of-fold confusion corrects the shares.
UTKFace by race label and age (out-of-fold):

| group | n | accuracy | balanced accuracy |
|---|---|---|---|
{groups}

**What was tried** (every setting, grouped out-of-fold: `benchmarks/results/classify_depicted_cv.txt`):
the dlib head alone; CNNs with and without drawing-style augmentation, with domains drawn
equally, for 40 and 120 epochs; each CNN with the dlib head; both CNNs with it (this model).
**How many faces to label** for a collection of another kind: the learning curve in
`benchmarks/results/classify_learning_curve.txt` (accuracy on a domain the base never saw
after adding 0–200 own faces with `classify train`).

**Known limits.** Errs more on drawn and painted faces than on photographs, on children, and
unevenly between groups (table above); 220 poster faces from one collection are a small sample of
"posters": a collection in another style (cartoons, silkscreen) may err more — label a few
hundred of its faces (`classify label`) and evaluate, or train with them (`classify train`
adds them to this model's faces). Report corrected shares with their intervals, never raw counts.
"""
