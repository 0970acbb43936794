"""IIIF Presentation v2 and v3: manifests and (nested, paged) collections → items and images.

A IIIF endpoint is a tree of JSON documents: collections list sub-collections and manifests,
a manifest describes one object and paints images on its canvases. Institutions publish both
API versions (and mixtures of them), so every accessor here accepts either form instead of
branching the whole harvester on the version. One unreadable member never stops the walk: it
becomes a RecordProblem and its siblings are still harvested.

IIIF has no change feed, so every run yields every manifest and the store upserts by content.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from .dates import parse_year
from .http import FetchError, HttpClient
from .records import HarvestedItem, HarvestError, HarvestEvent, ImageRef, RecordProblem, is_http_url

DEFAULT_IMAGE_REQUEST = "full/!2000,2000/0/default.jpg"
# Real hierarchies are a handful of levels deep; anything deeper is a generator bug or a trap.
MAX_DEPTH = 10
# Keep the whole manifest in `raw` only while it is small: page-by-page books run to megabytes.
MAX_RAW_MANIFEST_BYTES = 200_000

_ENGLISH = "en"
_NO_LANGUAGE = ("none", "@none")
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|td|th|h[1-6])\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_WHITESPACE = re.compile(r"\s+")
_LABEL_WORD = re.compile(r"[a-z]+")
_PARENTHESISED = re.compile(r"\([^)]*\)")

# Metadata labels are free text ("Date Created", "Subject (Topic)", "Author(s)"): a pair is
# placed by the head word of its label, i.e. the last word, or the word before "of".
_LABEL_ROLES = {
    "date": {"date", "dates", "created", "issued"},
    "keywords": {"subject", "subjects", "keyword", "keywords", "topic", "topics", "genre", "genres"},
    "creator": {
        "creator", "creators", "artist", "artists", "author", "authors", "maker", "makers",
        "contributor", "contributors", "photographer", "designer", "illustrator",
    },
    "rights": {"rights", "license", "licence", "copyright"},
}


class _Unreadable(Exception):
    """A document that could not be fetched or parsed; the message says why."""


@dataclass(frozen=True)
class _Picture:
    """An image body reduced to what building its download URL needs."""

    url: str | None
    service: str | None
    region: str | None = None
    rotation: str | None = None


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
        self._seen.add(_id(document) or self.url)
        yield from self._document_events(self.url, document, size, depth=0)

    def _document_events(
        self, url: str, document: dict[str, Any], size: int, depth: int
    ) -> Iterator[HarvestEvent]:
        kind = _resource_kind(document)
        if kind == "manifest":
            item = self._item(url, document, size)
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
        declared = _id(document)
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

    def _item(self, url: str, manifest: dict[str, Any], size: int) -> HarvestedItem:
        version = _version(manifest)
        pairs = _metadata_pairs(manifest.get("metadata"))
        nav_date = manifest.get("navDate") if isinstance(manifest.get("navDate"), str) else None
        date = nav_date or _first_value(pairs, "date")
        item_id = _id(manifest) or url
        raw: dict[str, Any] = {
            "iiif_version": version,
            "id": item_id,
            "metadata": [{"label": label, "value": " / ".join(values)} for label, values in pairs],
        }
        if size <= MAX_RAW_MANIFEST_BYTES:
            raw["manifest"] = manifest
        return HarvestedItem(
            source_item_id=item_id,
            title=_text(manifest.get("label")),
            date=date,
            year=parse_year(date),
            keywords=_keywords(pairs),
            description=_text(manifest.get("summary" if version == 3 else "description")),
            creator="; ".join(_role_values(pairs, "creator")) or None,
            rights=_rights(manifest, version, pairs),
            landing_url=_landing_url(manifest, version),
            raw=raw,
            images=self._images(manifest, version),
        )

    def _images(self, manifest: dict[str, Any], version: int) -> list[ImageRef]:
        """One image per canvas that paints an image; audio, video and text canvases add none."""
        canvases = _v3_canvases(manifest) if version == 3 else _v2_canvases(manifest)
        images = []
        for canvas in canvases:
            picture = _canvas_picture(canvas, version)
            url = self._image_url(picture) if picture else None
            if url:
                images.append(ImageRef(url=url, label=_text(canvas.get("label"))))
        return images

    def _image_url(self, picture: _Picture) -> str | None:
        """Ask the Image API service for `image_request` (keeping a painted region/rotation),
        else download the body's own URL."""
        if picture.service is None:
            return picture.url
        return f"{picture.service}/{_with_selection(self.image_request, picture)}"


