"""OAI-PMH metadata → HarvestedItem: Dublin Core (oai_dc, qualified DC) and MODS.

Kept apart from the harvester (`harvest.oai`: transport, paging, OAI errors) because the two change
for different reasons: a new metadata format or a catalogue's quirk touches only this module, and
it is tested on saved records without a server. Records are mapped from their lxml elements (MODS
without sickle's flattened dict, which loses MODS structure). Identifiers stay catalogue strings:
nothing here builds a file path from them.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

from lxml import etree

from postercensus.catalog.imagefiles import IMAGE_SUFFIXES
from postercensus.harvest.dates import parse_year
from postercensus.harvest.records import HarvestedItem, ImageRef, is_http_url

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
MODS_NS = "http://www.loc.gov/mods/v3"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
M = {"m": MODS_NS}

# Poster credits name designers and illustrators as often as "artist"; relator codes included.
CREATOR_ROLES = frozenset({
    "creator", "artist", "author", "designer", "illustrator", "photographer",
    "cre", "art", "aut", "dsr", "ill", "pht",
})
MODS_DATE_ELEMENTS = frozenset({"dateIssued", "dateCreated", "dateOther"})
MODS_SUBJECT_TERMS = frozenset({"topic", "geographic", "temporal", "genre", "occupation"})
FULL_IMAGE_LABEL = re.compile(r"full[ -]?(image|size|resolution)|master|high[ -]?res", re.IGNORECASE)
TERM_SEPARATORS = re.compile(r"\s*;\s*|\s+--\s+")


def map_metadata(identifier: str, metadata: etree._Element) -> HarvestedItem:
    """Map a record's metadata by its namespace (not the prefix name, which servers vary)."""
    mods = metadata if metadata.tag == f"{{{MODS_NS}}}mods" else metadata.find(".//m:mods", M)
    if mods is not None:
        return map_mods(identifier, mods)
    return map_dublin_core(identifier, metadata)


# --- shared helpers ---------------------------------------------------------------------------

def _text(element: etree._Element) -> str:
    """All text inside `element`, whitespace collapsed (catalogue XML is often pretty-printed)."""
    return " ".join("".join(element.itertext()).split())


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return list(seen)


def _split_terms(values: Iterable[str]) -> list[str]:
    """Subject strings often pack several terms ("Posters; War" or "World War -- Posters")."""
    return _unique(term.strip() for value in values for term in TERM_SEPARATORS.split(value))


def _joined(values: list[str], separator: str) -> str | None:
    return separator.join(values) if values else None


def _is_image_url(url: str) -> bool:
    """Image files by extension; IIIF Image API URLs end in /default.jpg and so match too."""
    return urlsplit(url).path.lower().endswith(IMAGE_SUFFIXES)


# --- Dublin Core (oai_dc; dcterms elements are read too, for qualified DC feeds) --------------

def _dc(metadata: etree._Element, *names: str) -> list[str]:
    return _unique(
        _text(element)
        for name in names
        for namespace in (DC_NS, DCTERMS_NS)
        for element in metadata.iter(f"{{{namespace}}}{name}")
    )


def map_dublin_core(identifier: str, metadata: etree._Element) -> HarvestedItem:
    """oai_dc (and qualified DC).

    Image-file URLs among dc:identifier / dc:relation become images; the first other URL is
    the landing page.
    """
    dates = _dc(metadata, "date", "created", "issued")
    titles = _dc(metadata, "title")
    urls = [value for value in _dc(metadata, "identifier", "relation") if is_http_url(value)]
    date = dates[0] if dates else None
    return HarvestedItem(
        source_item_id=identifier,
        title=titles[0] if titles else None,
        date=date,
        year=parse_year(date),
        keywords=_split_terms(_dc(metadata, "subject")),
        description=_joined(_dc(metadata, "description", "abstract"), "\n\n"),
        creator=_joined(_dc(metadata, "creator"), "; "),
        rights=_joined(_dc(metadata, "rights", "accessRights", "license"), "\n"),
        landing_url=next((url for url in urls if not _is_image_url(url)), None),
        images=[ImageRef(url=url) for url in urls if _is_image_url(url)],
    )


# --- MODS ---------------------------------------------------------------------------------------

def map_mods(identifier: str, mods: etree._Element) -> HarvestedItem:
    """MODS from its own structure; only top-level elements describe the item itself."""
    date = _mods_date(mods)
    raw: dict[str, Any] = {}
    if date is None:
        host = mods.find("m:relatedItem[@type='host']", M)
        date = _mods_date(host) if host is not None else None
        if date is not None:
            raw["date_from"] = "host relatedItem"
    images, landing_url = _mods_links(mods)
    return HarvestedItem(
        source_item_id=identifier,
        title=_mods_title(mods),
        date=date,
        year=parse_year(date),
        keywords=_split_terms(_mods_keywords(mods)),
        description=_joined(_mods_texts(mods, "m:abstract", "m:note"), "\n\n"),
        creator=_joined(_unique(_name_text(n) for n in mods.iterfind("m:name", M) if _is_creator(n)), "; "),
        rights=_joined(_mods_rights(mods), "\n"),
        landing_url=landing_url,
        images=images,
        raw=raw,
    )


