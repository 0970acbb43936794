"""IiifHarvester on the real IIIF JSON of shared/data/iiif, served from 127.0.0.1.

`IiifSite` serves every fixture at the path its own id names, with each absolute
`http(s)://HOST/` in the served text moved to `{base}/HOST/`: the documents keep their real
structure (ids, links between collections and manifests, Image API services) while every
request the harvester makes lands on the local server. Other GETs of image files answer small
JPEGs; anything else is a 404, like a member the fixture set does not contain.
"""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from postercensus.harvest.http import HttpClient, HttpSettings
from postercensus.harvest.iiif import MAX_DEPTH, IiifHarvester
from postercensus.harvest.records import HarvestedItem, HarvestError, RecordProblem
from tests.support.localserver import Reply

REQUEST = "full/!2000,2000/0/default.jpg"
FAST = HttpSettings(retries=2, backoff=0.01, timeout=10)


def harvest(
    url: str, settings: HttpSettings = FAST, **options
) -> tuple[list[HarvestedItem], list[RecordProblem]]:
    events = list(IiifHarvester(url, HttpClient(settings), **options).events(None))
    items = [event for event in events if isinstance(event, HarvestedItem)]
    problems = [event for event in events if isinstance(event, RecordProblem)]
    assert len(items) + len(problems) == len(events)
    return items, problems


def harvest_one(url: str, **options) -> HarvestedItem:
    items, problems = harvest(url, **options)
    assert problems == []
    assert len(items) == 1
    return items[0]


def image_canvases(document: dict) -> int:
    """Canvases that paint an image, counted independently of the harvester's code."""
    if "sequences" in document:
        canvases = document["sequences"][0].get("canvases", [])
        return sum(1 for c in canvases if c.get("images"))
    count = 0
    for canvas in document.get("items", []):
        bodies = []
        for page in canvas.get("items", []):
            for annotation in page.get("items", []):
                if annotation.get("motivation") == "painting":
                    body = annotation["body"]
                    bodies += body.get("items", [])[:1] if body.get("type") == "Choice" else [body]
        count += any(b.get("type") == "Image" for b in bodies)
    return count


# --- every real manifest: image count, service URLs ----------------------------------------

REAL_MANIFESTS = [
    "manifesto_real_institution/anzacbulletin.json",
    "manifesto_real_institution/canvas-metadata.json",
    "manifesto_real_institution/horriblemurders.json",
    "manifesto_real_institution/illustrationsofchina.json",
    "manifesto_real_institution/nga-highlights.json",
    "manifesto_real_institution/storyofwellcome.json",
    "manifesto_real_institution/tankeryshouse.json",
    "manifesto_real_institution/wellcomecollection-firstmanifest.json",
    "manifesto_real_institution/RHUL.json",
    "manifesto_real_institution/YaleCanterburyTalesV3ProviderNoLogo.json",
    "manifesto_real_institution/presentation3-paging.json",
    "manifesto_real_institution/required-statement.json",
    "prezi3_fixture/mcinnis-39-v3.json",
]
COOKBOOK_IMAGE_RECIPES = [
    "0001-mvm-image", "0004-canvas-size", "0005-image-service", "0006-text-language",
    "0007-string-formats", "0008-rights", "0009-book-1", "0033-choice", "0283-missing-image",
    "0326-annotating-image-layer",
]


@pytest.mark.parametrize("relative", REAL_MANIFESTS)
def test_real_manifest_yields_one_item_with_an_image_per_image_canvas(site, relative):
    url = site.fixture_url(relative)
    document = json.loads(site.body_at(url))
    item = harvest_one(url)

    assert item.source_item_id == url
    assert item.title
    assert len(item.images) == image_canvases(document)
    assert item.raw["iiif_version"] == (3 if "items" in document else 2)
    assert len(item.raw["metadata"]) == len(document.get("metadata", []))
    base = site.server.base
    for image in item.images:
        assert image.url.startswith(base + "/") and image.path is None


