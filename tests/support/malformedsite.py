"""An archive full of malformed and hostile inputs, with good items mixed in, for the fault test.

`MalformedArchive` serves an OAI-PMH listing, hostile OAI-PMH pages and a IIIF collection from
127.0.0.1 and writes a CSV export with a folder of scans. Every bad input is entered in the
inventory with a marker (`bad001`, …, or a CSV line such as `posters.csv:7:`) that appears in
the one error message a correct harvest gives for it, so a test can check that each is reported
exactly once; every good item is listed with what the later stages must find in it.
"""
from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from postercensus.harvest.iiif import MAX_DEPTH
from tests.support.badimages import bomb_png, truncated_jpeg
from tests.support.hostile import (
    billion_laughs_page,
    bmp_claiming,
    entity_page,
    jpeg_claiming,
    oai_page,
    oai_record,
    png_with_bad_crc,
    single_colour_png,
)
from tests.support.images import make_jpeg
from tests.support.localserver import LocalServer, Reply, Request
from tests.support.posters import small_poster

ONE_GB = str(1024**3)
MENTION = "A woman tractor driver and two male workers at the harvest."
HTML = b"<!DOCTYPE html><html><body><h1>Service unavailable</h1><p>Try later<br></body></html>"
BAD_DATES = ("19455", "1941-13-01", "2050-13-45", "1945-02-30", "0000-00-00", "2999", "1941-00-10",
             "9999-99-99", "undated 12345", "1941-04-31", "x" * 300)


@dataclass(frozen=True)
class Bad:
    """One malformed input: where it enters (`source`: oai, iiif, csv, page or text), a kind for
    the figures, and the marker its one error message contains."""

    source: str
    kind: str
    marker: str


@dataclass(frozen=True)
class Good:
    """A good item: its source kind and id, and whether its image holds faces / its description a mention."""

    source: str
    item_id: str
    faces: bool
    mention: bool


@dataclass
class Inventory:
    bad: list[Bad] = field(default_factory=list)
    good: list[Good] = field(default_factory=list)

    def mark(self, source: str, kind: str) -> str:
        """A fresh marker (bad001, bad002, …) for a bad input of `source`."""
        marker = f"bad{len(self.bad) + 1:03d}"
        self.bad.append(Bad(source, kind, marker))
        return marker

    def add(self, source: str, kind: str, marker: str) -> None:
        self.bad.append(Bad(source, kind, marker))

    def of(self, source: str) -> list[Bad]:
        return [bad for bad in self.bad if bad.source == source]


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


