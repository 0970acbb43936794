"""CSV and folder sources through the real CLI, on the real WPA export and generated files."""
from __future__ import annotations

import csv
import sqlite3
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cli import run_cli, status
from tests.support.images import make_jpeg
from tests.support.localserver import LocalServer, Reply

WPA_CSV = "wpa-posters/posters-wpa-posters-2024-02-11.csv"


def _items(home: Path) -> list[sqlite3.Row]:
    connection = sqlite3.connect(home / "catalog.sqlite")
    connection.row_factory = sqlite3.Row
    return connection.execute("SELECT * FROM items ORDER BY id").fetchall()


@pytest.fixture
def wpa_home(shared_data, home) -> Path:
    result = run_cli(home, "harvest", "csv", str(shared_data / WPA_CSV), "--images", str(shared_data / "wpa-posters/images"))
    assert result.exit_code == 0, result.output
    return home


def test_wpa_export_harvests_every_row_with_years_keywords_and_local_images(wpa_home, shared_data):
    counts = status(wpa_home)
    assert counts["items"] == 947 and counts["items_deleted"] == 0
    assert counts["images"] == 7 and counts["images_failed"] == 0
    assert counts["images_missing"] == 940

    with (shared_data / WPA_CSV).open(newline="", encoding="utf-8") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    items = {row["source_item_id"]: row for row in _items(wpa_home)}
    assert set(items) == set(rows)
    years = Counter(row["year"] for row in items.values())
    assert years[None] == sum(1 for row in rows.values() if not row["date"])
    assert set(years) - {None} <= set(range(1936, 1991))
    first = items["98518971"]
    assert first["title"] == "Volunteer civilian defense"
    assert first["date"] == "1941-01-01" and first["year"] == 1941
    assert first["keywords"] == '["screen prints", "color", "civil defense", "war work", "alabama", "world war", "war posters"]'
    assert first["landing_url"] == "https://www.loc.gov/item/98518971/"

    connection = sqlite3.connect(wpa_home / "catalog.sqlite")
    stored = connection.execute(
        "SELECT items.source_item_id, images.width FROM images JOIN items ON items.id = images.item_id "
        "WHERE images.status = 'ok'").fetchall()
    local_ids = {path.stem for path in (shared_data / "wpa-posters/images").glob("*.jpg")}
    assert {item_id for item_id, _ in stored} == local_ids
    assert all(width > 0 for _, width in stored)


def test_rerunning_the_wpa_harvest_adds_nothing(wpa_home, shared_data):
    before = status(wpa_home)
    result = run_cli(wpa_home, "harvest", "csv", str(shared_data / WPA_CSV), "--images", str(shared_data / "wpa-posters/images"))
    assert result.exit_code == 0
    assert "0 new, 0 updated, 0 deleted, 947 unchanged" in result.stdout
    after = status(wpa_home)
    for key in ("items", "items_deleted", "images", "images_failed", "images_missing"):
        assert after[key] == before[key]
    assert len(list((wpa_home / "images").rglob("*.jpg"))) == 7


