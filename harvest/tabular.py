"""CSV exports and plain folders of images as sources.

Many collections reach a researcher as a spreadsheet export plus a folder of scans. Column
names differ between institutions, so each field's column is an option; when an option is
not given, the first common name present in the header is used (listed in `--help`).
"""
from __future__ import annotations

import csv
import re
import shlex
import sys
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from postercensus.catalog.imagefiles import IMAGE_SUFFIXES
from postercensus.harvest.dates import parse_year
from postercensus.harvest.records import (
    HarvestError,
    HarvestEvent,
    HarvestedItem,
    ImageRef,
    RecordProblem,
    SourceNote,
    is_http_url,
)

_SURROGATE = re.compile("[\udc80-\udcff]")
IMAGE_SAMPLE_ROWS = 200  # rows looked at to tell an unnamed image column from a metadata-only CSV
SHOWN_CELL_CHARS = 80
COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifier", "item_id"),
    "title": ("title", "name"),
    "date": ("date", "year", "created"),
    "keywords": ("keywords", "subjects", "subject", "tags"),
    "description": ("description", "summary", "abstract"),
    "image": ("image", "image_path", "filename", "file", "image_url"),
    "creator": ("creator", "contributors", "artist", "author"),
    "rights": ("rights", "license", "licence"),
    "url": ("url", "landing_url", "link"),
}


@dataclass(frozen=True)
class CsvColumns:
    """The column chosen for each item field (None: pick a common name from the header)."""

    id: str | None = None
    title: str | None = None
    date: str | None = None
    keywords: str | None = None
    description: str | None = None
    image: str | None = None
    creator: str | None = None
    rights: str | None = None
    url: str | None = None
    keywords_sep: str = ";"


def resolve_columns(header: list[str], chosen: CsvColumns) -> dict[str, str | None]:
    """Map each field to a header column; an explicit column missing from the header is an error."""
    resolved: dict[str, str | None] = {}
    for field_name, candidates in COLUMN_CANDIDATES.items():
        explicit = getattr(chosen, field_name)
        if explicit is not None:
            if explicit not in header:
                raise HarvestError(
                    f"column {explicit!r} (--{field_name}-column) is not in the CSV header; "
                    f"columns are: {', '.join(header)}"
                )
            resolved[field_name] = explicit
        else:
            resolved[field_name] = next((name for name in candidates if name in header), None)
    if resolved["id"] is None:
        raise HarvestError(f"no id column found (tried {', '.join(COLUMN_CANDIDATES['id'])}); columns are: "
                           f"{', '.join(header)}; pass --id-column COLUMN")
    return resolved


def image_column_check(header: list[str], rows: list[dict]) -> str:
    """Why a CSV whose header names no known image column, and given no --image-column, would
    harvest no image: an error when a column's cells look like image files or URLs (it is the
    image column under another name), else the note that the items are stored without images."""
    tried = f"tried {', '.join(COLUMN_CANDIDATES['image'])}; columns are: {', '.join(header)}"
    for column in header:
        cells = [cell.strip() for row in rows if isinstance(cell := row.get(column), str) and cell.strip()]
        images = [cell for cell in cells if _names_an_image(cell)]
        if images and len(images) * 2 >= len(cells):
            raise HarvestError(f"no image column found ({tried}), but column {column!r} holds image names such "
                               f"as {images[0][:SHOWN_CELL_CHARS]!r}; pass --image-column {shlex.quote(column)}")
    return (f"no image column found ({tried}): the items are stored without images, so no faces can be found "
            "in them; if a column holds image paths or URLs, harvest again with --image-column COLUMN")


def _names_an_image(cell: str) -> bool:
    """A local path or URL ending in an image file suffix (.jpg, .tif, …)."""
    path = urlsplit(cell).path if is_http_url(cell) else cell
    return path.lower().endswith(IMAGE_SUFFIXES)


def _blank_file(path: Path) -> bool:
    """True when the file holds nothing but whitespace (and a byte-order mark)."""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            if block.replace(b"\xef\xbb\xbf", b"").strip():
                return False
    return True


