"""OAI-PMH harvesting: ListRecords pages become HarvestedItem / RecordProblem events.

sickle speaks the protocol (ListRecords, resumptionToken paging, OAI error codes). We subclass
it for three reasons: every request goes through our HttpClient (retries, backoff, size cap,
User-Agent), every page is parsed exactly once by our strict parser (sickle's own parser runs
with recover=True, which silently drops the records of a truncated page, and re-parses on every
`.xml` access), and a page that arrives malformed is fetched again before the harvest gives up.

Records are mapped from their lxml elements (oai_dc, and MODS without sickle's flattened dict,
which loses MODS structure). Record identifiers are only ever catalogue strings: nothing here
builds a file path from them.
"""
from __future__ import annotations

import re
import string
import time
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import quote, urlencode, urlsplit

from lxml import etree
from sickle import Sickle, oaiexceptions
from sickle.app import DEFAULT_CLASS_MAP
from sickle.models import Header
from sickle.response import OAIResponse

from postercensus.catalog.imagefiles import IMAGE_SUFFIXES
from postercensus.harvest.dates import parse_year
from postercensus.harvest.http import FetchError, HttpClient
from postercensus.harvest.records import (
    HarvestedItem,
    HarvestError,
    HarvestEvent,
    ImageRef,
    RecordProblem,
    SourceNote,
    is_http_url,
)
from postercensus.harvest.xmlsafe import UnsafeXMLError, XMLEntitiesError, parse_xml

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
MODS_NS = "http://www.loc.gov/mods/v3"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
M = {"m": MODS_NS}

PAGE_ATTEMPTS = 3
TEMPLATE_FIELDS = frozenset({"id", "local_id"})
# Poster credits name designers and illustrators as often as "artist"; relator codes included.
CREATOR_ROLES = frozenset({
    "creator", "artist", "author", "designer", "illustrator", "photographer",
    "cre", "art", "aut", "dsr", "ill", "pht",
})
MODS_DATE_ELEMENTS = frozenset({"dateIssued", "dateCreated", "dateOther"})
MODS_SUBJECT_TERMS = frozenset({"topic", "geographic", "temporal", "genre", "occupation"})
FULL_IMAGE_LABEL = re.compile(r"full[ -]?(image|size|resolution)|master|high[ -]?res", re.IGNORECASE)
DAY = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})")
TERM_SEPARATORS = re.compile(r"\s*;\s*|\s+--\s+")

# sickle raises one class per OAI error code (OAIError for codes it does not know).
SICKLE_OAI_ERRORS = (
    oaiexceptions.BadArgument,
    oaiexceptions.BadResumptionToken,
    oaiexceptions.BadVerb,
    oaiexceptions.CannotDisseminateFormat,
    oaiexceptions.IdDoesNotExist,
    oaiexceptions.NoMetadataFormat,
    oaiexceptions.NoRecordsMatch,
    oaiexceptions.NoSetHierarchy,
    oaiexceptions.OAIError,
)


