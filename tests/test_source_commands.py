"""`postercensus source list` and `source remove KEY [--purge]` (issue 21, "What to build" 3).

Before, no command removed a source: a bad one registered by a failed harvest made every later
`refresh` exit 1 until the user edited postercensus.toml by hand, and a collection harvested by
mistake stayed in every table. Two folder sources share one image file here (the same bytes under
two names), and each image has a face, a prediction and a hand label, each item a mention, as
the stages store them, so a purge can be seen to take exactly one source's part.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from postercensus.catalog import schema
from postercensus.catalog.home import Home
from postercensus.catalog.runs import start_run, utcnow
from postercensus.catalog.sources import UnknownSource, remove_source
from postercensus.stages import harvest_stages
from tests.support.cli import run_cli, status, use_catalog
from tests.support.facedb import rows
from tests.support.images import make_jpeg

SET = "testset"


def _registered_keys(home: Path) -> list[str]:
    return [source["key"] for source in tomllib.loads((home / "postercensus.toml").read_text()).get("sources", [])]


def _folder(root: Path, name: str, images: dict[str, int]) -> Path:
    folder = root / name
    folder.mkdir()
    for file_name, seed in images.items():
        (folder / file_name).write_bytes(make_jpeg(seed=seed))
    return folder


def _add_results(home: Path) -> None:
    """A face (with its crop file, a prediction and a hand label) on every stored image and a
    mention in every item, written as the face, classify and text stages write them."""
    engine = Home(home).engine
    run_id = start_run(engine, "faces", {})
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(schema.face_sets.insert().values(
            parameter_hash=SET, detector="hog", parameters={}, model_versions={}, created_at=now))
        shas = connection.execute(text("SELECT DISTINCT sha256 FROM images WHERE sha256 IS NOT NULL")).scalars().all()
        for sha in shas:
            crop = f"faces/{SET}/{sha[:2]}/{sha}_0.jpg"
            (home / crop).parent.mkdir(parents=True, exist_ok=True)
            (home / crop).write_bytes(make_jpeg(8, 8))
            connection.execute(schema.face_scans.insert().values(
                image_sha256=sha, parameter_hash=SET, run_id=run_id, status="ok", face_count=1, scanned_at=now))
            face_id = connection.execute(schema.faces.insert().values(
                image_sha256=sha, parameter_hash=SET, face_index=0, left=1, top=1, right=5, bottom=5, score=0.9,
                detectors=["hog"], landmarks5=[], landmarks68=[], embedding=[], crop_path=crop, run_id=run_id,
            )).inserted_primary_key[0]
            connection.execute(schema.predictions.insert().values(
                face_id=face_id, model_id="m", model_version="v", label="female", top_label="female",
                probability=0.9, margin=0.8, probabilities={"female": 0.9, "male": 0.1}, threshold=0.5,
                run_id=run_id, predicted_at=now))
            connection.execute(schema.face_labels.insert().values(
                face_id=face_id, label="female", labelled_by="test", labelled_at=now))
        for item_id in connection.execute(text("SELECT id FROM items")).scalars().all():
            connection.execute(schema.mentions.insert().values(
                item_id=item_id, text_hash="t", version_hash="v", gender="female", trigger="woman", start=0,
                end=5, sentence="woman", in_title=False, run_id=run_id))
            connection.execute(schema.text_scans.insert().values(
                item_id=item_id, version_hash="v", text_hash="t", run_id=run_id, mention_count=1, scanned_at=now))


@pytest.fixture
def two_sources(tmp_path: Path, home: Path, catalog_urls) -> dict:
    """`_two_sources` in a catalogue on SQLite, and on PostgreSQL where a server is given."""
    use_catalog(home, catalog_urls(home))
    return _two_sources(tmp_path, home)


def _two_sources(tmp_path: Path, home: Path) -> dict:
    """Folders A (own.jpg, shared.jpg) and B (other.jpg, same.jpg: shared.jpg's bytes), harvested, with results."""
    a = _folder(tmp_path, "a", {"own.jpg": 1, "shared.jpg": 9})
    b = _folder(tmp_path, "b", {"other.jpg": 2, "same.jpg": 9})
    for folder in (a, b):
        assert run_cli(home, "harvest", "folder", str(folder)).exit_code == 0
    _add_results(home)
    paths = dict(rows(home, "SELECT items.source_item_id || '@' || sources.key, images.path FROM images "
                            "JOIN items ON items.id = images.item_id JOIN sources ON sources.id = items.source_id"))
    key_a, key_b = f"folder:{a.resolve()}", f"folder:{b.resolve()}"
    return {"a": key_a, "b": key_b, "own": home / paths[f"own.jpg@{key_a}"],
            "shared": home / paths[f"same.jpg@{key_b}"], "other": home / paths[f"other.jpg@{key_b}"]}


def _count(home: Path, table: str) -> int:
    return rows(home, f"SELECT count(*) FROM {table}")[0][0]


def test_list_shows_every_source_with_kind_location_items_and_last_harvest(home, two_sources):
    result = run_cli(home, "source", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(s["key"], s["kind"], s["items"], s["refreshed"]) for s in listed] == [
        (two_sources["a"], "folder", 2, True), (two_sources["b"], "folder", 2, True)]
    assert listed[0]["location"] == two_sources["a"].removeprefix("folder:")
    assert all(s["last_harvest"].endswith("+00:00") for s in listed)

    table = run_cli(home, "source", "list")
    assert table.exit_code == 0 and "last harvest" in table.stdout and "refreshed" in table.stdout


def test_remove_stops_the_refresh_and_keeps_the_items(home, two_sources):
    result = run_cli(home, "source", "remove", two_sources["a"])
    assert result.exit_code == 0, result.output
    assert "`refresh` no longer harvests it" in result.stdout and "its 2 items stay" in result.stdout
    assert "--purge" in result.stdout

    assert _registered_keys(home) == [two_sources["b"]]
    assert [stage.name for stage in harvest_stages(Home(home))] == [f"harvest {two_sources['b']}"]
    assert status(home)["items"] == 4 and _count(home, "faces") == 3 and _count(home, "mentions") == 4
    listed = {s["key"]: s["refreshed"] for s in json.loads(run_cli(home, "source", "list", "--json").stdout)}
    assert listed == {two_sources["a"]: False, two_sources["b"]: True}

    again = run_cli(home, "harvest", "folder", two_sources["a"].removeprefix("folder:"))
    assert again.exit_code == 0 and "0 new" in again.stdout  # harvesting it again registers it again
    assert sorted(_registered_keys(home)) == sorted([two_sources["a"], two_sources["b"]])


def test_purge_takes_the_source_and_only_what_no_other_source_shares(home, two_sources):
    result = run_cli(home, "source", "remove", two_sources["a"], "--purge")
    assert result.exit_code == 0, result.output
    assert ("purged: 2 items, 2 image rows, 1 faces, 1 predictions, 1 hand labels, 2 mentions, 1 harvest runs"
            in result.stdout)

    assert _registered_keys(home) == [two_sources["b"]]
    assert rows(home, "SELECT key FROM sources") == [(two_sources["b"],)]
    assert rows(home, "SELECT source_item_id FROM items ORDER BY source_item_id") == [("other.jpg",), ("same.jpg",)]
    assert _count(home, "item_versions") == 2 and _count(home, "images") == 2
    assert (_count(home, "faces"), _count(home, "predictions"), _count(home, "face_labels")) == (2, 2, 2)
    assert (_count(home, "mentions"), _count(home, "text_scans"), _count(home, "face_scans")) == (2, 2, 2)
    assert rows(home, "SELECT count(*) FROM runs WHERE stage = 'harvest.folder'") == [(1,)]
    assert rows(home, "SELECT count(*) FROM runs WHERE stage = 'faces'") == [(1,)]

    assert not two_sources["own"].exists()
    assert two_sources["shared"].exists() and two_sources["other"].exists()
    crops = sorted(path.name.split("_")[0] for path in (home / "faces").rglob("*.jpg"))
    assert crops == sorted(sha for (sha,) in rows(home, "SELECT image_sha256 FROM faces"))
    assert "refresh" in result.stdout  # the tables are rebuilt by the next refresh


def test_an_unknown_key_is_one_error_naming_the_close_matches(home, two_sources):
    result = run_cli(home, "source", "remove", two_sources["a"] + "x")
    assert result.exit_code == 1
    [error] = result.stderr.strip().splitlines()
    assert error.startswith("Error: no source") and f"did you mean: '{two_sources['a']}'" in error
    assert "source list" in error
    assert len(_registered_keys(home)) == 2 and status(home)["items"] == 4


def test_a_purge_that_fails_deletes_nothing(tmp_path, home):
    two_sources = _two_sources(tmp_path, home)  # SQLite: the failure is a trigger refusing the last delete
    engine = Home(home).engine
    with engine.begin() as connection:
        connection.execute(text("CREATE TRIGGER refuse BEFORE DELETE ON sources "
                                "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    with pytest.raises(DBAPIError, match="refused"):
        remove_source(Home(home), two_sources["a"], purge=True)
    assert status(home)["items"] == 4 and _count(home, "faces") == 3 and _count(home, "mentions") == 4
    assert two_sources["own"].exists()
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER refuse"))
    remove_source(Home(home), two_sources["a"], purge=True)  # the entry left the file already; the purge runs again
    assert status(home)["items"] == 2


def test_a_broken_source_registered_before_can_be_removed_and_refresh_then_succeeds(tmp_path, home):
    """A home from before this fix: the failed harvest of an empty CSV had registered it."""
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    folder = _folder(tmp_path, "scans", {"a.jpg": 1})
    assert run_cli(home, "harvest", "folder", str(folder)).exit_code == 0
    config = home / "postercensus.toml"
    config.write_text(config.read_text() + f'\n[[sources]]\nkey = "csv:{empty}"\nkind = "csv"\n\n'
                                            f'[sources.params]\npath = "{empty}"\n')
    listed = json.loads(run_cli(home, "source", "list", "--json").stdout)
    assert [(s["key"], s["items"], s["last_harvest"]) for s in listed][1] == (f"csv:{empty}", 0, None)

    removed = run_cli(home, "source", "remove", f"csv:{empty}")
    assert removed.exit_code == 0, removed.output
    refreshed = run_cli(home, "refresh")
    assert refreshed.exit_code == 0, refreshed.output


def test_the_library_refuses_an_unknown_key(home, two_sources):
    with pytest.raises(UnknownSource):
        remove_source(Home(home), "oai:https://example.org/oai?prefix=oai_dc")
