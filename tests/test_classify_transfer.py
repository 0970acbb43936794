"""`classify train --base`: a researcher's faces added to a base model's faces (classify.train.transfer).

The base is built here from real crops (../shared/data; skipped without it): a dlib head trained
on MetFaces and NK poster faces, its base_faces.npz, a tiny CNN and an `ensemble` entry, so what
is checked is the transfer code and not the shipped default (which may not ship base faces yet).
The researcher's faces are NK crops from posters the base never saw.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from postercensus.classify.models import modelfolder
from postercensus.classify.models.modelcard import ModelCard
from postercensus.classify.train.transfer import OWN_WEIGHTS, domain_balanced_weights
from tests.support.cli import run_cli
from tests.support.posters import FACES_DIR
from tests.support.cli import error_line, ok
from tests.test_classify_cli import quick_training  # noqa: F401  (quick_training: autouse fixture)

LABELS = ("female", "male")
INLINE = ("--workers", "1")


def test_domain_balanced_weights_give_every_domain_the_same_total_and_a_mean_of_one():
    domains = ["photos"] * 90 + ["posters"] * 6 + ["paintings"] * 4
    weights = domain_balanced_weights(domains)
    totals = {d: float(weights[[i for i, x in enumerate(domains) if x == d]].sum()) for d in set(domains)}
    assert np.allclose(list(totals.values()), len(domains) / 3)
    assert np.isclose(weights.mean(), 1.0)


def _copy(paths: list[Path], folder: Path) -> None:
    for path in paths:
        (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / path.parent.name / path.name)


@pytest.fixture(scope="module")
def folders(shared_data, tmp_path_factory) -> dict[str, Path]:
    """Labelled folders: `base_posters` and `base_paintings` (the base's faces), `own` (to train on)
    and `unseen` (to evaluate); the NK ones from disjoint posters."""
    root = tmp_path_factory.mktemp("transfer")
    by_poster: dict[str, dict[str, Path]] = {label: {} for label in LABELS}
    for label in LABELS:
        for path in sorted((shared_data / FACES_DIR / label).glob("*.jpg")):
            by_poster[label].setdefault(path.stem.split("_")[0], path)
    parts = {"base_posters": slice(0, 8), "own": slice(8, 30), "unseen": slice(30, 36)}
    taken: set[str] = set()
    for part, chosen in parts.items():
        for label in LABELS:
            posters = [p for p in by_poster[label] if p not in taken][: chosen.stop - chosen.start]
            taken.update(posters)
            _copy([by_poster[label][p] for p in posters], root / part)
    for label in LABELS:
        _copy(sorted((shared_data / "metfaces-faces" / label).glob("*.jpg"))[:12], root / "base_paintings")
    return {part: root / part for part in (*parts, "base_paintings")}


@pytest.fixture(scope="module")
def base_model(folders, tmp_path_factory) -> Path:
    """A model folder to transfer from: dlib head, base_faces.npz, one CNN (share 0.5), a `domains` entry."""
    from postercensus.classify.models.backbones import DlibBackbone
    from postercensus.classify.models.basefaces import BaseFaces
    from postercensus.classify.models.cnnbackbone import CnnBackbone, CnnSettings, train_cnn
    from postercensus.classify.train.domains import domain_entry
    from postercensus.classify.models.facesamples import stage_face_settings
    from postercensus.classify.train.folderdata import load_labelled_folder
    from postercensus.classify.models.head import HeadSettings
    from postercensus.classify.train.labelled import list_labelled_files
    from postercensus.classify.train.training import TrainOptions, save, train
    from postercensus.classify.train.trainingset import TrainingSet
    from postercensus.faces.executors import InlineExecutor

    parts = []
    for domain in ("posters", "paintings"):
        folder = folders[f"base_{domain}"]
        data = load_labelled_folder(folder, list_labelled_files(folder), InlineExecutor(), lambda n: None, [],
                                    stage_face_settings())
        parts.append((domain, data))
    data = TrainingSet([s for _, d in parts for s in d.samples], [x for _, d in parts for x in d.labels],
                       [f"{domain}:{g}" for domain, d in parts for g in d.groups],
                       [x for _, d in parts for x in d.names], {"data": "test base"})
    trained = train(data, DlibBackbone(), TrainOptions(head=HeadSettings(max_epochs=20, patience=5)), "test-base")
    folder = tmp_path_factory.mktemp("base") / "test-base"
    save(trained, folder, data)
    BaseFaces(np.stack([s.descriptor for s in data.samples]), data.labels,
              [domain for domain, d in parts for _ in d.labels], data.groups).save(folder)
    settings = CnnSettings(size=32, widths=(8, 16), repeats=(1, 1), embedding=8, epochs=1, epoch_size=32, batch_size=16)
    reader = CnnBackbone(None, settings, LABELS)
    y = np.array([LABELS.index(label) for label in data.labels])
    CnnBackbone(train_cnn(reader.pixels(data.samples), y, settings), settings, LABELS).save(folder, "cnn-1")
    card = modelfolder.read_card(folder).to_dict()
    card["ensemble"] = {"cnn_share": 0.5, "cnn_members": ["cnn-1"]}
    held = card["held_out_predictions"]
    card["domains"] = {"posters": domain_entry(held["true"], np.array(held["probabilities"]), LABELS)}
    modelfolder.write_card(folder, card)
    return folder


@pytest.fixture(scope="module")
def transferred(folders, base_model, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("models") / "own-transfer"
    stdout = ok(run_cli(tmp_path_factory.mktemp("unused") / "home", "classify", "train", str(folders["own"]),
                         "--base", str(base_model), "--out", str(out), *INLINE))
    return out, stdout


def test_transfer_records_its_base_and_chosen_weight_and_keeps_the_base_cnns(transferred, base_model):
    out, stdout = transferred
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    base_card = json.loads((base_model / "model.json").read_text(encoding="utf-8"))
    transfer = card["transfer"]
    assert transfer["base"] == {"model_id": "test-base", "version": modelfolder.model_version(base_model)}
    assert transfer["own_weight"] in OWN_WEIGHTS
    assert set(transfer["weights_tried"]) == {f"{w:g}" for w in OWN_WEIGHTS}
    assert all(0 <= accuracy <= 1 for accuracy in transfer["weights_tried"].values())
    best = max(transfer["weights_tried"].values())
    assert transfer["weights_tried"][f"{transfer['own_weight']:g}"] == best
    assert transfer["base_faces"] == len(np.load(base_model / "base_faces.npz")["labels"])
    assert f"your faces weighted {transfer['own_weight']:g}" in stdout
    assert transfer["held_out_faces_seen_by_base"] == 0 and "warning" not in stdout, "own posters the base never saw"
    assert card["head"]["batch_size"] == base_card["head"]["batch_size"], "the base recipe's batch"
    # predictions = the new head + the base's CNNs with the base's share
    assert card["ensemble"] == base_card["ensemble"]
    for name in ("cnn-1.weights.h5", "cnn-1.json"):
        assert (out / name).read_bytes() == (base_model / name).read_bytes()
    assert not (out / "base_faces.npz").exists(), "the base faces stay with the base"
    # the base's per-domain calibration is not this model's: one refitted on the own training faces,
    # under every domain, and the held-out faces (never in that fit) stored calibrated by it
    from postercensus.classify.train.calibration import Calibration
    from postercensus.classify.train.domains import DOMAINS, calibrate

    assert set(card["domains"]) == set(DOMAINS)
    entry = card["domains"]["posters"]
    assert all(other == entry for other in card["domains"].values())
    trained_faces = card["training"]["fit"]["faces"] + card["training"]["validation"]["faces"]
    assert entry["calibration_faces"] == trained_faces == transfer["calibration_refitted"]["faces"]
    assert entry["held_out_predictions"]["probabilities"] == card["held_out_predictions"]["probabilities"]
    assert entry["held_out_predictions"]["true"] == card["held_out_predictions"]["true"]
    uncalibrated = np.array(entry["held_out_predictions"]["uncalibrated"])
    stored = np.array(entry["held_out_predictions"]["probabilities"])
    assert np.allclose(calibrate(card, uncalibrated, "scenes"), stored, atol=1e-4)
    assert Calibration.from_entry(entry, LABELS) != Calibration.from_entry(base_card["domains"]["posters"], LABELS)
    assert card["evaluation"]["recall"] == entry["recall"], "the card's figures are the calibrated ones"
    assert f"calibration refitted on {trained_faces} of your faces' out-of-fold predictions" in stdout
    # the held-out evaluation is on the researcher's faces alone
    assert card["training"]["held_out"]["faces"] == card["evaluation"]["n"] == len(card["held_out_predictions"]["true"])
    # the base's training images trained this head too
    listed = set((out / "training_sha256.txt").read_text(encoding="ascii").split())
    assert set((base_model / "training_sha256.txt").read_text(encoding="ascii").split()) < listed


def test_a_transferred_model_loads_and_predicts_with_its_ensemble(transferred, folders, tmp_path):
    from postercensus.classify.models.classifier import ensemble_probabilities, load_classifier
    from postercensus.classify.models.facesamples import stage_face_settings
    from postercensus.classify.train.folderdata import load_labelled_folder
    from postercensus.classify.train.labelled import list_labelled_files
    from postercensus.faces.executors import InlineExecutor

    out, _ = transferred
    classifier = load_classifier(out)
    assert len(classifier.cnns) == 1 and classifier.cnn_share == 0.5
    data = load_labelled_folder(folders["unseen"], list_labelled_files(folders["unseen"]), InlineExecutor(),
                                lambda n: None, [], stage_face_settings())
    probabilities = classifier.probabilities(data.samples)
    head = classifier.head.predict(np.stack([s.descriptor for s in data.samples]), verbose=0)
    assert np.allclose(probabilities, ensemble_probabilities(head, [classifier.cnns[0].probabilities(data.samples)], 0.5),
                       atol=1e-5)
    report_path = tmp_path / "report.json"
    ok(run_cli(tmp_path / "home", "classify", "evaluate", str(out), str(folders["unseen"]), "--json", str(report_path),
                *INLINE))
    assert json.loads(report_path.read_text(encoding="utf-8"))["n"] == len(data.samples)


def test_base_none_trains_on_the_faces_alone_and_says_so(folders, tmp_path):
    out = tmp_path / "alone"
    stdout = ok(run_cli(tmp_path / "home", "classify", "train", str(folders["own"]), "--base", "none",
                         "--out", str(out), *INLINE))
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert card["transfer"] is None and "ensemble" not in card
    assert not list(out.glob("cnn*"))
    assert "your faces alone (--base none)" in stdout


def test_a_base_without_base_faces_is_an_error_naming_base_none(folders, base_model, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(base_model, bare)
    (bare / "base_faces.npz").unlink()

    line = error_line(run_cli(tmp_path / "home", "classify", "train", str(folders["own"]), "--base", str(bare),
                          "--out", str(tmp_path / "M"), *INLINE))

    assert "no base faces" in line and "--base none" in line and str(bare) in line
    assert not (tmp_path / "M").exists()


def test_the_shipped_default_ships_the_base_faces_transfer_starts_from():
    from postercensus.classify.models.basefaces import BaseFaces

    folder = modelfolder.default_model_folder()
    base, card = BaseFaces.load(folder), modelfolder.read_card(folder).to_dict()
    assert base is not None, "`classify train` starts from the default: it must ship its faces"
    assert base.descriptors.shape == (card["training"]["faces"], 128)
    assert len(base.labels) == len(base.domains) == len(base.groups) == card["training"]["faces"]
    assert set(base.labels) == set(card["labels"])
    assert {domain: base.domains.count(domain) for domain in set(base.domains)} == card["training"]["per_domain"]


def test_a_base_counts_the_faces_whose_image_trained_it_and_knows_when_it_cannot(base_model, tmp_path):
    from postercensus.classify.train.transfer import load_base

    base = load_base(str(base_model))
    trained = sorted((base_model / "training_sha256.txt").read_text(encoding="ascii").split())
    assert base.seen([trained[0], "0" * 64, trained[1]]) == 2
    assert base.seen([trained[0], None]) is None, "a face without a hash: unknown, never 0"
    unlisted = tmp_path / "unlisted"
    shutil.copytree(base_model, unlisted)
    (unlisted / "training_sha256.txt").unlink()
    assert load_base(str(unlisted)).seen([trained[0]]) is None


def test_the_weight_is_chosen_on_a_base_sample_of_whole_groups_in_proportion_with_the_same_own_share():
    from postercensus.classify.models.basefaces import BaseFaces
    from postercensus.classify.train.transfer import base_sample

    domains = ["photos"] * 600 + ["posters"] * 100 + ["paintings"] * 300
    groups = [f"{d}:{i // 2}" for i, d in enumerate(domains)]  # two faces per group
    base = BaseFaces(np.arange(1000 * 128, dtype=np.float32).reshape(1000, 128), ["female", "male"] * 500,
                     domains, groups)
    sample, scale = base_sample(base, 300, seed=0)
    counts = {d: sample.domains.count(d) for d in ("photos", "posters", "paintings")}
    assert counts == {"photos": 180, "posters": 30, "paintings": 90}, "each domain in proportion"
    assert all(sample.groups.count(g) == 2 for g in sample.groups), "whole groups only"
    assert scale == len(sample.labels) / 1000
    rows = [groups.index(g) for g in sample.groups[::2]]
    assert np.array_equal(sample.descriptors[::2], base.descriptors[rows]), "rows keep their descriptors"
    assert base_sample(base, 300, seed=0)[0].groups == sample.groups, "seeded"
    assert base_sample(base, 5000, seed=0) == (base, 1.0), "a small base is used whole"


# -- the calibration refitted on the researcher's faces, out-of-fold (issue 22) ------------------

def _toy_collection(n: int, boundary: float, seed: int, prefix: str) -> tuple[np.ndarray, list[str], list[str]]:
    """Faces whose label is male when x0 + noise > `boundary`; two faces per group."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 8)).astype(np.float32)
    labels = [LABELS[int(x > boundary)] for x in features[:, 0] + rng.normal(scale=0.3, size=n)]
    return features, labels, [f"{prefix}{i // 2}" for i in range(n)]


def _toy_base(tmp_path: Path):
    """A base whose own faces put the boundary at x0 = 0: on the toy collection (boundary 0.8) it
    calls too many women men."""
    from postercensus.classify.models.basefaces import BaseFaces
    from postercensus.classify.train.transfer import TransferBase

    features, labels, groups = _toy_collection(600, 0.0, 1, "base")
    faces = BaseFaces(features, labels, ["photos"] * 300 + ["paintings"] * 300, groups)
    return TransferBase(tmp_path, ModelCard.from_dict({"labels": list(LABELS), "model_id": "toy"}), "toy-1", faces)


def test_transfer_fits_its_calibration_on_out_of_fold_predictions_of_the_own_faces(tmp_path, monkeypatch):
    """Every prediction the calibration is fitted on comes from a head that never saw that face
    (neither to fit nor to stop early), and the calibration is the one fitted on exactly those."""
    from postercensus.classify.train import transfer as transfer_module
    from postercensus.classify.train.calibration import fit_calibration
    from postercensus.classify.models.head import HeadSettings

    base = _toy_base(tmp_path)
    own, labels, groups = _toy_collection(120, 0.8, 2, "own")
    y = np.array([LABELS.index(label) for label in labels])
    seen_by_fit: list[set[int]] = []
    predicted: dict[int, tuple[int, np.ndarray]] = {}  # own face -> (fit that predicted it, its probabilities)
    real_fit = transfer_module.fit_with_base

    def recording_fit(*args, **kwargs):
        fitted = real_fit(*args, **kwargs)
        number, own_fit, own_validation = len(seen_by_fit), args[6], args[7]
        seen_by_fit.append(set(own_fit.tolist()) | set(own_validation.tolist()))
        real_predict = fitted.head.predict

        def recording_predict(rows, **options):
            out = real_predict(rows, **options)
            for row, probabilities in zip(rows, out):
                predicted[int(np.flatnonzero((own == row).all(axis=1))[0])] = (number, probabilities)
            return out

        fitted.head.predict = recording_predict
        return fitted

    monkeypatch.setattr(transfer_module, "fit_with_base", recording_fit)
    fit_idx, validation_idx = np.arange(0, 90), np.arange(90, 110)
    result = transfer_module.transfer(base, own, y, [], labels, groups, fit_idx, validation_idx,
                                      HeadSettings(max_epochs=15, patience=5, batch_size=64), weights=(1.0,))
    train_part = np.arange(110)
    assert sorted(predicted) == train_part.tolist(), "every training face predicted once, out of fold"
    assert all(face not in seen_by_fit[number] for face, (number, _) in predicted.items())
    out_of_fold = np.array([predicted[i][1] for i in train_part])
    assert result.calibration == fit_calibration(out_of_fold, y[train_part], transfer_module.CALIBRATION)
    assert result.calibration_faces == 110 and result.calibration.shift, "a temperature and a shift"


def test_the_refitted_calibration_shrinks_a_biased_base_s_recall_gap_on_unseen_faces(tmp_path):
    from postercensus.classify.models.head import HeadSettings
    from postercensus.classify.train.metrics import evaluate_predictions
    from postercensus.classify.train.transfer import transfer

    base = _toy_base(tmp_path)
    own, labels, groups = _toy_collection(320, 0.8, 3, "own")
    y = np.array([LABELS.index(label) for label in labels])
    result = transfer(base, own[:120], y[:120], [], labels[:120], groups[:120], np.arange(0, 100), np.arange(100, 120),
                      HeadSettings(max_epochs=15, patience=5, batch_size=64), weights=(1.0,))
    unseen = result.head.predict(own[120:], verbose=0)
    raw = evaluate_predictions(labels[120:], unseen, LABELS)
    entries = result.card_domains(labels[120:], unseen, LABELS)
    assert raw["recall_gap"] < -0.15, "the toy base is biased towards men on this collection"
    for entry in entries["domains"].values():
        assert abs(entry["recall_gap"]) < abs(raw["recall_gap"]) / 2
        assert entry["balanced_accuracy"] > raw["balanced_accuracy"]
        assert entry["calibration_faces"] == 120 and entry["cross_fitted"]
        assert entry["recall_before_calibration"] == raw["recall"]
