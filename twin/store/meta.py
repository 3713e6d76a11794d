"""Plain psycopg connections for fast paths (imports, the viewer), and the facts a twin records about
itself (its CRS, its terrain), read without SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from twin.errors import SchemaError, StoreError
from twin.store import CORE_SCHEMA
from twin.store.url import database_url, unreachable

CONNECT_TIMEOUT_S = 10


@contextmanager
def pg_connect(url: str | None = None) -> Iterator[psycopg.Connection]:
    """A psycopg connection in a transaction that commits on success and rolls back on error."""
    url = url or database_url()
    try:
        connection = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, application_name="twin")
    except psycopg.OperationalError as exc:
        raise StoreError(unreachable(url, exc)) from None
    with connection:
        yield connection


def twin_crs(connection: psycopg.Connection) -> str:
    """The CRS this twin's database was made with, e.g. 'EPSG:4548'."""
    try:
        row = connection.execute(f"SELECT value FROM {CORE_SCHEMA}.meta WHERE key = 'crs'").fetchone()
    except psycopg.errors.UndefinedTable:
        row = None
    if row is None:
        raise SchemaError("the database has no twin schema yet; run `twin db migrate`")
    return row[0]


def terrain(connection: psycopg.Connection) -> tuple[Path, str] | None:
    """The most recently registered terrain raster and its CRS (WKT), or None when the twin has none."""
    row = connection.execute(
        f"SELECT path, crs FROM {CORE_SCHEMA}.rasters WHERE layer = 'terrain' ORDER BY imported_at DESC LIMIT 1"
    ).fetchone()
    return (Path(row[0]), row[1]) if row else None
