"""IIIF Presentation v2 and v3: manifests and (nested, paged) collections → items and images.

A IIIF endpoint is a tree of JSON documents: collections list sub-collections and manifests,
a manifest describes one object and paints images on its canvases. Institutions publish both
API versions (and mixtures of them), so every accessor accepts either form instead of
branching the whole harvester on the version. One unreadable member never stops the walk: it
becomes a RecordProblem and its siblings are still harvested.

What each document says (its type, version, id, and a manifest's item and images) is read by
`harvest.iiif_metadata`; this module fetches and walks. IIIF has no change feed, so every run
yields every manifest and the store upserts by content.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from .http import FetchError, HttpClient
from .iiif_metadata import as_list, map_manifest, node_id, type_name
from .records import HarvestedItem, HarvestError, HarvestEvent, RecordProblem, is_http_url

DEFAULT_IMAGE_REQUEST = "full/!2000,2000/0/default.jpg"
# Real hierarchies are a handful of levels deep; anything deeper is a generator bug or a trap.
MAX_DEPTH = 10


class _Unreadable(Exception):
    """A document that could not be fetched or parsed; the message says why."""


class IiifHarvester:
    """Harvests one IIIF manifest or collection URL (Presentation API 2.x or 3.0)."""

    kind = "iiif"

    def __init__(
        self, url: str, client: HttpClient, image_request: str = DEFAULT_IMAGE_REQUEST
    ) -> None:
        self.url = url
        self.client = client
        self.image_request = image_request.strip("/")
        self._seen: set[str] = set()

    def source_key(self) -> str:
        return f"iiif:{self.url}"

    def params(self) -> dict[str, Any]:
        return {"url": self.url, "image_request": self.image_request}

    def watermark(self) -> str | None:
        """Always None: IIIF offers no change feed to resume from."""
        return None

    def events(self, since: str | None) -> Iterator[HarvestEvent]:
        """Every manifest reachable from the URL; `since` is ignored (no change feed). The first
        document must be a manifest or collection (the source's first contact)."""
        self._seen = {self.url}
        try:
            document, size = self._fetch(self.url)
        except _Unreadable as error:
            raise HarvestError(f"{self.url}: {error}; check the URL, or try again later if the server is "
                               "down") from error
        if _resource_kind(document) not in ("manifest", "collection"):
            raise HarvestError(f"{self.url}: {_not_iiif_message(document)}; give the URL of a IIIF Presentation "
                               "manifest or collection (its JSON, not the viewer's web page)")
        self._seen.add(node_id(document) or self.url)
        yield from self._document_events(self.url, document, size, depth=0)

    def _document_events(
        self, url: str, document: dict[str, Any], size: int, depth: int
    ) -> Iterator[HarvestEvent]:
        kind = _resource_kind(document)
        if kind == "manifest":
            item = map_manifest(url, document, size, self.image_request)
            yield from _refuse_local_images(url, item)
            yield item
        elif kind == "collection":
            yield from self._collection_events(url, document, depth)
        else:
            yield RecordProblem(url, _not_iiif_message(document))

    def _collection_events(
        self, url: str, collection: dict[str, Any], depth: int
    ) -> Iterator[HarvestEvent]:
        """Members of the collection and of each page it links to (`first`, then `next`)."""
        page, page_url = collection, url
        while True:
            for member_url in _member_urls(page):
                yield from self._member_events(member_url, depth + 1)
            next_url = _link(page, "next") or (_link(page, "first") if page is collection else None)
            if next_url is None or next_url in self._seen:
                return
            self._seen.add(next_url)
            try:
                page, _ = self._fetch(next_url)
            except _Unreadable as error:
                yield RecordProblem(next_url, f"collection page of {page_url} unreadable: {error}")
                return
            page_url = next_url

    def _member_events(self, url: str, depth: int) -> Iterator[HarvestEvent]:
        """One listed manifest or sub-collection; duplicates and cycles are skipped silently."""
        if url in self._seen:
            return
        self._seen.add(url)
        if depth > MAX_DEPTH:
            yield RecordProblem(url, f"not followed: collections nested more than {MAX_DEPTH} deep")
            return
        try:
            document, size = self._fetch(url)
        except _Unreadable as error:
            yield RecordProblem(url, str(error))
            return
        declared = node_id(document)
        if declared and declared != url:
            if declared in self._seen:
                return
            self._seen.add(declared)
        yield from self._document_events(url, document, size, depth)

    def _fetch(self, url: str) -> tuple[dict[str, Any], int]:
        """The JSON object at `url` and its size in bytes (the client enforces the byte cap)."""
        try:
            data = self.client.get_bytes(url)
        except FetchError as error:
            raise _Unreadable(f"could not fetch: {error}") from error
        try:
            document = json.loads(data)
        except RecursionError as error:
            raise _Unreadable("JSON nested too deeply to parse") from error
        except ValueError as error:  # JSONDecodeError and undecodable bytes alike
            raise _Unreadable(f"not valid JSON (truncated or not JSON): {error}") from error
        if not isinstance(document, dict):
            raise _Unreadable(f"expected a JSON object, got a JSON {type(document).__name__}")
        return document, len(data)


def _refuse_local_images(url: str, item: HarvestedItem) -> Iterator[RecordProblem]:
    """Keep only http(s) images: any other "URL" would be read as a path on this computer."""
    for image in item.images:
        if not is_http_url(image.location):
            yield RecordProblem(url, f"image {image.location[:200]!r} is not an http(s) URL; left out, the "
                                     "item is stored without it (a remote manifest may not name local files)",
                                skipped=False)
    item.images = [image for image in item.images if is_http_url(image.location)]


# --- documents: kind, links ---------------------------------------------------------------


def _resource_kind(document: dict[str, Any]) -> str:
    """The document's role: manifest, collection (v3 pages count as one), or another type."""
    kind = type_name(document)
    return "collection" if kind == "collectionpage" else kind


def _not_iiif_message(document: dict[str, Any]) -> str:
    return f"not a IIIF Manifest or Collection (type {type_name(document) or 'missing'!r})"


def _link(document: dict[str, Any], name: str) -> str | None:
    """A paging link, given as a URL string or as an object with an id."""
    return node_id(document.get(name))


def _member_urls(collection: dict[str, Any]) -> Iterator[str]:
    """Listed sub-collections and manifests: v2 `collections`/`manifests`/`members`, v3 `items`."""
    for key in ("collections", "manifests", "members", "items"):
        for member in as_list(collection.get(key)):
            url = node_id(member)
            if url and type_name(member) in ("", "collection", "manifest"):
                yield url
