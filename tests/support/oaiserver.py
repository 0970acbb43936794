"""A small dynamic OAI-PMH server over real records, for incremental-harvest tests."""
from __future__ import annotations

from lxml import etree

from tests.support.localserver import Reply, Request

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
NS = {"o": OAI_NS}


class FsuOaiServer:
    """An OAI-PMH ListRecords endpoint over the real FSU records.

    It filters by header datestamp >= `from` (day granularity, as OAI-PMH defines it) and pages
    20 records at a time with resumptionTokens that carry the filter and the offset.
    """

    PAGE_SIZE = 20

    def __init__(self, dump: bytes) -> None:
        root = etree.fromstring(dump)
        self.records = [
            (record.findtext("o:header/o:datestamp", namespaces=NS), etree.tostring(record))
            for record in root.iterfind(".//o:record", NS)
        ]

    def __call__(self, request: Request) -> Reply:
        query = request.query
        if "resumptionToken" in query:
            start, _, offset = query["resumptionToken"].partition("|")
            return self._page(start, int(offset))
        if query.get("metadataPrefix") != "mods":
            return self._error("cannotDisseminateFormat")
        return self._page(query.get("from", ""), 0)

    def _page(self, start: str, offset: int) -> Reply:
        matching = [xml for datestamp, xml in self.records if datestamp[:10] >= start]
        if not matching:
            return self._error("noRecordsMatch")
        end = offset + self.PAGE_SIZE
        token = f"{start}|{end}" if end < len(matching) else ""
        resumption = (
            f'<resumptionToken completeListSize="{len(matching)}" cursor="{offset}">{token}</resumptionToken>'
        ).encode()
        return self._envelope(b"<ListRecords>" + b"".join(matching[offset:end]) + resumption + b"</ListRecords>")

    def _error(self, code: str) -> Reply:
        return self._envelope(f'<error code="{code}"/>'.encode())

    @staticmethod
    def _envelope(content: bytes) -> Reply:
        return Reply(body=(
            f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}">'
            '<responseDate>2017-04-20T00:00:00Z</responseDate><request verb="ListRecords">http://fsu.test/oai2</request>'
        ).encode() + content + b"</OAI-PMH>")
