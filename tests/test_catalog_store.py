"""The store's rules: idempotent upserts, history, deletion flags, image rows, migrations.

The catalogue tests run on SQLite and on PostgreSQL (`catalog_urls` in conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from postercensus.catalog import schema
from postercensus.catalog.database import default_url, engine_url, open_engine
from postercensus.catalog.imagefiles import ImageFiles, InvalidImage, inspect_image
from postercensus.catalog.migrations import LATEST_VERSION, current_version
from postercensus.catalog.problems import KindCount, Problem, ProblemKind, item_errors, run_problem_counts, standing_problems
from postercensus.catalog.runs import RunStatus, finish_run, start_run
from postercensus.catalog.schema import ImageStatus
from postercensus.catalog.store import Catalog
from postercensus.harvest.records import HarvestedItem, ImageRef
from tests.support.images import make_jpeg


@pytest.fixture
def catalog_url(catalog_urls, tmp_path: Path) -> str:
    """A new catalogue's URL: SQLite in tmp_path, or a fresh PostgreSQL database."""
    return catalog_urls(tmp_path)


@pytest.fixture
def catalog(catalog_url: str) -> Catalog:
    return Catalog(open_engine(catalog_url))


def _source_and_run(catalog: Catalog) -> tuple[int, int]:
    source_id = catalog.ensure_source("test:1", "test", "here", {})
    return source_id, start_run(catalog.engine, "harvest.test", {}, source_id)


def _count(catalog: Catalog, table, *where) -> int:
    with catalog.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_sqlite_catalogue_uses_wal_and_is_at_latest_schema(tmp_path):
    with open_engine(default_url(tmp_path)).connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert current_version(connection) == LATEST_VERSION


def test_reopening_does_not_migrate_twice(catalog_url):
    open_engine(catalog_url).dispose()
    engine = open_engine(catalog_url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(schema.schema_version)).scalar() == 1


def test_same_batch_twice_changes_nothing(catalog):
    source_id, run_id = _source_and_run(catalog)
    batch = [HarvestedItem("a", title="A", keywords=["War "], images=[ImageRef(url="http://x/a.jpg")]),
             HarvestedItem("b", title="B")]
    assert catalog.apply_items(source_id, run_id, batch) == {"new": 2}
    assert catalog.apply_items(source_id, run_id, batch) == {"unchanged": 2}
    assert _count(catalog, schema.items) == 2
    assert _count(catalog, schema.images) == 1
    assert _count(catalog, schema.item_versions) == 2


def test_changed_record_is_updated_with_history(catalog):
    source_id, run_id = _source_and_run(catalog)
    catalog.apply_items(source_id, run_id, [HarvestedItem("a", title="Old")])
    assert catalog.apply_items(source_id, run_id, [HarvestedItem("a", title="New")]) == {"updated": 1}
    with catalog.engine.connect() as connection:
        assert connection.execute(select(schema.items.c.title)).scalar() == "New"
        changes = connection.execute(select(schema.item_versions.c.change).order_by(schema.item_versions.c.id)).scalars().all()
    assert changes == ["new", "updated"]


def test_deleted_record_is_flagged_not_removed(catalog):
    source_id, run_id = _source_and_run(catalog)
    catalog.apply_items(source_id, run_id, [HarvestedItem("a", title="A", images=[ImageRef(url="http://x/1.jpg")])])
    assert catalog.apply_items(source_id, run_id, [HarvestedItem("a", deleted=True)]) == {"deleted": 1}
    assert catalog.apply_items(source_id, run_id, [HarvestedItem("a", deleted=True)]) == {"unchanged": 1}
    with catalog.engine.connect() as connection:
        row = connection.execute(select(schema.items)).mappings().one()
    assert row["deleted"] and row["title"] == "A"
    assert catalog.summary()["items_deleted"] == 1
    assert _count(catalog, schema.images, schema.images.c.status == ImageStatus.WITHDRAWN) == 1


def test_reappearing_record_is_revived(catalog):
    source_id, run_id = _source_and_run(catalog)
    catalog.apply_items(source_id, run_id, [HarvestedItem("a", title="A")])
    catalog.apply_items(source_id, run_id, [HarvestedItem("a", deleted=True)])
    assert catalog.apply_items(source_id, run_id, [HarvestedItem("a", title="A")]) == {"updated": 1}
    assert catalog.summary()["items"] == 1


