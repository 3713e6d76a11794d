"""The facts a twin records about itself (its CRS, its terrain), read on a psycopg connection
(:func:`twin.store.database.raw`)."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from twin.errors import SchemaError
from twin.store import core_table
from twin.store.city import read as read_city

NO_SCHEMA = "the database has no twin schema yet; run `twin db migrate`"
NO_CRS = ("this twin has no CRS yet: import a file (the first import chooses it) or make the twin with "
          "`twin init NAME --crs CRS`")


def twin_crs(connection: psycopg.Connection) -> str:
    """The twin's CRS as recorded (``EPSG:4548``, or WKT for a CRS without a code)."""
    city = read_city(connection)
    if city.crs is None:
        raise SchemaError(NO_CRS if has_schema(connection) else NO_SCHEMA)
    return city.crs


def twin_srid(connection: psycopg.Connection) -> int:
    """The SRID of the twin's geometry columns."""
    city = read_city(connection)
    if city.srid is None:
        raise SchemaError(NO_CRS if has_schema(connection) else NO_SCHEMA)
    return city.srid


def has_schema(connection: psycopg.Connection) -> bool:
    """Whether the database has been made a twin (``twin db migrate``)."""
    return connection.execute("SELECT to_regclass(%s) IS NOT NULL", (core_table("meta").as_string(connection),)).fetchone()[0]


def terrain(connection: psycopg.Connection) -> tuple[Path, str] | None:
    """The most recently registered terrain raster and its CRS (WKT), or None when the twin has none."""
    row = connection.execute(
        sql.SQL("SELECT path, crs FROM {} WHERE layer = 'terrain' ORDER BY imported_at DESC LIMIT 1")
        .format(core_table("rasters"))
    ).fetchone()
    return (Path(row[0]), row[1]) if row else None
