"""A home's sources: what `source list` shows, and what `source remove [--purge]` takes away.

A source lives in two places: its entry in postercensus.toml (what `refresh` harvests) and its
row in the catalogue with the items it brought (what the tables count). Removing it from the
file stops the harvests and keeps every item, so nothing a table was made from disappears by
accident; purging it also deletes its items and everything computed from them, in one
transaction, keeping whatever another source shares (an image file, the faces found in it).
"""
from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from postercensus.catalog import schema
from postercensus.catalog.home import Home
from postercensus.catalog.stage import StageError

SHOWN_KEYS = 10  # known keys named by an unknown-key error


class UnknownSource(StageError):
    """`source remove KEY` with a key that is neither registered nor catalogued."""


@dataclass(frozen=True)
class SourceEntry:
    """One source as `source list` shows it. `registered`: in postercensus.toml, so `refresh`
    harvests it; `items`: its live items in the catalogue (0 for a source never harvested)."""

    key: str
    kind: str
    location: str
    registered: bool
    items: int
    last_harvest: datetime | None


@dataclass
class Removal:
    """What `remove_source` did: whether the entry left postercensus.toml, the live items kept
    (no purge), and per table the rows deleted and the files removed (purge)."""

    key: str
    unregistered: bool
    kept_items: int = 0
    purged: dict[str, int] = field(default_factory=dict)
    files_removed: int = 0
    file_errors: list[str] = field(default_factory=list)


def source_id_of(engine: Engine, key: str) -> int | None:
    """The catalogue id of the source with this key, or None when it has never been stored."""
    with engine.connect() as connection:
        return connection.execute(select(schema.sources.c.id).where(schema.sources.c.key == key)).scalar()


def list_sources(home: Home) -> list[SourceEntry]:
    """Every registered source (in file order), then every catalogued one no longer registered."""
    sources, items = schema.sources, schema.items
    with home.engine.connect() as connection:
        rows = {row.key: row for row in connection.execute(
            select(sources.c.key, sources.c.kind, sources.c.location, sources.c.last_harvest_at,
                   func.count(items.c.id).label("items"))
            .outerjoin(items, (items.c.source_id == sources.c.id) & items.c.deleted.is_(False))
            .group_by(sources.c.id, sources.c.key, sources.c.kind, sources.c.location, sources.c.last_harvest_at)
            .order_by(sources.c.id))}
    entries = []
    registered = home.config.sources
    for source in registered:
        key = str(source.get("key", ""))
        row = rows.get(key)
        params = source.get("params", {})
        location = row.location if row else str(params.get("url") or params.get("path") or "")
        entries.append(SourceEntry(key, str(source.get("kind", "?")), location, True,
                                   row.items if row else 0, row.last_harvest_at if row else None))
    keys = {entry.key for entry in entries}
    entries += [SourceEntry(row.key, row.kind, row.location, False, row.items, row.last_harvest_at)
                for row in rows.values() if row.key not in keys]
    return entries


def remove_source(home: Home, key: str, purge: bool = False) -> Removal:
    """Stop harvesting the source `key` (its postercensus.toml entry goes); with `purge`, delete
    its items and all that was computed from them too. Raises UnknownSource for an unknown key.

    The entry leaves the file first: should the purge then fail, the source is merely removed
    (its items kept), which is what a plain remove does, and the purge can be run again.
    """
    registered = any(source.get("key") == key for source in home.config.sources)
    source_id = source_id_of(home.engine, key)
    if not registered and source_id is None:
        raise UnknownSource(f"no source {key!r} in this home", _known_keys_hint(home, key))
    if registered:
        home.config.data["sources"] = [source for source in home.config.sources if source.get("key") != key]
        home.config.write()
    removal = Removal(key, registered)
    if source_id is None:
        return removal
    if not purge:
        with home.engine.connect() as connection:
            removal.kept_items = connection.execute(
                select(func.count()).select_from(schema.items).where(
                    schema.items.c.source_id == source_id, schema.items.c.deleted.is_(False))).scalar()
        return removal
    with home.engine.begin() as connection:
        files = _files_of(connection, source_id)
        removal.purged = _purge(connection, source_id)
    _remove_files(home.path, files, removal)
    return removal


