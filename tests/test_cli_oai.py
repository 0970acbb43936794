"""`postercensus harvest oai` end to end: the real FSU MODS records served by a small OAI-PMH
server on 127.0.0.1 (FsuOaiServer in tests/support/oaiserver.py), with one generated JPEG per record
reached through --image-url-template, harvested through the CLI into a catalogue."""
from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import pytest

from tests.support.cli import run_cli, status
from tests.support.images import make_jpeg
from tests.support.localserver import LocalServer, Reply, Request
from tests.support.oaiserver import FsuOaiServer

NO_RETRIES = ("--retries", "0")
DELETED_ID = "oai:fsu.digital.flvc.org:fsu_405801"


class FsuSite:
    """The FSU OAI-PMH endpoint at /oai plus a distinct JPEG per record at /img/{local_id}.jpg."""

    def __init__(self, dump: bytes, server_base: str) -> None:
        self.oai = FsuOaiServer(dump)
        self.base = server_base

    def __call__(self, request: Request) -> Reply:
        if request.path.startswith("/img/"):
            seed = int(request.path.rsplit("_", 1)[-1].removesuffix(".jpg")) % 256  # ids span < 256
            return Reply(body=make_jpeg(seed=seed), headers={"Content-Type": "image/jpeg"})
        return self.oai(request)

    def delete(self, identifier: str, datestamp: str) -> None:
        """The repository withdraws a record: from now on it is listed as deleted."""
        deleted = (
            f'<record xmlns="http://www.openarchives.org/OAI/2.0/"><header status="deleted">'
            f"<identifier>{identifier}</identifier><datestamp>{datestamp}</datestamp></header></record>"
        ).encode()
        needle = f"<identifier>{identifier}</identifier>".encode()
        self.oai.records = [
            (datestamp, deleted) if needle in xml else (stamp, xml) for stamp, xml in self.oai.records
        ]


@pytest.fixture(scope="module")
def fsu_dump(shared_data: Path) -> bytes:
    return (shared_data / "oai-pmh" / "fsu_mods_dump" / "fsu_admiral.mods.xml").read_bytes()


@pytest.fixture
def site(fsu_dump: bytes):
    handler: dict[str, FsuSite] = {}
    with LocalServer(lambda request: handler["site"](request)) as server:
        handler["site"] = FsuSite(fsu_dump, server.base)
        yield server, handler["site"]


def harvest_args(server: LocalServer, *extra: str) -> list[str]:
    return [
        "harvest", "oai", server.url("/oai"), "--prefix", "mods",
        "--image-url-template", server.url("/img/{local_id}.jpg"), *NO_RETRIES, *extra,
    ]


def listing_requests(server: LocalServer) -> list[dict[str, str]]:
    return [r.query for r in server.requests if r.path == "/oai" and "resumptionToken" not in r.query]


def test_harvest_stores_items_and_images_and_a_rerun_adds_nothing(site, home):
    server, _ = site
    first = run_cli(home, *harvest_args(server))
    assert first.exit_code == 0, first.output
    assert "93 new, 0 updated, 0 deleted, 0 unchanged, 0 records skipped" in first.stdout
    counts = status(home)
    assert (counts["items"], counts["items_deleted"], counts["images"], counts["images_failed"]) == (93, 0, 93, 0)
    [source] = tomllib.loads((home / "postercensus.toml").read_text())["sources"]
    assert source["kind"] == "oai"
    assert source["params"] == {
        "url": server.url("/oai"), "prefix": "mods", "image_url_template": server.url("/img/{local_id}.jpg"),
    }

    server.requests.clear()
    again = run_cli(home, *harvest_args(server))
    assert again.exit_code == 0, again.output
    # the watermark's day (2017-04-19) is listed again; its 46 records are unchanged
    assert listing_requests(server)[0]["from"] == "2017-04-19"
    assert "0 new, 0 updated, 0 deleted, 46 unchanged" in again.stdout
    assert not any(r.path.startswith("/img/") for r in server.requests)
    assert status(home)["items"] == 93 and status(home)["images"] == 93


def test_a_record_deleted_at_the_source_is_marked_deleted(site, home):
    server, fsu = site
    assert run_cli(home, *harvest_args(server)).exit_code == 0
    fsu.delete(DELETED_ID, "2017-04-20T09:00:00Z")

    result = run_cli(home, *harvest_args(server))

    assert result.exit_code == 0, result.output
    assert "0 new, 0 updated, 1 deleted" in result.stdout
    counts = status(home)
    assert (counts["items"], counts["items_deleted"]) == (92, 1)  # "items" counts live ones
    server.requests.clear()
    assert run_cli(home, *harvest_args(server)).exit_code == 0
    assert listing_requests(server)[0]["from"] == "2017-04-20"
    assert status(home)["items_deleted"] == 1


def test_from_fetches_only_newer_records_and_is_not_stored(site, home):
    server, _ = site
    result = run_cli(home, *harvest_args(server, "--from", "2017-04-18"))
    assert result.exit_code == 0, result.output
    assert listing_requests(server)[0]["from"] == "2017-04-18"
    assert "46 new" in result.stdout
    assert status(home)["items"] == 46
    [source] = tomllib.loads((home / "postercensus.toml").read_text())["sources"]
    assert "from" not in source["params"]
    connection = sqlite3.connect(home / "catalog.sqlite")
    [parameters] = connection.execute("SELECT parameters FROM runs").fetchone()
    assert json.loads(parameters)["from"] == "2017-04-18"  # the override is kept as provenance

    server.requests.clear()
    again = run_cli(home, *harvest_args(server))
    assert again.exit_code == 0, again.output
    assert listing_requests(server)[0]["from"] == "2017-04-19"
    assert "0 new" in again.stdout and status(home)["items"] == 46


def test_an_oai_error_is_reported_with_what_to_do(site, home):
    server, _ = site
    result = run_cli(home, "harvest", "oai", server.url("/oai"), "--prefix", "oai_dc", *NO_RETRIES)
    assert result.exit_code == 1
    assert "does not offer metadataPrefix 'oai_dc'" in result.output
    assert not home.exists()  # a failed first contact leaves no new, empty home behind
