"""Per-domain calibration: from a model card's `domains` to the stored predictions, the corrected shares
and provenance.json.

Runs on generated data: a real (untrained, seeded) dlib-feature head saved as a model folder, the
hand-built catalogue of test_analysis_tables with generated 128-d descriptors on its faces, and
cards whose two domains have hand-chosen held-out faces, so the domains' confusion matrices differ
by construction.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from sqlalchemy import select, update

from postercensus.analysis.active import ActiveSets
from postercensus.analysis.cache import catalogue_fingerprint
from postercensus.analysis.export import export
from postercensus.analysis.load import result_sets
from postercensus.analysis.tables import by_gender, load_tables
from postercensus.catalog import schema
from postercensus.catalog.config import HomeConfig
from postercensus.catalog.database import default_url, open_engine
from postercensus.catalog.home import Home
from postercensus.catalog.layout import CONFIG_FILENAME
from postercensus.catalog.stage import StageError, StageReport
from postercensus.classify.models import modelfolder
from postercensus.classify.train import domains
from postercensus.catalog.settings import active_settings
from postercensus.classify.activeset import ClassifySettings
from postercensus.classify.train.calibration import (BALANCED_SCALE_SHIFT, EQUAL_RECALL, TEMPERATURE, Calibration,
                                               apply_temperature, equal_recall_shift)
from postercensus.classify.label.catalogfaces import PredictionStore
from postercensus.classify.models.classifier import load_classifier
from postercensus.classify.correction import corrected_shares, held_out_confusion
from postercensus.classify.models.head import HeadSettings, build_head
from postercensus.classify.train.metrics import evaluate_predictions
from postercensus.classify.predictstage import PredictGenders, run_predictions
from postercensus.classify.train.report import render_html
from tests.support.cli import run_cli
from tests.test_analysis_tables import CARD, MODEL, build_catalogue

LABELS = ["female", "male"]
# posters: 20 faces, 18 right; paintings: 20 faces, 13 right (the model errs more on paintings)
POSTER_HELD_OUT = {"true": ["female"] * 10 + ["male"] * 10,
                   "probabilities": [[0.9, 0.1]] * 9 + [[0.3, 0.7]] + [[0.2, 0.8]] * 9 + [[0.6, 0.4]]}
PAINTING_HELD_OUT = {"true": ["female"] * 10 + ["male"] * 10,
                     "probabilities": [[0.8, 0.2]] * 6 + [[0.4, 0.6]] * 4 + [[0.3, 0.7]] * 7 + [[0.55, 0.45]] * 3}


def _entry(held_out: dict, temperature: float) -> dict:
    return {"temperature": temperature, "held_out_predictions": held_out, "n": 20, "accuracy": 0.9,
            "balanced_accuracy": 0.9, "ece": 0.04, "ece_before_calibration": 0.12}


DOMAINS = {"posters": _entry(POSTER_HELD_OUT, 1.5), "paintings": _entry(PAINTING_HELD_OUT, 3.0)}


# -- the card entry and its accessors ------------------------------------------------------------

def test_a_domain_entry_fits_a_temperature_that_lowers_the_ece_and_stores_calibrated_predictions():
    rng = np.random.default_rng(0)
    true = ["female" if rng.random() < 0.4 else "male" for _ in range(400)]
    # over-confident: always 0.97 sure, right 75 % of the time
    right = rng.random(400) < 0.75
    top = np.array([(0 if label == "female" else 1) if ok else (1 if label == "female" else 0)
                    for label, ok in zip(true, right)])
    probabilities = np.full((400, 2), 0.03)
    probabilities[np.arange(400), top] = 0.97

    entry = domains.domain_entry(true, probabilities, LABELS, method=TEMPERATURE)

    assert set(entry) == {"calibration", "temperature", "held_out_predictions", "n", "accuracy", "balanced_accuracy",
                          "recall", "recall_gap", "ece", "ece_before_calibration", "recall_before_calibration",
                          "cross_fitted"}
    assert entry["calibration"] == TEMPERATURE and not entry["cross_fitted"]
    assert entry["temperature"] > 1, "an over-confident model is softened"
    assert entry["ece"] < 0.05 < entry["ece_before_calibration"]
    assert entry["n"] == 400 and entry["accuracy"] == pytest.approx(right.mean(), abs=1e-4)
    stored = np.array(entry["held_out_predictions"]["probabilities"])
    np.testing.assert_allclose(stored, apply_temperature(probabilities, entry["temperature"]), atol=1e-4)
    assert (stored.argmax(axis=1) == top).all() and entry["held_out_predictions"]["true"] == true


def _toy(bias: float, n: int = 3000, seed: int = 0) -> tuple[list[str], np.ndarray, list[str]]:
    """A classifier that ranks faces well and, without `bias`, says what it knows (its score is the
    log-odds of equal-sized labels whose scores are normal, ±2 apart from 0, sd 1.5); `bias` is added
    to the male log-odds. 40 % women, faces in groups of three."""
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.4
    score = np.where(female, -2.0, 2.0) + rng.normal(0, 1.5, n)
    male = 1 / (1 + np.exp(-(score * 4 / 1.5 ** 2 + bias)))
    return (["female" if f else "male" for f in female], np.stack([1 - male, male], axis=1),
            [f"g{k // 3}" for k in range(n)])


def _recalls(true: list[str], probabilities: np.ndarray) -> dict[str, float]:
    return evaluate_predictions(true, probabilities, LABELS)["recall"]


@pytest.mark.parametrize("method", [EQUAL_RECALL, BALANCED_SCALE_SHIFT])
def test_a_calibration_with_a_shift_moves_a_biased_classifiers_recalls_together_where_a_temperature_cannot(method):
    true, probabilities, groups = _toy(bias=3.0)
    before = _recalls(true, probabilities)
    assert before["male"] - before["female"] > 0.2, "the toy is biased towards men"

    with_temperature = domains.domain_entry(true, probabilities, LABELS, groups, TEMPERATURE)
    shifted = domains.domain_entry(true, probabilities, LABELS, groups, method)

    assert with_temperature["recall"] == before, "a temperature never changes a decision"
    assert shifted["cross_fitted"] and abs(shifted["recall_gap"]) < 0.05, "out-of-fold, on groups never fitted on"
    assert shifted["recall"]["female"] > before["female"] + 0.1
    assert shifted["calibration"] == method
    assert shifted["shift"]["female"] == 0 and shifted["shift"]["male"] < -1, "the male logit is moved down"
    assert shifted["balanced_accuracy"] > with_temperature["balanced_accuracy"]
    assert shifted["ece"] < 0.05
    assert shifted["recall_before_calibration"] == before
    assert shifted["held_out_predictions"]["groups"] == groups


@pytest.mark.parametrize("method", [EQUAL_RECALL, BALANCED_SCALE_SHIFT])
def test_a_calibration_with_a_shift_leaves_an_unbiased_classifier_nearly_unchanged(method):
    true, probabilities, groups = _toy(bias=0.0)
    before = _recalls(true, probabilities)
    shifted = domains.domain_entry(true, probabilities, LABELS, groups, method)
    assert abs(shifted["shift"]["male"]) < 0.25 and 0.8 < shifted["temperature"] < 1.25
    for label in LABELS:
        assert shifted["recall"][label] == pytest.approx(before[label], abs=0.03)


def test_the_equal_recall_shift_makes_the_fitting_faces_recalls_equal_and_needs_two_labels():
    true, probabilities, _ = _toy(bias=3.0)
    y = np.array([LABELS.index(label) for label in true])
    shift = equal_recall_shift(probabilities, y)
    recalls = _recalls(true, Calibration(EQUAL_RECALL, 1.0, (0.0, shift)).apply(probabilities))
    assert abs(recalls["female"] - recalls["male"]) < 0.005
    assert equal_recall_shift(probabilities[y == 1], y[y == 1]) == 0.0, "one label only: nothing to equalise"
    with pytest.raises(ValueError, match="needs two labels, not 3"):
        equal_recall_shift(np.full((4, 3), 1 / 3), np.array([0, 1, 2, 0]))


def test_the_stored_predictions_are_cross_fitted_by_group_and_the_card_applies_the_fit_on_every_face():
    true, probabilities, groups = _toy(bias=3.0)
    entry = domains.domain_entry(true, probabilities, LABELS, groups)
    card = {"labels": LABELS, "domains": {"posters": entry}}
    applied = domains.calibrate(card, probabilities, "posters")
    stored = np.array(entry["held_out_predictions"]["probabilities"])
    np.testing.assert_allclose(np.array(entry["held_out_predictions"]["uncalibrated"]), probabilities, atol=1e-5)
    assert not np.allclose(stored, applied, atol=1e-4), "each fold is calibrated by the fit on the other folds"
    assert np.abs(stored - applied).max() < 0.1, "…which differs little from the fit on all faces"
    assert domains.calibration(card, "posters") == Calibration.from_entry(entry, LABELS)
    assert domains.with_applied_calibration(card, "posters").applied_calibration["shift"] == entry["shift"]


def test_an_old_card_entry_with_only_a_temperature_calibrates_as_before():
    card = {**CARD, "domains": DOMAINS}
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7]])
    np.testing.assert_allclose(domains.calibrate(card, probabilities, "paintings"), apply_temperature(probabilities, 3.0))
    assert domains.calibration(card, "paintings") == Calibration(TEMPERATURE, 3.0, ())
    assert "recall" not in domains.domain_figures(card)["paintings"] and "shift" not in domains.domain_figures(card)["paintings"]


def test_the_default_cards_domains_carry_recall_per_label_and_decide_evenly_on_depicted_faces():
    card = modelfolder.read_card(modelfolder.default_model_folder()).to_dict()
    assert set(card["domains"]) == set(domains.DOMAINS)
    for name, entry in card["domains"].items():
        assert set(entry["recall"]) == set(LABELS) and entry["cross_fitted"], name
        assert entry["recall_gap"] == pytest.approx(entry["recall"]["female"] - entry["recall"]["male"], abs=1e-3)
        assert abs(entry["recall_gap"]) <= 0.05 and entry["ece"] <= 0.05, name
        assert entry["calibration"] == EQUAL_RECALL
        figures = evaluate_predictions(entry["held_out_predictions"]["true"],
                                       np.array(entry["held_out_predictions"]["probabilities"]), LABELS)
        assert figures["recall"] == entry["recall"], "the figures are those of the stored predictions"
    before = card["domains"]["scenes"]["recall_before_calibration"]
    assert before["male"] - before["female"] > 0.2, "scene paintings: women were missed before the shift"


def test_a_card_without_domains_has_no_temperature_and_falls_back_to_its_held_out_faces_saying_so():
    assert domains.temperature(CARD, "paintings") == 1.0
    assert domains.prediction_version(CARD, "abc", "paintings") == "abc"
    assert domains.with_applied_calibration(CARD, "paintings").to_dict() == CARD
    used = domains.held_out(CARD, "paintings")
    assert used.predictions is CARD["held_out_predictions"] and used.domain is None
    assert "no per-domain calibration" in used.source
    assert domains.held_out({"labels": LABELS}, "posters") is None
    assert domains.domain_figures(CARD) == {}


def test_a_card_with_domains_gives_each_domains_temperature_and_faces_and_refuses_a_missing_one():
    card = {**CARD, "model_id": "m", "domains": DOMAINS}
    assert domains.temperature(card, "paintings") == 3.0 and domains.temperature(card, "posters") == 1.5
    assert domains.prediction_version(card, "abc", "paintings") == "abc-paintings"
    assert domains.held_out(card, "paintings").predictions is PAINTING_HELD_OUT
    with pytest.raises(ValueError, match="no calibration for domain 'photos'.*paintings, posters"):
        domains.temperature(card, "photos")
    with pytest.raises(ValueError, match="choose one of posters, paintings, scenes, photos"):
        domains.temperature(card, "drawings")


def test_corrected_shares_use_the_declared_domains_confusion_matrix():
    card = {**CARD, "domains": DOMAINS}
    counts = {"female": 30, "male": 70}
    posters = corrected_shares(domains.with_applied_calibration(card, "posters"), counts, 0.0)
    paintings = corrected_shares(domains.with_applied_calibration(card, "paintings"), counts, 0.0)

    assert posters.corrected_share["female"] != pytest.approx(paintings.corrected_share["female"], abs=0.01)
    for held_out, estimate in ((POSTER_HELD_OUT, posters), (PAINTING_HELD_OUT, paintings)):
        alone = corrected_shares({"labels": LABELS, "held_out_predictions": held_out}, counts, 0.0)
        assert estimate.corrected_share == pytest.approx(alone.corrected_share)
    assert held_out_confusion(domains.with_applied_calibration(card, "paintings"), 0.0).counts.tolist() == \
        [[6, 4], [3, 7]]
    # a registered card that names no domain (registered before domains) is corrected as posters
    assert corrected_shares(card, counts, 0.0).corrected_share == pytest.approx(posters.corrected_share)


# -- the setting ----------------------------------------------------------------------------------

def _write_config(home: Path, classify: dict) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / CONFIG_FILENAME).write_text(tomli_w.dumps({"classify": classify}), encoding="utf-8")


def test_the_domain_setting_defaults_to_posters_reads_the_toml_and_refuses_an_unknown_value(tmp_path):
    assert active_settings(Home(tmp_path / "none"), ClassifySettings).domain == "posters"
    _write_config(tmp_path / "a", {"domain": "paintings"})
    assert active_settings(Home(tmp_path / "a"), ClassifySettings).domain == "paintings"
    _write_config(tmp_path / "b", {"domain": "drawings"})
    with pytest.raises(StageError, match=r"\[classify\] domain: unknown domain 'drawings': "
                                         "choose one of posters, paintings, scenes, photos"):
        active_settings(Home(tmp_path / "b"), ClassifySettings)


def test_predict_refuses_an_unknown_domain_before_loading_the_model(tmp_path):
    result = run_cli(tmp_path / "home", "classify", "predict", "--domain", "drawings")
    assert result.exit_code == 1
    assert "unknown domain 'drawings': choose one of posters, paintings, scenes, photos" in result.output
    _write_config(tmp_path / "bad", {"domain": "sculpture"})
    result = run_cli(tmp_path / "bad", "classify", "predict")
    assert result.exit_code == 1 and "[classify] domain: unknown domain 'sculpture'" in result.output


# -- predictions ------------------------------------------------------------------------------------

def _descriptors(count: int) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(5)
    return {face_id: rng.normal(0.0, 0.1, 128).astype(np.float32) for face_id in range(1, count + 1)}


@pytest.fixture(scope="module")
def model_folders(tmp_path_factory) -> tuple[Path, Path]:
    """(a model folder whose card calibrates per domain, the same model without `domains`)."""
    features = np.stack(list(_descriptors(40).values()))
    head = build_head(features, 2, HeadSettings(seed=3))
    plain = tmp_path_factory.mktemp("models") / "plain"
    plain.mkdir()
    head.save(plain / modelfolder.HEAD_FILE)
    modelfolder.write_card(plain, {**CARD, "model_id": "domain-test", "backbone": {"name": "dlib"}})
    calibrated = plain.parent / "calibrated"
    shutil.copytree(plain, calibrated)
    modelfolder.write_card(calibrated, {**modelfolder.read_card(plain).to_dict(), "domains": DOMAINS})
    return calibrated, plain


@pytest.fixture()
def home(tmp_path) -> Path:
    """The hand-built analysis catalogue, its faces given generated descriptors."""
    home = build_catalogue(tmp_path / "home")
    engine = open_engine(default_url(home))
    with engine.begin() as connection:
        for face_id, descriptor in _descriptors(9).items():
            connection.execute(update(schema.faces).where(schema.faces.c.id == face_id)
                               .values(embedding=descriptor.tolist()))
    engine.dispose()
    return home


def _stored(engine, version: str) -> dict[int, dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(schema.predictions).where(schema.predictions.c.model_version == version))
        return {row.face_id: row._asdict() for row in rows}


def _classify_runs(engine) -> list[dict]:
    with engine.connect() as connection:
        return [row.parameters for row in connection.execute(
            select(schema.runs.c.parameters).where(schema.runs.c.stage == "classify").order_by(schema.runs.c.id))]


def _loaded(home: Path, folder: Path):
    """(engine, prediction store, classifier, its raw probabilities of every pending face) for `home`."""
    engine = open_engine(default_url(home))
    store = PredictionStore(engine, home)
    classifier = load_classifier(str(folder))
    raw = classifier.probabilities([face.sample for page in store.pending("domain-test", "x") for face in page])
    return engine, store, classifier, raw


def test_predict_calibrates_with_the_domains_temperature_and_a_changed_domain_predicts_anew(model_folders, home):
    calibrated, _ = model_folders
    engine, store, classifier, raw = _loaded(home, calibrated)

    posters = run_predictions(engine, store, classifier, 0.0, domain="posters")
    assert posters.facts.identity == f"{classifier.version}-posters" and posters.counts["predicted"] == 9
    assert not store.up_to_date("domain-test", f"{classifier.version}-paintings", 0.0), "a new domain is pending"
    paintings = run_predictions(engine, store, classifier, 0.0, domain="paintings")

    assert paintings.counts["predicted"] == 9, "the domain change recomputed every prediction"
    by_poster, by_painting = _stored(engine, posters.facts.identity), _stored(engine, paintings.facts.identity)
    for index, face_id in enumerate(sorted(by_poster)):
        a, b = by_poster[face_id], by_painting[face_id]
        assert a["top_label"] == b["top_label"] == LABELS[int(raw[index].argmax())], "the top label stays"
        assert a["probability"] == pytest.approx(apply_temperature(raw[index:index + 1], 1.5).max(), abs=1e-5)
        assert b["probability"] == pytest.approx(apply_temperature(raw[index:index + 1], 3.0).max(), abs=1e-5)
        assert b["probability"] < a["probability"], "a higher temperature is less sure"
    assert [(run["domain"], run["temperature"], run["shift"], run["model_version"])
            for run in _classify_runs(engine)[-2:]] == \
        [("posters", 1.5, None, posters.facts.identity), ("paintings", 3.0, None, paintings.facts.identity)]
    with engine.connect() as connection:
        registered = connection.execute(select(schema.classifier_models.c.card).where(
            schema.classifier_models.c.model_version == paintings.facts.identity)).scalar_one()
    assert registered[domains.APPLIED_KEY] == {"domain": "paintings", "calibration": TEMPERATURE, "temperature": 3.0}
    assert "domains" in registered


def test_a_card_without_domains_predicts_as_before(model_folders, home):
    _, plain = model_folders
    engine, store, classifier, raw = _loaded(home, plain)

    report = run_predictions(engine, store, classifier, 0.0, domain="paintings")

    assert report.facts.identity == classifier.version
    stored = _stored(engine, classifier.version)
    assert [stored[face_id]["probability"] for face_id in sorted(stored)] == \
        pytest.approx(raw.max(axis=1).tolist(), abs=1e-6), "no temperature applied"
    with engine.connect() as connection:
        registered = connection.execute(select(schema.classifier_models.c.card).where(
            schema.classifier_models.c.model_version == classifier.version)).scalar_one()
    assert registered == modelfolder.read_card(plain).to_dict()
    assert _classify_runs(engine)[-1]["temperature"] == 1.0


def test_refresh_predicts_for_the_configured_domain_and_again_only_when_it_changes(model_folders, home):
    calibrated, _ = model_folders
    version = modelfolder.model_version(calibrated)
    engine = open_engine(default_url(home))

    def classify(domain: str) -> StageReport:
        _write_config(home, {"model": str(calibrated), "domain": domain})
        return PredictGenders().run(Home(home))

    first = classify("paintings")
    again = classify("paintings")
    posters = classify("posters")
    back = classify("paintings")

    assert first.counts["predicted"] == 9 and again.counts["predicted"] == 0
    assert "model not loaded" in again.note
    assert posters.counts["predicted"] == 9, "the changed domain predicted every face anew"
    assert back.counts["predicted"] == 0 and "model not loaded" in back.note
    assert [(run["model_version"], run["domain"]) for run in _classify_runs(engine)[-4:]] == [
        (f"{version}-paintings", "paintings"), (f"{version}-paintings", "paintings"),
        (f"{version}-posters", "posters"), (f"{version}-paintings", "paintings")]
    with engine.connect() as connection:
        assert result_sets(connection, ActiveSets.of(HomeConfig.load(home)))["models"]["domain-test"] \
            == f"{version}-paintings", \
            "switching back to a domain predicted before uses its predictions again"


def test_the_analysis_follows_the_domain_and_its_fingerprint_changes_with_it(model_folders, home):
    calibrated, _ = model_folders
    engine = open_engine(default_url(home))
    store = PredictionStore(engine, home)
    classifier = load_classifier(str(calibrated))
    run_predictions(engine, store, classifier, 0.0, domain="posters")
    before = catalogue_fingerprint(engine, ActiveSets())
    tables = load_tables(home)
    assert tables.models["domain-test"].applied_calibration["domain"] == "posters"

    run_predictions(engine, store, classifier, 0.0, domain="paintings")

    after = catalogue_fingerprint(engine, ActiveSets())
    assert before["result_sets"]["models"]["domain-test"] != after["result_sets"]["models"]["domain-test"]
    assert load_tables(home).provenance["models"]["domain-test"]["calibration"]["domain"] == "paintings"


# -- analysis tables, provenance and codebook ---------------------------------------------------------

def _declare(home: Path, domain: str) -> None:
    """Register the analysis catalogue's model as if its predictions had been made for `domain`."""
    engine = open_engine(default_url(home))
    card = domains.with_applied_calibration({**CARD, "model_id": MODEL, "domains": DOMAINS}, domain)
    with engine.begin() as connection:
        connection.execute(update(schema.classifier_models).values(card=card.to_dict()))
    engine.dispose()