@pytest.mark.parametrize("recipe", COOKBOOK_IMAGE_RECIPES)
def test_cookbook_image_recipes(site, recipe):
    url = site.cookbook_url(recipe)
    document = json.loads(site.body_at(url))
    item = harvest_one(url)

    assert item.source_item_id == url
    assert len(item.images) == image_canvases(document) >= 1
    for image in item.images:
        uses_service = "/iiif.io/api/image/3.0/example/reference/" in image.url
        assert image.url.endswith("/" + REQUEST) == uses_service


def test_every_image_url_is_served_as_a_decodable_image(site):
    """The URLs the harvester builds are the ones the site answers: end to end at HTTP level."""
    item = harvest_one(site.fixture_url("manifesto_real_institution/nga-highlights.json"))
    client = HttpClient(FAST)
    for image in item.images[:3]:
        with Image.open(io.BytesIO(client.get_bytes(image.url))) as picture:
            assert picture.format == "JPEG"


# --- exact values read from the files --------------------------------------------------


def test_v2_nga_service_image_urls_and_canvas_labels(site):
    item = harvest_one(site.fixture_url("manifesto_real_institution/nga-highlights.json"))
    assert item.title == "National Gallery of Art Collection Highlights"
    assert item.description == "A selection of highlights from the National Gallery of Art"
    assert len(item.images) == 26
    assert item.images[0].label == "Self-Portrait"
    assert item.images[0].url == site.local(
        "https://media.nga.gov/iiif/public/objects/1/0/6/3/8/2/"
        "106382-primary-0-nativeres.ptif/" + REQUEST
    )
    assert item.raw["manifest"]["@type"] == "sc:Manifest"


def test_v2_service_id_differs_from_the_resource_url(site):
    """NLW's image service lives at another path than the painted JPEG: the service wins."""
    item = harvest_one(site.fixture_url("manifesto_real_institution/tankeryshouse.json"))
    assert item.title == "[Tankerey's house, Llangollen]"
    assert item.date == "[ca. 1875]" and item.year == 1875
    assert item.creator == "Thomas, John 1838-1905"
    assert item.description.startswith("A view of the house and garden")
    assert item.rights.endswith("Llyfrgell Genedlaethol Cymru – The National Library of Wales")
    assert [image.url for image in item.images] == [
        site.local("http://dams.llgc.org.uk/iiif/2.0/image/1123257/" + REQUEST)
    ]
    assert item.images[0].label == "[Tankerey's house, Llangollen]"


def test_v2_bl_date_range_license_html_and_attribution(site):
    item = harvest_one(site.fixture_url("manifesto_real_institution/anzacbulletin.json"))
    assert item.title == "Anzac bulletin. Number 24(1917:Jun.)"
    assert item.date == "1917-1919" and item.year is None  # a range stays unassigned
    assert item.rights == (
        site.local("http://creativecommons.org/about/pdm") + "; Anzac bulletin. Number "
        "24(1917:Jun.) Usage Terms: Free from known copyright restrictions."
    )
    assert len(item.images) == 20


def test_v2_wdl_first_sequence_related_page_subjects_and_photographer(site):
    item = harvest_one(site.fixture_url("manifesto_real_institution/illustrationsofchina.json"))
    assert len(item.images) == 76  # sequences[0]; the three empty sequences add nothing
    assert item.landing_url == site.local("http://beta.wdl.org/en/item/3083/")
    assert item.date == "1873/1874"  # "Date Created", not the later "Subject Date"
    assert item.creator == "Thomson, John, 1837-1921"
    assert item.keywords == [
        "Cities and towns", "Clothing and dress", "Description and travel",
        "Group portraits", "Portrait photographs", "Street scenes",
    ]
    assert item.rights == "World Digital Library"


def test_v2_language_tagged_label_prefers_english(site):
    item = harvest_one(site.fixture_url("manifesto_real_institution/canvas-metadata.json"))
    document = json.loads(site.body_at(site.fixture_url(
        "manifesto_real_institution/canvas-metadata.json")))
    english = next(v["@value"] for v in document["label"] if v["@language"] == "en")
    assert item.title == english
    assert item.date == "1751-1763"  # the pair labelled "Datering" (sv) / "Date" (en-GB)
    assert {"label": "Reference code", "value": "SE/ULA/10219/A I/2"} in item.raw["metadata"]
    assert len(item.images) == 97
    assert "manifest" not in item.raw  # 376 kB: too large to keep whole