class OaiHarvester:
    """An OAI-PMH repository (one set, one metadata format) as a Harvester."""

    kind = "oai"

    def __init__(
        self,
        base_url: str,
        client: HttpClient,
        set_spec: str | None = None,
        prefix: str = "oai_dc",
        image_url_template: str | None = None,
        from_date: str | None = None,
    ) -> None:
        self.base_url = base_url.strip()
        self.client = client
        self.set_spec = set_spec or None
        self.prefix = prefix
        self.image_url_template = _checked_template(image_url_template)
        self.from_date = _checked_day(from_date, "--from") if from_date else None
        self._since: str | None = None
        self._newest_day: str | None = None
        self._complete = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], client: HttpClient) -> OaiHarvester:
        """Re-create a source from what `params()` stored."""
        return cls(
            params["url"],
            client,
            set_spec=params.get("set"),
            prefix=params.get("prefix", "oai_dc"),
            image_url_template=params.get("image_url_template"),
        )

    def source_key(self) -> str:
        """Base URL, set and prefix: exactly what selects the records, nothing per-run."""
        selectors = ([f"set={self.set_spec}"] if self.set_spec else []) + [f"prefix={self.prefix}"]
        return f"oai:{self.base_url}?{'&'.join(selectors)}"

    def params(self) -> dict[str, Any]:
        """The stored definition of this source.

        `from_date` is left out on purpose: it is a one-run override, and storing it would pin
        every later incremental run to that date instead of the watermark.
        """
        stored: dict[str, Any] = {"url": self.base_url, "prefix": self.prefix}
        if self.set_spec:
            stored["set"] = self.set_spec
        if self.image_url_template:
            stored["image_url_template"] = self.image_url_template
        return stored

    def events(self, since: str | None) -> Iterator[HarvestEvent]:
        """Records changed since `since` (or the explicit `from_date`), page by page."""
        self._since = _day(since) if since else None
        self._newest_day = None
        self._complete = False
        oai = _StrictSickle(self.base_url, self.client)
        arguments = self._list_arguments()
        listed = 0
        try:
            for element in oai.ListRecords(**arguments):
                listed += 1
                yield self._record_event(element, oai.current_page)
        except SICKLE_OAI_ERRORS as error:
            if not isinstance(error, oaiexceptions.NoRecordsMatch):
                raise _listing_error(error, oai, self.prefix) from error
        if not listed and "from" not in arguments:  # nothing at all, not just nothing new: a typo in --set?
            where = f" in set {self.set_spec!r}" if self.set_spec else ""
            yield SourceNote(f"the server lists no records{where} for metadataPrefix {self.prefix!r}; if you "
                             "expected some, check --set (verb=ListSets lists the sets) and --prefix")
        self._complete = True

    def watermark(self) -> str | None:
        """The newest datestamp's day, once the listing was read to the end.

        Servers list records in no particular datestamp order, so after a partial listing the
        newest day seen could skip older unseen records: then the old watermark stands. The
        day is the granularity every OAI-PMH server accepts for `from`; re-reading that one
        day next time is harmless because the catalogue upserts.
        """
        if not self._complete:
            return self._since
        days = [day for day in (self._newest_day, self._since) if day]
        return max(days) if days else None

    def _list_arguments(self) -> dict[str, str]:
        arguments = {"metadataPrefix": self.prefix}
        if self.set_spec:
            arguments["set"] = self.set_spec
        start = self.from_date or self._since
        if start:
            arguments["from"] = start
        return arguments

    def _record_event(self, record: etree._Element, page: str) -> HarvestEvent:
        where = f"{page}, record {record.getparent().index(record) + 1}"
        header_element = record.find(f"{{{OAI_NS}}}header")
        if header_element is None:
            return RecordProblem(where, "record has no <header>; skipped")
        header = Header(header_element)
        identifier = (header.identifier or "").strip()
        if not identifier:
            return RecordProblem(where, "record has no identifier, so it cannot be catalogued; skipped")
        datestamp = (header.datestamp or "").strip() or None
        self._note_datestamp(datestamp)
        raw: dict[str, Any] = {
            "prefix": self.prefix,
            "header": {"identifier": identifier, "datestamp": datestamp, "setSpecs": header.setSpecs},
        }
        if header.deleted:
            return HarvestedItem(identifier, deleted=True, datestamp=datestamp, raw=raw)
        metadata = _metadata_element(record)
        if metadata is None:
            return RecordProblem(f"{where} ({identifier})", "live record without <metadata>; skipped")
        item = map_metadata(identifier, metadata)
        item.datestamp = datestamp
        item.raw = {**raw, **item.raw, "xml": etree.tostring(metadata, encoding="unicode")}
        if self.image_url_template:
            item.images = [ImageRef(url=format_image_url(self.image_url_template, identifier))]
        return item

    def _note_datestamp(self, datestamp: str | None) -> None:
        day = _day(datestamp) if datestamp else None
        if day and (self._newest_day is None or day > self._newest_day):
            self._newest_day = day


class _Page(OAIResponse):
    """One response, parsed once; sickle's iterator reads `.xml` several times per page."""

    def __init__(self, root: etree._Element, params: dict[str, str]) -> None:
        super().__init__(http_response=None, params=params)
        self._root = root

    @property
    def xml(self) -> etree._Element:
        return self._root


def _record_element(element: etree._Element) -> etree._Element:
    """sickle's item mapper for ListRecords: keep the element; our mapping reads it directly."""
    return element


class _StrictSickle(Sickle):
    """sickle's paging and error codes over our HttpClient and strict, parse-once XML."""

    def __init__(self, endpoint: str, client: HttpClient) -> None:
        super().__init__(endpoint, class_mapping={**DEFAULT_CLASS_MAP, "ListRecords": _record_element})
        self.client = client
        self.pages_requested = 0
        self.current_page = "page 1"
        self.last_page: _Page | None = None
        self._tokens_requested: set[str] = set()

    def harvest(self, **kwargs: str) -> _Page:
        """Fetch and parse one page (sickle calls this for the first page and each token)."""
        self._refuse_repeated_token(kwargs.get("resumptionToken"))
        self.pages_requested += 1
        url = _with_query(self.endpoint, {"verb": kwargs["verb"], **kwargs})
        self.current_page = f"page {self.pages_requested} ({url})"
        self.last_page = _Page(self._fetch_page(url), kwargs)
        return self.last_page

    def _refuse_repeated_token(self, token: str | None) -> None:
        """A server that hands out a token twice would make the listing loop forever."""
        if token is None:
            return
        if token in self._tokens_requested:
            raise HarvestError(
                f"OAI-PMH {self.current_page}: the server returned resumptionToken {token!r} a second "
                "time; stopped to avoid an endless loop (report this to the archive)"
            )
        self._tokens_requested.add(token)

    def _fetch_page(self, url: str) -> etree._Element:
        """Fetch and parse, fetching again when the body arrived cut off or malformed."""
        where = f"OAI-PMH {self.current_page}"
        problem = ""
        for attempt in range(PAGE_ATTEMPTS):
            if attempt:
                time.sleep(self.client.settings.backoff * 2 ** (attempt - 1))
            try:
                body = self.client.get_bytes(url)
            except FetchError as error:
                raise HarvestError(  # the FetchError names the URL already
                    f"OAI-PMH page {self.pages_requested} could not be fetched: {error}; "
                    "check the base URL, or try again later"
                ) from error
            try:
                return _oai_root(parse_xml(body, where), where)
            except XMLEntitiesError as error:
                raise HarvestError(f"{error}. OAI-PMH responses never need entities: report this to the archive") from error
            except UnsafeXMLError as error:
                problem = str(error)  # cut off, malformed or empty: usually transient
        raise HarvestError(
            f"{problem}; still unreadable after {PAGE_ATTEMPTS} attempts. The server keeps sending a "
            "truncated or broken page: try again later, or report it to the archive"
        )