def _refuse_local_images(url: str, item: HarvestedItem) -> Iterator[RecordProblem]:
    """Keep only http(s) images: any other "URL" would be read as a path on this computer."""
    for image in item.images:
        if not is_http_url(image.location):
            yield RecordProblem(url, f"image {image.location[:200]!r} is not an http(s) URL; left out, the "
                                     "item is stored without it (a remote manifest may not name local files)",
                                skipped=False)
    item.images = [image for image in item.images if is_http_url(image.location)]


# --- documents: kind, version, ids, links ------------------------------------------------


def _type_name(node: Any) -> str:
    """The type without prefix, lower-cased: "sc:Manifest" and "Manifest" both → "manifest"."""
    if not isinstance(node, dict):
        return ""
    value = node.get("type", node.get("@type"))
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.rsplit(":", 1)[-1].lower() if isinstance(value, str) else ""


def _resource_kind(document: dict[str, Any]) -> str:
    """The document's role: manifest, collection (v3 pages count as one), or another type."""
    kind = _type_name(document)
    return "collection" if kind == "collectionpage" else kind


def _not_iiif_message(document: dict[str, Any]) -> str:
    return f"not a IIIF Manifest or Collection (type {_type_name(document) or 'missing'!r})"


def _version(document: dict[str, Any]) -> int:
    """3 when the context names Presentation 3 (or, lacking one, the document uses `type`)."""
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    names = " ".join(c for c in contexts if isinstance(c, str))
    if "/presentation/3" in names:
        return 3
    if "/presentation/2" in names or "@type" in document:
        return 2
    return 3


def _id(node: Any) -> str | None:
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        value = node.get("id", node.get("@id"))
        return value if isinstance(value, str) and value else None
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _link(document: dict[str, Any], name: str) -> str | None:
    """A paging link, given as a URL string or as an object with an id."""
    return _id(document.get(name))


def _member_urls(collection: dict[str, Any]) -> Iterator[str]:
    """Listed sub-collections and manifests: v2 `collections`/`manifests`/`members`, v3 `items`."""
    for key in ("collections", "manifests", "members", "items"):
        for member in _as_list(collection.get(key)):
            url = _id(member)
            if url and _type_name(member) in ("", "collection", "manifest"):
                yield url


# --- language-bearing text ---------------------------------------------------------------


def _plain(text: str) -> str:
    """Text as a reader sees it: HTML tags dropped (block tags become spaces), entities decoded."""
    if "<" in text:
        text = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", text))
    return _WHITESPACE.sub(" ", html.unescape(text)).strip()


def _is_english(language: str) -> bool:
    language = language.lower()
    return language == _ENGLISH or language.startswith(_ENGLISH + "-")


def _preferred(groups: dict[str, list[Any]]) -> list[Any]:
    """English first (en, en-GB…), then language-less values, then whatever language comes first;
    never a mixture, so a bilingual label does not read twice."""
    for language, values in groups.items():
        if _is_english(language):
            return values
    for language in _NO_LANGUAGE:
        if language in groups:
            return groups[language]
    return next(iter(groups.values()), [])


def _language_groups(value: Any) -> dict[str, list[Any]]:
    """Values by language from any IIIF form: v3 language map, v2 {"@value","@language"},
    a plain string, or a list mixing the v2 forms."""
    if isinstance(value, dict) and "@value" not in value:
        return {str(language): _as_list(values) for language, values in value.items()}
    groups: dict[str, list[Any]] = {}
    for entry in _as_list(value):
        if isinstance(entry, dict):
            language, entry = entry.get("@language") or "none", entry.get("@value")
        else:
            language = "none"
        groups.setdefault(language, []).append(entry)
    return groups


