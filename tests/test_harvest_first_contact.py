"""A source is registered only once its first contact succeeded (issue 21, reproductions 3 and 4).

Before, a harvest that failed at the start (an empty CSV, no id column, a wrong --id-column, an
unreachable OAI-PMH URL) wrote its source to postercensus.toml and the catalogue anyway, printed
the success summary before the error, advised "run the same command again", and every later
`refresh` exited 1; an empty CSV said "no id column found"; a CSV whose image column had an
unknown name (`Scan`) harvested 0 images with exit 0 and no hint. Everything here goes through
the real CLI, with OAI-PMH and IIIF served from 127.0.0.1.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.support.cli import run_cli, status
from tests.support.facedb import rows
from tests.support.hostile import oai_page, oai_record
from tests.support.images import make_jpeg
from tests.support.localserver import LocalServer, Reply, Request

NO_RETRIES = ("--retries", "0")
RUN_AGAIN = "run the same command again"


def _registered(home: Path) -> list[dict]:
    config = home / "postercensus.toml"
    return tomllib.loads(config.read_text()).get("sources", []) if config.exists() else []


def _only_the_error(result) -> str:
    """The one `Error:` line of a harvest refused at first contact: no summary, no "run again"."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert result.stdout.strip() == "", "nothing but the error is printed"
    assert result.stderr.strip() == errors[0], "no progress bar or summary left beside the error"
    assert RUN_AGAIN not in result.output and "Traceback" not in result.output
    return errors[0]


def _nothing_registered(home: Path) -> None:
    if not home.exists():  # a harvest into a new folder that fails at first contact leaves no home behind
        return
    assert _registered(home) == []
    assert rows(home, "SELECT count(*) FROM sources") == [(0,)]
    assert rows(home, "SELECT count(*) FROM items") == [(0,)]


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["0 bytes", "blank lines"])
def test_an_empty_csv_says_empty_and_registers_nothing(tmp_path, home, content):
    export = _csv(tmp_path / "posters.csv", content)
    error = _only_the_error(run_cli(home, "harvest", "csv", str(export)))
    assert f"{export} is empty" in error and "id column" not in error
    assert "nothing was stored or registered" in error
    _nothing_registered(home)


def test_a_blank_first_line_is_not_taken_for_a_header(tmp_path, home):
    export = _csv(tmp_path / "posters.csv", "\nid,title\n1,Poster\n")
    error = _only_the_error(run_cli(home, "harvest", "csv", str(export)))
    assert "first line" in error and "header row" in error
    _nothing_registered(home)


def test_no_id_column_names_the_columns_and_the_option(tmp_path, home):
    export = _csv(tmp_path / "posters.csv", "Nr,Titel\n1,Plakat\n")
    error = _only_the_error(run_cli(home, "harvest", "csv", str(export)))
    assert "no id column found" in error and "columns are: Nr, Titel" in error and "--id-column" in error
    _nothing_registered(home)


def test_a_wrong_id_column_registers_nothing_and_the_right_one_then_works(tmp_path, home):
    export = _csv(tmp_path / "posters.csv", "Nr,title\n1,Poster\n")
    error = _only_the_error(run_cli(home, "harvest", "csv", str(export), "--id-column", "Number"))
    assert "'Number' (--id-column) is not in the CSV header; columns are: Nr, title" in error
    _nothing_registered(home)

    fixed = run_cli(home, "harvest", "csv", str(export), "--id-column", "Nr")
    assert fixed.exit_code == 0, fixed.output
    [source] = _registered(home)
    assert source["params"]["id_column"] == "Nr"
    assert status(home)["items"] == 1


def test_an_image_column_under_another_name_is_refused_with_the_header(tmp_path, home):
    (tmp_path / "p1.jpg").write_bytes(make_jpeg(seed=1))
    (tmp_path / "p2.jpg").write_bytes(make_jpeg(seed=2))
    export = _csv(tmp_path / "posters.csv", "id,title,Scan\n1,Women at work,p1.jpg\n2,Harvest,p2.jpg\n")

    error = _only_the_error(run_cli(home, "harvest", "csv", str(export)))
    assert "no image column found" in error and "columns are: id, title, Scan" in error
    assert "column 'Scan' holds image names such as 'p1.jpg'; pass --image-column Scan" in error
    _nothing_registered(home)

    fixed = run_cli(home, "harvest", "csv", str(export), "--image-column", "Scan")
    assert fixed.exit_code == 0, fixed.output
    assert status(home)["images"] == 2


def test_a_metadata_only_csv_is_harvested_with_a_note_listing_the_header(tmp_path, home):
    export = _csv(tmp_path / "texts.csv", "id,description\n1,A woman welder at work.\n")
    result = run_cli(home, "harvest", "csv", str(export))
    assert result.exit_code == 0, result.output
    note = next(line for line in result.stdout.splitlines() if line.startswith("note: "))
    assert "no image column found" in note and "columns are: id, description" in note
    assert "--image-column" in note
    assert status(home)["items"] == 1 and len(_registered(home)) == 1


def test_a_source_that_later_fails_keeps_its_registration_and_items(tmp_path, home):
    export = _csv(tmp_path / "posters.csv", "id,title\n1,Poster\n")
    assert run_cli(home, "harvest", "csv", str(export)).exit_code == 0
    before = _registered(home)

    export.write_text("", encoding="utf-8")
    error = _only_the_error(run_cli(home, "harvest", "csv", str(export), "--id-column", "Nr"))
    assert "is empty" in error and "the registered source is unchanged" in error
    assert _registered(home) == before  # not the --id-column of the failed run
    [(params,)] = rows(home, "SELECT params FROM sources")
    assert "id_column" not in json.loads(params)
    assert status(home)["items"] == 1
    assert status(home)["last_run"]["status"] == "failed"