def test_image_list_changes_withdraw_and_add_rows(catalog):
    source_id, run_id = _source_and_run(catalog)
    catalog.apply_items(source_id, run_id, [HarvestedItem("a", images=[ImageRef(url="http://x/1.jpg"), ImageRef(url="http://x/2.jpg")])])
    catalog.apply_items(source_id, run_id, [HarvestedItem("a", images=[ImageRef(url="http://x/2.jpg"), ImageRef(url="http://x/3.jpg")])])
    with catalog.engine.connect() as connection:
        rows = dict(connection.execute(select(schema.images.c.origin, schema.images.c.status)).all())
    assert rows == {"http://x/1.jpg": ImageStatus.WITHDRAWN, "http://x/2.jpg": ImageStatus.PENDING,
                    "http://x/3.jpg": ImageStatus.PENDING}


def test_nul_characters_and_over_long_values_are_left_out_on_every_database(catalog):
    """PostgreSQL refuses NUL and text over a column's length where SQLite keeps both: both store the same."""
    source_id, run_id = _source_and_run(catalog)
    item = HarvestedItem("a", title="Pos\x00ter", description="x\x00", raw={"title": "Pos\x00ter"},
                         datestamp="2024-01-01T00:00:00Z" * 3,
                         images=[ImageRef(url="http://x/1.jpg", label="front\x00")])
    assert catalog.apply_items(source_id, run_id, [item]) == {"new": 1}
    assert catalog.apply_items(source_id, run_id, [item]) == {"unchanged": 1}
    with catalog.engine.connect() as connection:
        row = connection.execute(select(schema.items)).mappings().one()
        label = connection.execute(select(schema.images.c.label)).scalar()
    assert (row["title"], row["description"], row["datestamp"], label) == ("Poster", "x", None, "front")
    assert row["raw"] == {"title": "Pos\x00ter"}, "the source's own metadata is kept as it came"
    assert catalog.apply_items(source_id, run_id, [HarvestedItem("a", deleted=True, datestamp="9" * 41)]) == \
        {"deleted": 1}


def test_a_bare_postgresql_url_opens_with_psycopg_3():
    assert engine_url("postgresql://me@db.example.org/census").drivername == "postgresql+psycopg"
    assert engine_url("postgresql+psycopg2://me@db/census").drivername == "postgresql+psycopg2"


def test_same_image_twice_is_stored_once(tmp_path):
    files = ImageFiles(tmp_path)
    jpeg = make_jpeg(seed=3)
    first, second = tmp_path / "one.jpg", tmp_path / "two.jpg"
    first.write_bytes(jpeg)
    second.write_bytes(jpeg)
    a, b = files.copy_in(first), files.copy_in(second)
    assert a.sha256 == b.sha256 and not a.already_stored and b.already_stored
    assert (a.width, a.height, a.format) == (64, 48, "JPEG")
    assert len(list((tmp_path / "images").rglob("*.jpg"))) == 1
    assert first.exists() and second.exists()


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty file"), (b"<html>not an image</html>", "not an image"), (make_jpeg()[:200], "corrupt"),
     (make_jpeg(300, 300, noise=True)[:6000], "corrupt")],
    ids=["zero-byte", "html", "cut-header", "cut-scan-data"],
)
def test_bad_images_are_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(InvalidImage, match=message):
        inspect_image(path)


def test_pixel_cap_refuses_decompression_bombs(tmp_path):
    path = tmp_path / "big.jpg"
    path.write_bytes(make_jpeg(400, 400))
    with pytest.raises(InvalidImage, match="exceeds the cap"):
        inspect_image(path, max_pixels=100_000)


def test_an_existing_catalogue_is_upgraded_by_new_steps(catalog_url, monkeypatch):
    from sqlalchemy import Column, Integer, MetaData, Table, inspect

    from postercensus.catalog import migrations

    open_engine(catalog_url).dispose()
    later = Table("later_stage", MetaData(), Column("id", Integer, primary_key=True))
    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, lambda connection: later.create(connection)])
    monkeypatch.setattr(migrations, "LATEST_VERSION", len(migrations.STEPS))
    engine = open_engine(catalog_url)
    with engine.connect() as connection:
        assert current_version(connection) == migrations.LATEST_VERSION
        assert inspect(connection).has_table("later_stage")
        assert inspect(connection).has_table("items")