@pytest.mark.parametrize("domain,held_out", [("posters", POSTER_HELD_OUT), ("paintings", PAINTING_HELD_OUT)])
def test_tables_provenance_and_codebook_use_and_name_the_predictions_domain(tmp_path, domain, held_out):
    home = build_catalogue(tmp_path / "home")
    _declare(home, domain)

    tables = load_tables(home)
    table = by_gender(tables).set_index("label")
    paths = export(tables, tmp_path / "export")

    expected = corrected_shares({"labels": LABELS, "held_out_predictions": held_out}, {"female": 4, "male": 3}, 0.0)
    assert table.loc["female", "corrected_share"] == pytest.approx(expected.corrected_share["female"])
    provenance = json.loads((tmp_path / "export" / "provenance.json").read_text(encoding="utf-8"))
    calibration = provenance["models"][MODEL]["calibration"]
    assert calibration["domain"] == domain and calibration["temperature"] == DOMAINS[domain]["temperature"]
    assert calibration["held_out"] == {key: DOMAINS[domain][key] for key in
                                       ("temperature", "n", "accuracy", "balanced_accuracy", "ece",
                                        "ece_before_calibration")}
    assert f"domains.{domain}" in calibration["corrected_with"]
    codebook = (tmp_path / "export" / "codebook.md").read_text(encoding="utf-8")
    assert f"Corrected shares of model {MODEL}: corrected with the errors of out-of-fold {domain} faces" in codebook
    assert tmp_path / "export" / "provenance.json" in paths