def test_v2_wellcome_rights_from_metadata_and_date_text(site):
    item = harvest_one(
        site.fixture_url("manifesto_real_institution/wellcomecollection-firstmanifest.json")
    )
    assert item.title == "The chemist and druggist."
    assert item.date == "15. September 1859" and item.year == 1859
    assert item.rights == "CC-BY-NC"
    assert len(item.images) == 106
    assert item.images[0].url == site.local(
        "http://wellcomelibrary.org/iiif-img/b19974760-0/"
        "5fa3ec03-6a06-4676-9ac8-cd00e9da14ed/" + REQUEST
    )


def test_v3_yale_navdate_homepage_required_statement_and_v2_services(site):
    item = harvest_one(
        site.fixture_url("manifesto_real_institution/YaleCanterburyTalesV3ProviderNoLogo.json")
    )
    assert item.source_item_id == site.local("https://collections.library.yale.edu/manifests/16371215")
    assert item.title == "Canterbury tales"
    assert item.date == "1460-01-01T00:00:00Z" and item.year == 1460  # navDate beats metadata
    assert item.creator == "Chaucer, Geoffrey, -1400"
    assert item.landing_url == site.local("https://collections.library.yale.edu/catalog/16371215")
    assert item.rights.endswith("; Provider: Yale University Library")
    assert "Manuscripts, Medieval" in item.keywords and "English poetry" in item.keywords
    assert len(item.images) == 170
    assert item.images[0].label == "[Front cover]"
    assert item.images[0].url == site.local(
        "https://collections.library.yale.edu/iiif/2/16395012/" + REQUEST
    )
    assert item.raw["iiif_version"] == 3 and "manifest" not in item.raw  # 502 kB


def test_v3_vam_region_of_the_painted_image_is_kept(site):
    """V&A paints a crop of each scan: asking the service for `full` would change the image."""
    item = harvest_one(site.fixture_url("manifesto_real_institution/presentation3-paging.json"))
    assert item.title == "Codex Forster I (National Art Library, Museum no. MSL/1876/Forster/141/I)"
    assert item.rights == site.local("https://www.vam.ac.uk/articles/terms-of-use")
    assert len(item.images) == 114
    assert item.images[0].label == "Front Cover"
    assert item.images[0].url == site.local(
        "https://framemark.vam.ac.uk//collections/2006AW1773/140,870,1800,1778/!2000,2000/0/default.jpg"
    )


def test_v3_audio_manifests_have_no_images(site):
    statement = harvest_one(site.fixture_url("manifesto_real_institution/required-statement.json"))
    assert statement.images == []
    assert statement.title == "C1685/98 Loose ends 17/7/99"
    assert statement.rights == "Important information: Please read the full information about this object."
    assert statement.landing_url == site.local(
        "http://access.bl.uk/item/viewer/ark:/81055/vdc_100052359795.0x000002"
    )
    rhul = harvest_one(site.fixture_url("manifesto_real_institution/RHUL.json"))
    assert rhul.images == [] and rhul.title == "RHUL 25/11/93"
    assert "Rights unassigned - staff access only" in rhul.rights


@pytest.mark.parametrize(
    ("recipe", "title"),
    [("0002-mvm-audio", "Simplest Audio Example 1"), ("0003-mvm-video", "Video Example 3")],
)
def test_cookbook_audio_and_video_yield_items_without_images(site, recipe, title):
    item = harvest_one(site.cookbook_url(recipe))
    assert item.title == title
    assert item.images == []


