"""Opening a catalogue: SQLite in WAL mode by default, any SQLAlchemy URL otherwise.

WAL lets a dashboard read while a refresh writes; the busy timeout makes a second writer
wait instead of failing with "database is locked".
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from catalog.migrations import migrate

SQLITE_FILENAME = "catalog.sqlite"


def default_url(home: Path) -> str:
    """The embedded default: `<home>/catalog.sqlite`."""
    return f"sqlite:///{(home / SQLITE_FILENAME).resolve()}"


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_engine(url: str) -> Engine:
    """An engine for `url`, its schema migrated to the latest version."""
    engine = create_engine(url, future=True)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    migrate(engine)
    return engine


def display_url(url: str) -> str:
    """The URL with any password masked, for messages and provenance."""
    return make_url(url).render_as_string(hide_password=True)