def test_a_runs_problems_are_new_only_when_its_scopes_previous_run_did_not_report_them(catalog):
    source_id, first = _source_and_run(catalog)
    engine = catalog.engine
    missing = [Problem(ProblemKind.IMAGE_MISSING, f"item {n}: image /x/{n}.jpg", f"image file not found: /x/{n}.jpg")
               for n in range(3)]
    failed = Problem(ProblemKind.IMAGE_FAILED, "item 9: image http://x/9.jpg", "item 9: image http://x/9.jpg: HTTP 503")
    finish_run(engine, first, RunStatus.PARTIAL, {}, [], missing[:2])
    other_stage = start_run(engine, "text", {})
    finish_run(engine, other_stage, RunStatus.PARTIAL, {}, [], [missing[2]])  # another scope: not compared
    second = start_run(engine, "harvest.test", {}, source_id)
    finish_run(engine, second, RunStatus.PARTIAL, {}, [], [missing[1], missing[2], failed])

    assert run_problem_counts(engine, first) == []  # its problems are now the second run's
    assert run_problem_counts(engine, second) == [KindCount(ProblemKind.IMAGE_FAILED, 1, 0, None),
                                                  KindCount(ProblemKind.IMAGE_MISSING, 1, 1, first)]
    # the same image failing with another error is the same problem; a failed run forgets nothing
    third = start_run(engine, "harvest.test", {}, source_id)
    finish_run(engine, third, RunStatus.FAILED, {}, ["listing stopped"],
               [Problem(failed.kind, failed.key, "item 9: image http://x/9.jpg: timed out")])
    assert run_problem_counts(engine, third) == [KindCount(ProblemKind.IMAGE_FAILED, 0, 1, second)]
    [harvest, text_stage] = standing_problems(engine)
    assert harvest["source"] == "test:1" and harvest["last_run"] == third
    assert {kind: (n["count"], n["first_seen_run"]) for kind, n in harvest["kinds"].items()} == \
        {ProblemKind.IMAGE_FAILED: (1, second), ProblemKind.IMAGE_MISSING: (2, first)}
    assert (text_stage["source"], text_stage["stage"]) == (None, "text")
    # a complete run without them: solved, and gone from the standing problems
    fourth = start_run(engine, "harvest.test", {}, source_id)
    finish_run(engine, fourth, RunStatus.OK, {}, [], [])
    assert [scope["stage"] for scope in standing_problems(engine)] == ["text"]


def test_a_catalogue_from_before_the_problems_table_keeps_its_runs_and_counts_problems_from_its_next_run(catalog_url):
    from sqlalchemy import create_engine, inspect

    from postercensus.catalog import migrations
    from postercensus.catalog.runs import utcnow

    with create_engine(engine_url(catalog_url)).begin() as connection:  # as schema version 4 left it
        schema.metadata.create_all(connection, tables=[schema.schema_version])
        for step in migrations.STEPS[:4]:
            step(connection)
        connection.execute(schema.schema_version.insert().values(version=4))
        connection.execute(schema.runs.insert().values(
            stage="faces", parameters={}, versions={}, started_at=utcnow(), finished_at=utcnow(),
            status=RunStatus.PARTIAL, counts={}, errors={"total": 1, "messages": ["a.jpg: unreadable"]}))
    engine = open_engine(catalog_url)
    with engine.connect() as connection:
        assert inspect(connection).has_table("problems")
        assert connection.execute(select(schema.runs.c.errors)).scalar() == {"total": 1, "messages": ["a.jpg: unreadable"]}
    run_id = start_run(engine, "faces", {})
    finish_run(engine, run_id, RunStatus.PARTIAL, {}, ["a.jpg: unreadable"], item_errors(["a.jpg: unreadable"]))
    assert run_problem_counts(engine, run_id) == [KindCount(ProblemKind.ITEM_ERROR, 1, 0, None)]