def test_prezi3_metadata_date_and_at_id_service(site):
    item = harvest_one(site.fixture_url("prezi3_fixture/mcinnis-39-v3.json"))
    assert item.title == "Letter to Louis L. McInnis from J. D. Lee, February 15, 1883"
    assert item.date == "1883-02-15" and item.year == 1883
    assert item.raw["metadata"][0] == {"label": "date", "value": "1883-02-15"}
    assert [image.url for image in item.images] == [
        site.local("https://api-pre.library.tamu.edu/iiif/2/558c93e3-7fd3-388c-8114-08d20a9e47b0/" + REQUEST)
    ]


def test_cookbook_image_without_service_uses_the_body_url(site):
    item = harvest_one(site.cookbook_url("0001-mvm-image"))
    assert item.title == "Single Image Example"
    assert [image.url for image in item.images] == [
        site.local("https://iiif.io/api/presentation/2.1/example/fixtures/resources/page1-full.png")
    ]
    canvas = harvest_one(site.cookbook_url("0004-canvas-size"))
    assert canvas.images[0].url == site.local(
        "https://fixtures.iiif.io/video/indiana/donizetti-elixir/act1-thumbnail.png"
    )


def test_cookbook_image_service_and_canvas_label(site):
    item = harvest_one(site.cookbook_url("0005-image-service"))
    assert item.title == "Picture of Göttingen taken during the 2019 IIIF Conference"
    assert item.images[0].label == "Canvas with a single IIIF image"
    assert item.images[0].url == site.local(
        "https://iiif.io/api/image/3.0/example/reference/"
        "918ecd18c2592080851777620de9bcb5-gottingen/" + REQUEST
    )


def test_cookbook_book_canvas_labels(site):
    item = harvest_one(site.cookbook_url("0009-book-1"))
    assert [image.label for image in item.images] == [
        "Blank page", "Frontispiece", "Title page", "Blank page", "Bookplate"
    ]


def test_cookbook_language_maps_prefer_english(site):
    item = harvest_one(site.cookbook_url("0006-text-language"))
    assert item.title == "Whistler's Mother"
    assert item.description.startswith("Arrangement in Grey and Black No. 1")
    assert item.creator == "Whistler, James Abbott McNeill"
    assert item.keywords == ["McNeill Anna Matilda, mother of Whistler (1804-1881)"]
    assert item.rights == "Held By: Musée d'Orsay, Paris, France"
    french_only = harvest_one(site.cookbook_url("0118-multivalue"))
    assert french_only.title == "Arrangement en gris et noir no 1"
    assert french_only.raw["metadata"] == [
        {"label": "Alternative titles",
         "value": "Whistler's Mother / Arrangement in Grey and Black No. 1"}
    ]


def test_cookbook_html_values_are_plain_text(site):
    formats = harvest_one(site.cookbook_url("0007-string-formats"))
    assert formats.description == "Picture taken by the IIIF Technical Coordinator"
    assert formats.creator == "Glen Robson"
    rights = harvest_one(site.cookbook_url("0008-rights"))
    assert rights.rights == (
        site.local("http://creativecommons.org/licenses/by-sa/3.0/")
        + "; Attribution: Glen Robson, IIIF Technical Coordinator. CC BY-SA 3.0"
    )


def test_cookbook_choice_takes_the_first_option(site):
    item = harvest_one(site.cookbook_url("0033-choice"))
    assert [image.url for image in item.images] == [
        site.local("https://iiif.io/api/image/3.0/example/reference/"
                   "421e65be2ce95439b3ad6ef1f2ab87a9-dee-natural/" + REQUEST)
    ]


def test_cookbook_specific_resource_region_and_rotation(site):
    region = harvest_one(site.cookbook_url("0299-region"))
    assert region.images[0].url.endswith(
        "4ce82cef49fb16798f4c2440307c3d6f-newspaper-p2/1768,2423,1768,2080/!2000,2000/0/default.jpg"
    )
    rotated = harvest_one(site.cookbook_url("0040-image-rotation-service", "manifest-service"))
    assert rotated.images[0].url.endswith("-page1/full/!2000,2000/90/default.jpg")


