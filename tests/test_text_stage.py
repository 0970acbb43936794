"""The text stage's rules: incremental by description and pipeline version, atomic replacement,
empty descriptions, deleted items; keyword separators and synonyms; the v3 → v4 migration."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from postercensus.catalog import schema
from postercensus.catalog.database import default_url, open_engine
from postercensus.catalog.home import Home
from postercensus.catalog.keywords import apply_synonyms, normalise_keywords, normalise_synonyms
from postercensus.catalog.migrations import LATEST_VERSION, STEPS, current_version
from postercensus.catalog.runs import RunStatus, start_run
from postercensus.catalog.store import Catalog
from postercensus.harvest.records import HarvestedItem
from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings
from postercensus.text.stage import ExtractMentions

WELDER = "Poster showing a woman welder at work."
POLICE = "A policeman directs traffic."


@pytest.fixture(scope="module")
def pipeline() -> TextPipeline:
    return TextPipeline(TextSettings())


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


@pytest.fixture
def catalog(home: Home) -> Catalog:
    return home.catalog


def _harvest(catalog: Catalog, items: list[HarvestedItem]) -> None:
    source_id = catalog.ensure_source("test:1", "test", "here", {})
    catalog.apply_items(source_id, start_run(catalog.engine, "harvest.test", {}, source_id), items)


def _mentions(catalog: Catalog, version_hash: str | None = None) -> list[tuple[str, str, str]]:
    mentions, items = schema.mentions, schema.items
    query = (select(items.c.source_item_id, mentions.c.trigger, mentions.c.version_hash)
             .join(items, items.c.id == mentions.c.item_id).order_by(mentions.c.id))
    if version_hash:
        query = query.where(mentions.c.version_hash == version_hash)
    with catalog.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def _count(catalog: Catalog, table) -> int:
    with catalog.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


def test_second_run_does_nothing_and_edited_description_is_replaced(home, catalog, pipeline):
    _harvest(catalog, [HarvestedItem("a", description=WELDER), HarvestedItem("b", description=POLICE)])
    stage = ExtractMentions(pipeline)
    assert stage.pending(home) == 2
    first = stage.run(home)
    assert (first.counts["items"], first.counts["mentions"], first.status) == (2, 2, RunStatus.OK)
    assert first.facts.genders == {"female": 1, "male": 1}
    assert [m[:2] for m in _mentions(catalog)] == [("a", "woman"), ("b", "policeman")]

    assert stage.pending(home) == 0
    again = stage.run(home)
    assert (again.counts["items"], again.counts["mentions"]) == (0, 0)

    _harvest(catalog, [HarvestedItem("a", description="A nurse and her son."), HarvestedItem("b", description=POLICE)])
    edited = stage.run(home)
    assert edited.counts["items"] == 1
    assert sorted(m[:2] for m in _mentions(catalog)) == [("a", "son"), ("b", "policeman")]
    assert _count(catalog, schema.text_scans) == 2


def test_run_record_keeps_settings_version_and_counts(home, catalog, pipeline):
    _harvest(catalog, [HarvestedItem("a", description=WELDER)])
    report = ExtractMentions(pipeline).run(home)
    with catalog.engine.connect() as connection:
        run = connection.execute(select(schema.runs).where(schema.runs.c.id == report.run_id)).mappings().one()
    assert run["stage"] == "text" and run["status"] == RunStatus.OK
    assert run["parameters"]["version_hash"] == pipeline.version_hash()
    assert run["parameters"]["version"] == pipeline.version() and "lexicon" in run["parameters"]
    assert run["counts"] == {"items": 1, "mentions": 1, "in_title": 0, "warnings": 0, "mentions_female": 1}


def test_empty_missing_and_deleted_descriptions(home, catalog, pipeline):
    _harvest(catalog, [HarvestedItem("empty", description=""), HarvestedItem("none"),
                       HarvestedItem("gone", description=WELDER)])
    _harvest(catalog, [HarvestedItem("gone", deleted=True)])
    report = ExtractMentions(pipeline).run(home)
    assert (report.counts["items"], report.counts["mentions"]) == (2, 0)
    with catalog.engine.connect() as connection:
        counts = connection.execute(select(schema.text_scans.c.mention_count)).scalars().all()
    assert counts == [0, 0]
    assert ExtractMentions(pipeline).pending(home) == 0


def test_truncation_is_a_warning_in_the_run_errors(home, catalog):
    _harvest(catalog, [HarvestedItem("long", description=WELDER + " The woman rests." * 5)])
    report = ExtractMentions(TextPipeline(TextSettings(max_chars=40))).run(home)
    assert report.counts["warnings"] == 1 and report.status == RunStatus.PARTIAL
    assert report.errors[0].startswith("item long: description truncated")


def test_new_lexicon_is_a_new_version_beside_the_old_one(home, catalog, pipeline):
    """Decision: a new version hash scans every item again; the old version's rows are kept."""
    _harvest(catalog, [HarvestedItem("a", description="A lass and a woman welder."), HarvestedItem("b", description=POLICE)])
    ExtractMentions(pipeline).run(home)
    extended = TextPipeline(TextSettings(lexicon={"lass": "female"}))
    assert extended.version_hash() != pipeline.version_hash()
    report = ExtractMentions(extended).run(home)
    assert report.counts["items"] == 2
    assert [m[:2] for m in _mentions(catalog, pipeline.version_hash())] == [("a", "woman"), ("b", "policeman")]
    assert [m[:2] for m in _mentions(catalog, extended.version_hash())] == [("a", "lass"), ("a", "woman"), ("b", "policeman")]
    assert ExtractMentions(pipeline).pending(home) == 0  # the old version is still complete


