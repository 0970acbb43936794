"""Parsing remote XML safely and strictly.

Remote XML is untrusted: entity expansion (billion laughs), external entities (XXE) and
external DTDs are refused, no network or DTD is ever loaded, and a truncated page is an error rather than a
silently shortened document (lxml's `recover` mode would drop records without a word).
"""
from __future__ import annotations

import re

from lxml import etree

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\s")


class UnsafeXMLError(ValueError):
    """The document is malformed or declares entities; the message says which."""


class XMLEntitiesError(UnsafeXMLError):
    """The document declares entities: refused, and not worth fetching again."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
        remove_blank_text=True,
    )


def parse_xml(data: bytes, where: str = "document") -> etree._Element:
    """Parse `data` or raise UnsafeXMLError naming `where` and the reason."""
    if not data.strip():
        raise UnsafeXMLError(f"{where}: empty response where XML was expected")
    refused = XMLEntitiesError(
        f"{where}: XML declares entities in a DOCTYPE (refused unread: entity expansion / XXE risk; "
        "nothing was resolved or fetched)"
    )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        # libxml2 rejects a billion-laughs document as malformed (amplification limit): name the cause.
        if _ENTITY_DECLARATION.search(data):
            raise refused from error
        reason = " ".join(str(error).split())  # libxml2 breaks some messages over lines; reports are one line each
        raise UnsafeXMLError(f"{where}: malformed XML ({reason})") from error
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise refused
    if docinfo.system_url or docinfo.public_id:
        # Never loaded, so any entity it defines would be silently left out of the text.
        raise XMLEntitiesError(
            f"{where}: XML names an external DTD ({docinfo.system_url or docinfo.public_id}); refused unread "
            "(XXE risk; nothing was fetched)"
        )
    return root
