"""`postercensus harvest iiif` end to end: real IIIF collections served from 127.0.0.1 (see
tests/support/iiifsite.py), harvested through the CLI into a catalogue with image files."""
from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path
from urllib.parse import unquote

from postercensus.harvest.http import HttpClient, HttpSettings
from postercensus.harvest.iiif import IiifHarvester
from postercensus.harvest.records import HarvestedItem
from tests.support.cli import run_cli, status
from tests.support.localserver import Reply
from tests.support.iiifsite import IiifSite

NO_RETRIES = ("--retries", "0")


def _image_urls(url: str) -> list[str]:
    """The image URLs the harvester lists for `url` (to pick one to break)."""
    events = IiifHarvester(url, HttpClient(HttpSettings(retries=0))).events(None)
    return [image.url for event in events if isinstance(event, HarvestedItem) for image in event.images]


def _image_requests(site: IiifSite) -> list[str]:
    return [unquote(r.path) for r in site.server.requests if r.path.endswith("/default.jpg")]


def _stored_images(home: Path) -> list[tuple[str, str, int]]:
    connection = sqlite3.connect(home / "catalog.sqlite")
    try:
        return connection.execute(
            "SELECT items.title, images.status, images.width FROM images "
            "JOIN items ON items.id = images.item_id ORDER BY images.id"
        ).fetchall()
    finally:
        connection.close()


def test_v3_collection_stores_items_and_images_and_registers_the_source(site, home):
    collection = site.cookbook_url("0030-multi-volume", "collection")

    result = run_cli(home, "harvest", "iiif", collection, *NO_RETRIES)

    assert result.exit_code == 0, result.output
    assert "2 new, 0 updated, 0 deleted, 0 unchanged, 0 records skipped" in result.stdout
    counts = status(home)
    assert (counts["items"], counts["images"], counts["images_failed"]) == (2, 10, 0)
    stored = _stored_images(home)
    assert {title for title, _, _ in stored} == {
        "Seirō ehon nenjū gyōji : kan 1 | 青楼絵本年中行事 : 巻 1",
        "Seirō ehon nenjū gyōji : kan 2 | 青楼絵本年中行事 : 巻 2",
    }
    assert all(status_ == "ok" and width > 0 for _, status_, width in stored)
    assert len(list((home / "images").rglob("*.jpg"))) == 10
    assert len(_image_requests(site)) == 10
    [source] = tomllib.loads((home / "postercensus.toml").read_text())["sources"]
    assert source["kind"] == "iiif"
    assert source["params"] == {"url": collection, "image_request": "full/!2000,2000/0/default.jpg"}


def test_rerunning_adds_nothing_and_fetches_no_image_again(site, home):
    collection = site.cookbook_url("0030-multi-volume", "collection")
    assert run_cli(home, "harvest", "iiif", collection, *NO_RETRIES).exit_code == 0
    before = status(home)
    site.server.requests.clear()

    again = run_cli(home, "harvest", "iiif", collection, *NO_RETRIES)

    assert again.exit_code == 0, again.output
    assert "0 new, 0 updated, 0 deleted, 2 unchanged" in again.stdout
    after = status(home)
    for key in ("items", "items_deleted", "images", "images_failed", "images_missing"):
        assert after[key] == before[key]
    assert _image_requests(site) == []
    assert len(list((home / "images").rglob("*.jpg"))) == 10


def test_real_institution_collection_with_missing_members(site, home):
    """Wellcome's multi-part collection: one volume (stood in for by the Wellcome manifest in
    the fixtures) is stored with its 106 page images; the three absent members are reported."""
    collection = site.fixture_url("manifesto_real_institution/members.json")
    site.alias("http://wellcomelibrary.org/iiif/b18031511-0/manifest",
               site.fixture_url("manifesto_real_institution/wellcomecollection-firstmanifest.json"))

    result = run_cli(home, "harvest", "iiif", collection, *NO_RETRIES, "--workers", "8")

    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 deleted, 0 unchanged, 3 records skipped" in result.stdout
    assert "b18031511-1/manifest" in result.stdout and "HTTP 404" in result.stdout
    counts = status(home)
    assert (counts["items"], counts["images"], counts["images_failed"]) == (1, 106, 0)
    assert {title for title, _, _ in _stored_images(home)} == {"The chemist and druggist."}


def test_html_instead_of_an_image_is_a_failed_image_and_the_others_are_stored(site, home):
    collection = site.cookbook_url("0030-multi-volume", "collection")
    broken = _image_urls(collection)[0]
    site.fixed[site.path(broken)] = Reply(
        body=b"<!DOCTYPE html><html><body>Service unavailable</body></html>",
        headers={"Content-Type": "text/html"},
    )

    result = run_cli(home, "harvest", "iiif", collection, *NO_RETRIES)

    assert result.exit_code == 0, result.output
    assert "images: 9 stored, 0 already stored, 1 failed" in result.stdout
    assert broken in result.stdout
    counts = status(home)
    assert (counts["items"], counts["images"], counts["images_failed"]) == (2, 9, 1)


def test_unreachable_collection_fails_the_command(site, home):
    result = run_cli(home, "harvest", "iiif", site.local("http://example.org/missing/collection.json"),
                     *NO_RETRIES)
    assert result.exit_code != 0
    assert "HTTP 404" in result.output
    assert not home.exists()  # a failed first contact leaves no new, empty home behind
