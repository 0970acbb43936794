"""Writing harvested items and their images into the catalogue, idempotently.

Items are keyed by (source, source item id) and compared by a content hash, so a re-run of
the same harvest changes nothing, an edited record becomes one `updated` row plus a history
entry, and a deleted record is flagged — never removed — so earlier analyses stay reproducible.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol, Sequence

from sqlalchemy import Connection, Engine, and_, func, or_, select

from postercensus.catalog import schema
from postercensus.catalog.keywords import apply_synonyms, normalise_keywords, normalise_synonyms
from postercensus.catalog.runs import utcnow
from postercensus.catalog.schema import ImageStatus

ITEM_FIELDS = ("title", "date", "year", "description", "creator", "rights", "landing_url", "datestamp")


class ImageLike(Protocol):
    label: str | None

    @property
    def location(self) -> str: ...


class ItemLike(Protocol):
    """What a stage hands the store (harvest.records.HarvestedItem fits)."""

    source_item_id: str
    title: str | None
    date: str | None
    year: int | None
    keywords: list[str]
    description: str | None
    creator: str | None
    rights: str | None
    landing_url: str | None
    datestamp: str | None
    deleted: bool
    raw: dict[str, Any]
    images: Sequence[ImageLike]


@dataclass(frozen=True)
class PendingImage:
    """An image row still to fetch; `origin` is a URL or a local path."""

    image_id: int
    origin: str
    source_item_id: str


SYNONYMS_SETTING = "keyword_synonyms"  # catalog_settings: the synonym map last applied to every item


def _storable(value: Any, length: int | None = None) -> Any:
    """A source's text as every database stores it. PostgreSQL refuses NUL characters and text
    longer than its column's declared `length` where SQLite keeps both: NULs are dropped and an
    over-long value (say, a malformed OAI datestamp) is left out, on every database, so both hold
    the same and one bad field cannot fail a whole batch. `raw` keeps the source's own text."""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")
    return None if length is not None and len(value) > length else value


def _item_values(item: ItemLike, synonyms: Mapping[str, str]) -> dict[str, Any]:
    values = {name: _storable(getattr(item, name), getattr(schema.items.c[name].type, "length", None))
              for name in ITEM_FIELDS}
    values["source_keywords"] = normalise_keywords(item.keywords)
    values["keywords"] = apply_synonyms(values["source_keywords"], synonyms)
    return values


