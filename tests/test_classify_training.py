"""The classify stage's building blocks: grouped splits, evaluation figures, training and Fisherfaces.

Everything here runs on generated data (no real images, no face detection): descriptors drawn
from two well-separated Gaussian clusters stand in for dlib's, small generated JPEGs for the
aligned crops, so what is measured is the code under test and not a face detector.
"""
from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from postercensus.classify.models import modelfolder
from postercensus.classify.models.backbones import DlibBackbone
from postercensus.classify.models.classifier import load_classifier
from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.models.fisherfaces import Fisherfaces, pixels_of
from postercensus.classify.models.head import HeadSettings
from postercensus.classify.train.labelled import group_of
from postercensus.classify.train.metrics import decide, evaluate_predictions
from postercensus.classify.train.overlap import overlap_lines, training_overlap
from postercensus.classify.train.splits import grouped_folds, grouped_holdout
from postercensus.classify.train.training import TrainOptions, save, train
from postercensus.classify.train.trainingset import TrainingSet

LABELS = ("female", "male")


# -- grouped splits ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,group", [
    ("132765_0.jpg", "132765"),
    ("132765_12.jpg", "132765"),
    ("a_b_3.jpg", "a_b"),  # only the last `_<n>` is the face number
    ("132765.jpg", "132765.jpg"),  # no face number: the file is its own group
    ("132765_x.jpg", "132765_x.jpg"),
    ("poster.png", "poster.png"),
])
def test_group_of_is_the_poster_id_of_nk_crop_names_and_else_the_file(name, group):
    assert group_of(Path("female") / name) == group


def _collection(seed: int = 3, posters: int = 40) -> tuple[list[str], list[str]]:
    """A realistic mix: about 70 % male faces, 1–4 faces per poster, some posters with both labels."""
    rng = np.random.default_rng(seed)
    labels, groups = [], []
    for poster in range(posters):
        for _ in range(int(rng.integers(1, 5))):
            labels.append("male" if rng.random() < 0.7 else "female")
            groups.append(f"{130000 + poster}")
    return labels, groups


def _groups_in(indices, groups) -> set[str]:
    return {groups[i] for i in indices}


@pytest.mark.parametrize("folds", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_grouped_folds_cover_every_index_once_never_split_a_group_and_keep_both_labels(folds, seed):
    labels, groups = _collection()

    parts = grouped_folds(labels, groups, folds, seed)

    assert len(parts) == folds
    everything = np.concatenate(parts)
    assert sorted(everything.tolist()) == list(range(len(labels))), "every index in exactly one fold"
    for a in range(folds):
        for b in range(a + 1, folds):
            assert not _groups_in(parts[a], groups) & _groups_in(parts[b], groups), "a poster on both sides"
    for part in parts:
        assert {labels[i] for i in part} == set(LABELS), "each fold keeps both labels"
        assert part.tolist() == sorted(part.tolist())


def test_grouped_folds_are_reproducible_per_seed_and_differ_between_seeds():
    labels, groups = _collection()

    first, again = grouped_folds(labels, groups, 5, seed=7), grouped_folds(labels, groups, 5, seed=7)
    other = grouped_folds(labels, groups, 5, seed=8)

    assert [p.tolist() for p in first] == [p.tolist() for p in again]
    assert [p.tolist() for p in first] != [p.tolist() for p in other]


def test_grouped_folds_refuse_fewer_groups_than_folds_and_mismatched_lengths():
    with pytest.raises(ValueError, match="3 groups cannot make 5 folds"):
        grouped_folds(["male", "female", "male", "female"], ["a", "a", "b", "c"], 5)
    with pytest.raises(ValueError, match="differ in length"):
        grouped_folds(["male"], ["a", "b"], 2)


@pytest.mark.parametrize("share", [0.2, 0.3, 0.5])
def test_grouped_holdout_splits_whole_posters_about_the_share(share):
    labels, groups = _collection(seed=5, posters=60)

    train_idx, held_out = grouped_holdout(labels, groups, share, seed=0)

    assert sorted(np.concatenate([train_idx, held_out]).tolist()) == list(range(len(labels)))
    assert not set(train_idx.tolist()) & set(held_out.tolist())
    assert not _groups_in(train_idx, groups) & _groups_in(held_out, groups)
    assert {labels[i] for i in held_out} == {labels[i] for i in train_idx} == set(LABELS)
    # whole groups of 1–4 faces: the share is met only roughly
    assert abs(len(held_out) / len(labels) - 1 / max(2, round(1 / share))) < 0.1


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.2])
def test_grouped_holdout_refuses_a_share_outside_zero_and_one(share):
    labels, groups = _collection()
    with pytest.raises(ValueError, match="between 0 and 1"):
        grouped_holdout(labels, groups, share)


