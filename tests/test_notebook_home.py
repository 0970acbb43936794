"""The notebook API over a home (`pc.open`, `status`, `refresh`, `tables`) gives what the CLI gives,
on a small real home (three posters with real NK faces, harvested from a CSV with descriptions)."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

import postercensus as pc
from postercensus.analysis.filters import FilterError
from postercensus.catalog.runs import RunStatus
from tests.support.cli import run_cli
from tests.support.smallhome import harvested_home


@pytest.fixture(scope="module")
def refreshed(shared_data, tmp_path_factory):
    """(home path, the first `home.refresh()` report, the second's)."""
    path = harvested_home(shared_data, tmp_path_factory.mktemp("notebook"))
    home = pc.open(path)
    return path, home.refresh(workers=1), home.refresh(workers=1)


def _csv(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as the export writes and reads it back (lists joined with "; ")."""
    lists = [column for column in frame.columns
             if frame[column].dtype == object and frame[column].map(lambda value: isinstance(value, list)).any()]
    frame = frame.assign(**{column: frame[column].map("; ".join) for column in lists})
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


def test_refresh_from_python_is_the_cli_refresh(refreshed):
    path, first, second = refreshed
    assert first.exit_code == 0
    assert [report.stage for report in first.stages][1:] == [
        "faces detect", "classify predict", "keywords", "text extract", "analyze", "export", "dashboard build"]
    assert all(report.status == RunStatus.OK for report in first.stages)
    assert first.export_dir == path / "export" and (path / "dashboard.html").is_file()
    by_name = {report.stage: report for report in second.stages}
    assert by_name["faces detect"].counts["images_scanned"] == 0 and by_name["text extract"].counts["items"] == 0
    assert "unchanged" in by_name["analyze"].note


def test_status_is_the_dict_status_json_prints(refreshed):
    path, _, _ = refreshed
    printed = run_cli(path, "status", "--json")
    assert printed.exit_code == 0, printed.output
    assert pc.open(path).status() == json.loads(printed.stdout)


@pytest.mark.parametrize("name", ["by_gender", "by_year", "by_decade", "by_keyword", "composition", "items", "faces",
                                  "mentions"])
def test_each_table_is_the_exported_file(refreshed, name):
    path, _, _ = refreshed
    view = pc.open(path).tables()
    exported = pd.read_csv(path / "export" / f"{name}.csv")
    pd.testing.assert_frame_equal(_csv(getattr(view, name)()), exported, check_dtype=False)


def test_filters_give_what_export_gives_with_the_same_options(refreshed, tmp_path):
    path, _, _ = refreshed
    view = pc.open(path).tables(year_from=1955, keywords=["agriculture"], min_probability=0.7)
    out = tmp_path / "filtered"
    assert run_cli(path, "export", str(out), "--year-from", "1955", "--keyword", "agriculture",
                   "--min-probability", "0.7").exit_code == 0
    assert list(view.items()["source_item_id"]) == ["p3"]
    for name in ("items", "faces", "by_year", "by_keyword"):
        pd.testing.assert_frame_equal(_csv(getattr(view, name)()), pd.read_csv(out / f"{name}.csv"), check_dtype=False)
    assert "1 items" in str(view.matched)


def test_a_filter_that_matches_nothing_says_so(refreshed):
    path, _, _ = refreshed
    with pytest.raises(FilterError, match="no item has the keyword 'theatre'"):
        pc.open(path).tables(keywords="theatre")
    with pytest.raises(FilterError, match="the years are reversed"):
        pc.open(path).tables(year_from=1960, year_to=1950)


def test_mentions_from_the_descriptions_reach_the_tables(refreshed):
    path, _, _ = refreshed
    mentions = pc.open(path).tables().mentions()
    assert {"female", "male"} <= set(mentions["gender"])
    assert "woman" in set(mentions["trigger"])
