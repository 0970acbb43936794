"""Nightly refreshes of the manual's WPA home (docs/commands-refresh.md), as a scheduler meets
them: 947 items whose CSV names 940 image files that do not exist.

Those files are missing every night. Only a problem the previous run of the same source did not
report makes a refresh exit 2; the standing ones are one summary line and `status` lists them.
A refresh that finds nothing new leaves the tables, the export and the dashboard untouched,
whatever the harvest counted. On SQLite and on PostgreSQL; rows are read back with plain
sqlite3 or psycopg.
"""
from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from tests.support.cli import run_cli, status, use_catalog
from tests.support.facedb import rows

WPA = "wpa-posters"
WPA_CSV = "posters-wpa-posters-2024-02-11.csv"
INLINE = ("--workers", "1")
MISSING = 940


def _outputs(home: Path) -> dict[str, tuple[int, str]]:
    """Every file analyze, export and dashboard build wrote: (mtime in ns, sha256)."""
    paths = [*(home / "analysis").rglob("*"), *(home / "export").rglob("*"), home / "dashboard.html"]
    return {path.relative_to(home).as_posix(): (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
            for path in paths if path.is_file()}


def _row(stdout: str, stage: str) -> str:
    """The summary table's line for `stage` (never folded outside a terminal)."""
    lines = [line for line in stdout.splitlines() if line.startswith("│") and line.strip("│ ").startswith(stage)]
    assert len(lines) == 1, stdout
    return lines[0]


@pytest.fixture(scope="module")
def wpa(shared_data, tmp_path_factory, catalog_urls):
    """(home, its CSV: a copy of the WPA export, first harvest's run id), harvested as docs/commands-harvest.md does."""
    root = tmp_path_factory.mktemp("wpa")
    source = root / WPA_CSV
    shutil.copyfile(shared_data / WPA / WPA_CSV, source)
    home = root / "home"
    use_catalog(home, catalog_urls(home))
    harvested = run_cli(home, "harvest", "csv", str(source), "--images", str(shared_data / WPA / "images"))
    assert harvested.exit_code == 0, harvested.output
    [(harvest_run,)] = rows(home, "SELECT max(id) FROM runs WHERE stage = 'harvest.csv'")
    return home, source, harvest_run


def test_refreshes_meeting_only_the_missing_files_the_harvest_met_exit_0_and_redo_nothing(wpa):
    home, _, harvest_run = wpa
    first = run_cli(home, "refresh", *INLINE)

    assert first.exit_code == 0, first.output
    standing = f"{MISSING} images still missing since run {harvest_run} (harvest csv:"
    assert standing in first.stdout and "`status` lists them" in first.stdout
    assert f"0 new problem(s), {MISSING} standing" in _row(first.stdout, "harvest csv")
    written = _outputs(home)
    assert "dashboard.html" in written and "export/provenance.json" in written

    second = run_cli(home, "refresh", *INLINE)

    assert second.exit_code == 0, second.output
    assert f"images_missing {MISSING}" in _row(second.stdout, "harvest csv")
    lines = [line for line in second.stdout.splitlines() if "lists them" in line]
    assert len(lines) == 1 and lines[0].startswith(standing), second.stdout
    assert "is current" in _row(second.stdout, "analyze")
    assert "is current" in _row(second.stdout, "export") and "is current" in _row(second.stdout, "dashboard build")
    assert _outputs(home) == written, "no table, export file or page rewritten"


def test_status_lists_the_standing_problems_of_each_source(wpa):
    home, source, harvest_run = wpa

    [problems] = status(home)["standing_problems"]
    text = run_cli(home, "status")

    assert problems["source"] == f"csv:{source}" and problems["stage"] == "harvest.csv"
    missing = problems["kinds"]["image_missing"]
    assert (missing["count"], missing["first_seen_run"]) == (MISSING, harvest_run)
    assert list(problems["kinds"]) == ["image_missing"]
    assert missing["examples"][0].startswith("image file not found: ") and missing["examples"][0].endswith(".jpg")
    assert f"{MISSING:,} image_missing since run #{harvest_run}" in text.stdout


def test_a_newly_missing_file_exits_2_once_then_stands(wpa):
    home, source, harvest_run = wpa
    with source.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    added = {**records[0], "id": "test-added-poster", "url": "https://www.loc.gov/item/test-added-poster/",
             "filename": "test-added-poster.jpg"}  # a file that does not exist either
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows([*records, added])

    news = run_cli(home, "refresh", *INLINE)
    again = run_cli(home, "refresh", *INLINE)

    assert news.exit_code == 2, news.output
    assert "new 1," in _row(news.stdout, "harvest csv")
    assert "1 images newly missing (harvest csv:" in news.stdout
    assert f"{MISSING} images still missing since run {harvest_run}" in news.stdout
    assert again.exit_code == 0, again.output
    assert f"{MISSING + 1} images still missing since run {harvest_run}" in again.stdout
    [problems] = status(home)["standing_problems"]
    assert problems["kinds"]["image_missing"]["count"] == MISSING + 1
