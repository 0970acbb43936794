"""The methods section (`postercensus report methods OUT.md`, `home.methods()`; issue 25 item 3, with
issue 23's validation sample and intercoder agreement) and CITATION.cff.

On a small real home (three posters with real NK faces, harvested and refreshed) the section carries
the catalogue's own counts, detector, model id and version, per-domain figures and text version,
each read back here from the catalogue by SQL, not from the code under test. On the dashboard
fixture's hand-made catalogue a validation sample coded by two coders makes the section name the
sample, its design-weighted confusion with the rates computed by hand, and Krippendorff's alpha and
percent agreement as computed by hand; a demo home says it is a demo; the CLI writes the file and
prints where, and refuses unwritable paths with one `Error:` line.
"""
from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
import yaml
from importlib import metadata as package_metadata
from sqlalchemy import Engine, insert

import postercensus as pc
from postercensus.analysis.methods import AUTHORS
from postercensus.catalog import __version__, schema
from postercensus.catalog.config import DEMO_BANNER, HomeConfig
from tests.support.cli import run_cli
from tests.support.dashboarddb import FACE_SET, build_catalogue
from tests.support.smallhome import harvested_home

REPO_ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 2, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def real_home(shared_data, tmp_path_factory) -> Path:
    """Three generated posters with real NK faces, harvested from a CSV and refreshed (every stage run)."""
    path = harvested_home(shared_data, tmp_path_factory.mktemp("methods"))
    assert pc.open(path).refresh(workers=1).exit_code == 0
    return path


def _rows(home: Path, sql: str, *parameters) -> list[tuple]:
    with sqlite3.connect(home / "catalog.sqlite") as connection:
        return connection.execute(sql, parameters).fetchall()


