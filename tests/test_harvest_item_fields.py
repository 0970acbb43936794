"""Every harvester stores an item's description, creator and rights in the catalogue's items table
(issue 21, "What to build" 6: the fields a researcher goes back to the source for, which
`items.csv` and `t.items()` carry). Each source kind goes through the real CLI; the catalogue is
read with plain SQL.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.facedb import rows
from tests.support.hostile import DC_NAMESPACES, oai_page
from tests.support.localserver import LocalServer, Reply

NO_RETRIES = ("--retries", "0")


def _fields(home: Path) -> list[tuple]:
    return rows(home, "SELECT source_item_id, description, creator, rights FROM items ORDER BY source_item_id")


def test_csv_known_column_names(tmp_path, home):
    export = tmp_path / "posters.csv"
    export.write_text("id,title,description,creator,rights\n"
                      "1,Welders,A woman welder at a shipyard.,\"Doe, Jane\",Public domain\n"
                      "2,Farm,,,\n", encoding="utf-8")
    result = run_cli(home, "harvest", "csv", str(export))
    assert result.exit_code == 0, result.output
    assert _fields(home) == [("1", "A woman welder at a shipyard.", "Doe, Jane", "Public domain"),
                             ("2", None, None, None)]


def test_csv_column_options(tmp_path, home):
    export = tmp_path / "posters.csv"
    export.write_text("Nr,Text,Artist,Licence,Note\n7,Two men welders.,Federal Art Project,CC0,ignored\n",
                      encoding="utf-8")
    result = run_cli(home, "harvest", "csv", str(export), "--id-column", "Nr", "--description-column", "Text",
                     "--creator-column", "Artist", "--rights-column", "Licence")
    assert result.exit_code == 0, result.output
    assert _fields(home) == [("7", "Two men welders.", "Federal Art Project", "CC0")]
    [(params,)] = rows(home, "SELECT params FROM sources")
    assert {key: json.loads(params)[key] for key in ("description_column", "creator_column", "rights_column")} == {
        "description_column": "Text", "creator_column": "Artist", "rights_column": "Licence"}


def test_oai_dublin_core_description_creator_and_rights(home):
    record = (
        "<record><header><identifier>oai:test:1</identifier><datestamp>2024-03-01</datestamp></header>"
        f"<metadata><oai_dc:dc {DC_NAMESPACES}><dc:title>Welders</dc:title>"
        "<dc:description>A woman welder.</dc:description><dc:description>Silkscreen.</dc:description>"
        "<dc:creator>Doe, Jane</dc:creator><dc:creator>Roe, John</dc:creator>"
        "<dc:rights>No known restrictions on publication.</dc:rights>"
        "</oai_dc:dc></metadata></record>"
    )
    with LocalServer(lambda request: Reply(body=oai_page([record], token=""))) as server:
        result = run_cli(home, "harvest", "oai", server.url("/oai"), *NO_RETRIES)
    assert result.exit_code == 0, result.output
    assert _fields(home) == [("oai:test:1", "A woman welder.\n\nSilkscreen.", "Doe, Jane; Roe, John",
                              "No known restrictions on publication.")]


def _serve_json(documents: dict[str, dict]):
    def answer(request) -> Reply:
        return Reply(body=json.dumps(documents[request.path]).encode(), headers={"Content-Type": "application/json"})
    return answer


def test_iiif_v3_summary_metadata_creator_rights_and_required_statement(home):
    documents: dict[str, dict] = {}
    with LocalServer(_serve_json(documents)) as server:
        url = server.url("/v3/manifest.json")
        documents["/v3/manifest.json"] = {
            "@context": "http://iiif.io/api/presentation/3/context.json", "id": url, "type": "Manifest",
            "label": {"en": ["Welders"]}, "summary": {"en": ["A woman welder."]},
            "metadata": [{"label": {"en": ["Artist"]}, "value": {"none": ["Doe, Jane"]}}],
            "rights": "http://creativecommons.org/publicdomain/mark/1.0/",
            "requiredStatement": {"label": {"en": ["Attribution"]}, "value": {"en": ["Library of Posters"]}},
            "items": [],
        }
        result = run_cli(home, "harvest", "iiif", url, *NO_RETRIES)
    assert result.exit_code == 0, result.output
    assert _fields(home) == [(url, "A woman welder.", "Doe, Jane",
                              "http://creativecommons.org/publicdomain/mark/1.0/; Attribution: Library of Posters")]


def test_iiif_v2_description_metadata_creator_license_and_attribution(home):
    documents: dict[str, dict] = {}
    with LocalServer(_serve_json(documents)) as server:
        url = server.url("/v2/manifest.json")
        documents["/v2/manifest.json"] = {
            "@context": "http://iiif.io/api/presentation/2/context.json", "@id": url, "@type": "sc:Manifest",
            "label": "Welders", "description": "Two men welders.",
            "metadata": [{"label": "Creator", "value": "Roe, John"}],
            "license": "https://rightsstatements.org/vocab/NoC-US/1.0/", "attribution": "Poster Archive",
            "sequences": [],
        }
        result = run_cli(home, "harvest", "iiif", url, *NO_RETRIES)
    assert result.exit_code == 0, result.output
    assert _fields(home) == [(url, "Two men welders.", "Roe, John",
                              "https://rightsstatements.org/vocab/NoC-US/1.0/; Poster Archive")]