def _mods_texts(mods: etree._Element, *paths: str) -> list[str]:
    return _unique(_text(element) for path in paths for element in mods.iterfind(path, M))


def _mods_rights(mods: etree._Element) -> list[str]:
    """accessCondition text, or its link (a rights statement URI) when it has no text."""
    return _unique(_text(e) or e.get(XLINK_HREF, "") for e in mods.iterfind("m:accessCondition", M))


def _mods_title(mods: etree._Element) -> str | None:
    """The main titleInfo (one without a type such as "alternative"), parts in MODS order."""
    infos = mods.findall("m:titleInfo", M)
    if not infos:
        return None
    info = next((i for i in infos if i.get("type") is None), infos[0])
    title = " ".join(_text(e) for e in info.iterfind("m:nonSort", M)) + " " + " ".join(
        _text(e) for e in info.iterfind("m:title", M))
    for tag, separator in (("subTitle", ": "), ("partNumber", ". "), ("partName", ". ")):
        for part in info.iterfind(f"m:{tag}", M):
            title += separator + _text(part)
    return title.strip() or None


def _mods_date(node: etree._Element) -> str | None:
    """The keyDate (else first) origin date; a start point is paired with its end as "start/end"."""
    dates = [
        element for element in node.iterfind("m:originInfo/*", M)
        if etree.QName(element).localname in MODS_DATE_ELEMENTS and _text(element)
    ]
    if not dates:
        return None
    chosen = next((d for d in dates if d.get("keyDate") == "yes"), dates[0])
    if chosen.get("point") == "start":
        end = next((d for d in dates if d.tag == chosen.tag and d.get("point") == "end"), None)
        if end is not None and _text(end) != _text(chosen):
            return f"{_text(chosen)}/{_text(end)}"
    return _text(chosen)


def _mods_keywords(mods: etree._Element) -> Iterator[str]:
    """subject terms and genres in document order; codes (geographicCode) are not keywords."""
    for element in mods:
        if element.tag == f"{{{MODS_NS}}}genre":
            yield _text(element)
        elif element.tag == f"{{{MODS_NS}}}subject":
            yield from _subject_terms(element)


def _subject_terms(subject: etree._Element) -> Iterator[str]:
    for term in subject:
        name = etree.QName(term).localname if isinstance(term.tag, str) else ""
        if name in MODS_SUBJECT_TERMS:
            yield _text(term)
        elif name == "name":
            yield _name_text(term)
        elif name == "titleInfo":
            yield " ".join(_text(t) for t in term.iterfind("m:title", M))
        elif name == "hierarchicalGeographic":
            yield from (_text(place) for place in term)


def _is_creator(name: etree._Element) -> bool:
    """A name without a role, or with a creator-like role (not addressee, publisher, ...)."""
    roles = [_text(term).lower().rstrip(".") for term in name.iterfind("m:role/m:roleTerm", M)]
    return not roles or any(role in CREATOR_ROLES for role in roles)


def _name_text(name: etree._Element) -> str:
    """"Family, Given" from typed parts, then untyped parts as given; displayForm as a last resort.

    Dates and terms of address are left to the raw XML so one person reads the same everywhere.
    """
    family = " ".join(_mods_texts(name, "m:namePart[@type='family']"))
    given = " ".join(_mods_texts(name, "m:namePart[@type='given']"))
    untyped = [_text(part) for part in name.iterfind("m:namePart", M) if part.get("type") is None]
    text = ", ".join(filter(None, [family, given, *untyped]))
    return text or " ".join(_mods_texts(name, "m:displayForm"))


def _mods_links(mods: etree._Element) -> tuple[list[ImageRef], str | None]:
    """Images and landing page from the item's own location/url elements.

    "raw object" (or a full-image label, or an image file URL) is the image; "preview" is only a
    thumbnail, used when nothing better exists; "object in context" is the landing page.
    """
    full: list[ImageRef] = []
    previews: list[ImageRef] = []
    in_context: list[str] = []
    other: list[str] = []
    for element in mods.iterfind("m:location/m:url", M):
        url = _text(element)
        if not is_http_url(url):
            continue
        access = (element.get("access") or "").lower()
        label = element.get("displayLabel")
        if access == "preview":
            previews.append(ImageRef(url=url, label=label))
        elif access == "object in context":
            in_context.append(url)
        elif access == "raw object" or FULL_IMAGE_LABEL.search(label or "") or _is_image_url(url):
            full.append(ImageRef(url=url, label=label))
        else:
            other.append(url)
    landing = in_context + other
    unique_images = {image.url: image for image in full or previews}
    return list(unique_images.values()), (landing[0] if landing else None)
