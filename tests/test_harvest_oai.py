"""OaiHarvester against real OAI-PMH captures replayed by a 127.0.0.1 server.

The captures are served through the real HTTP client, so paging, retries, strict parsing and
the OAI error handling are exercised exactly as against a live repository.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl

import pytest
from lxml import etree

from postercensus.harvest.http import HttpClient, HttpSettings
from postercensus.harvest.oai import PAGE_ATTEMPTS, OaiHarvester, format_image_url
from postercensus.harvest.oai_metadata import map_dublin_core
from postercensus.harvest.records import HarvestError, HarvestedItem, RecordProblem
from tests.support.localserver import LocalServer, Reply, Request
from tests.support.oaiserver import FsuOaiServer

FAST = HttpSettings(backoff=0.01, retries=2, timeout=5)
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
NS = {"o": OAI_NS}


# --- helpers ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def oai_data(shared_data: Path) -> Path:
    return shared_data / "oai-pmh"


@pytest.fixture(scope="module")
def sickle_dir(oai_data: Path) -> Path:
    return oai_data / "sickle_fixtures"


class Switchboard:
    """Routes requests to the current test's handler.

    One server serves the whole module: stopping a LocalServer waits out its poll interval
    (about half a second), which would dominate this file's run time.
    """

    def __init__(self) -> None:
        self.handler: Callable[[Request], Reply] | None = None

    def __call__(self, request: Request) -> Reply:
        assert self.handler is not None, "a request arrived between tests"
        return self.handler(request)


@pytest.fixture(scope="module")
def shared_server():
    board = Switchboard()
    with LocalServer(board) as server:
        yield server, board


@pytest.fixture
def serve(shared_server):
    """`serve(handler)` → the server, answering with `handler` and with a fresh request log."""
    server, board = shared_server

    def start(handler: Callable[[Request], Reply]) -> LocalServer:
        board.handler = handler
        server.requests.clear()
        return server

    yield start
    board.handler = None


def harvest(server: LocalServer, since: str | None = None, **options) -> tuple[OaiHarvester, list]:
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST), **options)
    return harvester, list(harvester.events(since))


def events_until_error(harvester: OaiHarvester) -> tuple[list, HarvestError]:
    """The events yielded before the listing failed, and the failure itself."""
    seen: list = []
    with pytest.raises(HarvestError) as failure:
        for event in harvester.events(None):
            seen.append(event)
    return seen, failure.value


def items(events: list) -> list[HarvestedItem]:
    return [event for event in events if isinstance(event, HarvestedItem)]


def token_chain(folder: Path):
    """sickle's fixtures: the resumptionToken text is the name of the next page's file."""
    def handle(request: Request) -> Reply:
        name = request.query.get("resumptionToken", "ListRecords.xml")
        return Reply(body=(folder / name).read_bytes())
    return handle


def always(body: bytes):
    return lambda request: Reply(body=body)


def sequence(replies: list[Reply], then):
    """Answer with each of `replies` once (in order), then hand over to the handler `then`."""
    queue = list(replies)
    return lambda request: queue.pop(0) if queue else then(request)


# --- the sickle fixtures: a 4-page resumptionToken chain ---------------------------------------

def test_token_chain_yields_eight_records_over_four_pages(serve, sickle_dir):
    server = serve(token_chain(sickle_dir))
    harvester, events = harvest(server)
    assert [r.query for r in server.requests] == [
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "resumptionToken": "ListRecords2.xml"},
        {"verb": "ListRecords", "resumptionToken": "ListRecords3.xml"},
        {"verb": "ListRecords", "resumptionToken": "ListRecords4.xml"},
    ]
    assert len(events) == 8
    problems = [e for e in events if isinstance(e, RecordProblem)]
    assert len(problems) == 1 and "no identifier" in problems[0].message
    assert "page 4" in problems[0].where and "ListRecords4.xml" in problems[0].where
    deleted = [e for e in items(events) if e.deleted]
    assert [d.source_item_id for d in deleted] == ["oai:test.example.com:1585310"] * 3
    assert all(d.datestamp == "2011-07-18T16:31:00Z" and d.title is None and not d.images for d in deleted)
    live = [e for e in items(events) if not e.deleted]
    assert len(live) == 4
    record = live[0]
    assert record.source_item_id == "oai:test.example.com:1585322"
    assert record.title == "Sample Title"
    assert record.creator == "John Doe"  # four identical dc:creator elements
    assert (record.date, record.year) == ("2010", 2010)
    assert record.description.startswith("Lorem ipsum dolor sit amet") and "\n" not in record.description
    assert record.landing_url == "http://test.example.com/publication/1585322"
    assert record.images == []
    assert record.datestamp == "2011-01-10T10:19:23Z"
    assert record.raw["header"] == {
        "identifier": "oai:test.example.com:1585322", "datestamp": "2011-01-10T10:19:23Z", "setSpecs": [],
    }
    assert record.raw["prefix"] == "oai_dc" and "<dc:title>Sample Title</dc:title>" in record.raw["xml"]
    assert harvester.watermark() == "2011-07-18"


def test_requests_carry_our_user_agent(serve, sickle_dir):
    server = serve(token_chain(sickle_dir))
    harvest(server)
    assert all(r.headers.get("User-Agent", "").startswith("postercensus/") for r in server.requests)


def test_image_urls_among_dc_identifiers_become_images(sickle_dir):
    """The real record plus an image identifier and an IIIF relation (not in the capture)."""
    page = etree.parse(str(sickle_dir / "ListRecords4.xml")).getroot()
    dc = page.find(".//o:metadata/*", NS)
    for tag, url in (
        ("identifier", "https://img.example.org/posters/1585322.JPG"),
        ("relation", "https://iiif.example.org/iiif/p1/full/max/0/default.jpg"),
        ("relation", "https://example.org/other-page"),
    ):
        etree.SubElement(dc, f"{{http://purl.org/dc/elements/1.1/}}{tag}").text = url
    item = map_dublin_core("oai:test.example.com:1585322", dc)
    assert [i.url for i in item.images] == [
        "https://img.example.org/posters/1585322.JPG",
        "https://iiif.example.org/iiif/p1/full/max/0/default.jpg",
    ]
    assert item.landing_url == "http://test.example.com/publication/1585322"


# --- DSpace 2003 (pyoai's capture), replayed from its mapping.txt -----------------------------

def mapping_handler(folder: Path):
    """Serve the file mapping.txt names for the request's query.

    The capture was requested with `from=2003-04-10T00:00:00Z`; we send day granularity
    (`from=2003-04-10`), the same instant, so `from` is compared by its date part.
    """
    lines = (folder / "mapping.txt").read_text().split()
    table = [(dict(parse_qsl(query)), name) for query, name in zip(lines[::2], lines[1::2])]

    def comparable(query: dict[str, str]) -> dict[str, str]:
        return {key: value[:10] if key == "from" else value for key, value in query.items()}

    def handle(request: Request) -> Reply:
        for query, name in table:
            if comparable(query) == comparable(request.query):
                return Reply(body=(folder / name).read_bytes())
        return Reply(404)
    return handle


@pytest.mark.parametrize("options", [{"since": "2003-04-10"}, {"from_date": "2003-04-10"}])
def test_dspace_2003_listing_from_a_date(serve, oai_data, options):
    server = serve(mapping_handler(oai_data / "pyoai_eur_dspace_2003"))
    harvester, events = harvest(server, **options)
    assert server.requests[0].query == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2003-04-10"}
    records = items(events)
    assert len(events) == len(records) == 16
    assert not any(r.deleted for r in records)
    assert all(r.title and r.year == 2003 and r.description for r in records)
    assert all(r.landing_url == f"http://hdl.handle.net/{r.source_item_id.removeprefix('hdl:')}" for r in records)
    assert all(r.creator is None for r in records)  # this DSpace put people in dc:contributor only
    assert all(r.images == [] for r in records)
    first = records[0]
    assert first.source_item_id == "hdl:1765/308"
    assert first.title == "Kijken in het brein: Over de mogelijkheden van neuromarketing"
    assert first.date == "2003-04-15T10:18:51Z"
    assert len(first.keywords) == 13 and first.keywords[:2] == ["neuroimaging", "neuromarketing"]
    assert first.raw["header"]["setSpecs"] == ["1:2"]
    assert "Smidts, A." in first.raw["xml"]  # unplaced fields stay in the raw XML
    # packed subjects ("a;b;c") are split: 127 dc:subject elements give 233 terms
    assert sum(len(r.keywords) for r in records) == 233
    assert not any(";" in k for r in records for k in r.keywords)
    assert "Bedrijfskunde / Bedrijfseconomie" in records[-1].keywords
    assert harvester.watermark() == "2003-04-29"


# --- MODS: Harvard LibraryCloud (one page of a set) and the FSU dump ---------------------------

def test_harvard_mods_page_then_no_records_match_ends_the_listing(serve, oai_data, sickle_dir):
    page = (oai_data / "harvard_librarycloud" / "oai-page.xml").read_bytes()
    handler = sequence([Reply(body=page)], always((sickle_dir / "noRecordsMatch.xml").read_bytes()))
    server = serve(handler)
    harvester, events = harvest(server, set_spec="botanicals", prefix="mods")
    assert server.requests[0].query == {"verb": "ListRecords", "metadataPrefix": "mods", "set": "botanicals"}
    assert server.requests[1].query == {
        "verb": "ListRecords", "resumptionToken": "AoEuYXJuMDAwMDdjMDAwMTE=:botanicals:10:mods",
    }
    records = items(events)
    assert len(events) == len(records) == 10
    first = records[0]
    assert first.source_item_id == "arn00007c00001"
    assert first.title == "Plate 1. Clematis cylindrica"
    assert first.description == "Full color. Reproduced in Herbier Général, page 70, by Mme. Deville, Aumont."
    assert first.rights.startswith("The collection is available by appointment for research.")
    assert first.landing_url == "https://id.lib.harvard.edu/curiosity/botanical-illustrations/62-arn00007c00001"
    # the "raw object" is the image; the 150 px "preview" thumbnail is not used alongside it
    assert [(i.url, i.label) for i in first.images] == [("https://nrs.harvard.edu/urn-3:FMUS.ARN:37524535", "Full Image")]
    # items carry no date of their own: the host collection's single-year date is inherited
    assert all((r.date, r.year, r.raw.get("date_from")) == ("1860", 1860, "host relatedItem") for r in records)
    assert all(r.keywords == [] and r.creator is None for r in records)
    assert all(len(r.images) == 1 and r.images[0].url.startswith("https://nrs.harvard.edu/") for r in records)
    assert records[2].landing_url == "https://id.lib.harvard.edu/digital_collections/arn00007c00003"
    assert harvester.watermark() == "2021-03-11"  # from the compact datestamp 20210311


def test_harvard_bad_resumption_token_fails_after_the_first_page(serve, oai_data, sickle_dir):
    page = (oai_data / "harvard_librarycloud" / "oai-page.xml").read_bytes()
    handler = sequence([Reply(body=page)], always((sickle_dir / "badResumptionToken.xml").read_bytes()))
    server = serve(handler)
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST), set_spec="botanicals", prefix="mods")
    seen, error = events_until_error(harvester)
    assert len(items(seen)) == 10
    message = str(error)
    assert "page 2" in message and "badResumptionToken" in message and "This resumptionToken is invalid" in message
    assert "run the harvest again" in message
    assert harvester.watermark() is None  # a partial listing does not advance the watermark


@pytest.fixture(scope="module")
def fsu_page(oai_data: Path) -> bytes:
    return (oai_data / "fsu_mods_dump" / "fsu_admiral.mods.xml").read_bytes()


def test_fsu_mods_dump(serve, fsu_page):
    server = serve(always(fsu_page))
    harvester, events = harvest(server, set_spec="fsu_admiralleighpapers", prefix="mods")
    records = items(events)
    assert len(events) == len(records) == 93
    by_id = {r.source_item_id: r for r in records}
    first = by_id["oai:fsu.digital.flvc.org:fsu_405801"]
    assert first.title.startswith("Order from the Navy Department for R. H. Leigh to proceed to Philadelphia")
    assert (first.date, first.year) == ("1893-07-28", 1893)
    # the Addressee is not a creator; the corporate Creator is
    assert first.creator == "United States. Navy Department. Bureau of Navigation"
    assert first.keywords == [
        "Personal correspondence", "Navies", "Naval yards & naval stations", "Soldiers",
        "Military orders", "Navy-yards and naval stations, American",
    ]
    assert first.landing_url == "http://purl.flvc.org/fsu/fd/FSU_0165_B1011_F4_009"
    assert first.images == []  # the dump's location/url are a purl and a finding aid, no image
    assert first.description.startswith("Document includes stamps from the Naval Pay Office")
    assert first.rights.startswith("Use of this item is provided for non-commercial")
    assert by_id["oai:fsu.digital.flvc.org:fsu_405799"].creator == "Herbert, Hilary A. (Hilary Abner)"
    ranged = by_id["oai:fsu.digital.flvc.org:fsu_405840"]
    assert (ranged.date, ranged.year) == ("1891-06-01/1891-06-15", 1891)
    across_years = by_id["oai:fsu.digital.flvc.org:fsu_405838"]
    assert (across_years.date, across_years.year) == ("1903-12-30/1904-03-05", None)
    assert sum(r.year is None for r in records) == 4
    assert sum(r.creator is None for r in records) == 8
    assert all(r.landing_url.startswith("http://purl.flvc.org/fsu/fd/") for r in records)
    assert all(r.title and r.keywords for r in records)
    assert harvester.watermark() == "2017-04-19"


# --- OAI error responses -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("badArgument.xml", ["badArgument", "--from"]),
        ("cannotDisseminateFormat.xml", ["cannotDisseminateFormat", "does not offer metadataPrefix 'mods'", "--prefix oai_dc"]),
        ("badResumptionToken.xml", ["badResumptionToken", "run the harvest again"]),
        ("noSetHierarchy.xml", ["noSetHierarchy", "does not support sets", "without --set"]),
        ("idDoesNotExist.xml", ["idDoesNotExist", "OAI-PMH base URL"]),
        ("undefinedError.xml", ["undefinedError", "try again later"]),
    ],
)
def test_oai_errors_become_helpful_harvest_errors(serve, sickle_dir, fixture, expected):
    server = serve(always((sickle_dir / fixture).read_bytes()))
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST), set_spec="posters", prefix="mods")
    seen, error = events_until_error(harvester)
    assert seen == []
    message = str(error)
    assert "page 1" in message and server.url("/oai?verb=ListRecords") in message
    for fragment in expected:
        assert fragment in message


def test_no_records_match_is_nothing_new(serve, sickle_dir):
    server = serve(always((sickle_dir / "noRecordsMatch.xml").read_bytes()))
    harvester, events = harvest(server, since="2024-05-01")
    assert events == []
    assert server.requests[0].query["from"] == "2024-05-01"
    assert harvester.watermark() == "2024-05-01"


# --- truncated, broken and hostile pages -------------------------------------------------------

def test_page_cut_off_mid_transfer_once_is_fetched_again(serve, sickle_dir):
    page2 = (sickle_dir / "ListRecords2.xml").read_bytes()
    chain = token_chain(sickle_dir)

    def handle(request: Request) -> Reply:
        if request.query.get("resumptionToken") == "ListRecords2.xml" and len(server.requests) == 2:
            return Reply(body=page2, drop_after=700)
        return chain(request)

    server = serve(handle)
    _, events = harvest(server)
    assert len(events) == 8
    assert len(server.requests) == 5


def test_page_served_truncated_once_is_retried_then_completes(serve, sickle_dir):
    """A complete HTTP response whose XML is cut: only the strict parser can notice."""
    page2 = (sickle_dir / "ListRecords2.xml").read_bytes()
    chain = token_chain(sickle_dir)
    cuts = [page2[:1500]]

    def handle(request: Request) -> Reply:
        if request.query.get("resumptionToken") == "ListRecords2.xml" and cuts:
            return Reply(body=cuts.pop())
        return chain(request)

    server = serve(handle)
    harvester, events = harvest(server)
    assert len(events) == 8
    assert [r.query.get("resumptionToken") for r in server.requests].count("ListRecords2.xml") == 2
    assert harvester.watermark() == "2011-07-18"


def test_page_always_truncated_fails_after_a_few_attempts(serve, sickle_dir):
    page = (sickle_dir / "ListRecords.xml").read_bytes()
    server = serve(always(page[:1500]))
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST))
    seen, error = events_until_error(harvester)
    assert seen == []
    assert len(server.requests) == PAGE_ATTEMPTS
    message = str(error)
    assert "malformed XML" in message and f"after {PAGE_ATTEMPTS} attempts" in message and "page 1" in message


def test_connection_always_cut_fails_with_a_fetch_message(serve, sickle_dir):
    page = (sickle_dir / "ListRecords.xml").read_bytes()
    server = serve(lambda request: Reply(body=page, drop_after=500))
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST))
    _, error = events_until_error(harvester)
    assert "could not be fetched" in str(error) and "gave up after" in str(error)


def test_broken_xml_fixture_fails(serve, sickle_dir):
    server = serve(always((sickle_dir / "ListRecordsBroken.xml").read_bytes()))
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST))
    _, error = events_until_error(harvester)
    assert "malformed XML" in str(error)


def test_a_non_oai_page_is_refused(serve, sickle_dir):
    server = serve(always(b"<html><body>Maintenance</body></html>"))
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST))
    _, error = events_until_error(harvester)
    assert "not an OAI-PMH response" in str(error) and "'html'" in str(error)


def with_doctype(page: bytes, doctype: str, title: bytes) -> bytes:
    """A real page with a DOCTYPE after its XML declaration and `title` put in as dc:title."""
    declaration, rest = page.split(b"?>", 1)
    return declaration + b"?>\n" + doctype.encode() + rest.replace(b"Sample Title", title)


def test_external_entities_are_refused_unread(serve, sickle_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    page = (sickle_dir / "ListRecords.xml").read_bytes()
    requested: list[str] = []

    def handle(request: Request) -> Reply:
        requested.append(request.path)
        if request.path != "/oai":
            return Reply(body=b"<!ENTITY leak 'EXTERNAL-DTD-CONTENT'>")
        doctype = (
            "<!DOCTYPE OAI-PMH [\n"
            f'  <!ENTITY xxe SYSTEM "{secret.as_uri()}">\n'
            f'  <!ENTITY remote SYSTEM "{server.url("/remote-entity")}">\n'
            f'  <!ENTITY % dtd SYSTEM "{server.url("/evil.dtd")}"> %dtd;\n'
            "]>"
        )
        return Reply(body=with_doctype(page, doctype, b"&xxe;&remote;"))

    server = serve(handle)
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST))
    seen, error = events_until_error(harvester)
    assert seen == []
    assert "entities" in str(error) and "XXE" in str(error)
    assert "TOP-SECRET" not in str(error) and "EXTERNAL-DTD" not in str(error)
    assert requested == ["/oai"]  # refused at once, and neither the DTD nor the entity was fetched


def test_billion_laughs_is_refused(serve, sickle_dir):
    laughs = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    doctype = "<!DOCTYPE OAI-PMH [\n" + "\n".join(laughs) + "\n]>"
    page = with_doctype((sickle_dir / "ListRecords.xml").read_bytes(), doctype, b"&lol9;")
    server = serve(always(page))
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST))
    _, error = events_until_error(harvester)
    assert "entities" in str(error) and "lol" not in str(error)


def test_server_errors_twice_then_success(serve, sickle_dir):
    chain = token_chain(sickle_dir)
    server = serve(sequence([Reply(500), Reply(500)], chain))
    _, events = harvest(server)
    assert len(events) == 8
    assert len(server.requests) == 6


def test_repeated_resumption_token_stops_the_loop(serve, sickle_dir):
    page = (sickle_dir / "ListRecords.xml").read_bytes().replace(b"ListRecords2.xml", b"same-token")
    server = serve(always(page))
    harvester = OaiHarvester(server.url("/oai"), HttpClient(FAST))
    seen, error = events_until_error(harvester)
    assert len(seen) == 4  # page 1 and the page answering "same-token" once
    assert "'same-token' a second time" in str(error)


# --- incremental harvesting against a small dynamic server over the real FSU records ----------

@pytest.fixture
def fsu_server(serve, fsu_page) -> LocalServer:
    return serve(FsuOaiServer(fsu_page))


def fsu_harvest(server: LocalServer, since: str | None = None, **options) -> tuple[OaiHarvester, list[HarvestedItem]]:
    harvester, events = harvest(server, since, prefix="mods", **options)
    return harvester, items(events)


def test_full_harvest_pages_through_every_record(fsu_server):
    harvester, records = fsu_harvest(fsu_server)
    assert len(records) == len({r.source_item_id for r in records}) == 93
    assert len(fsu_server.requests) == 5  # 20 + 20 + 20 + 20 + 13
    assert "from" not in fsu_server.requests[0].query
    assert harvester.watermark() == "2017-04-19"


def test_since_fetches_only_newer_records(fsu_server):
    harvester, records = fsu_harvest(fsu_server, since="2017-04-18")
    assert fsu_server.requests[0].query["from"] == "2017-04-18"
    assert len(records) == 46
    assert all(r.datestamp >= "2017-04-18" for r in records)
    assert len(fsu_server.requests) == 3
    assert harvester.watermark() == "2017-04-19"


def test_explicit_from_date_wins_over_since(fsu_server):
    harvester, records = fsu_harvest(fsu_server, since="2017-04-19", from_date="2017-04-17T08:00:00Z")
    assert fsu_server.requests[0].query["from"] == "2017-04-17"
    assert len(records) == 93
    assert harvester.watermark() == "2017-04-19"


def test_watermark_from_a_full_harvest_fetches_only_the_last_day_again(fsu_server):
    first, _ = fsu_harvest(fsu_server)
    second, records = fsu_harvest(fsu_server, since=first.watermark())
    assert {r.datestamp[:10] for r in records} == {"2017-04-19"}
    assert second.watermark() == "2017-04-19"


def test_nothing_new_keeps_the_watermark(fsu_server):
    harvester, records = fsu_harvest(fsu_server, since="2017-04-20")
    assert records == []
    assert harvester.watermark() == "2017-04-20"


# --- image URL template, source identity -------------------------------------------------------

def test_image_url_template_is_used_for_every_live_record(serve, sickle_dir):
    template = "https://iiif.example.org/iiif/{id}/full/!2000,2000/0/default.jpg"
    server = serve(token_chain(sickle_dir))
    _, events = harvest(server, image_url_template=template)
    for item in items(events):
        if item.deleted:
            assert item.images == []
        else:
            assert [i.url for i in item.images] == [
                "https://iiif.example.org/iiif/oai%3Atest.example.com%3A1585322/full/!2000,2000/0/default.jpg"
            ]


def test_image_url_template_replaces_mods_images(serve, oai_data, sickle_dir):
    page = (oai_data / "harvard_librarycloud" / "oai-page.xml").read_bytes()
    handler = sequence([Reply(body=page)], always((sickle_dir / "noRecordsMatch.xml").read_bytes()))
    server = serve(handler)
    _, events = harvest(server, prefix="mods", image_url_template="https://img.test/{local_id}.jpg")
    assert [i.images[0].url for i in items(events)][:2] == [
        "https://img.test/arn00007c00001.jpg", "https://img.test/arn00007c00002.jpg",
    ]


def test_format_image_url_quotes_both_fields():
    assert format_image_url("https://h/{local_id}/{id}", "hdl:1765/308") == "https://h/1765%2F308/hdl%3A1765%2F308"
    assert format_image_url("https://h/{local_id}", "arn00007c00001") == "https://h/arn00007c00001"


@pytest.mark.parametrize("template", ["https://h/{size}.jpg", "https://h/{id.__class__}", "ftp://h/{id}", "https://h/{id"])
def test_bad_image_url_templates_are_refused_up_front(template):
    with pytest.raises(HarvestError, match="image-url-template"):
        OaiHarvester("https://oai.example.org/oai", HttpClient(FAST), image_url_template=template)


def test_bad_from_date_is_refused_up_front():
    with pytest.raises(HarvestError, match="--from must be a date"):
        OaiHarvester("https://oai.example.org/oai", HttpClient(FAST), from_date="last week")


def test_source_key_and_params_describe_the_source():
    harvester = OaiHarvester(
        "https://oai.example.org/oai", HttpClient(FAST), set_spec="posters", prefix="mods",
        image_url_template="https://img.example.org/{local_id}.jpg", from_date="2020-01-01",
    )
    assert harvester.kind == "oai"
    assert harvester.source_key() == "oai:https://oai.example.org/oai?set=posters&prefix=mods"
    assert harvester.params() == {
        "url": "https://oai.example.org/oai", "set": "posters", "prefix": "mods",
        "image_url_template": "https://img.example.org/{local_id}.jpg",
    }
    again = OaiHarvester.from_params(harvester.params(), HttpClient(FAST))
    assert again.source_key() == harvester.source_key() and again.params() == harvester.params()
    plain = OaiHarvester("https://oai.example.org/oai", HttpClient(FAST))
    assert plain.source_key() == "oai:https://oai.example.org/oai?prefix=oai_dc"
    assert plain.params() == {"url": "https://oai.example.org/oai", "prefix": "oai_dc"}
