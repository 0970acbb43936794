"""Malformed and hostile inputs as a broken archive (or an attacker) would serve them.

Everything is built in memory from small parts: OAI-PMH pages around hand-written records,
XML that tries entity expansion and external entities, image files that lie about their size.
A real decompression bomb is a complete, valid PNG, so a test can show that it is refused by
the pixel cap from its header, not by running out of memory while decoding it.
"""
from __future__ import annotations

import struct
import zlib
from xml.sax.saxutils import escape

from tests.support.badimages import _png_chunk
from tests.support.images import make_jpeg

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NAMESPACES = (
    'xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def oai_record(identifier_xml: str | None, *, title: str = "Poster", date: str | None = None,
               description: str | None = None, image_url: str | None = None, header: bool = True,
               metadata: bool = True, datestamp: str = "2024-03-01") -> str:
    """One oai_dc record; `identifier_xml` goes in as given, so a test can put character
    references such as `&#10;` into it (None: an empty identifier)."""
    fields = [f"<dc:title>{escape(title)}</dc:title>"]
    fields += [f"<dc:date>{escape(date)}</dc:date>"] if date is not None else []
    fields += [f"<dc:description>{escape(description)}</dc:description>"] if description else []
    fields += [f"<dc:identifier>{escape(image_url)}</dc:identifier>"] if image_url else []
    head = (f"<header><identifier>{identifier_xml or ''}</identifier><datestamp>{datestamp}</datestamp>"
            "</header>") if header else ""
    body = f"<metadata><oai_dc:dc {DC_NAMESPACES}>{''.join(fields)}</oai_dc:dc></metadata>" if metadata else ""
    return f"<record>{head}{body}</record>"


def oai_page(records: list[str], token: str | None = None, doctype: str = "") -> bytes:
    """A ListRecords response; `token` ("" ends the list) and a `doctype` placed before the root."""
    resumption = f"<resumptionToken>{escape(token)}</resumptionToken>" if token is not None else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<OAI-PMH xmlns="{OAI_NS}">'
        "<responseDate>2024-03-02T00:00:00Z</responseDate><request verb=\"ListRecords\">http://archive.test/oai</request>"
        f"<ListRecords>{''.join(records)}{resumption}</ListRecords></OAI-PMH>"
    ).encode("utf-8")


def entity_page(declarations: str, title_xml: str) -> bytes:
    """A one-record page whose DOCTYPE declares `declarations` and whose title uses them."""
    record = oai_record("oai:hostile:1").replace("<dc:title>Poster</dc:title>", f"<dc:title>{title_xml}</dc:title>")
    return oai_page([record], doctype=f"<!DOCTYPE OAI-PMH [{declarations}]>")


def billion_laughs_page() -> bytes:
    """Ten levels of ten-fold entity references: 10^10 "lol"s once expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    ]
    return entity_page("".join(levels), "&lol9;")


def single_colour_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit greyscale PNG of width×height white pixels.

    Rows are compressed one at a time, so building a 30000×30000 bomb (900 M pixels, 2.7 GB as
    RGB) needs a few kilobytes of memory and comes out a few hundred kilobytes long.
    """
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
            + _png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small valid JPEG whose frame header (SOF0) claims width×height."""
    data = bytearray(make_jpeg(64, 48, seed=width % 251))
    frame = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, frame + 5, height, width)
    return bytes(data)


def bmp_claiming(width: int, height: int) -> bytes:
    """A 54-byte BMP header claiming a 24-bit width×height image, with no pixels after it."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info


def png_with_bad_crc() -> bytes:
    """A small PNG whose IHDR checksum is wrong (a bit flipped in transit)."""
    data = bytearray(single_colour_png(40, 30))
    data[29] ^= 0xFF  # the last byte of IHDR's CRC
    return bytes(data)
