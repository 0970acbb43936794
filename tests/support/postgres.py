"""A fresh PostgreSQL database per test, on the server named by $POSTERCENSUS_TEST_POSTGRES.

The catalogue must behave the same on PostgreSQL as on SQLite, so the catalogue and refresh tests
run on both. A database of its own per home (dropped after its test module, with any connection
the code under test left open) keeps the tests independent, as SQLite's one file per home does.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER_ENV = "POSTERCENSUS_TEST_POSTGRES"
SKIP_REASON = (f"set {SERVER_ENV} to a PostgreSQL server URL the tests may create databases on, e.g. "
               f"postgresql+psycopg://postgres@127.0.0.1:54329/postgres (.ci/run does)")


def server_url() -> str | None:
    """The test server's URL, or None when the PostgreSQL variants are to be skipped."""
    return os.environ.get(SERVER_ENV) or None


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """Yield the URL of a new, empty database on `server`; drop it afterwards."""
    name = f"pc_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class Row(tuple):
    """A row like sqlite3.Row: values by position or by column name, and `dict(row)`."""

    names: tuple[str, ...]

    def __new__(cls, names: tuple[str, ...], values: tuple) -> "Row":
        row = super().__new__(cls, values)
        row.names = names
        return row

    def keys(self) -> list[str]:
        return list(self.names)

    def __getitem__(self, key):
        return super().__getitem__(self.names.index(key) if isinstance(key, str) else key)


def query(url: str, sql: str, args: tuple = ()) -> list[Row]:
    """`sql` (sqlite3's `?` placeholders) on the database at `url`, read with plain psycopg.

    JSON columns come back as their text, as SQLite returns them, so one test reads both alike.
    """
    import psycopg  # here: runs on SQLite alone need no PostgreSQL driver
    from psycopg.types.string import TextLoader

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        for json_type in ("json", "jsonb"):
            connection.adapters.register_loader(json_type, TextLoader)
        cursor = connection.execute(sql.replace("?", "%s"), args) if args else connection.execute(sql)
        names = tuple(column.name for column in cursor.description or ())
        return [Row(names, values) for values in cursor.fetchall()]