def _texts(value: Any) -> list[str]:
    """The preferred-language values of a label/value as plain, non-empty strings."""
    texts = (_plain(str(v)) for v in _preferred(_language_groups(value)) if v is not None)
    return [text for text in texts if text]


def _text(value: Any) -> str | None:
    return " / ".join(_texts(value)) or None


# --- descriptive metadata ----------------------------------------------------------------


def _metadata_pairs(metadata: Any) -> list[tuple[str, list[str]]]:
    pairs = []
    for pair in _as_list(metadata):
        if isinstance(pair, dict):
            pairs.append((_text(pair.get("label")) or "", _texts(pair.get("value"))))
    return pairs


def _label_role(label: str) -> str | None:
    words = _LABEL_WORD.findall(_PARENTHESISED.sub(" ", label.lower()))
    if not words:
        return None
    head = words[words.index("of", 1) - 1] if "of" in words[1:] else words[-1]
    return next((role for role, heads in _LABEL_ROLES.items() if head in heads), None)


def _role_values(pairs: list[tuple[str, list[str]]], role: str) -> list[str]:
    return [value for label, values in pairs if _label_role(label) == role for value in values]


def _first_value(pairs: list[tuple[str, list[str]]], role: str) -> str | None:
    return next(iter(_role_values(pairs, role)), None)


def _keywords(pairs: list[tuple[str, list[str]]]) -> list[str]:
    """Subject/genre/keyword values split on ";", de-duplicated in order."""
    keywords: dict[str, None] = {}
    for value in _role_values(pairs, "keywords"):
        for keyword in value.split(";"):
            if keyword.strip():
                keywords.setdefault(keyword.strip(), None)
    return list(keywords)


def _rights(
    manifest: dict[str, Any], version: int, pairs: list[tuple[str, list[str]]]
) -> str | None:
    """The licence (v3 `rights`, v2 `license`) or, lacking one, rights-labelled metadata;
    then the statement that must be shown with the object (`requiredStatement`/`attribution`)."""
    licence = _texts(manifest.get("rights" if version == 3 else "license"))
    parts = licence or _role_values(pairs, "rights")
    if version == 3:
        statement = manifest.get("requiredStatement")
        if isinstance(statement, dict) and _text(statement.get("value")):
            label, value = _text(statement.get("label")), _text(statement.get("value"))
            parts.append(f"{label}: {value}" if label else value)
    else:
        parts += _texts(manifest.get("attribution"))
    return "; ".join(dict.fromkeys(parts)) or None


def _landing_url(manifest: dict[str, Any], version: int) -> str | None:
    """The institution's web page for the object: v3 `homepage`, v2 `related`."""
    pages = _as_list(manifest.get("homepage" if version == 3 else "related"))
    return _id(pages[0]) if pages else None


# --- canvases and image bodies -----------------------------------------------------------


