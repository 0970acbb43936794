"""Shares corrected with this collection's validation sample (issue 23, items 4 and 6).

On the dashboard fixture's catalogue (6 faces; the card's 20 held-out faces, 9 of 10 right per
label): a validation sample switches the correction from the card's confusion to the sample's with
the card as a prior of PRIOR_FACES faces, the figures are those computed by hand from the counts, the
interval widens with a small sample and narrows with a large one, and provenance, codebook and the
dashboard footer name the confusion used; a model trained on the validated faces falls back to the
card and says why.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, delete, insert, select, update

from postercensus.analysis.export import export, provenance
from postercensus.analysis.face_tables import by_gender
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import load_tables
from postercensus.analysis.selection import select as select_faces
from postercensus.analysis.validation_labels import validation_need
from postercensus.catalog import schema
from postercensus.classify.correction import PRIOR_FACES, correction
from postercensus.classify.correction import validation_need as validation_need_of
from postercensus.classify.prevalence.estimate import (
    ConfusionMatrix,
    ValidatedConfusion,
    estimate_prevalence,
    validated_confusion,
)
from postercensus.dashboards.citation import citation
from postercensus.notebook import open as pc_open
from tests.support.cli import run_cli, status
from tests.support.dashboarddb import FACE_SET, MODEL_ID, _card, build_catalogue

NOW = datetime(2024, 2, 1, tzinfo=timezone.utc)
CARD = ConfusionMatrix(("female", "male"), ("female", "male"), np.array([[9, 1], [1, 9]]))  # the fixture card's


def _faces(engine: Engine) -> list[tuple[int, str, str]]:
    """(face id, image sha256, stored prediction) of the fixture's faces, in id order."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(schema.faces.c.id, schema.faces.c.image_sha256, schema.predictions.c.label)
            .join(schema.predictions, schema.predictions.c.face_id == schema.faces.c.id)
            .order_by(schema.faces.c.id))]


def _validate(engine: Engine, labels: dict[int, str], sample: str = "s1") -> None:
    """A simple random sample holding these faces, each coded once for validation."""
    with engine.begin() as connection:
        connection.execute(insert(schema.validation_samples).values(
            name=sample, design="simple", stratify_by=None, face_set=FACE_SET,
            strata={"all": {"population": 6, "drawn": len(labels)}}, weights={"all": 6 / len(labels)}, seed=0,
            model=None, created_at=NOW))
        for position, (face, label) in enumerate(labels.items()):
            connection.execute(insert(schema.validation_sample_faces).values(
                sample=sample, face_id=face, stratum="all", position=position, drawn_at=NOW))
            connection.execute(insert(schema.face_labels).values(
                face_id=face, label=label, labelled_by="coder-a", labelled_at=NOW, purpose="validation",
                sample=sample))


@pytest.fixture()
def validated(tmp_path) -> tuple[Path, Engine, dict[int, str]]:
    """The fixture's catalogue with every face validated; the truth differs from the prediction on
    one face predicted female (a man) and one face is `other` (not a face: kept out of the confusion)."""
    home = tmp_path / "home"
    engine = build_catalogue(home)
    faces = _faces(engine)
    truth = {face: prediction for face, _sha, prediction in faces}
    first_female = next(face for face, _sha, prediction in faces if prediction == "female")
    truth[first_female] = "male"
    truth[faces[-1][0]] = "other"
    _validate(engine, truth)
    return home, engine, truth


def _hand_confusion(engine: Engine, truth: dict[int, str]) -> ValidatedConfusion:
    """The validation counts by hand, plus the card's 20 faces scaled to PRIOR_FACES."""
    counts = np.zeros((2, 2))
    index = {"female": 0, "male": 1}
    for face, _sha, prediction in _faces(engine):
        if truth[face] in index:
            counts[index[truth[face]], index[prediction]] += 1
    prior = CARD.counts * PRIOR_FACES / 20
    return ValidatedConfusion(CARD.labels, CARD.predicted, counts, prior, int(counts.sum()), PRIOR_FACES)


def test_validated_confusion_adds_the_design_weighted_sample_to_the_scaled_card():
    confusion = validated_confusion(["female", "female", "male", "male"], ["female", "male", "male", "male"],
                                    [3.0, 1.0, 1.0, 1.0], CARD, 10)
    # weights rescaled to sum to the 4 labelled faces: 3 → 2, 1 → 2/3
    np.testing.assert_allclose(confusion.validation, [[2.0, 2 / 3], [0.0, 4 / 3]])
    np.testing.assert_allclose(confusion.prior, [[4.5, 0.5], [0.5, 4.5]])
    np.testing.assert_allclose(confusion.rates()[0], [6.5 / (6.5 + 7 / 6), (7 / 6) / (6.5 + 7 / 6)])
    assert validated_confusion([], [], [], CARD, None).prior_faces == 20
    with pytest.raises(ValueError, match="not among the labels"):
        validated_confusion(["other"], ["male"], [1.0], CARD, 10)
    with pytest.raises(ValueError, match="positive"):
        validated_confusion(["male"], ["male"], [0.0], CARD, 10)


