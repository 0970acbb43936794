"""The Stage protocol and the Home's active result sets, on a small real home (three posters with
real NK faces, harvested from a CSV with descriptions).

Every registered stage is run by hand in refresh order through the protocol alone (`pending`,
`run`, `pending` again): each reports on itself in one StageReport and leaves no new work. The
active face set is chosen with `faces detect --activate` and must survive a refresh.
"""
from __future__ import annotations

import csv

import pytest

from postercensus.analysis.load import load_tables
from postercensus.catalog.home import Home
from postercensus.catalog.layout import CONFIG_FILENAME
from postercensus.catalog.runs import RunStatus
from postercensus.catalog.stage import Stage, StageError, StageReport
from postercensus.faces.settings import FaceSettings
from postercensus.stages import refresh_stages
from tests.support.cli import run_cli, status
from tests.support.facedb import face_sets, runs
from tests.support.smallhome import INLINE, ROWS, harvested_home

STAGES = ["harvest", "faces detect", "classify predict", "keywords", "text extract", "analyze", "export",
          "dashboard build"]


@pytest.fixture(scope="module")
def staged(shared_data, tmp_path_factory) -> tuple[Home, dict]:
    """The home after every registered stage ran once by hand: stage name → (stage, pending before, report,
    pending after), in the order refresh runs them."""
    home = Home(harvested_home(shared_data, tmp_path_factory.mktemp("stages")))
    record = {}
    for stage in refresh_stages(home, workers=1):
        before = stage.pending(home)
        report = stage.run(home)
        record[stage.name] = (stage, before, report, stage.pending(home))
    return home, record


def _recorded(record: dict, name: str) -> tuple:
    [found] = [value for key, value in record.items() if key == name or key.startswith(f"{name} ")]
    return found


@pytest.mark.parametrize("name", STAGES)
def test_each_registered_stage_keeps_the_protocol_and_leaves_no_new_work(staged, name):
    home, record = staged
    stage, before, report, after = _recorded(record, name)
    assert isinstance(stage, Stage)
    assert isinstance(stage.name, str) and isinstance(stage.requires, tuple)
    order = list(record)
    assert all(order.index(needed) < order.index(stage.name) for needed in stage.requires), \
        "a stage runs after every stage it requires"
    stage.settings(home)  # read from the home without error
    assert isinstance(report, StageReport) and report.stage == stage.name
    assert report.status == RunStatus.OK, report
    if name == "harvest":
        assert before is None and after is None, "a harvest cannot know its work before asking the source"
        assert report.counts["new"] == 0 and report.run_id is not None  # the CLI harvested already
    elif name == "keywords":
        assert (before, after, report.counts) == (0, 0, {"items_changed": 0}), "no synonym map, nothing to do"
    else:
        assert before > 0 and after == 0, (before, after)


def test_the_stage_reports_count_the_work_each_pending_announced(staged):
    home, record = staged
    faces = _recorded(record, "faces detect")
    assert faces[1] == len(ROWS) and faces[2].counts["images_scanned"] == len(ROWS)
    assert faces[2].facts.identity == FaceSettings().identity(), "the default: no [faces] table"
    classify = _recorded(record, "classify predict")
    assert classify[2].counts["predicted"] == classify[1] == faces[2].counts["faces"] > 0
    text = _recorded(record, "text extract")
    assert text[1] == text[2].counts["items"] == len(ROWS) and text[2].counts["mentions"] > 0
    assert _recorded(record, "export")[2].counts["files"] > 0
    assert _recorded(record, "dashboard build")[2].facts.paths == [home.layout.dashboard]


def test_a_stage_reads_its_settings_from_the_home_and_a_bad_table_is_one_error_with_a_hint(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / CONFIG_FILENAME).write_text('[faces]\ndetector = "yunet"\nupsampel = 2\n', encoding="utf-8")
    [faces] = [stage for stage in refresh_stages(Home(home)) if stage.name == "faces detect"]
    with pytest.raises(StageError, match=r"\[faces\] unknown \[faces\] setting\(s\) upsampel") as raised:
        faces.settings(Home(home))
    assert raised.value.hint == "fix or remove the [faces] table"


def test_the_active_face_set_survives_a_refresh(shared_data, tmp_path):
    home = harvested_home(shared_data, tmp_path)
    haar = FaceSettings(detector="haar")
    chosen = run_cli(home, "faces", "detect", "--detector", "haar", "--activate", *INLINE)
    assert chosen.exit_code == 0, chosen.output
    assert f"active face set: {haar.identity()}" in chosen.stdout
    other = run_cli(home, "faces", "detect", "--detector", "hog", "--upsample", "0", *INLINE)
    assert other.exit_code == 0 and "not the active face set" in other.stdout
    config_before = (home / CONFIG_FILENAME).read_bytes()

    refreshed = run_cli(home, "refresh", *INLINE)

    assert refreshed.exit_code == 0, refreshed.output
    assert (home / CONFIG_FILENAME).read_bytes() == config_before, "a refresh never changes what is active"
    assert runs(home, "faces")[-1]["parameters"]["parameter_hash"] == haar.identity(), \
        "the refresh keeps the active set up to date"
    assert {row["parameter_hash"] for row in face_sets(home)} == {haar.identity(),
                                                                  FaceSettings(detector="hog", upsample=0).identity()}
    active = status(home)["active"]["faces"]
    assert active == {"settings": {"detector": "haar"}, "parameter_hash": haar.identity()}
    with (home / "export" / "faces.csv").open(encoding="utf-8") as handle:
        assert {row["parameter_hash"] for row in csv.DictReader(handle)} == {haar.identity()}
    assert load_tables(home).provenance["face_set"]["parameter_hash"] == haar.identity()
