"""Opening a catalogue: SQLite in WAL mode by default, any SQLAlchemy URL otherwise (PostgreSQL is tested).

WAL lets a dashboard read while a refresh writes; the busy timeout makes a second writer
wait instead of failing with "database is locked".
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from postercensus.catalog.layout import HomeLayout
from postercensus.catalog.migrations import migrate

POSTGRES_DRIVER = "postgresql+psycopg"


def default_url(home: Path) -> str:
    """The embedded default: `<home>/catalog.sqlite`."""
    return f"sqlite:///{HomeLayout(home).sqlite.resolve()}"


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def engine_url(url: str) -> URL:
    """`url` as SQLAlchemy is to open it: a bare postgresql:// means psycopg 3 (the `postgres`
    extra), not SQLAlchemy's default psycopg2, which postercensus does not install."""
    parsed = make_url(url)
    return parsed.set(drivername=POSTGRES_DRIVER) if parsed.drivername == "postgresql" else parsed


def open_engine(url: str) -> Engine:
    """An engine for `url`, its schema migrated to the latest version."""
    try:
        engine = create_engine(engine_url(url), future=True)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(f"{error}; install the database's driver (for PostgreSQL: "
                                  f"pip install -e '.[postgres]')") from error
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    migrate(engine)
    return engine


def display_url(url: str) -> str:
    """The URL with any password masked, for messages and provenance."""
    return make_url(url).render_as_string(hide_password=True)
