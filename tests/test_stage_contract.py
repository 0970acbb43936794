"""The one report and the one settings interface (issue 24, items 1 and 2).

Every registered stage, run on a small real home, returns the one `catalog.stage.StageReport`
with its facts as a typed object (never a dict read by string key); every stage's settings class
reads back what it writes (`from_config(to_config())`) into equal settings with the same
`identity()`; `active_settings` reads each from the home's table and names a bad one. The
classify run record keeps the calibration it predicted with (domain, temperature, shift).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import select

from postercensus.catalog import schema
from postercensus.catalog.home import Home
from postercensus.catalog.layout import CONFIG_FILENAME
from postercensus.catalog.runs import RunStatus
from postercensus.catalog.settings import active_settings
from postercensus.catalog.stage import StageError, StageReport
from postercensus.classify.activeset import ActivePredictions, ClassifySettings
from postercensus.classify.predictstage import record_nothing_new
from postercensus.faces.settings import FaceSettings
from postercensus.stages import refresh_stages
from postercensus.text.settings import TextSettings
from tests.support.smallhome import harvested_home

# A stage's facts: the type its report carries, and an attribute the CLI reads from it.
FACTS = {"harvest": ("HarvestFacts", "contacted"), "faces detect": ("FaceFacts", "identity"),
         "classify predict": ("PredictFacts", "identity"), "keywords": ("KeywordFacts", "applied"),
         "text extract": ("TextFacts", "genders"), "analyze": ("AnalyzeFacts", "unchanged"),
         "export": ("WrittenFacts", "paths"), "dashboard build": ("WrittenFacts", "paths")}

SETTINGS = [
    FaceSettings(),
    FaceSettings(detector="ensemble", members=("hog", "haar"), min_votes=1, threshold=-0.3, box_scale=1.0),
    ClassifySettings(),
    ClassifySettings(threshold=0.7, domain="paintings"),
    TextSettings(),
    TextSettings(lexicon={"lass": "female"}, categories={"welder": "industry"}, boilerplate=(r"\[.*?\]",),
                 max_chars=5000),
]


@pytest.fixture(scope="module")
def reports(shared_data, tmp_path_factory) -> dict[str, StageReport]:
    """Stage name (a harvest as `harvest`) → the report of its run, every registered stage in refresh order."""
    home = Home(harvested_home(shared_data, tmp_path_factory.mktemp("contract")))
    return {stage.name.split(" ")[0] if stage.name.startswith("harvest ") else stage.name: stage.run(home)
            for stage in refresh_stages(home, workers=1)}


def test_every_registered_stage_returns_the_one_report_with_typed_facts(reports):
    assert sorted(reports) == sorted(FACTS), "a new stage needs its facts named here"
    for name, report in reports.items():
        assert type(report) is StageReport, name
        assert report.status == RunStatus.OK, (name, report)
        kind, attribute = FACTS[name]
        assert type(report.facts).__name__ == kind and hasattr(report.facts, attribute), (name, report.facts)
        assert all(isinstance(value, int) for value in report.counts.values()), (name, report.counts)


def test_a_stages_facts_name_what_its_run_worked_on(reports):
    assert reports["faces detect"].facts.identity == FaceSettings().identity(), "the home's default face set"
    assert reports["classify predict"].facts.identity == ClassifySettings().identity()
    text = reports["text extract"]
    assert text.facts.identity == TextSettings().identity()
    assert sum(text.facts.genders.values()) == sum(n for key, n in text.counts.items() if key.startswith("mentions_"))
    assert reports["analyze"].facts.paths and not reports["analyze"].facts.unchanged
    assert reports["dashboard build"].facts.paths[0].exists()


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda settings: f"{type(settings).__name__}")
def test_settings_read_back_what_they_write_with_the_same_identity(settings):
    table = settings.to_config()
    again = type(settings).from_config(table)
    assert again == settings
    assert again.identity() == settings.identity()
    assert dataclasses.is_dataclass(settings) and type(settings).__dataclass_params__.frozen


def test_settings_identity_changes_with_what_changes_the_results():
    assert FaceSettings(detector="haar").identity() != FaceSettings().identity()
    assert ClassifySettings(domain="paintings").identity() != ClassifySettings().identity()
    assert ClassifySettings(threshold=0.7).identity() == ClassifySettings().identity(), "a threshold only relabels"
    assert TextSettings(lexicon={"lass": "female"}).identity() != TextSettings().identity()


@pytest.mark.parametrize("settings_type", [FaceSettings, ClassifySettings, TextSettings])
def test_active_settings_read_the_homes_table_and_name_a_bad_one(tmp_path, settings_type):
    assert active_settings(Home(tmp_path / "none"), settings_type) == settings_type()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / CONFIG_FILENAME).write_text(tomli_w.dumps({settings_type.section: {"no_such_setting": 1}}), encoding="utf-8")
    with pytest.raises(StageError, match=rf"\[{settings_type.section}\] .*no_such_setting") as raised:
        active_settings(Home(bad), settings_type)
    assert raised.value.hint == f"fix or remove the [{settings_type.section}] table"


def test_the_classify_run_record_keeps_the_domains_calibration_from_the_card(tmp_path):
    card = {"model_id": "m", "labels": ["female", "male"],
            "domains": {"paintings": {"calibration": "balanced-scale-shift", "temperature": 1.8,
                                      "shift": {"female": 0.0, "male": -0.25}},
                        "posters": {"calibration": "temperature", "temperature": 1.2}}}
    home = Home(tmp_path)
    for domain, expected in (("paintings", (1.8, {"female": 0.0, "male": -0.25})), ("posters", (1.2, None))):
        named = ActivePredictions("m", f"v-{domain}", Path("models/m"), card)
        report = record_nothing_new(home.engine, named, 0.5, domain)
        with home.engine.connect() as connection:
            parameters = connection.execute(select(schema.runs.c.parameters)
                                            .where(schema.runs.c.id == report.run_id)).scalar_one()
        assert (parameters["domain"], parameters["temperature"], parameters["shift"]) == (domain, *expected)
        assert report.facts.identity == f"v-{domain}" and report.status == RunStatus.OK