def test_page_replacement_is_atomic(home, catalog, pipeline, monkeypatch):
    """A failure while writing a page leaves the old mentions and scans as they were."""
    _harvest(catalog, [HarvestedItem("a", description=WELDER)])
    stage = ExtractMentions(pipeline)
    stage.run(home)
    _harvest(catalog, [HarvestedItem("a", description=POLICE)])
    monkeypatch.setattr("postercensus.text.store._mention_row", lambda *args: (_ for _ in ()).throw(RuntimeError("killed")))
    with pytest.raises(RuntimeError):
        stage.run(home)
    assert [m[:2] for m in _mentions(catalog)] == [("a", "woman")]
    monkeypatch.undo()
    assert stage.run(home).counts["items"] == 1
    assert [m[:2] for m in _mentions(catalog)] == [("a", "policeman")]


def test_keyword_separators_and_synonyms():
    assert normalise_keywords(["World War, 1939-1945--Posters", "Farm | Women; WPA", "Dates 1939--1945"]) == [
        "world war, 1939-1945", "posters", "farm", "women", "wpa", "dates 1939--1945"]
    synonyms = normalise_synonyms({" Theatre Posters ": "Theatrical posters"})
    assert apply_synonyms(["theatre posters", "theatrical posters", "wpa"], synonyms) == ["theatrical posters", "wpa"]


def test_synonyms_apply_at_harvest_and_to_stored_items_when_changed(tmp_path):
    engine = open_engine(default_url(tmp_path))
    _harvest(Catalog(engine), [HarvestedItem("a", keywords=["Theatre posters", "Color"])])
    catalog = Catalog(engine, keyword_synonyms={"theatre posters": "theatrical posters"})
    _harvest(catalog, [HarvestedItem("b", keywords=["theatre posters"])])
    assert catalog.apply_keyword_synonyms() == 1  # only "a" still had the old term
    assert catalog.apply_keyword_synonyms() is None  # same map: nothing to do
    with engine.connect() as connection:
        rows = connection.execute(select(schema.items.c.keywords, schema.items.c.source_keywords)
                                  .order_by(schema.items.c.id)).all()
    assert [tuple(row) for row in rows] == [(["theatrical posters", "color"], ["theatre posters", "color"]),
                                            (["theatrical posters"], ["theatre posters"])]
    # the map is the researcher's, not the source's: re-harvesting with it changes no item
    source_id = catalog.ensure_source("test:1", "test", "here", {})
    counts = catalog.apply_items(source_id, start_run(engine, "harvest.test", {}, source_id),
                                 [HarvestedItem("a", keywords=["Theatre posters", "Color"])])
    assert counts == {"unchanged": 1}


def test_v3_catalogue_migrates_to_v4_keeping_its_items(tmp_path):
    path = tmp_path / "catalog.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # a catalogue as postercensus with schema 3 left it
        schema.metadata.create_all(connection, tables=[schema.schema_version])
        for step in STEPS[:3]:
            step(connection)
        connection.execute(schema.schema_version.insert().values(version=3))
    engine.dispose()
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE items DROP COLUMN source_keywords")  # step 1 of v3 had no such column
    raw.execute("INSERT INTO sources (id, key, kind, location, params, created_at) VALUES (1, 'k', 'csv', 'x', '{}', '2024-01-01')")
    raw.execute("INSERT INTO items (source_id, source_item_id, keywords, description, deleted, content_hash, raw, updated_at)"
                " VALUES (1, 'old', '[\"war posters\"]', ?, 0, 'h', '{}', '2024-01-01')", (WELDER,))
    raw.commit()
    raw.close()

    catalog = Catalog(open_engine(f"sqlite:///{path}"))
    with catalog.engine.connect() as connection:
        assert current_version(connection) == LATEST_VERSION >= 4
        item = connection.execute(select(schema.items)).mappings().one()
    assert (item["source_item_id"], item["keywords"], item["source_keywords"]) == ("old", ["war posters"], ["war posters"])
    assert item["description"] == WELDER


def test_mentions_inside_quoted_titles_are_stored_but_not_counted(home, catalog, pipeline):
    _harvest(catalog, [HarvestedItem("play", description='Poster for "The Women" showing a man reading.')])
    report = ExtractMentions(pipeline).run(home)
    assert (report.counts["mentions"], report.counts["in_title"]) == (2, 1)
    assert report.facts.genders == {"male": 1}  # "Women" names the play, not a person shown
    assert [m[:2] for m in _mentions(catalog)] == [("play", "Women"), ("play", "man")]
    from postercensus.text.store import TextStore

    (version,) = TextStore(catalog.engine).summary()
    assert version["mentions"] == {"male": 1}