def test_a_failed_first_contact_leaves_refresh_with_nothing_to_fail_on(tmp_path, home):
    export = _csv(tmp_path / "posters.csv", "")
    assert run_cli(home, "init").exit_code == 0
    _only_the_error(run_cli(home, "harvest", "csv", str(export)))
    refreshed = run_cli(home, "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "│ harvest" not in refreshed.stdout  # no harvest stage: nothing was registered


def test_a_failed_first_contact_leaves_no_new_home_behind_and_keeps_an_existing_one(tmp_path, home):
    """A mistyped --home on a failing harvest must not leave an empty catalogue that a later
    `status` or nightly `refresh` reads as a real, empty collection."""
    export = _csv(tmp_path / "posters.csv", "")
    _only_the_error(run_cli(home, "harvest", "csv", str(export)))
    assert not home.exists()
    assert run_cli(home, "status").exit_code == 2

    assert run_cli(home, "init").exit_code == 0
    _only_the_error(run_cli(home, "harvest", "csv", str(export)))
    assert status(home)["last_run"]["status"] == "failed"  # an existing home keeps the failed run's record
    _nothing_registered(home)


def test_an_empty_folder_is_registered_with_a_note(tmp_path, home):
    folder = tmp_path / "scans"
    folder.mkdir()
    result = run_cli(home, "harvest", "folder", str(folder))
    assert result.exit_code == 0, result.output
    assert f"note: no image files (.jpg" in result.stdout and str(folder) in result.stdout


def test_a_missing_folder_registers_nothing(tmp_path, home):
    result = run_cli(home, "harvest", "folder", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "folder not found" in result.output
    assert _registered(home) == []


# -- OAI-PMH and IIIF -----------------------------------------------------------------------------


def test_an_unreachable_oai_url_is_one_error_and_no_source(home):
    assert run_cli(home, "init").exit_code == 0  # an existing home keeps the failed attempt's record
    with LocalServer(lambda request: Reply(status=404, body=b"not here")) as server:
        result = run_cli(home, "harvest", "oai", server.url("/no-oai"), *NO_RETRIES)
    error = _only_the_error(result)
    assert "OAI-PMH page 1 could not be fetched" in error and "check the base URL" in error
    _nothing_registered(home)
    [(stage, state, parameters)] = rows(home, "SELECT stage, status, parameters FROM runs")
    assert (stage, state) == ("harvest.oai", "failed")  # the attempt is on record, the source is not
    assert json.loads(parameters)["source"].startswith("oai:" + server.url("/no-oai"))


def test_a_web_page_instead_of_an_oai_endpoint_registers_nothing(home):
    page = Reply(body=b"<html><body><h1>Welcome</h1></body></html>", headers={"Content-Type": "text/html"})
    with LocalServer(lambda request: page) as server:
        result = run_cli(home, "harvest", "oai", server.url("/"), *NO_RETRIES)
    error = _only_the_error(result)
    assert "is not an OAI-PMH response" in error
    _nothing_registered(home)


def test_an_oai_server_that_answers_is_registered_and_told_the_next_step(home):
    listing = oai_page([oai_record("oai:test:1", description="A woman welder.")], token="")
    with LocalServer(lambda request: Reply(body=listing)) as server:
        result = run_cli(home, "harvest", "oai", server.url("/oai"), *NO_RETRIES)
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated" in result.stdout
    [source] = _registered(home)
    assert source["kind"] == "oai"
    next_step = next(line for line in result.stdout.splitlines() if line.startswith("next: "))
    assert f"postercensus --home {home.resolve()} refresh" in next_step
    assert f"postercensus --home {home.resolve()} export OUTDIR" in next_step


def test_a_iiif_url_that_is_not_a_manifest_registers_nothing(home):
    def answer(request: Request) -> Reply:
        return Reply(body=json.dumps({"@context": "http://iiif.io/api/image/2/context.json",
                                      "@id": "http://x/iiif/1", "protocol": "http://iiif.io/api/image"}).encode(),
                     headers={"Content-Type": "application/json"})

    with LocalServer(answer) as server:
        result = run_cli(home, "harvest", "iiif", server.url("/iiif/1/info.json"), *NO_RETRIES)
    error = _only_the_error(result)
    assert "not a IIIF Manifest or Collection" in error and "give the URL of a IIIF Presentation" in error
    _nothing_registered(home)


def test_a_iiif_manifest_that_is_missing_registers_nothing(home):
    with LocalServer(lambda request: Reply(status=404)) as server:
        result = run_cli(home, "harvest", "iiif", server.url("/manifest.json"), *NO_RETRIES)
    error = _only_the_error(result)
    assert "HTTP 404" in error and "check the URL" in error
    _nothing_registered(home)


def test_an_oai_set_with_no_records_is_registered_with_a_note(home):
    no_records = (
        '<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-03-02T00:00:00Z</responseDate><request verb=\"ListRecords\">http://x/oai</request>"
        '<error code="noRecordsMatch">No records</error></OAI-PMH>'
    ).encode()
    with LocalServer(lambda request: Reply(body=no_records)) as server:
        result = run_cli(home, "harvest", "oai", server.url("/oai"), "--set", "postres", *NO_RETRIES)
    assert result.exit_code == 0, result.output
    note = next(line for line in result.stdout.splitlines() if line.startswith("note: "))
    assert "no records in set 'postres'" in note and "check --set" in note
    assert len(_registered(home)) == 1