# -- evaluation figures ------------------------------------------------------------------------

# Eight faces, worked by hand. Top probabilities avoid the 0.1-wide calibration bins' edges.
#   #  true    p(female) p(male)  argmax  top p  correct  bin       at threshold 0.7
#   1  female  0.92      0.08     female  0.92   yes      0.9–1.0   female
#   2  female  0.62      0.38     female  0.62   yes      0.6–0.7   uncertain
#   3  female  0.28      0.72     male    0.72   no       0.7–0.8   male
#   4  male    0.17      0.83     male    0.83   yes      0.8–0.9   male
#   5  male    0.04      0.96     male    0.96   yes      0.9–1.0   male
#   6  male    0.45      0.55     male    0.55   yes      0.5–0.6   uncertain
#   7  male    0.66      0.34     female  0.66   no       0.6–0.7   uncertain
#   8  male    0.87      0.13     female  0.87   no       0.8–0.9   female
TRUE = ["female", "female", "female", "male", "male", "male", "male", "male"]
PROBABILITIES = np.array([[0.92, 0.08], [0.62, 0.38], [0.28, 0.72], [0.17, 0.83],
                          [0.04, 0.96], [0.45, 0.55], [0.66, 0.34], [0.87, 0.13]])


def test_evaluate_predictions_matches_figures_worked_by_hand():
    report = evaluate_predictions(TRUE, PROBABILITIES, LABELS, threshold=0.7)

    assert report["n"] == 8
    assert report["labels"] == ["female", "male"]
    # confusion (rows = truth, columns = argmax):
    #   female: faces 1, 2 → female; face 3 → male          = [2, 1]
    #   male:   faces 7, 8 → female; faces 4, 5, 6 → male   = [2, 3]
    assert report["confusion"] == {"labels": ["female", "male"], "matrix": [[2, 1], [2, 3]]}
    # accuracy = (2 + 3) / 8 = 0.625
    assert report["accuracy"] == 0.625
    # recall female = 2/3 = 0.6667, recall male = 3/5 = 0.6; balanced = (2/3 + 3/5) / 2 = 0.63333
    assert report["balanced_accuracy"] == 0.6333
    # female: precision = 2 / (2 + 2) = 0.5, recall = 2/3, F1 = 2·0.5·(2/3) / (0.5 + 2/3) = 4/7 = 0.5714
    # male:   precision = 3 / (1 + 3) = 0.75, recall = 3/5, F1 = 2·0.75·0.6 / 1.35 = 2/3 = 0.6667
    assert report["per_class"] == {
        "female": {"precision": 0.5, "recall": 0.6667, "f1": 0.5714, "support": 3},
        "male": {"precision": 0.75, "recall": 0.6, "f1": 0.6667, "support": 5},
    }
    # real: 3 female, 5 male; predicted female = faces 1, 2, 7, 8; male = faces 3, 4, 5, 6
    assert report["distribution"] == {"true": {"female": 3, "male": 5}, "predicted": {"female": 4, "male": 4}}
    # reliability, per bin (n, mean top probability, accuracy) and its ECE share n/8·|acc − conf|:
    #   0.5–0.6: face 6        n=1  conf 0.55                acc 1    → 1/8·0.45 = 0.05625
    #   0.6–0.7: faces 2, 7    n=2  conf (0.62+0.66)/2=0.64   acc 0.5  → 2/8·0.14 = 0.035
    #   0.7–0.8: face 3        n=1  conf 0.72                acc 0    → 1/8·0.72 = 0.09
    #   0.8–0.9: faces 4, 8    n=2  conf (0.83+0.87)/2=0.85   acc 0.5  → 2/8·0.35 = 0.0875
    #   0.9–1.0: faces 1, 5    n=2  conf (0.92+0.96)/2=0.94   acc 1    → 2/8·0.06 = 0.015
    #   ECE = 0.05625 + 0.035 + 0.09 + 0.0875 + 0.015 = 0.28375
    assert report["ece"] == pytest.approx(0.28375, abs=1e-4)
    rows = [(r["low"], r["high"], r["n"], r["mean_confidence"], r["accuracy"]) for r in report["reliability"]]
    assert rows == [(0.5, 0.6, 1, 0.55, 1.0), (0.6, 0.7, 2, 0.64, 0.5), (0.7, 0.8, 1, 0.72, 0.0),
                    (0.8, 0.9, 2, 0.85, 0.5), (0.9, 1.0, 2, 0.94, 1.0)]
    # at threshold 0.7 (see the table's last column), columns female, male, uncertain:
    #   female: face 1 → female, face 3 → male, face 2 → uncertain          = [1, 1, 1]
    #   male:   face 8 → female, faces 4, 5 → male, faces 6, 7 → uncertain  = [1, 2, 2]
    assert report["threshold"] == 0.7
    assert report["decision_confusion"] == {"labels": ["female", "male"],
                                            "predicted": ["female", "male", "uncertain"],
                                            "matrix": [[1, 1, 1], [1, 2, 2]]}