def test_cookbook_missing_canvas_and_homepage(site):
    missing = harvest_one(site.cookbook_url("0283-missing-image"))
    assert [image.label for image in missing.images] == ["f. 1r", "f. 2r", "f. 2v"]
    homepage = harvest_one(site.cookbook_url("0047-homepage"))
    assert homepage.title == "Laocöon"
    assert homepage.landing_url == site.local("https://www.getty.edu/art/collection/object/103RQQ")


def test_cookbook_v2_publication_and_custom_image_request(site):
    item = harvest_one(site.cookbook_url("0057-publishing-v2-and-v3", "manifest-v2"))
    assert item.raw["iiif_version"] == 2
    assert len(item.images) == 1 and item.images[0].label == "p. 1"
    custom = harvest_one(site.cookbook_url("0005-image-service"), image_request="/full/800,/0/gray.png")
    assert custom.images[0].url.endswith("-gottingen/full/800,/0/gray.png")


# --- collections ------------------------------------------------------------------------


def test_cookbook_collections_follow_their_members(site):
    simple, problems = harvest(site.cookbook_url("0032-collection", "collection"))
    assert problems == []
    assert [(i.title, i.date, i.creator) for i in simple] == [
        ("The Gulf Stream", "1899", "Winslow Homer (1836–1910)"),
        ("Northeaster", "1895", "Winslow Homer (1836–1910)"),
    ]
    assert [i.source_item_id for i in simple] == [
        site.cookbook_url("0032-collection", "manifest-01"),
        site.cookbook_url("0032-collection", "manifest-02"),
    ]
    volumes, problems = harvest(site.cookbook_url("0030-multi-volume", "collection"))
    assert problems == [] and [len(i.images) for i in volumes] == [5, 5]
    dated, problems = harvest(site.cookbook_url("0318-navPlace-navDate", "collection"))
    assert problems == [] and [i.year for i in dated] == [1776, 1776, 1725, 1849, 1821]


def test_deep_hierarchy_is_followed_and_missing_members_are_problems(site):
    """Top (22 sub-collections) → "middle" (nested-bottom standing in for the missing
    deephierarchymiddle.json) → 9 manifests, one of them (wunder.json) stood in for by NLW."""
    top = site.fixture_url("manifesto_real_institution/deephierarchytop.json")
    site.alias("http://localhost:3001/deephierarchymiddle.json",
               site.fixture_url("manifesto_real_institution/nested-bottom.json"))
    site.alias("http://localhost:3001/wunder.json",
               site.fixture_url("manifesto_real_institution/tankeryshouse.json"))

    items, problems = harvest(top)

    assert [item.title for item in items] == ["[Tankerey's house, Llangollen]"]
    assert len(problems) == 21 + 8
    assert all("HTTP 404" in problem.message for problem in problems)
    assert site.local("https://digital.library.villanova.edu/Collection/vudl:14572/IIIF") in {
        problem.where for problem in problems
    }
    assert site.local("http://digital.library.villanova.edu/Item/vudl:345350/Manifest") in {
        problem.where for problem in problems
    }


def test_nested_bottom_without_stand_ins_reports_each_member(site):
    items, problems = harvest(site.fixture_url("manifesto_real_institution/nested-bottom.json"))
    assert items == [] and len(problems) == 9


def test_members_mixing_manifests_and_collections(site):
    collection = site.fixture_url("manifesto_real_institution/members.json")
    site.alias("http://wellcomelibrary.org/iiif/b18031511-0/manifest",
               site.fixture_url("manifesto_real_institution/wellcomecollection-firstmanifest.json"))

    items, problems = harvest(collection)

    assert [item.title for item in items] == ["The chemist and druggist."]
    assert [problem.where for problem in problems] == [
        site.local("http://wellcomelibrary.org/iiif/b18031511-1/manifest"),
        site.local("https://digital.library.villanova.edu/Collection/vudl:14572/IIIF"),
        site.local("https://digital.library.villanova.edu/Collection/vudl:2426/IIIF"),
    ]