def test_provenance_of_a_card_without_domains_says_it_used_the_cards_held_out_faces(tmp_path):
    tables = load_tables(build_catalogue(tmp_path / "home"))
    calibration = tables.provenance["models"][MODEL]["calibration"]
    assert calibration["domain"] is None and calibration["temperature"] == 1.0 and calibration["held_out"] == {}
    assert "no per-domain calibration" in calibration["corrected_with"]


def test_predict_on_the_command_line_names_the_domain_and_corrects_with_it(model_folders, home):
    calibrated, _ = model_folders
    version = modelfolder.model_version(calibrated)
    _write_config(home, {"domain": "posters"})

    result = run_cli(home, "classify", "predict", "--model", str(calibrated), "--domain", "paintings")

    assert result.exit_code == 0, result.output
    assert f"version {version}-paintings, paintings calibration (temperature 3): 9 face(s) to label" in result.output
    engine = open_engine(default_url(home))
    stored = _stored(engine, f"{version}-paintings")
    counts = {label: sum(row["label"] == label for row in stored.values()) for label in LABELS}
    expected = corrected_shares({"labels": LABELS, "held_out_predictions": PAINTING_HELD_OUT}, counts, 0.0)
    assert f"corrected share {expected.corrected_share['female']:.3f}" in result.output, "--domain beats the toml"