def test_without_a_threshold_the_decision_confusion_is_the_argmax_one():
    report = evaluate_predictions(TRUE, PROBABILITIES, LABELS)

    assert report["threshold"] is None
    assert report["decision_confusion"] == {"labels": ["female", "male"], "predicted": ["female", "male"],
                                            "matrix": [[2, 1], [2, 3]]}


def test_decide_is_the_top_label_or_uncertain_below_the_threshold():
    assert decide(PROBABILITIES, LABELS) == ["female", "female", "male", "male", "male", "male", "female", "female"]
    assert decide(PROBABILITIES, LABELS, 0.7) == ["female", "uncertain", "male", "male", "male", "uncertain",
                                                  "uncertain", "female"]
    # the threshold itself is confident enough
    assert decide(np.array([[0.7, 0.3]]), LABELS, 0.7) == ["female"]


def test_a_label_missing_from_the_truth_scores_zero_and_is_left_out_of_balanced_accuracy():
    # truth is all male: 2 of 3 right; female has no support, so balanced accuracy is male's recall
    report = evaluate_predictions(["male"] * 3, np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]), LABELS)

    assert report["accuracy"] == report["balanced_accuracy"] == 0.6667
    assert report["per_class"]["female"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert report["per_class"]["male"] == {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3}


def test_true_labels_the_model_does_not_know_are_an_error():
    with pytest.raises(ValueError, match="labels other are not ones the model knows"):
        evaluate_predictions(["female", "other"], np.array([[0.9, 0.1], [0.2, 0.8]]), LABELS)


# -- training on generated faces ---------------------------------------------------------------

FAST_HEAD = HeadSettings(max_epochs=40, patience=8)


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _crop(label: str, rng: np.random.Generator, size: int = 32) -> bytes:
    """A light (female) or dark (male) noisy square."""
    level = 190.0 if label == "female" else 60.0
    return _jpeg(np.repeat(rng.normal(level, 20.0, (size, size, 1)), 3, axis=2))


class Clusters:
    """Two well-separated Gaussian clusters of 128-d descriptors, dlib-sized (entries ≈ ±0.1)."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.centres = {label: rng.normal(0.0, 0.1, 128) for label in LABELS}

    def samples(self, labels: list[str], seed: int) -> list[FaceSample]:
        rng = np.random.default_rng(seed)
        return [FaceSample((self.centres[label] + rng.normal(0.0, 0.02, 128)).astype(np.float32),
                           crop_jpeg=_crop(label, rng)) for label in labels]


@pytest.fixture(scope="module")
def clusters() -> Clusters:
    return Clusters()


@pytest.fixture(scope="module")
def generated_set(clusters) -> TrainingSet:
    """30 posters, 15 per label, two faces each (a poster's faces share its label)."""
    labels = [label for poster in range(30) for label in [LABELS[poster % 2]] * 2]
    groups = [f"{140000 + poster}" for poster in range(30) for _ in range(2)]
    names = [f"{group}_{i % 2}.jpg" for i, group in enumerate(groups)]
    return TrainingSet(clusters.samples(labels, seed=1), labels, groups, names, source={"data": "generated"})


@pytest.fixture(scope="module")
def trained(generated_set):
    return train(generated_set, DlibBackbone(), TrainOptions(head=FAST_HEAD, test_share=0.2), "generated-test")


@pytest.fixture(scope="module")
def saved(trained, generated_set, tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("model") / "generated"
    return folder, save(trained, folder, generated_set)


def test_training_separates_the_clusters_on_held_out_posters(trained, generated_set):
    data = generated_set
    held_out = trained.held_out.tolist()
    card = trained.card.to_dict()

    assert card["evaluation"]["accuracy"] >= 0.95
    assert card["evaluation"]["balanced_accuracy"] >= 0.95
    assert card["evaluation"]["n"] == len(held_out) > 0
    held_groups = {data.groups[i] for i in held_out}
    assert not held_groups & {g for i, g in enumerate(data.groups) if i not in held_out}, "a poster on both sides"
    assert {data.labels[i] for i in held_out} == set(LABELS)
    training = card["training"]
    assert training["fit"]["faces"] + training["validation"]["faces"] + training["held_out"]["faces"] == 60
    assert training["held_out"]["faces"] == len(held_out)
    assert training["faces_taken_whole"] == 0
    assert training["data"] == "generated"
    assert 1 <= training["history"]["epochs_run"] <= FAST_HEAD.max_epochs


def test_the_card_has_labels_evaluation_held_out_predictions_and_the_baseline(trained, generated_set):
    card = trained.card.to_dict()
    held_out = trained.held_out.tolist()

    assert card["model_id"] == "generated-test"
    assert card["labels"] == ["female", "male"]
    assert card["backbone"]["name"] == "dlib" and card["backbone"]["dimensions"] == 128
    assert card["fine_tuned"] is False
    assert card["head"]["max_epochs"] == FAST_HEAD.max_epochs
    for key in ("accuracy", "balanced_accuracy", "per_class", "confusion", "ece", "reliability", "decision_confusion"):
        assert key in card["evaluation"], key
    predictions = card["held_out_predictions"]
    assert predictions["true"] == [generated_set.labels[i] for i in held_out]
    np.testing.assert_allclose(predictions["probabilities"], trained.probabilities, atol=1e-5)
    # the stored predictions are enough to recompute the evaluation (corrected shares rely on it)
    again = evaluate_predictions(predictions["true"], np.array(predictions["probabilities"]), card["labels"])
    assert again["confusion"] == card["evaluation"]["confusion"]
    baseline = card["baseline_fisherfaces"]
    assert set(baseline) == {"n", "accuracy", "balanced_accuracy", "per_class", "confusion"}
    assert baseline["n"] == len(held_out)
    assert baseline["accuracy"] >= 0.95, "light vs dark crops are easy for Fisherfaces too"


def test_save_writes_the_model_folder_and_load_gives_the_same_probabilities(saved, trained, clusters):
    folder, version = saved
    new_labels = ["female", "male"] * 10
    new = clusters.samples(new_labels, seed=99)

    classifier = load_classifier(folder)

    for name in (modelfolder.CARD_FILE, modelfolder.HEAD_FILE, modelfolder.FISHERFACES_FILE):
        assert (folder / name).is_file(), name
    assert not (folder / modelfolder.FINE_TUNED_FILE).exists()
    assert classifier.version == version == modelfolder.model_version(folder)
    assert len(version) == 16 and int(version, 16) >= 0
    assert classifier.model_id == "generated-test" and classifier.labels == LABELS
    assert classifier.card == trained.card
    expected = trained.head.predict(DlibBackbone().features(new), verbose=0)
    probabilities = classifier.probabilities(new)
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert [LABELS[k] for k in probabilities.argmax(axis=1)] == new_labels
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert classifier.probabilities([]).shape == (0, 2)
    assert classifier.baseline_labels(new) == new_labels
    # generated faces come from no image file: which images trained it is unknown, not "none"
    assert not (folder / modelfolder.TRAINING_IMAGES_FILE).exists()
    assert "images_sha256" not in classifier.card.to_dict()["training"]
    assert modelfolder.read_training_images(folder) is None


def _digest(index: int) -> str:
    return f"{index:064x}"


def test_training_records_the_images_it_learnt_from_and_announces_its_steps(generated_set, tmp_path):
    data = dataclasses.replace(generated_set, samples=[dataclasses.replace(sample, image_sha256=_digest(i))
                                                       for i, sample in enumerate(generated_set.samples)])
    steps: list[dict] = []

    def step(message: str, unit: str, total: int | None):
        steps.append({"message": message, "unit": unit, "total": total, "done": 0})
        return lambda n: steps[-1].update(done=steps[-1]["done"] + n)

    trained = train(data, DlibBackbone(), TrainOptions(head=FAST_HEAD, test_share=0.2), "hashed", step)
    folder = tmp_path / "hashed"
    save(trained, folder, data)

    held_out = set(trained.held_out.tolist())
    learnt = sorted(_digest(i) for i in range(len(data.samples)) if i not in held_out)
    assert (folder / modelfolder.TRAINING_IMAGES_FILE).read_text(encoding="ascii") == "".join(f"{d}\n" for d in learnt)
    assert modelfolder.read_training_images(folder) == frozenset(learnt)
    assert trained.card.training.images_sha256 == {"file": modelfolder.TRAINING_IMAGES_FILE, "images": len(learnt)}
    # features (all faces, done at once for dlib), epochs (one advance per epoch run), then the baseline
    assert [(s["unit"], s["total"]) for s in steps] == [("faces", 60), ("epochs", FAST_HEAD.max_epochs), ("", None)]
    assert steps[0]["done"] == 60
    assert steps[1]["done"] == trained.card.training.history["epochs_run"]
    assert "Fisherfaces" in steps[2]["message"]


def test_training_overlap_counts_seen_faces_and_scores_the_unseen_alone():
    true = ["female", "female", "male", "male", "male"]
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    hashes = ["a", "b", "c", "d", "e"]

    overlap = training_overlap(hashes, frozenset({"a", "c", "z"}), true, probabilities, LABELS)

    # unseen: b (female → male, wrong), d (male → female, wrong), e (male, right): 1 of 3
    assert overlap == {"known": True, "count": 2, "share": 0.4, "training_images": 3,
                       "unseen": {"faces": 3, "accuracy": 0.3333, "balanced_accuracy": 0.25}}
    assert overlap_lines(overlap, 5) == [
        "warning: 2 of 5 faces (40.0%) are images the model was trained on; figures that include them overstate "
        "how it does on new faces",
        "unseen faces only (3): accuracy 0.333, balanced accuracy 0.250"]

    everything = training_overlap(hashes, frozenset(hashes), true, probabilities, LABELS)
    assert (everything["count"], everything["share"]) == (5, 1.0)
    assert everything["unseen"] == {"faces": 0, "accuracy": None, "balanced_accuracy": None}

    unknown = training_overlap(hashes, None, true, probabilities, LABELS)
    assert (unknown["known"], unknown["count"], unknown["share"], unknown["unseen"]) == (False, None, None, None)
    assert overlap_lines(unknown, 5)[0].startswith("training overlap unknown: ")


def test_the_model_version_is_stable_and_changes_when_the_head_changes(saved, tmp_path):
    original, version = saved
    folder = tmp_path / "changed"
    shutil.copytree(original, folder)
    assert modelfolder.model_version(folder) == modelfolder.model_version(original) == version

    head = load_classifier(folder).head
    kernel, bias = head.get_layer("head_softmax").get_weights()
    head.get_layer("head_softmax").set_weights([kernel, bias + np.array([0.5, -0.5], dtype=bias.dtype)])
    head.save(folder / modelfolder.HEAD_FILE)

    changed = modelfolder.model_version(folder)
    assert changed != version
    assert load_classifier(folder).version == changed
    assert modelfolder.model_version(original) == version, "the original folder is untouched"


def test_too_few_posters_of_a_label_is_a_labelled_data_error(clusters):
    from postercensus.classify.train.labelled import LabelledDataError

    labels = ["female"] * 3 + ["male"] * 3
    data = TrainingSet(clusters.samples(labels, seed=2), labels, ["a", "a", "a", "b", "c", "d"],
                       [f"f{i}" for i in range(6)])
    with pytest.raises(LabelledDataError, match="cannot split the labelled faces by poster"):
        train(data, DlibBackbone(), TrainOptions(head=FAST_HEAD), "x")
    single = TrainingSet(data.samples, ["male"] * 6, data.groups, data.names)
    with pytest.raises(LabelledDataError, match=r"single label \(male\)"):
        train(single, DlibBackbone(), TrainOptions(head=FAST_HEAD), "x")


# -- Fisherfaces -------------------------------------------------------------------------------

def _striped(kind: str, rng: np.random.Generator, size: int = 48) -> FaceSample:
    """Horizontal or vertical stripes at a random brightness, with noise: mean grey says nothing.

    (The stripes' phase is fixed: with a random phase the class means would both be flat grey,
    and no linear projection such as Fisherfaces could tell the classes apart.)
    """
    period = 8
    wave = np.arange(size) % period < period // 2
    pattern = np.tile(wave[:, None], (1, size)) if kind == "horizontal" else np.tile(wave[None, :], (size, 1))
    level = rng.uniform(80, 170)
    grey = level + np.where(pattern, 40.0, -40.0) + rng.normal(0, 12.0, (size, size))
    return FaceSample(np.zeros(128, np.float32), crop_jpeg=_jpeg(np.repeat(grey[:, :, None], 3, axis=2)))


def test_fisherfaces_separates_two_generated_pixel_classes_and_round_trips(tmp_path):
    rng = np.random.default_rng(11)
    kinds = ("horizontal", "vertical")
    train_y = np.array([k % 2 for k in range(40)])
    test_y = np.array([k % 2 for k in range(20)])
    train_x = pixels_of([_striped(kinds[k], rng) for k in train_y])
    test_x = pixels_of([_striped(kinds[k], rng) for k in test_y])

    assert train_x.shape == (40, 64 * 64) and 0.0 <= train_x.min() and train_x.max() <= 1.0
    fisher = Fisherfaces.fit(train_x, train_y, kinds)

    assert fisher.projection.shape == (64 * 64, 1), "two classes: one Fisher direction"
    assert (fisher.predict(test_x) == test_y).all()
    path = tmp_path / "fisher.npz"
    fisher.save(path)
    loaded = Fisherfaces.load(path)
    assert loaded.labels == kinds
    assert (loaded.predict(test_x) == fisher.predict(test_x)).all()
    # the grey mean alone cannot tell them apart (so the test is about the pattern, not brightness)
    means = train_x.mean(axis=1)
    first, second = means[train_y == 0], means[train_y == 1]
    assert first.min() < second.max() and second.min() < first.max()