def _oai_root(root: etree._Element, where: str) -> etree._Element:
    """Refuse well-formed pages that are not OAI-PMH (an HTML error page would list nothing)."""
    if root.tag != f"{{{OAI_NS}}}OAI-PMH":
        raise HarvestError(
            f"{where} is not an OAI-PMH response (root element {etree.QName(root).localname!r}); "
            "check that the URL is the repository's OAI-PMH base URL"
        )
    return root


def _with_query(endpoint: str, arguments: Mapping[str, str]) -> str:
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(arguments)


def _listing_error(error: Exception, oai: _StrictSickle, prefix: str) -> HarvestError:
    """Turn an OAI error response into a message that says what happened and what to do."""
    code, text = type(error).__name__, str(error).strip()
    if oai.last_page is not None:
        element = oai.last_page.xml.find(f".//{{{OAI_NS}}}error")
        if element is not None:
            code, text = element.get("code", code), " ".join((element.text or "").split())
    told = f" ({text})" if text else ""
    advice = _advice(code, prefix)
    return HarvestError(f"OAI-PMH {oai.current_page}: the server answered {code}{told}; {advice}")


def _advice(code: str, prefix: str) -> str:
    if code == "cannotDisseminateFormat":
        return (
            f"the server does not offer metadataPrefix {prefix!r}; try --prefix oai_dc "
            "(every OAI-PMH server offers it; verb=ListMetadataFormats lists the others)"
        )
    if code == "noSetHierarchy":
        return "the server does not support sets; run again without --set"
    if code == "badArgument":
        return (
            "the server rejected the request's arguments; check --set and --from (a date like "
            "2024-01-31), and give the base URL without query parameters"
        )
    if code == "badResumptionToken":
        return (
            "the server rejected its own resumptionToken (expired or invalid); run the harvest again: "
            "records already stored are kept and are not added twice"
        )
    if code in ("badVerb", "idDoesNotExist"):
        return "that answer does not fit a ListRecords request; check that the URL is an OAI-PMH base URL"
    return "check the URL and options, or try again later"


def _checked_template(template: str | None) -> str | None:
    """Validate up front so a bad template fails before any page is fetched."""
    if template is None:
        return None
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        raise HarvestError(f"--image-url-template {template!r} is not a valid template: {error}") from error
    unknown = fields - TEMPLATE_FIELDS
    if unknown or not template.startswith(("http://", "https://")):
        raise HarvestError(
            f"--image-url-template {template!r} must be an http(s) URL using only {{id}} and "
            f"{{local_id}}{f'; unknown: {sorted(unknown)}' if unknown else ''}"
        )
    return template


def format_image_url(template: str, identifier: str) -> str:
    """`{id}` is the whole OAI identifier, `{local_id}` the part after its last ':' (both URL-quoted)."""
    local_id = identifier.rsplit(":", 1)[-1]
    return template.format(id=quote(identifier, safe=""), local_id=quote(local_id, safe=""))


def _day(datestamp: str) -> str | None:
    """YYYY-MM-DD from an OAI datestamp (also the compact 20210311 some servers send)."""
    match = DAY.match(datestamp)
    return "-".join(match.groups()) if match else None


def _checked_day(value: str, what: str) -> str:
    day = _day(value)
    if day is None:
        raise HarvestError(f"{what} must be a date like 2024-01-31, got {value!r}")
    return day


def _metadata_element(record: etree._Element) -> etree._Element | None:
    """The format's root element inside <metadata> (oai_dc:dc, mods:mods, ...)."""
    metadata = record.find(f"{{{OAI_NS}}}metadata")
    if metadata is None:
        return None
    return next((child for child in metadata if isinstance(child.tag, str)), None)


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