def test_source_is_registered_for_refresh(wpa_home, shared_data):
    config = tomllib.loads((wpa_home / "postercensus.toml").read_text())
    [source] = config["sources"]
    assert source["kind"] == "csv"
    assert source["params"]["path"] == str((shared_data / WPA_CSV).resolve())


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_remote_images_non_image_reported_rest_stored(tmp_path, home):
    jpeg = make_jpeg(seed=1)
    replies = {"/a.jpg": Reply(body=jpeg), "/b.jpg": Reply(body=b"<html>sorry</html>", headers={"Content-Type": "text/html"}),
               "/c.jpg": Reply(body=jpeg)}
    with LocalServer(lambda request: replies.get(request.path, Reply(404))) as server:
        _write_csv(tmp_path / "p.csv", [
            {"id": "1", "title": "One", "image": server.url("/a.jpg")},
            {"id": "2", "title": "Two", "image": server.url("/b.jpg")},
            {"id": "3", "title": "Three (same picture as One)", "image": server.url("/c.jpg")},
        ])
        result = run_cli(home, "harvest", "csv", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert "1 failed" in result.stdout and "not an image" in result.stdout
    counts = status(home)
    assert (counts["items"], counts["images"], counts["images_failed"]) == (3, 2, 1)
    assert len(list((home / "images").rglob("*.jpg"))) == 1  # same bytes stored once


def test_path_traversal_and_missing_ids_are_reported_and_skipped(tmp_path, home):
    (tmp_path / "ok.jpg").write_bytes(make_jpeg())
    _write_csv(tmp_path / "p.csv", [
        {"id": "1", "image": "ok.jpg"},
        {"id": "2", "image": "../../../etc/passwd"},
        {"id": "", "image": "ok.jpg"},
        {"id": "1", "image": "ok.jpg"},
    ])
    result = run_cli(home, "harvest", "csv", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert "points outside" in result.stdout and "empty id" in result.stdout and "repeats" in result.stdout
    assert status(home)["items"] == 1


def test_a_row_longer_than_the_header_is_reported_and_the_rest_stored(tmp_path, home):
    # the last row ran into an appended one (no line break at the end of the file): 2 cells too many
    (tmp_path / "p.csv").write_text("id,title\n1,First\n2,Second,,\n3,Third3,Fourth,x\n", encoding="utf-8")
    result = run_cli(home, "harvest", "csv", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert "p.csv:4" in result.stdout and "2 cell(s) beyond the header's 2 columns" in result.stdout
    assert status(home)["items"] == 2  # empty trailing cells (row 3) are no problem


def test_edited_row_counts_as_updated(tmp_path, home):
    _write_csv(tmp_path / "p.csv", [{"id": "1", "title": "Old"}])
    run_cli(home, "harvest", "csv", str(tmp_path / "p.csv"))
    _write_csv(tmp_path / "p.csv", [{"id": "1", "title": "New"}, {"id": "2", "title": "Added"}])
    result = run_cli(home, "harvest", "csv", str(tmp_path / "p.csv"))
    assert "1 new, 1 updated" in result.stdout


def test_column_options_map_fields(tmp_path, home):
    _write_csv(tmp_path / "p.csv", [{"Nr": "7", "Name": "Harvest", "When": "c. 1939", "Tags": "Farm | Women ",
                                     "Text": "A woman tractor driver", "Pic": "p.jpg"}])
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "p.jpg").write_bytes(make_jpeg())
    result = run_cli(home, "harvest", "csv", str(tmp_path / "p.csv"), "--images", str(tmp_path / "scans"),
                     "--id-column", "Nr", "--title-column", "Name", "--date-column", "When",
                     "--keywords-column", "Tags", "--keywords-sep", "|", "--description-column", "Text",
                     "--image-column", "Pic")
    assert result.exit_code == 0, result.output
    [item] = _items(home)
    assert (item["source_item_id"], item["title"], item["year"]) == ("7", "Harvest", 1939)
    assert item["keywords"] == '["farm", "women"]' and item["description"] == "A woman tractor driver"
    assert status(home)["images"] == 1


def test_unknown_column_is_a_clear_error(tmp_path, home):
    _write_csv(tmp_path / "p.csv", [{"id": "1", "title": "x"}])
    result = run_cli(home, "harvest", "csv", str(tmp_path / "p.csv"), "--date-column", "Datum")
    assert result.exit_code == 1
    assert "'Datum'" in result.output and "columns are: id, title" in result.output


def test_folder_harvest_reports_corrupt_images_and_keeps_the_rest(tmp_path, home):
    folder = tmp_path / "scans"
    (folder / "sub").mkdir(parents=True)
    for index, name in enumerate(["a.jpg", "b.JPG", "sub/c.png"]):
        (folder / name).write_bytes(make_jpeg(seed=index))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (folder / "notes.txt").write_text("not an image")
    result = run_cli(home, "harvest", "folder", str(folder))
    assert result.exit_code == 0, result.output
    assert "broken.jpg" in result.stdout
    counts = status(home)
    assert (counts["items"], counts["images"], counts["images_failed"]) == (4, 3, 1)
    again = run_cli(home, "harvest", "folder", str(folder))
    assert "0 new, 0 updated, 0 deleted, 4 unchanged" in again.stdout
    assert status(home)["items"] == 4


def test_missing_folder_fails_with_one_line(tmp_path, home):
    result = run_cli(home, "harvest", "folder", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert "folder not found" in result.output