def _without_date(text: str) -> str:
    """The section without its first italic line (the time it was written)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("*Written by"))


def test_the_section_carries_the_catalogues_counts_detector_and_model(real_home):
    text = pc.open(real_home).methods()
    [(items,)] = _rows(real_home, "SELECT count(*) FROM items WHERE deleted = 0")
    [(face_set, detector, parameters)] = _rows(real_home, "SELECT parameter_hash, detector, parameters FROM face_sets")
    [(faces, on_items)] = _rows(real_home, "SELECT count(DISTINCT f.id), count(DISTINCT i.item_id) FROM faces f "
                                           "JOIN images i ON i.sha256 = f.image_sha256 WHERE f.parameter_hash = ?",
                                face_set)
    [(model_id, version, card)] = _rows(real_home, "SELECT m.model_id, m.model_version, m.card FROM classifier_models m "
                                                   "JOIN predictions p ON p.model_id = m.model_id "
                                                   "AND p.model_version = m.model_version GROUP BY m.model_id")
    decided = dict(_rows(real_home, "SELECT label, count(*) FROM predictions GROUP BY label"))
    assert items == 3 and faces >= 3, "the fixture: three posters with faces"
    assert f"The catalogue holds **{items}** items; {items} have a stored digitised image and {items} were searched" in text
    assert f"It found **{faces}** faces on {on_items} of the {items} scanned items." in text
    assert f"**{detector}** (" in text and f"face set `{face_set}`" in text
    assert all(f"{key} {value}" in text for key, value in json.loads(parameters).items() if key != "detector")
    assert f"by the model **{model_id}**, version `{version}`" in text
    assert f"Of the {faces} faces counted, {faces} were decided (" in text
    assert all(f"{label} {count}" in text for label, count in decided.items())
    card = json.loads(card)
    domain = card["applied_calibration"]["domain"]
    used = card["domains"][domain]
    assert (f"| **{domain}** (used) | {used['n']} | {used['accuracy']:.3f} | {used['balanced_accuracy']:.3f} | "
            + " | ".join(f"{used['recall'][label]:.3f}" for label in card["labels"])) in text
    assert all(f"| {other} | {entry['n']} | {entry['accuracy']:.3f} |" in text
               for other, entry in card["domains"].items() if other != domain)


def test_the_section_names_harvest_dates_text_version_software_and_citation(real_home):
    text = pc.open(real_home).methods()
    [(key, kind, runs, first, last)] = _rows(
        real_home, "SELECT s.key, s.kind, count(*), min(r.started_at), max(r.finished_at) FROM runs r "
                   "JOIN sources s ON s.id = r.source_id WHERE r.stage LIKE 'harvest%' AND r.status = 'ok'")
    first, last = (f"{pd.Timestamp(stamp).strftime('%Y-%m-%d %H:%M')} UTC" for stamp in (first, last))
    assert runs == 2, "harvested, then harvested again by the refresh"
    assert f"- `{key}` ({kind}, " in text
    assert "2 harvest runs (2 ok) " + (f"on {first}" if first == last else f"between {first} and {last}") in text
    [(parameters, versions)] = _rows(real_home, "SELECT parameters, versions FROM runs WHERE stage = 'text'")
    parameters = json.loads(parameters)
    assert f"text pipeline version `{parameters['version_hash']}` (model {parameters['version']['model']}" in text
    [(mentions,)] = _rows(real_home, "SELECT count(*) FROM mentions WHERE in_title = 0")
    assert f": {mentions} mentions in " in text
    numpy = json.loads(versions)["numpy"]
    assert f"| numpy | {numpy} |" in text
    assert f"{AUTHORS}. *postercensus: " in text and f"Version {__version__} [software]" in text
    assert "DEMO" not in text


def test_the_cli_writes_the_section_and_prints_where(real_home, tmp_path):
    out = tmp_path / "paper" / "methods.md"  # a folder to be made
    result = run_cli(real_home, "report", "methods", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"methods section written to {out.resolve()}"
    assert _without_date(out.read_text(encoding="utf-8")) == _without_date(pc.open(real_home).methods())


def test_the_filters_of_the_figures_are_named_and_narrow_the_counts(real_home, tmp_path):
    out = tmp_path / "methods.md"
    assert run_cli(real_home, "report", "methods", str(out), "--year-from", "1955").exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "for the figures of: years 1955–…." in text
    assert "The catalogue holds 3 items; **2** of them match the filters (years 1955–…)" in text
    refused = run_cli(real_home, "report", "methods", str(tmp_path / "none.md"), "--keyword", "theatre")
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: no item has the keyword 'theatre'")
    assert not (tmp_path / "none.md").exists()


@pytest.mark.parametrize("where", ["folder", "under a file"])
def test_an_unwritable_output_is_one_error_line(tmp_path, where):
    home = tmp_path / "home"
    build_catalogue(home)
    (tmp_path / "file.md").write_text("kept", encoding="utf-8")
    out = {"folder": tmp_path, "under a file": tmp_path / "file.md" / "methods.md"}[where]
    result = run_cli(home, "report", "methods", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: OUT {out} "), result.stderr
    assert (tmp_path / "file.md").read_text(encoding="utf-8") == "kept"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_folder_without_write_permission_is_one_error_line(tmp_path):
    home = tmp_path / "home"
    build_catalogue(home)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run_cli(home, "report", "methods", str(locked / "methods.md"))
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: OUT {locked / 'methods.md'} cannot be created: no permission to write "
                                     f"in {locked} — choose a folder you can write to")


def test_a_demo_home_says_it_is_a_demo(tmp_path):
    home = tmp_path / "home"
    build_catalogue(home)
    HomeConfig.load(home).mark_demo()
    text = pc.open(home).methods()
    assert text.splitlines()[2].startswith(f"> **{DEMO_BANNER}.** This section describes the demo collection")


def _code(engine: Engine, coder: str, labels: dict[int, str], at: datetime) -> None:
    with engine.begin() as connection:
        for face, label in labels.items():
            connection.execute(insert(schema.face_labels).values(
                face_id=face, label=label, labelled_by=coder, labelled_at=at, purpose="validation", sample="s1"))


@pytest.fixture()
def validated(tmp_path) -> Path:
    """The dashboard fixture (faces 1–6 decided F, M, F, M, M, F) with all six in a simple random sample
    `s1`, coded by coder-a as M, M, F, M, M, other (face 1 a man, face 6 not a face) and by coder-b the
    same except face 2 (female), coded later: the tie on face 2 goes to coder-a's label."""
    home = tmp_path / "home"
    engine = build_catalogue(home)
    with engine.begin() as connection:
        connection.execute(insert(schema.validation_samples).values(
            name="s1", design="simple", stratify_by=None, face_set=FACE_SET,
            strata={"all": {"population": 6, "drawn": 6}}, weights={"all": 1.0}, seed=7, model=None, created_at=NOW))
        for position, face in enumerate(range(1, 7)):
            connection.execute(insert(schema.validation_sample_faces).values(
                sample="s1", face_id=face, stratum="all", position=position, drawn_at=NOW))
    coder_a = {1: "male", 2: "male", 3: "female", 4: "male", 5: "male", 6: "other"}
    _code(engine, "coder-a", coder_a, NOW)
    _code(engine, "coder-b", {**coder_a, 2: "female"}, NOW + timedelta(minutes=1))
    return home