def _known_keys_hint(home: Home, key: str) -> str:
    known = [entry.key for entry in list_sources(home)]
    listing = f"`postercensus --home {shlex.quote(str(home.path))} source list`"
    if not known:
        return f"this home has no sources yet; {listing} shows them once a harvest has registered one"
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    named = close or known[:SHOWN_KEYS]
    more = "" if close or len(known) <= SHOWN_KEYS else f" (and {len(known) - SHOWN_KEYS} more)"
    return (f"{'did you mean' if close else 'known keys are'}: {', '.join(repr(k) for k in named)}{more}; "
            f"{listing} shows every key")


# -- purge --------------------------------------------------------------------------------------
# Faces, crops and image files are keyed by the image's bytes (sha256), which two sources may
# share: only those no image of another source's items shows are the source's own to delete.


def _own_images(source_id: int):
    """The sha256 of every stored image of the source's items that no other source's item has."""
    images, items = schema.images, schema.items
    elsewhere = (select(images.c.sha256).join(items, items.c.id == images.c.item_id)
                 .where(items.c.source_id != source_id, images.c.sha256.is_not(None)))
    return (select(images.c.sha256).join(items, items.c.id == images.c.item_id)
            .where(items.c.source_id == source_id, images.c.sha256.is_not(None), images.c.sha256.not_in(elsewhere)))


def _files_of(connection: Connection, source_id: int) -> list[str]:
    """The image files and face crops (paths relative to the home) that the purge makes unused."""
    own = _own_images(source_id)
    images = connection.execute(select(schema.images.c.path).distinct().where(
        schema.images.c.sha256.in_(own), schema.images.c.path.is_not(None))).scalars().all()
    crops = connection.execute(select(schema.faces.c.crop_path).where(
        schema.faces.c.image_sha256.in_(own))).scalars().all()
    return [*images, *crops]


def _purge(connection: Connection, source_id: int) -> dict[str, int]:
    """Delete the source and everything of it, children before parents; rows deleted per table."""
    items = select(schema.items.c.id).where(schema.items.c.source_id == source_id)
    own = _own_images(source_id)
    faces = select(schema.faces.c.id).where(schema.faces.c.image_sha256.in_(own))
    steps: list[tuple[str, Any]] = [
        ("predictions", delete(schema.predictions).where(schema.predictions.c.face_id.in_(faces))),
        ("face_labels", delete(schema.face_labels).where(schema.face_labels.c.face_id.in_(faces))),
        ("validation_sample_faces", delete(schema.validation_sample_faces)
         .where(schema.validation_sample_faces.c.face_id.in_(faces))),
        ("faces", delete(schema.faces).where(schema.faces.c.image_sha256.in_(own))),
        ("face_scans", delete(schema.face_scans).where(schema.face_scans.c.image_sha256.in_(own))),
        ("mentions", delete(schema.mentions).where(schema.mentions.c.item_id.in_(items))),
        ("text_scans", delete(schema.text_scans).where(schema.text_scans.c.item_id.in_(items))),
        ("item_versions", delete(schema.item_versions).where(schema.item_versions.c.item_id.in_(items))),
        ("images", delete(schema.images).where(schema.images.c.item_id.in_(items))),
        ("items", delete(schema.items).where(schema.items.c.source_id == source_id)),
        ("problems", delete(schema.problems).where(schema.problems.c.source_id == source_id)),
        ("runs", delete(schema.runs).where(schema.runs.c.source_id == source_id)),
        ("sources", delete(schema.sources).where(schema.sources.c.id == source_id)),
    ]
    return {table: connection.execute(statement).rowcount for table, statement in steps}


def _remove_files(home: Path, relative_paths: list[str], removal: Removal) -> None:
    """Delete the files the purge left unused; one that cannot be deleted is reported, not fatal
    (an unused file costs only space, and the catalogue is already consistent without it)."""
    for relative in relative_paths:
        path = home / relative
        try:
            path.unlink()
            removal.files_removed += 1
        except FileNotFoundError:
            continue
        except OSError as error:
            removal.file_errors.append(f"{path}: {error.strerror or error}")
