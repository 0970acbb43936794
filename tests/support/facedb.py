"""Reading the stages' results back from a home's catalogue (SQLite or PostgreSQL), and poster folders.

Tests read the tables directly (as a researcher's notebook would) rather than through the
code under test, so a wrong write is not hidden by a matching wrong read.
"""
from __future__ import annotations

import json
import sqlite3
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support import postgres
from tests.support.posters import Poster, small_poster


def write_posters(folder: Path, shared_data: Path, names: dict[str, int]) -> dict[str, Poster]:
    """Save `small_poster(index)` as folder/<name>.jpg for each name (names may hold a subfolder)."""
    posters = {}
    for name, index in names.items():
        poster = small_poster(shared_data, index)
        poster.save(folder / f"{name}.jpg")
        posters[name] = poster
    return posters


def rows(home: Path, sql: str, *args) -> list[tuple]:
    """`query` as plain tuples, to compare with literal expectations such as [(4,)]."""
    return [tuple(row) for row in query(home, sql, *args)]


def query(home: Path, sql: str, *args) -> list[sqlite3.Row | postgres.Row]:
    """`sql` (with `?` placeholders) on the catalogue the home's postercensus.toml names under
    `[catalog] url` (read here, not through the code under test), else on <home>/catalog.sqlite."""
    url = _configured_url(home)
    if url is not None and make_url(url).get_backend_name() == "postgresql":
        return postgres.query(url, sql, args)
    connection = sqlite3.connect(make_url(url).database if url else home / "catalog.sqlite")
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def _configured_url(home: Path) -> str | None:
    config = home / "postercensus.toml"
    if not config.exists():
        return None
    return tomllib.loads(config.read_text(encoding="utf-8")).get("catalog", {}).get("url")


@dataclass(frozen=True)
class StoredImage:
    item: str  # the folder harvester's item id: the file's path relative to the folder
    sha256: str
    path: str  # relative to the home


def stored_images(home: Path) -> dict[str, StoredImage]:
    """Stored (status ok) images by item id, e.g. {"poster0.jpg": StoredImage(...)}."""
    rows = query(home, "SELECT items.source_item_id AS item, images.sha256, images.path FROM images "
                        "JOIN items ON items.id = images.item_id WHERE images.status = 'ok'")
    return {row["item"]: StoredImage(row["item"], row["sha256"], row["path"]) for row in rows}


def face_sets(home: Path) -> list[dict]:
    return [dict(row) for row in query(home, "SELECT * FROM face_sets ORDER BY created_at")]


def face_scans(home: Path, parameter_hash: str | None = None) -> list[dict]:
    sql = "SELECT * FROM face_scans"
    rows = query(home, sql + " WHERE parameter_hash = ? ORDER BY id", parameter_hash) if parameter_hash \
        else query(home, sql + " ORDER BY id")
    return [dict(row) for row in rows]


def faces(home: Path, parameter_hash: str | None = None) -> list[dict]:
    """Face rows with their JSON columns decoded, ordered by (image, set, index)."""
    sql = "SELECT * FROM faces"
    order = " ORDER BY image_sha256, parameter_hash, face_index"
    rows = query(home, sql + " WHERE parameter_hash = ?" + order, parameter_hash) if parameter_hash \
        else query(home, sql + order)
    decoded = []
    for row in rows:
        record = dict(row)
        for column in ("detectors", "landmarks5", "landmarks68", "embedding", "detector_landmarks"):
            if record.get(column) is not None:
                record[column] = json.loads(record[column])
        decoded.append(record)
    return decoded


def box_of(face: dict) -> tuple[int, int, int, int]:
    return face["left"], face["top"], face["right"], face["bottom"]


def runs(home: Path, stage: str) -> list[dict]:
    rows = query(home, "SELECT * FROM runs WHERE stage = ? ORDER BY id", stage)
    return [dict(row) | {"counts": json.loads(row["counts"] or "null"), "parameters": json.loads(row["parameters"])}
            for row in rows]
