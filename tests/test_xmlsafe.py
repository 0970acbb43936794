"""Remote XML is parsed strictly and never expands entities."""
from __future__ import annotations

import pytest

from postercensus.harvest.xmlsafe import UnsafeXMLError, parse_xml

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<r>&secret;</r>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"""


def test_well_formed_xml_parses():
    assert parse_xml(b"<a><b>x</b></a>").findtext("b") == "x"


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_declarations_are_refused(payload):
    with pytest.raises(UnsafeXMLError, match="entities"):
        parse_xml(payload, where="page 1")


@pytest.mark.parametrize("payload", [b"<a><b>cut", b"broken xml", b"", b"   "])
def test_truncated_or_empty_xml_is_an_error(payload):
    with pytest.raises(UnsafeXMLError):
        parse_xml(payload)
