"""The real IIIF fixtures as their original hosts would serve them, from 127.0.0.1.

`IiifSite` serves every fixture at the path its own id names, with each absolute
`http(s)://HOST/` in the served text moved to `{base}/HOST/`: the documents keep their real
structure (ids, links between collections and manifests, Image API services) while every
request the harvester makes lands on the local server. Other GETs of image files answer small
JPEGs; anything else is a 404, like a member the fixture set does not contain.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.support.images import make_jpeg
from tests.support.localserver import LocalServer, Reply, Request

HOST_URL = re.compile(r"https?://([^/\s\"'<>]+)/")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".jp2", ".webp")
COOKBOOK = "https://iiif.io/api/cookbook/recipe"


class IiifSite:
    """The fixture documents as their original hosts would serve them, all on one local server.

    `extra` adds documents for one test, `fixed` answers a path with one reply every time and
    `scripted` queues replies for a path (consumed before the document is served), so failures
    are injected without touching the fixtures.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = LocalServer(self._answer)
        self.documents: dict[str, bytes] = {}
        self.extra: dict[str, bytes] = {}
        self.fixed: dict[str, Reply] = {}
        self.scripted: dict[str, list[Reply]] = {}
        self._image_seeds: dict[str, int] = {}

    def __enter__(self) -> "IiifSite":
        self.server.__enter__()
        self._load()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def local(self, text: str) -> str:
        """`text` with every absolute URL moved onto the local server (local ones stay)."""
        base = self.server.base

        def move(match: re.Match) -> str:
            if match.group(0) == base + "/":
                return match.group(0)
            return f"{base}/{match.group(1)}/"

        return HOST_URL.sub(move, text)

    def path(self, url: str) -> str:
        return unquote(urlsplit(self.local(url)).path)

    def fixture_url(self, relative: str) -> str:
        """Local URL of a manifesto/prezi3 fixture: where its own id points."""
        document = json.loads((self.root / relative).read_text(encoding="utf-8"))
        return self.local(document.get("id") or document["@id"])

    def cookbook_url(self, recipe: str, name: str = "manifest") -> str:
        return self.local(f"{COOKBOOK}/{recipe}/{name}.json")

    def serve(self, url: str, document: dict | str | bytes) -> None:
        """Serve `document` (rewritten like the fixtures) at `url` for the current test."""
        if isinstance(document, dict):
            document = json.dumps(document)
        if isinstance(document, str):
            document = self.local(document).encode()
        self.extra[self.path(url)] = document

    def alias(self, url: str, fixture_url: str) -> None:
        """Answer `url` with the fixture served at `fixture_url` (a stand-in for a member the
        fixture set lacks, so a real collection has something to yield)."""
        self.extra[self.path(url)] = self.documents[self.path(fixture_url)]

    def body_at(self, url: str) -> bytes:
        return self.extra.get(self.path(url)) or self.documents[self.path(url)]

    def requests_for(self, url: str) -> list[Request]:
        return [r for r in self.server.requests if unquote(r.path) == self.path(url)]

    def reset(self) -> None:
        self.extra.clear()
        self.fixed.clear()
        self.scripted.clear()
        self.server.requests.clear()

    def _register(self, url: str, text: str) -> None:
        self.documents[self.path(url)] = self.local(text).encode()

    def _load(self) -> None:
        real = sorted((self.root / "manifesto_real_institution").glob("*.json"))
        for path in real + [self.root / "prezi3_fixture" / "mcinnis-39-v3.json"]:
            text = path.read_text(encoding="utf-8")
            document = json.loads(text)
            self._register(document.get("id") or document["@id"], text)
        # Cookbook recipes are Jekyll templates: {{ id.url }} is the file's own URL on
        # iiif.io, {{ id.path }} the recipe folder (collections name members through it).
        for path in sorted((self.root / "cookbook_v3").glob("*.json")):
            recipe, name = path.stem.split("__")
            folder = f"{COOKBOOK}/{recipe}"
            text = path.read_text(encoding="utf-8")
            text = text.replace("{{ id.url }}", f"{folder}/{name}.json")
            self._register(f"{folder}/{name}.json", text.replace("{{ id.path }}", folder))

    def _answer(self, request: Request) -> Reply:
        path = unquote(request.path)
        if self.scripted.get(path):
            return self.scripted[path].pop(0)
        if path in self.fixed:
            return self.fixed[path]
        body = self.extra.get(path) or self.documents.get(path)
        if body is not None:
            return Reply(body=body, headers={"Content-Type": "application/json"})
        if path.lower().endswith(IMAGE_SUFFIXES):
            seed = self._image_seeds.setdefault(path, len(self._image_seeds))
            jpeg = make_jpeg(24 + seed // 256, 16, seed)
            return Reply(body=jpeg, headers={"Content-Type": "image/jpeg"})
        return Reply(status=404, body=b"not found", headers={"Content-Type": "text/plain"})
