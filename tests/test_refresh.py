"""`postercensus refresh` and `schedule print-*` end to end, on generated posters with real NK faces.

A home is made as a user makes one (`harvest folder`), then refreshed: every stage runs and the
export and dashboard appear; a second refresh finds no new work; a held lock, a failing stage and
the scheduler entries are checked as a scheduled run would meet them, on SQLite and on PostgreSQL
(named under `[catalog] url`). Stored rows are read back with plain sqlite3 or psycopg, not through
the code under test.
"""
from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path

import pytest

from postercensus.harvest.http import HttpClient, HttpSettings
from postercensus.harvest.iiif import IiifHarvester
from postercensus.harvest.oai import OaiHarvester
from postercensus.harvest.records import HarvestError
from postercensus.harvest.sources import harvester_from_params
from postercensus.harvest.tabular import CsvColumns, CsvHarvester, FolderHarvester
from postercensus.text.stage import ExtractMentions
from tests.support.cli import run_cli, use_catalog
from tests.support.facedb import rows
from tests.support.posters import small_poster

INLINE = ("--workers", "1")
PROCESSING = ["faces detect", "classify predict", "keywords", "text extract", "analyze", "export", "dashboard build"]


def _stages(home: Path) -> list[str]:
    return [stage for (stage,) in rows(home, "SELECT stage FROM runs ORDER BY id")]


def _row(stdout: str, stage: str) -> str:
    """The summary table's line for `stage` (never folded outside a terminal)."""
    lines = [line for line in stdout.splitlines() if line.startswith("│") and line.strip("│ ").startswith(stage)]
    assert len(lines) == 1, stdout
    return lines[0]


def _harvested_home(shared_data: Path, root: Path, posters: int,
                    catalog_urls: Callable[[Path], str]) -> tuple[Path, Path]:
    folder, home = root / "posters", root / "home"
    use_catalog(home, catalog_urls(home))
    for index in range(posters):
        small_poster(shared_data, index).save(folder / f"poster{index}.jpg")
    result = run_cli(home, "harvest", "folder", str(folder), *INLINE)
    assert result.exit_code == 0, result.output
    return folder, home


@pytest.fixture(scope="module")
def refreshed(shared_data, tmp_path_factory, catalog_urls):
    """(home, result of the first refresh) on two harvested posters."""
    _, home = _harvested_home(shared_data, tmp_path_factory.mktemp("refresh"), 2, catalog_urls)
    return home, run_cli(home, "refresh", *INLINE)


def test_refresh_runs_every_stage_and_writes_export_and_dashboard(refreshed):
    home, result = refreshed

    assert result.exit_code == 0, (result.output, result.exception)
    assert "faces 4" in _row(result.stdout, "faces detect")
    assert "predicted 4" in _row(result.stdout, "classify predict")
    assert "items 2" in _row(result.stdout, "text extract")
    for stage in PROCESSING:
        assert " ok " in _row(result.stdout, stage)
    assert _stages(home)[-4:] == ["faces", "classify", "text", "analyze"], "each stage records its run"
    assert rows(home, "SELECT count(*) FROM predictions") == [(4,)]
    assert (home / "export" / "provenance.json").is_file() and (home / "export" / "codebook.md").is_file()
    page = (home / "dashboard.html").read_text(encoding="utf-8")
    assert "<html" in page.lower()
    assert f"export: {home / 'export'}" in result.stdout and f"dashboard: {home / 'dashboard.html'}" in result.stdout


def test_a_second_refresh_finds_no_new_work(refreshed):
    home, _ = refreshed
    faces_before = rows(home, "SELECT count(*) FROM faces")

    result = run_cli(home, "refresh", *INLINE)

    assert result.exit_code == 0, (result.output, result.exception)
    harvest = next(line for line in result.stdout.splitlines() if "harvest folder:" in line)
    assert "new 0, updated 0, deleted 0" in harvest and "images_stored 0" in harvest
    assert "images_scanned 0" in _row(result.stdout, "faces detect")
    assert "predicted 0, relabelled 0" in _row(result.stdout, "classify predict")
    assert "items 0" in _row(result.stdout, "text extract")
    assert "unchanged" in _row(result.stdout, "analyze")  # runs that found nothing new do not stale the tables
    assert rows(home, "SELECT count(*) FROM faces") == faces_before
    assert (home / "export" / "provenance.json").is_file() and (home / "dashboard.html").is_file()