def _content_hash(values: dict[str, Any], raw: dict[str, Any], origins: list[str], deleted: bool) -> str:
    """What the source said: the synonym map is the researcher's, so changing it is no item update."""
    comparable = {k: v for k, v in values.items() if k not in ("datestamp", "source_keywords")}
    comparable["keywords"] = values["source_keywords"]
    payload = json.dumps([comparable, raw, origins, deleted], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Catalog:
    """The catalogue's write and read operations used by the stages and the CLI.

    `keyword_synonyms` is the `[keywords] synonyms` table of postercensus.toml: applied to every
    item written, and by `apply_keyword_synonyms` to every stored item when it changed.
    """

    def __init__(self, engine: Engine, keyword_synonyms: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.keyword_synonyms = normalise_synonyms(keyword_synonyms or {})

    # -- sources -------------------------------------------------------------------------

    def ensure_source(self, key: str, kind: str, location: str, params: dict[str, Any]) -> int:
        with self.engine.begin() as connection:
            existing = connection.execute(
                select(schema.sources.c.id).where(schema.sources.c.key == key)
            ).scalar()
            if existing is not None:
                connection.execute(
                    schema.sources.update().where(schema.sources.c.id == existing).values(params=params)
                )
                return existing
            result = connection.execute(
                schema.sources.insert().values(
                    key=key, kind=kind, location=location, params=params, created_at=utcnow()
                )
            )
            return result.inserted_primary_key[0]

    def watermark(self, source_id: int) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(schema.sources.c.watermark).where(schema.sources.c.id == source_id)
            ).scalar()

    def finish_source_harvest(self, source_id: int, watermark: str | None) -> None:
        """Advance the watermark: only called when the whole listing was read."""
        with self.engine.begin() as connection:
            connection.execute(
                schema.sources.update()
                .where(schema.sources.c.id == source_id)
                .values(watermark=watermark, last_harvest_at=utcnow())
            )

    # -- items ---------------------------------------------------------------------------

    def apply_items(self, source_id: int, run_id: int, batch: Sequence[ItemLike]) -> Counter:
        """Upsert one batch in one transaction; returns counts of new/updated/deleted/unchanged."""
        counts: Counter = Counter()
        latest = {item.source_item_id: item for item in batch}  # a record repeated in a batch: last wins
        with self.engine.begin() as connection:
            existing = {
                row.source_item_id: row
                for row in connection.execute(
                    select(schema.items.c.id, schema.items.c.source_item_id,
                           schema.items.c.content_hash, schema.items.c.deleted)
                    .where(schema.items.c.source_id == source_id)
                    .where(schema.items.c.source_item_id.in_(list(latest)))
                )
            }
            for source_item_id, item in latest.items():
                change = self._apply_item(connection, source_id, run_id, item, existing.get(source_item_id))
                counts[change] += 1
        return counts

    def _apply_item(self, connection: Connection, source_id: int, run_id: int, item: ItemLike, row) -> str:
        now = utcnow()
        values = _item_values(item, self.keyword_synonyms)
        if item.deleted:
            if row is not None and row.deleted:
                return "unchanged"
            if row is not None:
                connection.execute(
                    schema.items.update().where(schema.items.c.id == row.id).values(
                        deleted=True, deleted_at=now, datestamp=values["datestamp"],
                        changed_run_id=run_id, updated_at=now,
                    )
                )
                self._record_version(connection, row.id, run_id, "deleted", row.content_hash, {"datestamp": item.datestamp})
                self._withdraw_images(connection, row.id, keep=[])
                return "deleted"
            content_hash = _content_hash(values, {}, [], True)
            item_id = self._insert_item(
                connection, source_id, run_id, item.source_item_id, values, {}, content_hash, deleted=True
            )
            self._record_version(connection, item_id, run_id, "deleted", content_hash, values)
            return "deleted"

        origins = [image.location for image in item.images]
        content_hash = _content_hash(values, item.raw, origins, False)
        if row is None:
            item_id = self._insert_item(
                connection, source_id, run_id, item.source_item_id, values, item.raw, content_hash, deleted=False
            )
            self._record_version(connection, item_id, run_id, "new", content_hash, values)
            self._sync_images(connection, item_id, item.images)
            return "new"
        if row.content_hash == content_hash and not row.deleted:
            return "unchanged"
        connection.execute(
            schema.items.update().where(schema.items.c.id == row.id).values(
                **values, raw=item.raw, content_hash=content_hash, deleted=False, deleted_at=None,
                changed_run_id=run_id, updated_at=now,
            )
        )
        self._record_version(connection, row.id, run_id, "updated", content_hash, values)
        self._sync_images(connection, row.id, item.images)
        return "updated"

    @staticmethod
    def _insert_item(connection, source_id, run_id, source_item_id, values, raw, content_hash, deleted) -> int:
        now = utcnow()
        result = connection.execute(
            schema.items.insert().values(
                source_id=source_id, source_item_id=source_item_id, **values, raw=raw,
                content_hash=content_hash, deleted=deleted, deleted_at=now if deleted else None,
                first_run_id=run_id, changed_run_id=run_id, updated_at=now,
            )
        )
        return result.inserted_primary_key[0]

    @staticmethod
    def _record_version(connection, item_id, run_id, change, content_hash, fields) -> None:
        connection.execute(
            schema.item_versions.insert().values(
                item_id=item_id, run_id=run_id, change=change, content_hash=content_hash,
                fields=json.loads(json.dumps(fields, default=str)), recorded_at=utcnow(),
            )
        )

    def _sync_images(self, connection: Connection, item_id: int, images: Sequence[ImageLike]) -> None:
        """Make the item's image rows match its current list; unlisted ones are withdrawn."""
        rows = {
            row.origin: row
            for row in connection.execute(
                select(schema.images.c.id, schema.images.c.origin, schema.images.c.status, schema.images.c.sha256)
                .where(schema.images.c.item_id == item_id)
            )
        }
        origins = [_storable(image.location) for image in images]
        for position, (image, origin) in enumerate(zip(images, origins)):
            row = rows.get(origin)
            if row is None:
                connection.execute(
                    schema.images.insert().values(
                        item_id=item_id, position=position, origin=origin, label=_storable(image.label),
                        status=ImageStatus.PENDING, attempts=0,
                    )
                )
                continue
            status = row.status
            if status == ImageStatus.WITHDRAWN:
                status = ImageStatus.OK if row.sha256 else ImageStatus.PENDING
            connection.execute(
                schema.images.update().where(schema.images.c.id == row.id)
                .values(position=position, label=_storable(image.label), status=status)
            )
        self._withdraw_images(connection, item_id, keep=origins)

    @staticmethod
    def _withdraw_images(connection: Connection, item_id: int, keep: list[str]) -> None:
        statement = schema.images.update().where(schema.images.c.item_id == item_id)
        if keep:
            statement = statement.where(schema.images.c.origin.not_in(keep))
        connection.execute(
            statement.where(schema.images.c.status != ImageStatus.WITHDRAWN).values(status=ImageStatus.WITHDRAWN)
        )

    def keyword_synonyms_applied(self) -> bool:
        """Whether every item's keywords were last mapped with this synonym map (none: no map)."""
        settings = schema.catalog_settings
        with self.engine.connect() as connection:
            applied = connection.execute(
                select(settings.c.value).where(settings.c.name == SYNONYMS_SETTING)).scalar()
        return applied == self.keyword_synonyms or (applied is None and not self.keyword_synonyms)

    def apply_keyword_synonyms(self, page_size: int = 1000) -> int | None:
        """Re-map every item's keywords if the synonym map changed since it was last applied.

        Returns the number of items whose keywords changed, or None when the map is the one
        already applied (the common case costs one small read). Items are rewritten from
        `source_keywords`, a page per transaction; the map is recorded as applied only after the
        last page, so an interrupted pass is simply repeated.
        """
        if self.keyword_synonyms_applied():
            return None
        changed, after = 0, 0
        while True:
            with self.engine.begin() as connection:
                rows = connection.execute(
                    select(schema.items.c.id, schema.items.c.keywords, schema.items.c.source_keywords)
                    .where(schema.items.c.id > after).order_by(schema.items.c.id).limit(page_size)).all()
                for row in rows:
                    keywords = apply_synonyms(row.source_keywords or [], self.keyword_synonyms)
                    if keywords != row.keywords:
                        connection.execute(schema.items.update().where(schema.items.c.id == row.id)
                                           .values(keywords=keywords))
                        changed += 1
            if not rows:
                break
            after = rows[-1].id
        settings = schema.catalog_settings
        with self.engine.begin() as connection:
            connection.execute(settings.delete().where(settings.c.name == SYNONYMS_SETTING))
            connection.execute(settings.insert().values(name=SYNONYMS_SETTING, value=self.keyword_synonyms,
                                                        updated_at=utcnow()))
        return changed

    # -- images --------------------------------------------------------------------------

    def images_to_fetch(self, source_id: int, max_attempts: int, batch_size: int = 200) -> Iterator[list[PendingImage]]:
        """Pending and missing images, and failed ones under the attempt limit, of live items, in id order.

        Missing local files are always looked for again (a stat is cheap, and the user may add
        them); failed downloads stop being retried after `max_attempts` runs.
        """
        last_id = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(schema.images.c.id, schema.images.c.origin, schema.items.c.source_item_id)
                    .join(schema.items, schema.items.c.id == schema.images.c.item_id)
                    .where(schema.items.c.source_id == source_id)
                    .where(schema.items.c.deleted.is_(False))
                    .where(schema.images.c.id > last_id)
                    .where(or_(
                        schema.images.c.status.in_([ImageStatus.PENDING, ImageStatus.MISSING]),
                        and_(schema.images.c.status == ImageStatus.FAILED,
                             schema.images.c.attempts < max_attempts),
                    ))
                    .order_by(schema.images.c.id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            yield [PendingImage(row.id, row.origin, row.source_item_id) for row in rows]
            last_id = rows[-1].id

    def record_images(self, results: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Store one batch of fetch outcomes (image id, column values) in one transaction."""
        with self.engine.begin() as connection:
            for image_id, values in results:
                connection.execute(
                    schema.images.update().where(schema.images.c.id == image_id).values(
                        **values, attempts=schema.images.c.attempts + 1, fetched_at=utcnow()
                    )
                )

    # -- reading -------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts for `postercensus status`."""
        with self.engine.connect() as connection:
            item_counts = dict(
                connection.execute(
                    select(schema.items.c.deleted, func.count()).group_by(schema.items.c.deleted)
                ).all()
            )
            image_counts = dict(
                connection.execute(
                    select(schema.images.c.status, func.count()).group_by(schema.images.c.status)
                ).all()
            )
            sources = connection.execute(select(func.count()).select_from(schema.sources)).scalar()
            runs_by_status = dict(
                connection.execute(
                    select(schema.runs.c.status, func.count()).group_by(schema.runs.c.status)
                ).all()
            )
        return {
            "items": item_counts.get(False, 0),
            "items_deleted": item_counts.get(True, 0),
            "images": image_counts.get(ImageStatus.OK, 0),
            "images_failed": image_counts.get(ImageStatus.FAILED, 0),
            "images_missing": image_counts.get(ImageStatus.MISSING, 0),
            "images_pending": image_counts.get(ImageStatus.PENDING, 0),
            "images_withdrawn": image_counts.get(ImageStatus.WITHDRAWN, 0),
            "sources": sources,
            "runs": sum(runs_by_status.values()),
            "runs_interrupted_or_running": runs_by_status.get("running", 0) + runs_by_status.get("interrupted", 0),
        }