def _sample(per_label: int, right: int, weights: tuple[float, float] = (1.0, 1.0)):
    """A validation sample of `per_label` faces per true label, `right` of them decided right, each
    right face weighted weights[0] and each wrong one weights[1]."""
    true = ["female"] * per_label + ["male"] * per_label
    wrong = per_label - right
    predicted = ["female"] * right + ["male"] * wrong + ["male"] * right + ["female"] * wrong
    weight = ([weights[0]] * right + [weights[1]] * wrong) * 2
    return true, predicted, np.array(weight)


def test_the_interval_widens_with_a_small_sample_and_narrows_with_a_large_one():
    """All at the card's rates (0.9 right per label), so the point estimate stays the card's and only
    the number of faces behind the rates moves the interval."""
    observed = {"female": 30, "male": 70}
    card = estimate_prevalence(observed, CARD)

    def estimate(sample, prior_faces):
        return estimate_prevalence(observed, validated_confusion(*sample, CARD, prior_faces))

    # 10 labels weighted so their effective counts are [[4.5, 0.5], [0.5, 4.5]]: 0.9 on half the card's faces
    small = estimate(_sample(5, 4, (1.125, 0.5)), 0)
    same = estimate(_sample(10, 9), 0)  # the card's very counts, no prior: today's estimate exactly
    large = estimate(_sample(200, 180), PRIOR_FACES)
    for each in (small, same, large):
        assert each.corrected_share["female"] == pytest.approx(card.corrected_share["female"])

    def width(each):
        return each.ci_high["female"] - each.ci_low["female"]

    assert width(same) == pytest.approx(width(card))
    assert width(small) > width(card) > width(large)