class MalformedArchive:
    """Use as a context manager: the server runs, the CSV and files exist under `root`."""

    def __init__(self, root: Path, shared_data: Path) -> None:
        self.root = root
        self.shared_data = shared_data
        self.inventory = Inventory()
        self.routes: dict[str, Reply | Callable[[Request], Reply]] = {}
        self.pages: dict[str, str] = {}  # marker → the hostile OAI-PMH base URL
        self.secret = f"XXE-SECRET-{uuid.uuid4().hex}"
        self.secret_file = root / "secret.txt"
        self.outside = root / "outside"  # real images that no source may copy in
        self.csv = root / "csv" / "posters.csv"
        self.images = root / "csv" / "images"
        self.server = LocalServer(self._answer)
        self._bomb = single_colour_png(30_000, 30_000)

    def __enter__(self) -> "MalformedArchive":
        self.server.__enter__()
        self.root.mkdir(parents=True, exist_ok=True)
        self.secret_file.write_text(self.secret, encoding="utf-8")
        self.outside.mkdir()
        self._build_oai()
        self._build_pages()
        self._build_iiif()
        self._build_csv()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    @property
    def oai_url(self) -> str:
        return self.server.url("/oai")

    @property
    def iiif_url(self) -> str:
        return self.server.url("/iiif/collection.json")

    def requested(self, fragment: str) -> bool:
        return any(fragment in request.path for request in self.server.requests)

    def _answer(self, request: Request) -> Reply:
        route = self.routes.get(request.path)
        if route is None:
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        return route(request) if callable(route) else route

    def _poster(self, index: int) -> Image.Image:
        return small_poster(self.shared_data, index).image

    def _image(self, name: str, reply: Reply) -> str:
        self.routes[f"/img/{name}"] = reply
        return self.server.url(f"/img/{name}")

    # -- OAI-PMH: one listing of two pages -----------------------------------------------------

    def _build_oai(self) -> None:
        inv, page1, page2 = self.inventory, [], []
        for index in range(3):
            url = self._image(f"oai-good-{index}.jpg", Reply(body=_encode(self._poster(index), "JPEG")))
            page1.append(oai_record(f"oai:good:{index}", date="1941-05-09", description=MENTION, image_url=url))
            inv.good.append(Good("oai", f"oai:good:{index}", faces=True, mention=True))
        for identifier in ("../../etc/passwd", "oai:x:/../../../home"):  # odd, but only ever a catalogue key
            page1.append(oai_record(identifier, date="1942", description=MENTION))
            inv.good.append(Good("oai", identifier, faces=False, mention=True))
        for date in BAD_DATES:
            page1.append(oai_record(f"oai:fault:{inv.mark('oai', 'bad date')}", date=date))
        broken_images = {
            "1 GB Content-Length": Reply(body=b"", headers={"Content-Length": ONE_GB, "Content-Type": "image/jpeg"}),
            "HTML served as image/jpeg": Reply(body=HTML, headers={"Content-Type": "image/jpeg"}),
            "404": Reply(404, b"not found"),
            "truncated JPEG": Reply(body=truncated_jpeg(), headers={"Content-Type": "image/jpeg"}),
            "zero-byte body": Reply(body=b"", headers={"Content-Type": "image/jpeg"}),
            "PNG decompression bomb": Reply(body=self._bomb, headers={"Content-Type": "image/png"}),
            "JPEG claiming 65000x65000": Reply(body=jpeg_claiming(65_000, 65_000)),
            "text body": Reply(body=b"hello, not a picture", headers={"Content-Type": "text/plain"}),
            "HTTP 500": Reply(500, b"internal error"),
            "connection reset": Reply(reset=True),
            "body cut off": Reply(body=_encode(self._poster(0), "JPEG"), drop_after=1000),
        }
        for kind, reply in broken_images.items():
            marker = inv.mark("oai", f"image: {kind}")
            page1.append(oai_record(f"oai:fault:{marker}", date="1941", image_url=self._image(f"{marker}.jpg", reply)))
        for identifier in ("{m}:" + "x" * 5000, "oai:fault:{m}&#10;line", "oai:fault:{m}&#9;tab",
                           "oai:fault:{m}&#13;cr", "oai:fault:{m}&#127;del"):
            page2.append(oai_record(identifier.format(m=inv.mark("oai", "identifier"))))
        page2.append(oai_record(f"oai:fault:{inv.mark('oai', 'record without metadata')}", metadata=False))
        for position, record in ((len(page2) + 1, oai_record(None)), (len(page2) + 2, oai_record("x", header=False))):
            page2.append(record)
            inv.add("oai", "record without identifier", f"resumptionToken=p2), record {position}:")
        huge = f"oai:fault:{inv.mark('text', 'description of 2 MB')}"
        page2.append(oai_record(huge, date="1941", description="Lorem ipsum dolor sit amet. " * 75_000))
        inv.good.append(Good("oai", huge, faces=False, mention=False))
        pages = {"": oai_page(page1, token="p2"), "p2": oai_page(page2, token="")}
        self.routes["/oai"] = lambda request: Reply(body=pages[request.query.get("resumptionToken", "")])

    # -- hostile OAI-PMH pages, each at its own base URL ---------------------------------------

    def _build_pages(self) -> None:
        def page(kind: str, reply: Reply | Callable[[Request], Reply]) -> str:
            marker = self.inventory.mark("page", kind)
            self.routes[f"/page/{marker}"] = reply
            self.pages[marker] = self.server.url(f"/page/{marker}")
            return marker

        secret = f"file://{self.secret_file}"
        valid = oai_page([oai_record("oai:page:1", description=MENTION)], token="")
        page("XXE (external entity to a local file)",
             Reply(body=entity_page(f'<!ENTITY secret SYSTEM "{secret}">', "&secret;")))
        page("XXE (parameter entity)", Reply(body=entity_page(f'<!ENTITY % ext SYSTEM "{secret}"> %ext;', "x")))
        marker = page("XXE (entity fetching a URL)", Reply())
        self.routes[f"/page/{marker}"] = Reply(body=entity_page(
            f'<!ENTITY secret SYSTEM "{self.server.url("/ssrf/" + marker)}">', "&secret;"))
        marker = page("external DTD", Reply())
        self.routes[f"/page/{marker}"] = Reply(body=valid.replace(
            b"<OAI-PMH", f'<!DOCTYPE OAI-PMH SYSTEM "{self.server.url("/ssrf/" + marker + ".dtd")}"><OAI-PMH'.encode(), 1))
        page("billion laughs", Reply(body=billion_laughs_page()))
        page("quadratic blowup", Reply(body=entity_page(f'<!ENTITY a "{"x" * 50_000}">', "&a;" * 2_000)))
        page("truncated XML", Reply(body=valid[: len(valid) // 2]))
        page("empty body", Reply(body=b""))
        page("binary garbage", Reply(body=bytes(range(256)) * 8))
        page("well-formed HTML", Reply(body=b"<html><body><h1>Maintenance</h1></body></html>"))
        page("malformed HTML", Reply(body=HTML))
        page("NUL byte", Reply(body=valid.replace(b"oai:page:1", b"oai:page:\x00")))
        page("Latin-1 bytes in UTF-8", Reply(body=valid.replace(MENTION.encode(), "Fran\xe7aise".encode("latin-1"))))
        page("nested 1000 deep", Reply(body=b"<OAI-PMH>" + b"<a>" * 1000 + b"</a>" * 1000 + b"</OAI-PMH>"))
        page("1 GB Content-Length", Reply(body=b"", headers={"Content-Length": ONE_GB}))
        page("resumptionToken repeated", Reply(body=oai_page([], token="again")))
        second = oai_page([oai_record("oai:page:2", description=MENTION)], token="")
        marker = page("second page truncated", Reply())
        self.routes[f"/page/{marker}"] = lambda request: Reply(
            body=second[:200] if request.query.get("resumptionToken") else oai_page(
                [oai_record(f"oai:good-before-{marker}", description=MENTION)], token="more"))
        self.inventory.good.append(Good("oai", f"oai:good-before-{marker}", faces=False, mention=True))

    # -- IIIF: a collection of manifests -------------------------------------------------------

    def _manifest(self, path: str, image: str | None = None, **fields) -> dict:
        manifest = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": self.server.url(path),
                    "type": "Manifest", "label": {"en": ["Poster"]}, **fields}
        if image is not None:
            body = {"id": image, "type": "Image", "format": "image/jpeg"}
            manifest["items"] = [{"id": self.server.url(path + "/c1"), "type": "Canvas", "items": [
                {"type": "AnnotationPage", "items": [{"type": "Annotation", "motivation": "painting", "body": body}]}]}]
        return manifest

    def _nested_collection(self, marker: str, depth: int) -> str:
        """A chain of `depth` collections below the top one, each listing the next; the innermost
        (the one past the harvester's limit when `depth` is MAX_DEPTH + 1) is named by `marker`."""
        paths = [f"/iiif/nest{level}.json" for level in range(depth - 1)] + [f"/iiif/{marker}.json"]
        for path, inner in zip(paths, paths[1:] + [None]):
            items = [{"id": self.server.url(inner), "type": "Collection"}] if inner else []
            self.routes[path] = Reply(body=json.dumps({"id": self.server.url(path), "type": "Collection",
                                                       "items": items}).encode())
        return self.server.url(paths[0])

    def _build_iiif(self) -> None:
        inv, members = self.inventory, []

        def serve(path: str, body: bytes | dict | Reply) -> None:
            members.append(self.server.url(path))
            if isinstance(body, dict):
                body = json.dumps(body).encode()
            self.routes[path] = body if isinstance(body, Reply) else Reply(body=body)

        good_image = self._image("iiif-good.jpg", Reply(body=_encode(self._poster(3), "JPEG")))
        serve("/iiif/good.json", self._manifest("/iiif/good.json", good_image, summary={"en": [MENTION]},
                                                navDate="1941-01-01T00:00:00Z"))
        inv.good.append(Good("iiif", self.server.url("/iiif/good.json"), faces=True, mention=True))
        odd = self._manifest("/iiif/odd.json", summary={"en": [MENTION]}) | {"id": "../../etc/passwd"}
        serve("/iiif/odd.json", odd)
        inv.good.append(Good("iiif", "../../etc/passwd", faces=False, mention=True))

        valid = json.dumps(self._manifest("/iiif/x.json")).encode()
        documents = {
            "truncated JSON": valid[: len(valid) // 2],
            "JSON array": b"[1, 2, 3]",
            "HTML": HTML,
            "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
            "empty body": b"",
            "invalid UTF-8": b'{"id": "\xff\xfe", "type": "Manifest"}',
            "404": Reply(404, b"not found"),
            "1 GB Content-Length": Reply(body=b"", headers={"Content-Length": ONE_GB}),
        }
        for kind, body in documents.items():
            serve(f"/iiif/{inv.mark('iiif', f'manifest: {kind}')}.json", body)
        marker = inv.mark("iiif", "manifest: type missing")
        serve(f"/iiif/{marker}.json", {"id": self.server.url(f"/iiif/{marker}.json"), "label": "untyped"})
        marker = inv.mark("iiif", "identifier")
        serve(f"/iiif/{marker}.json", self._manifest(f"/iiif/{marker}.json") | {"id": f"{marker}\u0000nul"})
        marker = inv.mark("iiif", "identifier")
        serve(f"/iiif/{marker}.json", self._manifest(f"/iiif/{marker}.json") | {"id": marker + "y" * 5000})
        serve("/iiif/nul.json", self._manifest("/iiif/nul.json", label={"en": ["Pos\u0000ter"]},
                                               summary={"en": [MENTION + "\u0000"]}))  # stored without the NULs
        inv.good.append(Good("iiif", self.server.url("/iiif/nul.json"), faces=False, mention=True))
        marker = inv.mark("iiif", "bad date")
        serve(f"/iiif/{marker}.json", self._manifest(f"/iiif/{marker}.json", navDate="2050-13-45"))
        marker = inv.mark("iiif", "path traversal: local image path")
        local_jpeg = self.outside / f"private-{marker}.jpg"  # a real image on this computer
        local_jpeg.write_bytes(make_jpeg(40, 30, seed=77))
        serve(f"/iiif/{marker}.json", self._manifest(f"/iiif/{marker}.json", str(local_jpeg)))
        marker = inv.mark("iiif", "path traversal: file:// image")
        serve(f"/iiif/{marker}.json", self._manifest(f"/iiif/{marker}.json", f"file:///etc/passwd?{marker}"))
        for kind, reply in (("image: HTML served as image/jpeg", Reply(body=HTML, headers={"Content-Type": "image/jpeg"})),
                            ("image: 1 GB Content-Length", Reply(body=b"", headers={"Content-Length": ONE_GB}))):
            marker = inv.mark("iiif", kind)
            serve(f"/iiif/{marker}.json", self._manifest(f"/iiif/{marker}.json", self._image(f"{marker}.jpg", reply)))
        marker = inv.mark("iiif", "collections nested too deep")
        members.append(self._nested_collection(marker, depth=MAX_DEPTH + 1))
        marker = inv.mark("iiif", "path traversal: file:// member")
        members.append(f"file:///etc/passwd?{marker}")
        collection = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": self.iiif_url,
                      "type": "Collection", "label": {"en": ["Posters"]},
                      "items": [{"id": url, "type": "Manifest"} for url in members]}
        self.routes["/iiif/collection.json"] = Reply(body=json.dumps(collection).encode())

    # -- CSV export and a folder of scans ------------------------------------------------------

    def _build_csv(self) -> None:
        inv, rows = self.inventory, []
        self.images.mkdir(parents=True)

        def row(item_id: str, image: str = "", date: str = "1941", description: str = "") -> str:
            rows.append([item_id, "Poster", date, image, description])
            return f"{self.csv.name}:{len(rows) + 1}:"  # the harvester counts the header as line 1

        goods = {
            "plain.jpg": _encode(self._poster(4), "JPEG"),
            "cmyk.jpg": _encode(self._poster(5).convert("CMYK"), "JPEG"),
            "grey16.png": _encode(Image.fromarray(np.asarray(self._poster(6).convert("L"), dtype=np.uint16) * 257), "PNG"),
            "palette.png": _encode(self._poster(7).quantize(256), "PNG"),
            "grey.png": _encode(self._poster(8).convert("L"), "PNG"),
        }
        for name, data in goods.items():
            (self.images / name).write_bytes(data)
            row(f"csv:{name}", name, description=MENTION)
            inv.good.append(Good("csv", f"csv:{name}", faces=True, mention=True))
        row("../../../tmp/odd-id", "plain.jpg", description=MENTION)
        inv.good.append(Good("csv", "../../../tmp/odd-id", faces=True, mention=True))

        files = {
            "truncated JPEG": truncated_jpeg(),
            "zero-byte file": b"",
            "text named .jpg": b"id,title\nthis is a spreadsheet\n",
            "HTML named .jpg": HTML,
            "PNG decompression bomb (30000x30000)": self._bomb,
            "PNG header claiming 60000x60000": bomb_png(),
            "JPEG claiming 65000x65000": jpeg_claiming(65_000, 65_000),
            "BMP claiming 65000x65000": bmp_claiming(65_000, 65_000),
            "JPEG cut inside its header": make_jpeg(300, 200, seed=4, noise=True)[:300],
            "PNG with a bad checksum": png_with_bad_crc(),
            "GIF header only": b"GIF89a\x10\x00\x10\x00",
            "TIFF header only": b"II*\x00\x08\x00\x00\x00",
            "WebP header only": b"RIFF\x10\x00\x00\x00WEBPVP8 ",
            "JPEG claiming 0x0": jpeg_claiming(0, 0),
        }
        for kind, data in files.items():
            marker = inv.mark("csv", f"image: {kind}")
            (self.images / f"{marker}.img").write_bytes(data)
            row(f"csv:{marker}", f"{marker}.img")
        marker = inv.mark("csv", "image: file missing")
        row(f"csv:{marker}", f"{marker}.jpg")

        outside = self.root / "csv" / "outside.jpg"  # a real image just outside --images
        outside.write_bytes(make_jpeg(40, 30, seed=78))
        (self.images / "link.jpg").symlink_to(outside)
        for number, image in enumerate(("../outside.jpg", str(outside), "link.jpg", "../../etc/passwd",
                                        "images/../../outside.jpg")):
            inv.add("csv", "path traversal: image path", row(f"csv:traversal-{number}", image))
        for identifier in ("{m}\x00nul", "{m}" + "z" * 5000, "csv:{m}\rcr"):
            row(identifier.format(m=inv.mark("csv", "identifier")), "plain.jpg")
        inv.add("csv", "empty identifier", row(""))
        row("csv:twice")
        inv.add("csv", "repeated identifier", row("csv:twice"))
        inv.good.append(Good("csv", "csv:twice", faces=False, mention=False))
        for date in ("19455", "1938-13-01", "2050-13-45", "0000-00-00", "1941-02-29", "2100", "1950-02-31", "20XX"):
            row(f"csv:{inv.mark('csv', 'bad date')}", date=date)
        row("csv:nul-in-text", description=f"A\x00 woman welder. {MENTION}")  # stored without the NUL
        inv.good.append(Good("csv", "csv:nul-in-text", faces=False, mention=True))
        text = io.StringIO(newline="")
        csv.writer(text).writerows([["id", "title", "date", "image", "description"], *rows])
        inv.add("csv", "not UTF-8", f"{self.csv.name}:{len(rows) + 2}:")
        self.csv.write_bytes(text.getvalue().encode("utf-8") + b'csv:latin,"Affiche fran\xe7aise",1941,,\r\n')