class CsvHarvester:
    """Rows of a CSV file → items; image cells hold a URL or a path under `images_dir`."""

    kind = "csv"

    def __init__(self, csv_path: Path, images_dir: Path | None = None, columns: CsvColumns = CsvColumns()) -> None:
        self.csv_path = csv_path.resolve()
        self.images_dir = (images_dir or self.csv_path.parent).resolve()
        self.columns = columns

    def source_key(self) -> str:
        return f"csv:{self.csv_path}"

    def params(self) -> dict:
        chosen = {f"{name}_column": value for name, value in asdict(self.columns).items()
                  if value is not None and name != "keywords_sep"}
        return {"path": str(self.csv_path), "images": str(self.images_dir),
                "keywords_sep": self.columns.keywords_sep, **chosen}

    def watermark(self) -> str | None:
        return None

    def events(self, since: str | None) -> Iterator[HarvestEvent]:
        """The rows as items; the file, its header and its columns are checked before the first
        row (the source's first contact), so a file that cannot be read as configured stores nothing."""
        if not self.csv_path.is_file():
            raise HarvestError(f"CSV file not found: {self.csv_path}; check the path")
        try:
            blank = _blank_file(self.csv_path)
        except OSError as error:
            raise HarvestError(f"cannot read {self.csv_path}: {error.strerror or error}; check the file's "
                               "permissions") from error
        if blank:
            raise HarvestError(f"{self.csv_path} is empty: export the collection again as a CSV whose first line "
                               "names the columns (e.g. id,title,image), then one row per item")
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        # Undecodable bytes are kept as surrogates so that one badly encoded row is reported and
        # skipped (see `_row_event`) instead of stopping the whole file.
        with self.csv_path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            if not any(name.strip() for name in header):
                raise HarvestError(f"the first line of {self.csv_path} is empty: a CSV must start with its header "
                                   "row naming the columns (e.g. id,title,image); remove the blank lines above it")
            if any(_SURROGATE.search(name) for name in header):
                raise HarvestError(f"the header row of {self.csv_path} is not valid UTF-8; save the CSV as UTF-8 "
                                   "and harvest again")
            columns = resolve_columns(header, self.columns)
            rows: Iterator[dict] = iter(reader)
            if columns["image"] is None:
                sample = list(islice(reader, IMAGE_SAMPLE_ROWS))
                note = image_column_check(header, sample)
                yield SourceNote(note)
                rows = chain(sample, reader)
            seen: set[str] = set()
            for line_number, row in enumerate(rows, start=2):
                yield self._row_event(row, columns, f"{self.csv_path.name}:{line_number}", seen)

    def _row_event(self, row: dict, columns: dict[str, str | None], where: str, seen: set[str]) -> HarvestEvent:
        def cell(field_name: str) -> str | None:
            column = columns[field_name]
            value = (row.get(column) or "").strip() if column else ""
            return value or None

        undecodable = _undecodable_column(row)
        if undecodable is not None:
            return RecordProblem(where, f"column {undecodable!r} is not valid UTF-8; row skipped "
                                        "(save the CSV as UTF-8 and harvest again)")
        row = dict(row)
        beyond = [cell for cell in row.pop(None, None) or [] if cell.strip()]  # cells past the header's last column
        if beyond:
            return RecordProblem(where, f"{len(beyond)} cell(s) beyond the header's {len(row)} columns (a missing "
                                        "line break or an unquoted comma?); row skipped")
        item_id = cell("id")
        if item_id is None:
            return RecordProblem(where, f"empty id (column {columns['id']!r}); row skipped")
        if item_id in seen:
            return RecordProblem(where, f"id {item_id!r} repeats an earlier row; row skipped")
        seen.add(item_id)
        images, problem = self._image_refs(cell("image"), where)
        if problem:
            return problem
        date = cell("date")
        keywords = (cell("keywords") or "").split(self.columns.keywords_sep)
        return HarvestedItem(
            source_item_id=item_id, title=cell("title"), date=date, year=parse_year(date),
            keywords=[keyword for keyword in keywords if keyword.strip()],
            description=cell("description"), creator=cell("creator"), rights=cell("rights"),
            landing_url=cell("url"), raw=dict(row), images=images,
        )

    def _image_refs(self, value: str | None, where: str) -> tuple[list[ImageRef], RecordProblem | None]:
        if value is None:
            return [], None
        if is_http_url(value):
            return [ImageRef(url=value)], None
        path = (self.images_dir / value).resolve()
        if not path.is_relative_to(self.images_dir):
            return [], RecordProblem(where, f"image path {value!r} points outside {self.images_dir}; row skipped")
        return [ImageRef(path=path)], None


def _undecodable_column(row: dict) -> str | None:
    """The first column whose cell held bytes that are not UTF-8 (decoded as lone surrogates)."""
    for column, value in row.items():
        cells = value if isinstance(value, list) else [value]  # extra cells gather under the None key
        if any(isinstance(cell, str) and _SURROGATE.search(cell) for cell in cells):
            return column if column is not None else "(beyond the header)"
    return None


class FolderHarvester:
    """Every image file below a folder becomes one item (id = its relative path)."""

    kind = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()

    def source_key(self) -> str:
        return f"folder:{self.folder}"

    def params(self) -> dict:
        return {"path": str(self.folder)}

    def watermark(self) -> str | None:
        return None

    def events(self, since: str | None) -> Iterator[HarvestEvent]:
        """Every image file, in path order; a missing folder is an error before the first item, and
        a folder without any image file is said in a note (it may be filled later, or be the wrong one)."""
        if not self.folder.is_dir():
            raise HarvestError(f"folder not found: {self.folder}; check the path")
        files = sorted(path for path in self.folder.rglob("*")
                       if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            yield SourceNote(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {self.folder} or its subfolders; "
                             "if that is not the folder you meant, check the path")
        for path in files:
            relative = path.relative_to(self.folder).as_posix()
            yield HarvestedItem(
                source_item_id=relative, title=path.stem, raw={"file": relative},
                images=[ImageRef(path=path)],
            )