def test_a_validation_sample_is_named_with_its_confusion_and_design(validated):
    text = pc.open(validated).methods()
    # five usable labels (face 6 is not a face): (true, decided) = (M, F), (M, M), (F, F), (M, M), (M, M)
    assert "this collection's validation sample s1, 5 labels (+ prior of 10 card faces)" in text
    # rates: the sample's counts plus the card's [[9, 1], [1, 9]] scaled to 10 faces, [[4.5, 0.5], [0.5, 4.5]]
    assert "| female | 1 (0.917) | 0 (0.083) |" in text  # (1 + 4.5) / 6, 0.5 / 6
    assert "| male | 1 (0.167) | 3 (0.833) |" in text  # (1 + 0.5) / 9, (3 + 4.5) / 9
    assert ("Sample `s1`: a simple random sample of 6 faces from the 6 of the face set (seed 7), drawn "
            "2024-02-01 00:00 UTC, shown to coders in random order without the model's prediction; 6 labelled "
            "(up to 2 coders a face), 1 of them not a face (`other`: the detector's false positives, 16.7%).") in text


def test_two_coders_give_alpha_and_percent_agreement(validated):
    text = pc.open(validated).methods()
    # coincidences: M-M 6, F-F 2, other-other 2, M-F 1, F-M 1; n = 12, n_M 7, n_F 3, n_other 2:
    # alpha = 1 - (n - 1) * 2 / (144 - 49 - 9 - 4) = 1 - 22 / 82 = 0.732; agreement 5 of 6 faces = 0.833
    line = next(line for line in text.splitlines() if line.startswith("- Validation labels:"))
    assert line.startswith("- Validation labels: 6 faces coded by two or more of 2 coders (12 codings). "
                           "Krippendorff's alpha (nominal) 0.732 (95 % interval ")
    assert "percent agreement 0.833 (95 % interval " in line and "; 1 faces with disagreeing coders" in line
    assert "95 % percentile bootstrap over faces, 2,000 draws." in text


def test_one_coder_gives_no_agreement_section(tmp_path):
    home = tmp_path / "home"
    build_catalogue(home)
    assert "## Intercoder agreement" not in pc.open(home).methods()


def test_an_empty_home_says_what_has_not_run(tmp_path):
    text = pc.open(tmp_path / "home", create=True).methods()
    assert "No source is registered" in text and "The catalogue holds no items yet." in text
    assert "No faces have been detected with the active `[faces]` settings yet." in text
    assert "The shares are not corrected: no classifier has predicted these faces." in text


def test_citation_cff_is_valid_cff_with_the_packages_version():
    citation = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert {"cff-version", "message", "title", "authors"} <= set(citation)  # CFF 1.2.0's required keys
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["title"] == "postercensus" and citation["version"] == __version__
    assert [author["name"] for author in citation["authors"]] == [AUTHORS]
    package = package_metadata.metadata("postercensus")
    assert citation["license"] == package["License"]
    assert " ".join(citation["abstract"].split()) == package["Summary"]


def test_a_catalogue_built_over_an_upgrade_names_both_versions(tmp_path):
    home = tmp_path / "home"
    engine = build_catalogue(home)
    with engine.begin() as connection:
        for stage, numpy in (("harvest", "1.26.4"), ("faces", "2.4.6"), ("classify", "2.4.6")):
            connection.execute(schema.runs.update().where(schema.runs.c.stage == stage)
                               .values(versions={"python": "3.11.7", "numpy": numpy}))
    text = pc.open(home).methods()
    assert "| python | 3.11.7 | harvest, faces, classify |" in text
    assert "| numpy | 1.26.4 | harvest |" in text and "| numpy | 2.4.6 | faces, classify |" in text


def test_a_stratified_sample_names_its_strata(validated):
    engine = pc.open(validated).engine
    strata = {"female": {"population": 3, "drawn": 3}, "male": {"population": 3, "drawn": 3}}
    with engine.begin() as connection:
        connection.execute(schema.validation_samples.update().values(
            design="stratified", stratify_by="predicted", strata=strata, weights={"female": 1.0, "male": 1.0}))
        for face in (1, 3, 6):  # predicted female; 2, 4 and 5 male
            connection.execute(schema.validation_sample_faces.update()
                               .where(schema.validation_sample_faces.c.face_id == face).values(stratum="female"))
        connection.execute(schema.validation_sample_faces.update()
                           .where(schema.validation_sample_faces.c.face_id.in_((2, 4, 5))).values(stratum="male"))
    text = pc.open(validated).methods()
    assert ("Sample `s1`: a sample stratified by predicted (female: 3 of 3, male: 3 of 3; weighted by inverse "
            "inclusion probability) of 6 faces from the 6 of the face set (seed 7)") in text
    assert "| female | 1 (0.917) | 0 (0.083) |" in text  # equal inclusion probabilities: the simple sample's rates