def test_the_evaluation_page_shows_the_cards_figures_per_domain():
    card = {**CARD, "domains": DOMAINS}
    report = evaluate_predictions(["female", "male"], np.array([[0.8, 0.2], [0.3, 0.7]]), LABELS)
    report.update(model_card_domains=domains.domain_figures(card), contact_sheets={})

    page = render_html(report, [], "test")

    assert "Model card: out-of-fold figures per domain" in page and "ECE before calibration" in page
    assert ("<td>paintings</td><td>20</td><td>0.9</td><td>0.9</td><td>–</td><td>–</td><td>–</td><td>0.12</td>"
            "<td>0.04</td><td>calibrated for paintings (temperature 3)</td>") in page, "an old card: no recall, no shift"
    assert "per domain" not in render_html({**report, "model_card_domains": {}}, [], "test")


# -- classify evaluate: with the domain's calibration, recall per label ---------------------------

@pytest.fixture(scope="module")
def shifted_model(model_folders) -> Path:
    """The calibrated test model, its posters calibration shifted so far towards female that every face is
    called female; paintings keep their temperature alone (an entry written before shifts)."""
    calibrated, _ = model_folders
    shifted = calibrated.parent / "shifted"
    shutil.copytree(calibrated, shifted)
    posters = {**DOMAINS["posters"], "calibration": BALANCED_SCALE_SHIFT, "shift": {"female": 0.0, "male": -50.0}}
    modelfolder.write_card(shifted, {**modelfolder.read_card(calibrated).to_dict(), "domains": {**DOMAINS, "posters": posters}})
    return shifted


