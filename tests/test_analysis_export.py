"""analysis/export.py and the `export` / `analyze` commands, on the hand-built catalogue of test_analysis_tables."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from postercensus.analysis.export import export
from postercensus.analysis.load import load_tables
from postercensus.catalog.config import DEMO_BANNER, HomeConfig
from tests.support.cli import run_cli, status
from tests.test_analysis_tables import MODEL, build_catalogue

CONTRACT_FILES = ["items.csv", "faces.csv", "mentions.csv", "by_gender.csv", "by_year.csv", "by_keyword.csv",
                  "composition.csv"]


def header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def records(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    home = build_catalogue(root / "home")
    export(load_tables(home), root / "out")
    return root / "out"


def test_export_writes_the_contract_files_and_the_codebook_names_every_column(exported):
    for name in CONTRACT_FILES:
        assert (exported / name).is_file(), name
    codebook = (exported / "codebook.md").read_text(encoding="utf-8")
    for path in exported.glob("*.csv"):
        section = codebook.split(f"## {path.name}\n", 1)
        assert len(section) == 2, f"codebook has no section for {path.name}"
        described = set(re.findall(r"^\| (\w+) \|", section[1].split("\n## ", 1)[0], flags=re.MULTILINE))
        assert set(header(path)) <= described, path.name


def test_by_gender_csv_has_exactly_the_contract_columns_and_shares_in_range(exported):
    assert header(exported / "by_gender.csv") == ["label", "faces", "raw_share", "corrected_share", "ci_low",
                                                  "ci_high", "model_id"]
    rows = records(exported / "by_gender.csv")
    assert [row["label"] for row in rows] == ["female", "male"]
    assert rows[0]["faces"] == "4" and float(rows[0]["corrected_share"]) == pytest.approx(33 / 49)
    for row in rows:
        for column in ("raw_share", "corrected_share", "ci_low", "ci_high"):
            assert 0.0 <= float(row[column]) <= 1.0


def test_csvs_are_tidy_with_gaps_empty_and_lists_joined(exported):
    items = {row["item_id"]: row for row in records(exported / "items.csv")}
    assert items["1"]["keywords"] == "war; women"
    assert items["1"]["date"] == "1936-05-01"
    assert items["6"]["year"] == ""  # missing, not 0
    gap = [row for row in records(exported / "by_year.csv") if row["year"] == "1938"]
    assert gap and all(row["items"] == "0" and row["corrected_share"] == "" for row in gap)
    assert {row["face_id"] for row in records(exported / "faces.csv")} == {"1", "2", "3", "4", "6", "7", "8"}


def test_provenance_names_the_model_its_evaluation_and_the_runs(exported):
    record = json.loads((exported / "provenance.json").read_text(encoding="utf-8"))
    assert record["model_id"] == MODEL
    model = record["models"][MODEL]
    assert model["model_version"] == "v1"
    assert model["evaluation"]["accuracy"] == 0.85
    assert model["evaluation"]["confusion"]["matrix"] == [[8, 2], [1, 9]]
    assert [run["id"] for run in record["runs"]["faces"]] == [2, 3]
    assert record["runs"]["text"][-1]["started_at"].startswith("2024-01-01")
    assert record["face_set"]["parameter_hash"] == "set1"
    assert record["text_version"]["version_hash"] == "v1"
    assert record["sources"] == [{"key": "test", "kind": "csv", "location": "/data/posters.csv",
                                  "last_harvest_at": None}]  # the fixture records no finished harvest
    assert record["postercensus_version"] and record["exported_at"]


def test_cli_export_applies_filters_and_reports_where_files_went(tmp_path):
    home = build_catalogue(tmp_path / "home")
    result = run_cli(home, "export", str(tmp_path / "out"), "--min-probability", "0.7", "--year-from", "1937")
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "out") in result.stdout
    rows = records(tmp_path / "out" / "by_gender.csv")
    # items 3 4 5: f6 f7 female (≥ 0.7), f4 (0.60) uncertain
    assert [(row["label"], row["faces"]) for row in rows] == [("female", "2"), ("male", "0"), ("uncertain", "1")]
    unknown = run_cli(home, "export", str(tmp_path / "out2"), "--model", "missing")
    assert unknown.exit_code == 1 and "no predictions" in unknown.stderr


def test_cli_analyze_caches_tables_and_a_second_run_does_nothing(tmp_path):
    home = build_catalogue(tmp_path / "home")
    first = run_cli(home, "analyze")
    assert first.exit_code == 0, first.output
    assert (home / "analysis" / "by_gender.csv").is_file()
    assert (home / "analysis" / "fingerprint.json").is_file()
    assert status(home)["last_run"]["stage"] == "analyze"
    runs_before = status(home)["runs"]
    written = (home / "analysis" / "by_year.csv").stat().st_mtime_ns
    second = run_cli(home, "analyze")
    assert second.exit_code == 0, second.output
    assert "unchanged" in second.stdout
    assert status(home)["runs"] == runs_before  # no run recorded, nothing written
    assert (home / "analysis" / "by_year.csv").stat().st_mtime_ns == written


def test_a_real_collection_exports_no_demo_banner(exported):
    record = json.loads((exported / "provenance.json").read_text(encoding="utf-8"))
    assert record["demo"] is False and "banner" not in record
    assert (exported / "codebook.md").read_text(encoding="utf-8").startswith("# Codebook")


def test_a_demo_home_exports_its_banner_first_and_marking_it_recomputes_the_cached_tables(tmp_path):
    home = build_catalogue(tmp_path / "home")
    assert run_cli(home, "analyze").exit_code == 0
    assert "DEMO" not in (home / "analysis" / "codebook.md").read_text(encoding="utf-8")

    HomeConfig.load(home).mark_demo()
    export(load_tables(home), tmp_path / "out")
    again = run_cli(home, "analyze")

    for folder in (tmp_path / "out", home / "analysis"):
        record = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        assert next(iter(record.items())) == ("banner", DEMO_BANNER) and record["demo"] is True
        assert (folder / "codebook.md").read_text(encoding="utf-8").splitlines()[0] == f"**{DEMO_BANNER}**"
    assert again.exit_code == 0 and "unchanged" not in again.stdout
