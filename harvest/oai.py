"""OAI-PMH harvesting: ListRecords pages become HarvestedItem / RecordProblem events.

sickle speaks the protocol (ListRecords, resumptionToken paging, OAI error codes). We subclass
it for three reasons: every request goes through our HttpClient (retries, backoff, size cap,
User-Agent), every page is parsed exactly once by our strict parser (sickle's own parser runs
with recover=True, which silently drops the records of a truncated page, and re-parses on every
`.xml` access), and a page that arrives malformed is fetched again before the harvest gives up.

Each record's metadata is mapped by `harvest.oai_metadata` (oai_dc, qualified DC and MODS);
this module hands it the record's metadata element and keeps the OAI envelope (identifier,
datestamp, deleted status). Record identifiers are only ever catalogue strings: nothing here
builds a file path from them.
"""
from __future__ import annotations

import re
import string
import time
from typing import Any, Iterator, Mapping
from urllib.parse import quote, urlencode

from lxml import etree
from sickle import Sickle, oaiexceptions
from sickle.app import DEFAULT_CLASS_MAP
from sickle.models import Header
from sickle.response import OAIResponse

from postercensus.harvest.http import FetchError, HttpClient
from postercensus.harvest.oai_metadata import map_metadata
from postercensus.harvest.records import (
    HarvestedItem,
    HarvestError,
    HarvestEvent,
    ImageRef,
    RecordProblem,
    SourceNote,
)
from postercensus.harvest.xmlsafe import UnsafeXMLError, XMLEntitiesError, parse_xml

OAI_NS = "http://www.openarchives.org/OAI/2.0/"

PAGE_ATTEMPTS = 3
TEMPLATE_FIELDS = frozenset({"id", "local_id"})
DAY = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})")

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