def _v2_canvases(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Canvases of the first sequence: later sequences only re-order the same canvases."""
    sequences = [s for s in _as_list(manifest.get("sequences")) if isinstance(s, dict)]
    canvases = _as_list(sequences[0].get("canvases")) if sequences else []
    return [canvas for canvas in canvases if isinstance(canvas, dict)]


def _v3_canvases(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in _as_list(manifest.get("items")) if _type_name(item) == "canvas"]


def _is_painting(annotation: dict[str, Any]) -> bool:
    motivations = _as_list(annotation.get("motivation"))
    return any(isinstance(m, str) and m.rsplit(":", 1)[-1] == "painting" for m in motivations)


def _painted_bodies(canvas: dict[str, Any], version: int) -> Iterator[Any]:
    """What the canvas paints: v2 `images[].resource`, v3 `items[]`(pages)`.items[]`.body."""
    if version == 2:
        for annotation in _as_list(canvas.get("images")):
            if isinstance(annotation, dict):
                yield annotation.get("resource")
        return
    for page in _as_list(canvas.get("items")):
        for annotation in _as_list(page.get("items") if isinstance(page, dict) else None):
            if isinstance(annotation, dict) and _is_painting(annotation):
                yield from _as_list(annotation.get("body"))


def _canvas_picture(canvas: dict[str, Any], version: int) -> _Picture | None:
    """The first image the canvas paints; a composite canvas is represented by its base image."""
    for body in _painted_bodies(canvas, version):
        picture = _picture(body)
        if picture is not None:
            return picture
    return None


def _picture(body: Any, selector: Any = None) -> _Picture | None:
    """Unwrap Choice (its first/default option) and SpecificResource (its source plus an
    Image API selector), then keep the body only if it is an image."""
    kind = _type_name(body)
    if kind == "choice":
        options = _as_list(body.get("default")) + _as_list(body.get("items", body.get("item")))
        return _picture(options[0]) if options else None
    if kind == "specificresource":
        return _picture(body.get("source", body.get("full")), body.get("selector"))
    if not isinstance(body, dict) or not _is_image(body):
        return None
    url, service = _id(body), _image_service(body)
    selected_region, selected_rotation = _selected_region_rotation(selector)
    requested_region, requested_rotation = (
        _requested_region_rotation(url[len(service) + 1 :])
        if service and url and url.startswith(service + "/")
        else (None, None)
    )
    return _Picture(
        url=url,
        service=service,
        region=selected_region or requested_region,
        rotation=selected_rotation or requested_rotation,
    )


def _is_image(body: dict[str, Any]) -> bool:
    """Declared type when there is one (v2 "dctypes:Image", v3 "Image"), else format/service."""
    kind = _type_name(body)
    if kind:
        return kind in ("image", "stillimage")
    format_ = body.get("format")
    return (isinstance(format_, str) and format_.startswith("image/")) or bool(_image_service(body))


def _image_service(body: dict[str, Any]) -> str | None:
    """Base URL of the body's IIIF Image API service, without a trailing slash. Level 0
    services only serve pre-rendered sizes, so they are not asked for a size of our choosing."""
    for service in _as_list(body.get("service")):
        url = _id(service) if isinstance(service, dict) else None
        if url and _is_image_service(service) and not _is_level0(service):
            return url.rstrip("/")
    return None


def _is_image_service(service: dict[str, Any]) -> bool:
    if _type_name(service) in ("imageservice1", "imageservice2", "imageservice3"):
        return True
    declared = _as_list(service.get("profile")) + _as_list(service.get("@context"))
    return any(isinstance(value, str) and "iiif.io/api/image" in value for value in declared)


def _is_level0(service: dict[str, Any]) -> bool:
    profiles = [p for p in _as_list(service.get("profile")) if isinstance(p, str)]
    return bool(profiles) and profiles[0].rstrip("/").removesuffix(".json").endswith("level0")


def _selected_region_rotation(selector: Any) -> tuple[str | None, str | None]:
    """Region/rotation of an ImageApiSelector (v3 SpecificResource); other selectors are not
    Image API requests and are ignored."""
    for candidate in _as_list(selector):
        if _type_name(candidate) == "imageapiselector":
            region, rotation = candidate.get("region"), candidate.get("rotation")
            return (str(region) if region else None, str(rotation) if rotation else None)
    return None, None


def _requested_region_rotation(request: str) -> tuple[str | None, str | None]:
    """Region and rotation of an Image API request path (region/size/rotation/quality.format):
    a body that shows a crop of a larger scan must stay that crop when the size is changed."""
    segments = request.split("/")
    if len(segments) != 4:
        return None, None
    return segments[0], segments[2]


def _with_selection(image_request: str, picture: _Picture) -> str:
    """`image_request` with the picture's region and rotation substituted (when it has the
    four Image API segments); "full" and "0" are the defaults and change nothing."""
    segments = image_request.split("/")
    if len(segments) != 4:
        return image_request
    if picture.region and picture.region != "full":
        segments[0] = picture.region
    if picture.rotation and picture.rotation != "0":
        segments[2] = picture.rotation
    return "/".join(segments)
