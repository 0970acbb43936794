"""What a IIIF Presentation document says (v2 and v3): its type, version and id, and a manifest
mapped to a HarvestedItem (label, date, keywords, credits, rights, landing page, one image per
painted canvas).

Kept apart from the harvester (`harvest.iiif`: fetching and walking collections) because the two
change for different reasons: an institution's metadata habit or a new image body touches only
this module, and it is a pure function of the JSON. Every accessor accepts either API version's
form instead of branching on the version.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Iterator

from .dates import parse_year
from .records import HarvestedItem, ImageRef

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


@dataclass(frozen=True)
class _Picture:
    """An image body reduced to what building its download URL needs."""

    url: str | None
    service: str | None
    region: str | None = None
    rotation: str | None = None


def map_manifest(url: str, manifest: dict[str, Any], size: int, image_request: str) -> HarvestedItem:
    """One manifest (fetched from `url`, `size` bytes) as an item: label, date, keywords, credits,
    rights and landing page from its metadata, one image per canvas that paints one, asked of
    its Image API service for `image_request` when it has one."""
    version = presentation_version(manifest)
    pairs = _metadata_pairs(manifest.get("metadata"))
    nav_date = manifest.get("navDate") if isinstance(manifest.get("navDate"), str) else None
    date = nav_date or _first_value(pairs, "date")
    item_id = node_id(manifest) or url
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
        images=_images(manifest, version, image_request),
    )


def _images(manifest: dict[str, Any], version: int, image_request: str) -> list[ImageRef]:
    """One image per canvas that paints an image; audio, video and text canvases add none."""
    canvases = _v3_canvases(manifest) if version == 3 else _v2_canvases(manifest)
    images = []
    for canvas in canvases:
        picture = _canvas_picture(canvas, version)
        url = _image_url(picture, image_request) if picture else None
        if url:
            images.append(ImageRef(url=url, label=_text(canvas.get("label"))))
    return images


def _image_url(picture: _Picture, image_request: str) -> str | None:
    """Ask the Image API service for `image_request` (keeping a painted region/rotation),
    else download the body's own URL."""
    if picture.service is None:
        return picture.url
    return f"{picture.service}/{_with_selection(image_request, picture)}"


# --- documents: type, version, ids ------------------------------------------------------


def type_name(node: Any) -> str:
    """The type without prefix, lower-cased: "sc:Manifest" and "Manifest" both → "manifest"."""
    if not isinstance(node, dict):
        return ""
    value = node.get("type", node.get("@type"))
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.rsplit(":", 1)[-1].lower() if isinstance(value, str) else ""


def presentation_version(document: dict[str, Any]) -> int:
    """3 when the context names Presentation 3 (or, lacking one, the document uses `type`)."""
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    names = " ".join(c for c in contexts if isinstance(c, str))
    if "/presentation/3" in names:
        return 3
    if "/presentation/2" in names or "@type" in document:
        return 2
    return 3


def node_id(node: Any) -> str | None:
    """The id of a node given as a URL string or as an object (`id` in v3, `@id` in v2)."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        value = node.get("id", node.get("@id"))
        return value if isinstance(value, str) and value else None
    return None


def as_list(value: Any) -> list[Any]:
    """A value publishers give as one object or as a list of them, always as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


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
        return {str(language): as_list(values) for language, values in value.items()}
    groups: dict[str, list[Any]] = {}
    for entry in as_list(value):
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
    for pair in as_list(metadata):
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
    pages = as_list(manifest.get("homepage" if version == 3 else "related"))
    return node_id(pages[0]) if pages else None


# --- canvases and image bodies -----------------------------------------------------------


def _v2_canvases(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Canvases of the first sequence: later sequences only re-order the same canvases."""
    sequences = [s for s in as_list(manifest.get("sequences")) if isinstance(s, dict)]
    canvases = as_list(sequences[0].get("canvases")) if sequences else []
    return [canvas for canvas in canvases if isinstance(canvas, dict)]


def _v3_canvases(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in as_list(manifest.get("items")) if type_name(item) == "canvas"]


def _is_painting(annotation: dict[str, Any]) -> bool:
    motivations = as_list(annotation.get("motivation"))
    return any(isinstance(m, str) and m.rsplit(":", 1)[-1] == "painting" for m in motivations)


def _painted_bodies(canvas: dict[str, Any], version: int) -> Iterator[Any]:
    """What the canvas paints: v2 `images[].resource`, v3 `items[]`(pages)`.items[]`.body."""
    if version == 2:
        for annotation in as_list(canvas.get("images")):
            if isinstance(annotation, dict):
                yield annotation.get("resource")
        return
    for page in as_list(canvas.get("items")):
        for annotation in as_list(page.get("items") if isinstance(page, dict) else None):
            if isinstance(annotation, dict) and _is_painting(annotation):
                yield from as_list(annotation.get("body"))


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
    kind = type_name(body)
    if kind == "choice":
        options = as_list(body.get("default")) + as_list(body.get("items", body.get("item")))
        return _picture(options[0]) if options else None
    if kind == "specificresource":
        return _picture(body.get("source", body.get("full")), body.get("selector"))
    if not isinstance(body, dict) or not _is_image(body):
        return None
    url, service = node_id(body), _image_service(body)
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
    kind = type_name(body)
    if kind:
        return kind in ("image", "stillimage")
    format_ = body.get("format")
    return (isinstance(format_, str) and format_.startswith("image/")) or bool(_image_service(body))


def _image_service(body: dict[str, Any]) -> str | None:
    """Base URL of the body's IIIF Image API service, without a trailing slash. Level 0
    services only serve pre-rendered sizes, so they are not asked for a size of our choosing."""
    for service in as_list(body.get("service")):
        url = node_id(service) if isinstance(service, dict) else None
        if url and _is_image_service(service) and not _is_level0(service):
            return url.rstrip("/")
    return None


def _is_image_service(service: dict[str, Any]) -> bool:
    if type_name(service) in ("imageservice1", "imageservice2", "imageservice3"):
        return True
    declared = as_list(service.get("profile")) + as_list(service.get("@context"))
    return any(isinstance(value, str) and "iiif.io/api/image" in value for value in declared)


def _is_level0(service: dict[str, Any]) -> bool:
    profiles = [p for p in as_list(service.get("profile")) if isinstance(p, str)]
    return bool(profiles) and profiles[0].rstrip("/").removesuffix(".json").endswith("level0")


def _selected_region_rotation(selector: Any) -> tuple[str | None, str | None]:
    """Region/rotation of an ImageApiSelector (v3 SpecificResource); other selectors are not
    Image API requests and are ignored."""
    for candidate in as_list(selector):
        if type_name(candidate) == "imageapiselector":
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