def test_cycles_and_duplicate_members_terminate_and_yield_each_manifest_once(site):
    """A collection that lists itself, and a pair that list each other, plus a manifest
    listed twice: every manifest comes out once and the walk ends."""
    loop = site.local("http://example.org/loop/collection.json")
    other = site.local("http://example.org/loop/other.json")
    first = site.cookbook_url("0032-collection", "manifest-01")
    second = site.cookbook_url("0032-collection", "manifest-02")
    site.serve(loop, {
        "@context": "http://iiif.io/api/presentation/3/context.json", "id": loop,
        "type": "Collection", "label": {"en": ["loop"]},
        "items": [{"id": loop, "type": "Collection"}, {"id": other, "type": "Collection"},
                  {"id": first, "type": "Manifest"}],
    })
    site.serve(other, {
        "@context": "http://iiif.io/api/presentation/2/context.json", "@id": other,
        "@type": "sc:Collection", "label": "other",
        "collections": [{"@id": loop, "@type": "sc:Collection"}],
        "manifests": [{"@id": first, "@type": "sc:Manifest"}, {"@id": second, "@type": "sc:Manifest"}],
    })

    items, problems = harvest(loop)

    assert problems == []
    assert [item.source_item_id for item in items] == [first, second]
    assert len(site.requests_for(loop)) == 1 and len(site.requests_for(first)) == 1


def test_nesting_deeper_than_the_limit_is_reported_not_followed(site):
    chain = [site.local(f"http://example.org/deep/{level}.json") for level in range(MAX_DEPTH + 3)]
    for level, url in enumerate(chain[:-1]):
        members = [{"@id": chain[level + 1], "@type": "sc:Collection"}]
        site.serve(url, {"@context": "http://iiif.io/api/presentation/2/context.json",
                         "@id": url, "@type": "sc:Collection", "label": str(level),
                         "collections": members,
                         "manifests": [{"@id": site.cookbook_url("0001-mvm-image"), "@type": "sc:Manifest"}]
                         if level == 1 else []})

    items, problems = harvest(chain[0])

    assert len(items) == 1
    assert [problem.where for problem in problems] == [chain[MAX_DEPTH + 1]]
    assert "nested" in problems[0].message


@pytest.mark.parametrize("version", [2, 3])
def test_paged_collections_follow_first_and_next(site, version):
    top = site.local(f"http://example.org/paged{version}/top.json")
    pages = [site.local(f"http://example.org/paged{version}/page{n}.json") for n in (1, 2)]
    members = [[site.cookbook_url("0032-collection", "manifest-01")],
               [site.cookbook_url("0032-collection", "manifest-02"),
                site.cookbook_url("0318-navPlace-navDate", "manifest-3")]]
    if version == 2:
        context = "http://iiif.io/api/presentation/2/context.json"
        site.serve(top, {"@context": context, "@id": top, "@type": "sc:Collection",
                         "label": "paged", "total": 3, "first": pages[0]})
        for n, page in enumerate(pages):
            document = {"@context": context, "@id": page, "@type": "sc:Collection",
                        "within": top, "manifests": [{"@id": m, "@type": "sc:Manifest"} for m in members[n]]}
            if n == 0:
                document["next"] = pages[1]
            site.serve(page, document)
    else:
        context = "http://iiif.io/api/presentation/3/context.json"
        site.serve(top, {"@context": context, "id": top, "type": "Collection", "label": {"en": ["paged"]},
                         "first": {"id": pages[0], "type": "CollectionPage"}})
        for n, page in enumerate(pages):
            document = {"@context": context, "id": page, "type": "CollectionPage",
                        "items": [{"id": m, "type": "Manifest"} for m in members[n]]}
            if n == 0:
                document["next"] = {"id": pages[1], "type": "CollectionPage"}
            site.serve(page, document)

    items, problems = harvest(top)

    assert problems == []
    assert [item.title for item in items] == [
        "The Gulf Stream", "Northeaster", "The Arch of Titus from the Forum, Rome, ca. 1725"
    ]


# --- failures -------------------------------------------------------------------------