@pytest.fixture(scope="module")
def noise_folder(tmp_path_factory) -> Path:
    """Three generated images per label (no face in them: each is described whole)."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("evaluate") / "faces"
    rng = np.random.default_rng(1)
    for label in LABELS:
        (folder / label).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)).save(folder / label / f"{label}{k}.jpg")
    return folder


def test_evaluate_uses_the_asked_domains_calibration_and_reports_recall_per_label(shifted_model, noise_folder, tmp_path):
    home = tmp_path / "home"
    _write_config(home, {"domain": "paintings"})
    posters_json, paintings_json, page = tmp_path / "posters.json", tmp_path / "paintings.json", tmp_path / "p.html"

    shifted = run_cli(home, "classify", "evaluate", str(shifted_model), str(noise_folder), "--json", str(posters_json),
                      "--html", str(page), "--domain", "posters", "--workers", "1")
    default = run_cli(home, "classify", "evaluate", str(shifted_model), str(noise_folder), "--json",
                      str(paintings_json), "--workers", "1")

    assert shifted.exit_code == 0 and default.exit_code == 0, (shifted.output, default.output)
    report = json.loads(posters_json.read_text(encoding="utf-8"))
    assert report["domain"] == "posters" and report["calibration"]["shift"] == {"female": 0.0, "male": -50.0}
    assert report["recall"] == {"female": 1.0, "male": 0.0} and report["recall_gap"] == 1.0, "the shift decides"
    assert "recall female 1.000, male 0.000; recall gap (female − male) +1.000; probabilities calibrated for " \
           "posters (temperature 1.5, shift male -50.00)" in shifted.stdout
    html_page = page.read_text(encoding="utf-8")
    assert "<th>recall female</th><th>recall male</th><th>recall gap (female − male)</th>" in html_page
    assert "<td>6</td>" in html_page and "<td>1.0</td><td>0.0</td><td>+1.0000</td>" in html_page
    by_toml = json.loads(paintings_json.read_text(encoding="utf-8"))
    assert by_toml["domain"] == "paintings", "the home's [classify] domain is the default"
    assert by_toml["calibration"] == {"calibration": TEMPERATURE, "temperature": 3.0}
    assert set(by_toml["recall"]) == set(LABELS)
    assert by_toml["recall_gap"] == pytest.approx(by_toml["recall"]["female"] - by_toml["recall"]["male"], abs=1e-4)
    assert "probabilities calibrated for paintings (temperature 3)" in default.stdout


def test_evaluate_refuses_an_unknown_domain_in_one_line(shifted_model, noise_folder, tmp_path):
    result = run_cli(tmp_path / "home", "classify", "evaluate", str(shifted_model), str(noise_folder),
                     "--json", str(tmp_path / "r.json"), "--domain", "murals")
    assert result.exit_code == 1 and "unknown domain 'murals': choose one of posters, paintings, scenes, photos" \
        in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.json").exists()


def test_predict_names_the_shift_it_applies_beside_the_temperature():
    card = modelfolder.read_card(modelfolder.default_model_folder())
    entry = card.to_dict()["domains"]["scenes"]
    assert domains.calibration_summary(card, "scenes") == \
        f"temperature {entry['temperature']:g}, shift male {entry['shift']['male']:+.2f}"
    assert domains.calibration_summary({**CARD, "domains": DOMAINS}, "paintings") == "temperature 3"