def test_the_tables_correct_with_the_validation_sample_as_computed_by_hand(validated, tmp_path):
    home, engine, truth = validated
    tables = load_tables(engine, home=home)
    selection = select_faces(tables, Filters())
    used = selection.shares.correction
    assert used.source == "validation" and used.labels == 5  # the `other` face is a detector false positive
    assert used.description == f"this collection's validation sample s1, 5 labels (+ prior of {PRIOR_FACES:g} card faces)"
    hand = _hand_confusion(engine, truth)
    np.testing.assert_allclose(used.confusion.counts, hand.counts)
    table = by_gender(tables, Filters())
    female = table[table["label"] == "female"].iloc[0]
    counts = {label: int(table.loc[table["label"] == label, "faces"].iloc[0]) for label in ("female", "male")}
    expected = estimate_prevalence(counts, hand)
    assert female["corrected_share"] == pytest.approx(expected.corrected_share["female"])
    assert female["ci_low"] == pytest.approx(expected.ci_low["female"])
    assert female["ci_high"] == pytest.approx(expected.ci_high["female"])
    rates = hand.rates()  # Rogan–Gladen by hand
    raw = counts["female"] / sum(counts.values())
    assert expected.corrected_share["female"] == pytest.approx(
        np.clip((raw - rates[1, 0]) / (rates[0, 0] - rates[1, 0]), 0, 1))

    record = provenance(tables, Filters(), NOW)
    assert record["correction"]["source"] == "validation"
    assert record["correction"]["validation_labels"] == 5 and record["correction"]["samples"] == ["s1"]
    assert record["correction"]["prior_card_faces"] == PRIOR_FACES
    footer = dict(citation(tables, Filters(), NOW))
    assert footer["Correction"] == used.description
    export(tables, tmp_path / "out")
    assert f"Corrected shares of model {MODEL_ID}: corrected with the errors of {used.description}." in \
        (tmp_path / "out" / "codebook.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "out" / "provenance.json").read_text())["correction"]["description"] == used.description


def test_without_validation_labels_the_card_corrects_and_says_so(tmp_path):
    home = tmp_path / "home"
    engine = build_catalogue(home)
    tables = load_tables(engine, home=home)
    used = select_faces(tables, Filters()).shares.correction
    assert used.source == "card" and used.note is None
    assert used.description == "card, held-out faces, 20 out-of-fold faces"
    assert used.confusion == CARD
    assert dict(citation(tables, Filters(), NOW))["Correction"] == used.description


def test_a_model_trained_on_the_validated_faces_falls_back_to_the_card_and_says_why(validated, tmp_path):
    home, engine, _truth = validated
    face, sha, _prediction = _faces(engine)[0]
    card = {**_card(), "training": {"catalogue_faces": [[face, sha]]}}
    with engine.begin() as connection:
        connection.execute(update(schema.classifier_models).where(schema.classifier_models.c.model_id == MODEL_ID)
                           .values(card=card))
    tables = load_tables(engine, home=home)
    used = select_faces(tables, Filters()).shares.correction
    assert used.source == "card" and used.confusion == CARD
    assert "not used: the model was trained on some of its faces" in used.note
    footer = dict(citation(tables, Filters(), NOW))["Correction"]
    assert footer.startswith("card, held-out faces, 20 out-of-fold faces; validation sample s1 not used")
    assert provenance(tables, Filters(), NOW)["correction"]["note"] == used.note
    export(tables, tmp_path / "out")
    assert f"; {used.note}." in (tmp_path / "out" / "codebook.md").read_text(encoding="utf-8")


def test_the_validation_confusion_is_that_of_the_decision_rule_of_the_counts():
    card = _card()
    validation = pd.DataFrame({"face": [1, 2, 3], "label": ["female", "male", "female"], "weight": 1.0,
                               "sample": "s1", "decided": ["female", "uncertain", None]})
    used = correction(card, 0.75, validation)  # the threshold rule has an `uncertain` column
    assert used.confusion.predicted == ("female", "male", "uncertain") and used.labels == 2
    assert correction(card, 0.0, validation).labels == 1  # `uncertain` is no argmax category: left out


def test_the_expected_half_width_shrinks_with_more_labels(validated):
    validation = pd.DataFrame({"face": range(40), "label": ["female"] * 15 + ["male"] * 25, "weight": 1.0,
                               "sample": "s1", "decided": ["female"] * 10 + ["male"] * 28 + ["female"] * 2})
    used = correction(_card(), 0.0, validation)
    need = validation_need_of(used, {"female": 300, "male": 700}, faces_left=960)
    more = need["with_more_labels"]
    assert list(more) == [50, 100, 200]
    assert need["half_width"] > more[50] > more[100] > more[200] > 0
    # no more labels than faces left: 50, 100, 200 with 80 left are 50 and 80; none with none left
    assert list(validation_need_of(used, {"female": 300, "male": 700}, faces_left=80)["with_more_labels"]) == [50, 80]
    assert validation_need_of(used, {"female": 300, "male": 700}, faces_left=0)["with_more_labels"] == {}
    home, engine, truth = validated  # through the tables, as `status` and the API ask
    with engine.begin() as connection:  # two faces not validated after all
        connection.execute(delete(schema.face_labels).where(schema.face_labels.c.face_id.in_(sorted(truth)[:2])))
    need = validation_need(load_tables(engine, home=home))
    assert need["label"] == "female" and need["correction"].startswith("this collection's validation sample s1")
    assert (need["faces_left"], list(need["with_more_labels"])) == (2, [2])
    # 4 faces to count: the collection's own sampling error dominates, more labels barely matter
    assert all(0 < value <= 0.5 for value in [need["half_width"], *need["with_more_labels"].values()])


def test_status_says_how_much_more_labels_would_narrow_the_interval(validated, tmp_path):
    home, engine, truth = validated
    need = status(home)["validation_need"]
    assert need["correction"].startswith("this collection's validation sample s1, 5 labels")
    assert need["with_more_labels"] == {} and need["faces_left"] == 0  # every face validated: none to simulate
    printed = run_cli(home, "status")
    assert printed.exit_code == 0, printed.output
    text = " ".join(printed.stdout.split())  # the console wraps long lines
    assert f"corrected female share: ±{need['half_width']:.3f} (95 %), corrected with {need['correction']}" in text
    assert "no face is left without a validation label: no more to draw" in text
    with engine.begin() as connection:  # two faces not validated after all
        connection.execute(delete(schema.face_labels).where(schema.face_labels.c.face_id.in_(sorted(truth)[:2])))
    text = " ".join(run_cli(home, "status").stdout.split())
    assert "expected with more validation labels +2: ±" in text and "(2: every face still without a validation label)" in text
    bare = tmp_path / "bare"
    build_catalogue(bare)
    assert status(bare)["validation_need"] is None  # no sample: nothing to weigh, the tables not loaded


def test_the_notebook_api_names_the_confusion_and_the_need(validated):
    home, _engine, _truth = validated
    opened = pc_open(home)
    correction = opened.tables().correction()
    assert correction["source"] == "validation" and correction["validation_labels"] == 5
    assert opened.validation_need()["correction"] == correction["description"]
