"""What every harvester yields: plain records the runner stores, independent of the protocol.

Harvesters only translate a source's own format into these; the runner owns storage,
downloads and counting, so every source gets the same incremental and failure behaviour.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol, Union

from postercensus.catalog.stage import StageError


# File-name endings taken to be images, wherever a source names files or URLs.


def is_http_url(value: str) -> bool:
    """True for http(s) URLs: the values that are downloaded rather than read from disk."""
    return value.startswith(("http://", "https://"))


@dataclass(frozen=True)
class ImageRef:
    """One image of an item: a remote URL to download, or a local file to copy in."""

    url: str | None = None
    path: Path | None = None
    label: str | None = None

    @property
    def location(self) -> str:
        """The string stored as the image's origin (URL, or the local path as given)."""
        return self.url if self.url is not None else str(self.path)


@dataclass
class HarvestedItem:
    """One catalogue item as a source describes it.

    `raw` keeps the source's own metadata (JSON-able) so nothing the mapping did not place
    is lost; `deleted` items carry only their id and datestamp.
    """

    source_item_id: str
    title: str | None = None
    date: str | None = None
    year: int | None = None
    keywords: list[str] = field(default_factory=list)
    description: str | None = None
    creator: str | None = None
    rights: str | None = None
    landing_url: str | None = None
    datestamp: str | None = None
    deleted: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    images: list[ImageRef] = field(default_factory=list)


@dataclass(frozen=True)
class RecordProblem:
    """A record or sub-resource that could not be read; reported, and the harvest goes on.

    `skipped` is False when only a part was left out and the record itself is still stored.
    """

    where: str
    message: str
    skipped: bool = True


@dataclass(frozen=True)
class SourceNote:
    """Something the researcher should know about the source as a whole (e.g. a CSV with no
    image column): printed after the harvest, neither an error nor a problem of any record."""

    message: str


HarvestEvent = Union[HarvestedItem, RecordProblem, SourceNote]


class Harvester(Protocol):
    """A source: yields items (and problems) newer than `since`, then reports its watermark."""

    kind: str

    def source_key(self) -> str:
        """A stable identity for the source (kind + location + what selects its records)."""

    def params(self) -> dict[str, Any]:
        """The options that define this source, as stored in postercensus.toml."""

    def events(self, since: str | None) -> Iterator[HarvestEvent]:
        """Items changed since the watermark `since` (None: everything).

        Reading the first event (or the end of an empty listing) is the source's first contact:
        a HarvestError raised before it means the source could not be read as configured, and a
        source new to the catalogue is then not registered (see harvest.runner).
        """

    def watermark(self) -> str | None:
        """After `events` is exhausted: the value to pass as `since` next time, or None."""


class HarvestError(StageError):
    """The listing itself failed (not one record): the run stops paging and says why, and how to fix it."""
