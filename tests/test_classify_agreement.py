"""Intercoder agreement: Krippendorff's alpha against a hand computation and the `krippendorff`
package, percent agreement, bootstrap intervals, disagreements and adjudication."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from postercensus.catalog.schema import LabelPurpose
from postercensus.classify.label import labelqueue, validation
from postercensus.classify.label.agreement import (
    agreement,
    agreement_line,
    coding_agreement,
    disagreements,
    krippendorff_alpha,
)
from tests.support import codingdb
from tests.support.cli import run_cli

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SET_NAME = codingdb.FACE_SET

# Two coders, six faces: four agree (f f, m m, m m, f f), two do not (f m, m f).
TWO_CODERS = [("ann", "female"), ("bob", "female")], [("ann", "male"), ("bob", "male")], \
    [("ann", "female"), ("bob", "male")], [("ann", "male"), ("bob", "male")], \
    [("ann", "female"), ("bob", "female")], [("ann", "male"), ("bob", "female")]


def _table(units) -> pd.DataFrame:
    rows = [{"face": face, "coder": coder, "label": label, "purpose": "validation",
             "labelled_at": T0 + timedelta(minutes=face * 10 + n)}
            for face, codings in enumerate(units, start=1) for n, (coder, label) in enumerate(codings)]
    return pd.DataFrame(rows)


def test_alpha_equals_the_hand_computed_value_on_two_coders():
    # coincidences: o_ff = 4, o_mm = 4, o_fm = o_mf = 2; n_f = n_m = 6, n = 12
    # alpha = 1 - (n - 1) * (o_fm + o_mf) / (n_f n_m + n_m n_f) = 1 - 11 * 4 / 72 = 7 / 18
    table = _table(TWO_CODERS)
    assert krippendorff_alpha(table) == pytest.approx(7 / 18)
    result = agreement(table, "validation", draws=500)
    assert result.alpha == pytest.approx(7 / 18)
    assert result.percent == pytest.approx(4 / 6)
    assert (result.faces, result.coders, result.codings, result.disagreements) == (6, 2, 12, 2)
    assert result.alpha_low < result.alpha < result.alpha_high
    assert result.percent_low < result.percent < result.percent_high <= 1.0
    assert agreement(table, "validation", draws=500) == result  # a seeded bootstrap: the same interval again


def test_alpha_matches_the_krippendorff_package_with_three_coders_and_missing_codings():
    krippendorff = pytest.importorskip("krippendorff", reason="the `krippendorff` package is only a test cross-check")
    rng = np.random.default_rng(4)
    labels = ["female", "male", "other"]
    units = []
    for _ in range(40):
        truth = rng.choice(labels, p=[0.45, 0.45, 0.1])
        coders = [c for c in ("ann", "bob", "cem") if rng.random() < 0.8]
        units.append([(c, truth if rng.random() < 0.8 else rng.choice(labels)) for c in coders])
    table = _table(units)
    matrix = np.full((3, len(units)), np.nan)
    for row in table.itertuples():
        matrix[("ann", "bob", "cem").index(row.coder), row.face - 1] = labels.index(row.label)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert krippendorff_alpha(table) == pytest.approx(expected)


def test_alpha_is_undefined_when_every_coding_is_the_same_label():
    table = _table([[("ann", "female"), ("bob", "female")]] * 3)
    result = agreement(table, "validation", draws=50)
    assert result.alpha is None and result.percent == 1.0


def test_the_adjudicator_is_no_coder_and_settles_the_label():
    table = _table([*TWO_CODERS, [("ann", "male"), ("bob", "female"), ("adjudicated", "male")]])
    assert krippendorff_alpha(table) == krippendorff_alpha(_table([*TWO_CODERS, [("ann", "male"), ("bob", "female")]]))
    listed = disagreements(table)
    assert listed["face"].tolist() == [3, 6]  # face 7 is settled: no longer to adjudicate
    result = agreement(table, "validation", draws=50)
    assert (result.disagreements, result.settled) == (3, 1)
    assert "2 to adjudicate, 1 settled" in agreement_line(result)
    assert listed.set_index("face").loc[3, "codings"] == "ann: female; bob: male"
    resolved = validation.resolve_labels(table).set_index("face")
    assert resolved.loc[7, "label"] == "male"  # adjudicated
    assert resolved.loc[3, "label"] == "female"  # a tie: the label coded first
    assert resolved.loc[6, "label"] == "male"
    assert resolved.loc[7, "coders"] == 2


def test_majority_wins_over_the_first_coding():
    table = _table([[("ann", "female"), ("bob", "male"), ("cem", "male")]])
    assert validation.resolve_labels(table)["label"].tolist() == ["male"]


def test_disagreements_cli_writes_a_sheet_whose_import_adjudicates(tmp_path: Path):
    home = tmp_path / "home"
    engine = codingdb.build(home, items=4)
    validation.draw_sample(engine, codingdb.FACE_SET, 6, "validation", seed=2)
    faces = [face.face_id for face in labelqueue.sample_faces(engine, "validation", "ann", 10)]
    for n, face in enumerate(faces):
        labelqueue.set_label(engine, face, "female", "ann", LabelPurpose.VALIDATION, "validation")
        labelqueue.set_label(engine, face, "male" if n < 2 else "female", "bob", LabelPurpose.VALIDATION, "validation")
    [result] = coding_agreement(engine)
    assert (result.purpose, result.faces, result.disagreements) == ("validation", 6, 2)
    assert result.percent == pytest.approx(4 / 6)

    sheet = tmp_path / "adjudicate.csv"
    outcome = run_cli(home, "classify", "labels", "disagreements", "--out", str(sheet))
    assert outcome.exit_code == 0, outcome.output
    assert "Krippendorff's alpha" in outcome.stdout and "2 to adjudicate" in outcome.stdout
    rows = list(csv.DictReader(sheet.open()))
    assert sorted(int(row["face_id"]) for row in rows) == sorted(faces[:2])
    assert {row["coder"] for row in rows} == {"adjudicated"} and {row["label"] for row in rows} == {""}
    for row in rows:
        row["label"] = "male"
    with sheet.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    outcome = run_cli(home, "classify", "labels", "import", str(sheet))
    assert outcome.exit_code == 0 and "2 new, 0 replaced, 0 unchanged" in outcome.stdout
    labels = validation.adjudicated_validation_labels(engine).set_index("face")["label"]
    assert {face: labels[face] for face in faces} == {face: "male" if n < 2 else "female" for n, face in enumerate(faces)}
    outcome = run_cli(home, "classify", "labels", "disagreements", "--out", str(sheet))
    assert "0 to adjudicate, 2 settled" in outcome.stdout and "(validation): " not in outcome.stdout
    assert list(csv.DictReader(sheet.open())) == []  # settled faces are not asked for again


def test_status_and_the_export_carry_the_agreement(tmp_path: Path):
    home = tmp_path / "home"
    engine = codingdb.build(home, items=4)
    validation.draw_sample(engine, SET_NAME, 6, "validation", seed=3)
    faces = [face.face_id for face in labelqueue.sample_faces(engine, "validation", "ann", 10)]
    for n, face in enumerate(faces):
        labelqueue.set_label(engine, face, "female" if n % 2 else "male", "ann", LabelPurpose.VALIDATION, "validation")
        labelqueue.set_label(engine, face, "female" if n % 2 or n == 0 else "male", "bob", LabelPurpose.VALIDATION,
                             "validation")
    expected = agreement(validation.validation_codings(engine).assign(purpose="validation"), "validation")

    outcome = run_cli(home, "status")
    assert outcome.exit_code == 0, outcome.output
    assert f"Krippendorff's alpha {expected.alpha:.3f}" in outcome.stdout.replace("\n", " ")
    outcome = run_cli(home, "status", "--json")
    [shown] = json.loads(outcome.stdout)["coding_agreement"]
    assert (shown["purpose"], shown["faces"], shown["alpha"], shown["disagreements"]) == \
        ("validation", 6, pytest.approx(expected.alpha), 1)

    from postercensus.analysis.export import export
    from postercensus.analysis.load import load_tables

    written = tmp_path / "export"
    export(load_tables(engine, home), written)
    [row] = list(csv.DictReader((written / "coding_agreement.csv").open()))
    assert (row["purpose"], int(row["faces"]), int(row["coders"]), int(row["disagreements"])) == ("validation", 6, 2, 1)
    assert float(row["alpha"]) == pytest.approx(expected.alpha)
    assert float(row["percent"]) == pytest.approx(5 / 6)
    assert "coding_agreement.csv" in (written / "codebook.md").read_text()