def test_truncated_manifest_is_a_problem_after_retries_and_the_rest_continues(site):
    collection = site.cookbook_url("0032-collection", "collection")
    broken = site.cookbook_url("0032-collection", "manifest-01")
    body = site.body_at(broken)
    site.scripted[site.path(broken)] = [Reply(body=body, drop_after=len(body) // 2)] * 3

    items, problems = harvest(collection)  # FAST: 1 attempt + 2 retries

    assert [item.title for item in items] == ["Northeaster"]
    assert [problem.where for problem in problems] == [broken]
    assert "gave up after 3 attempts" in problems[0].message
    assert len(site.requests_for(broken)) == 3


def test_cut_json_with_a_consistent_length_is_a_problem(site):
    collection = site.cookbook_url("0032-collection", "collection")
    broken = site.cookbook_url("0032-collection", "manifest-02")
    site.serve(broken, site.body_at(broken)[:300])

    items, problems = harvest(collection)

    assert [item.title for item in items] == ["The Gulf Stream"]
    assert [problem.where for problem in problems] == [broken]
    assert "not valid JSON" in problems[0].message


def test_server_errors_then_success_is_retried(site):
    url = site.cookbook_url("0009-book-1")
    site.scripted[site.path(url)] = [Reply(status=500), Reply(status=500)]

    item = harvest_one(url)

    assert len(item.images) == 5
    assert len(site.requests_for(url)) == 3


def test_absurd_nesting_and_size_are_problems(site):
    collection = site.local("http://example.org/absurd/collection.json")
    nested = site.local("http://example.org/absurd/nested.json")
    yale = site.fixture_url("manifesto_real_institution/YaleCanterburyTalesV3ProviderNoLogo.json")
    small = site.cookbook_url("0001-mvm-image")
    site.serve(nested, b"[" * 200_000 + b"]" * 200_000)
    site.serve(collection, {"@context": "http://iiif.io/api/presentation/2/context.json",
                            "@id": collection, "@type": "sc:Collection",
                            "manifests": [{"@id": u} for u in (nested, yale, small)]})
    capped = HttpSettings(retries=0, backoff=0.01, max_bytes=450_000)

    items, problems = harvest(collection, settings=capped)

    assert [item.source_item_id for item in items] == [small]
    assert [problem.where for problem in problems] == [nested, yale]
    assert "nested too deeply" in problems[0].message
    assert "exceeds the cap" in problems[1].message


def test_not_a_manifest_member_is_a_problem_and_unreadable_top_is_fatal(site):
    collection = site.local("http://example.org/mixed/collection.json")
    annotation = site.cookbook_url("0599-drag-and-drop")  # a recipe that is an Annotation
    site.serve(collection, {"@context": "http://iiif.io/api/presentation/3/context.json",
                            "id": collection, "type": "Collection",
                            "items": [{"id": annotation, "type": "Manifest"},
                                      {"id": site.cookbook_url("0001-mvm-image"), "type": "Manifest"}]})
    items, problems = harvest(collection)
    assert len(items) == 1
    assert [problem.where for problem in problems] == [annotation]
    assert "not a IIIF Manifest or Collection" in problems[0].message

    with pytest.raises(HarvestError, match="HTTP 404"):
        harvest(site.local("http://example.org/nowhere/manifest.json"))
    with pytest.raises(HarvestError, match="not a IIIF Manifest or Collection"):
        harvest(annotation)


def test_identity_and_no_watermark(site):
    client = HttpClient(FAST)
    url = site.cookbook_url("0001-mvm-image")
    harvester = IiifHarvester(url, client)
    assert harvester.kind == "iiif"
    assert harvester.source_key() == f"iiif:{url}"
    assert harvester.params() == {"url": url, "image_request": REQUEST}
    assert json.loads(json.dumps(harvester.params())) == harvester.params()
    first = list(harvester.events(None))
    again = list(harvester.events("2024-01-01T00:00:00Z"))  # no change feed: all again
    assert harvester.watermark() is None
    assert len(first) == len(again) == 1
    assert first[0].raw == again[0].raw
    json.dumps(first[0].raw)  # JSON-able for the store