def test_a_held_lock_stops_a_second_refresh_at_once(refreshed):
    home, _ = refreshed
    runs_before = _stages(home)
    with (home / ".refresh.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_cli(home, "refresh", *INLINE)

    assert result.exit_code == 3, (result.output, result.exception)
    assert "another refresh is running (pid" in result.stderr
    assert _stages(home) == runs_before, "a refused refresh records nothing"


def test_a_failing_stage_skips_what_depends_on_it_and_the_next_refresh_completes(shared_data, tmp_path, monkeypatch,
                                                                                  catalog_urls):
    folder, home = _harvested_home(shared_data, tmp_path, 1, catalog_urls)
    small_poster(shared_data, 3).save(folder / "later.jpg")  # new work for the failing refresh

    def broken(stage, home, progress=None):
        raise RuntimeError("spaCy went away")

    with monkeypatch.context() as patch:
        patch.setattr(ExtractMentions, "run", broken)
        failed = run_cli(home, "refresh", *INLINE)

    assert failed.exit_code == 1, (failed.output, failed.exception)
    assert "failed" in _row(failed.stdout, "text extract") and "spaCy went away" in failed.stdout
    assert " ok " in _row(failed.stdout, "faces detect") and " ok " in _row(failed.stdout, "classify predict")
    for stage in ("analyze", "export", "dashboard build"):
        assert "skipped" in _row(failed.stdout, stage)
    faces = rows(home, "SELECT count(*) FROM faces")
    assert faces == [(4,)] and rows(home, "SELECT count(*) FROM predictions") == faces, "earlier stages' rows stay"
    assert not (home / "dashboard.html").exists()

    retried = run_cli(home, "refresh", *INLINE)

    assert retried.exit_code == 0, (retried.output, retried.exception)
    assert "items 2" in _row(retried.stdout, "text extract"), "the failed stage's work is done next time"
    assert "images_scanned 0" in _row(retried.stdout, "faces detect")
    assert rows(home, "SELECT count(*) FROM faces") == faces
    assert (home / "export" / "provenance.json").is_file() and (home / "dashboard.html").is_file()


def test_schedule_prints_cron_and_systemd_entries_for_this_home(tmp_path):
    home = tmp_path / "my home"
    assert run_cli(home, "init").exit_code == 0  # a schedule is printed for an existing home only

    cron = run_cli(home, "schedule", "print-cron", "--at", "02:30")
    systemd = run_cli(home, "schedule", "print-systemd", "--at", "02:30", "--workers", "2")
    bad = run_cli(home, "schedule", "print-cron", "--at", "25:00")

    assert cron.exit_code == 0 and systemd.exit_code == 0, (cron.output, systemd.output)
    line = cron.stdout.strip()
    assert line.startswith("30 2 * * * /") and "--home" in line and f"'{home}'" in line and " refresh " in line
    assert f"{home / 'refresh.log'}" in line
    assert f'--home "{home}" refresh --workers=2' in systemd.stdout
    assert "OnCalendar=*-*-* 02:30:00" in systemd.stdout and "[Timer]" in systemd.stdout
    assert f"StandardOutput=append:{home / 'refresh.log'}" in systemd.stdout
    assert bad.exit_code == 1 and "between 00:00 and 23:59" in bad.stderr


def test_every_kind_of_registered_source_is_rebuilt_from_its_stored_params(tmp_path):
    """What refresh reads back from postercensus.toml is the harvester the harvest command ran."""
    client = HttpClient(HttpSettings())
    originals = [
        OaiHarvester("https://example.org/oai", client, set_spec="posters", prefix="mods",
                     image_url_template="https://example.org/iiif/{local_id}/full/max/0/default.jpg"),
        IiifHarvester("https://example.org/iiif/collection", client, image_request="full/max/0/default.jpg"),
        CsvHarvester(tmp_path / "posters.csv", tmp_path / "scans",
                     CsvColumns(id="Id", image="File", keywords="Subjects", keywords_sep="|")),
        FolderHarvester(tmp_path / "scans"),
    ]
    for original in originals:
        rebuilt = harvester_from_params(original.kind, original.params(), client)
        assert (rebuilt.kind, rebuilt.source_key(), rebuilt.params()) == \
            (original.kind, original.source_key(), original.params())
    with pytest.raises(HarvestError, match="unknown source kind 'ftp'"):
        harvester_from_params("ftp", {}, client)
    with pytest.raises(HarvestError, match="lacks the parameter 'path'"):
        harvester_from_params("folder", {}, client)
