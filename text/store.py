"""The text stage's reads and writes in the catalogue (text_scans, mentions).

An item is pending for a pipeline version when it has no scan with that version hash, or its
scan was made from another description (the stored text hash differs from the current one's).
Descriptions are hashed here rather than in SQL so SQLite and PostgreSQL behave alike; the
pass reads only live items' ids and descriptions, a page at a time. Each page's mentions and
scan rows replace the old ones in one transaction: a killed run loses at most the page in
flight and never doubles a mention.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, func, insert, select

from postercensus.catalog import schema
from postercensus.catalog.runs import utcnow

if TYPE_CHECKING:  # the store needs no spaCy at import time
    from postercensus.text.extract import Mention

PAGE = 256


@dataclass(frozen=True)
class PendingText:
    item_id: int
    source_item_id: str
    text: str | None
    text_hash: str


def text_hash(description: str | None) -> str:
    """sha256 of the description as stored (a missing one hashes like an empty one)."""
    return hashlib.sha256((description or "").encode("utf-8")).hexdigest()


class TextStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _pages(self, version_hash: str, page_size: int) -> Iterator[list[PendingText]]:
        items, scans = schema.items, schema.text_scans
        after = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(items.c.id, items.c.source_item_id, items.c.description, scans.c.text_hash)
                    .outerjoin(scans, and_(scans.c.item_id == items.c.id, scans.c.version_hash == version_hash))
                    .where(items.c.deleted.is_(False), items.c.id > after)
                    .order_by(items.c.id).limit(page_size)
                ).all()
            if not rows:
                return
            after = rows[-1].id
            page = [PendingText(row.id, row.source_item_id, row.description, text_hash(row.description))
                    for row in rows]
            yield [item for item, row in zip(page, rows) if item.text_hash != row.text_hash]

    def pending(self, version_hash: str, page_size: int = PAGE) -> Iterator[list[PendingText]]:
        """Pages of live items whose description this version has not scanned, by item id."""
        for page in self._pages(version_hash, page_size):
            if page:
                yield page

    def count_pending(self, version_hash: str) -> int:
        return sum(len(page) for page in self._pages(version_hash, 1000))

    def record(self, page: Sequence[PendingText], mentions: Sequence[Sequence[Mention]],
               warnings: Sequence[str | None], version_hash: str, run_id: int) -> None:
        """Replace these items' mentions and scans for this version, all in one transaction."""
        ids = [item.item_id for item in page]
        now = utcnow()
        with self.engine.begin() as connection:
            for table in (schema.mentions, schema.text_scans):
                connection.execute(table.delete().where(table.c.item_id.in_(ids), table.c.version_hash == version_hash))
            connection.execute(insert(schema.text_scans), [
                {"item_id": item.item_id, "version_hash": version_hash, "text_hash": item.text_hash, "run_id": run_id,
                 "mention_count": len(found), "warning": warning, "scanned_at": now}
                for item, found, warning in zip(page, mentions, warnings)
            ])
            rows = [_mention_row(item, mention, version_hash, run_id)
                    for item, found in zip(page, mentions) for mention in found]
            if rows:
                connection.execute(insert(schema.mentions), rows)

    def summary(self) -> list[dict[str, Any]]:
        """Per pipeline version: items scanned and mentions per gender outside quoted titles (for `status`)."""
        scans, mentions = schema.text_scans, schema.mentions
        with self.engine.connect() as connection:
            scanned = connection.execute(
                select(scans.c.version_hash, func.count(), func.max(scans.c.scanned_at))
                .group_by(scans.c.version_hash).order_by(func.max(scans.c.scanned_at))).all()
            found = connection.execute(
                select(mentions.c.version_hash, mentions.c.gender, func.count())
                .where(mentions.c.in_title.is_(False))
                .group_by(mentions.c.version_hash, mentions.c.gender)).all()
        return [
            {"version_hash": version, "items_scanned": count,
             "mentions": {gender: n for v, gender, n in found if v == version}}
            for version, count, _ in scanned
        ]


def _mention_row(item: PendingText, mention: Mention, version_hash: str, run_id: int) -> dict[str, Any]:
    return {
        "item_id": item.item_id, "text_hash": item.text_hash, "version_hash": version_hash,
        "gender": mention.gender, "trigger": mention.trigger, "role": mention.role,
        "role_lemma": mention.role_lemma, "category": mention.category, "start": mention.start,
        "end": mention.end, "sentence": mention.sentence, "in_title": mention.in_title, "run_id": run_id,
    }
