"""What the analyses share: their SQL files, the time rule in them, the twin's CRS, and GeoJSON answers.

An analysis's SQL sits beside it as ``<name>.sql``, a psycopg template: ``{standing}`` is
:data:`twin.time.EXISTED` for the day ``%(day)s`` (31 December of the year asked about) and
``{<layer id>}`` each layer table it reads. The rule is applied inside a one-table subquery, where its bare
column names are that table's. Geometries leave as GeoJSON in WGS84, ``ST_AsGeoJSON(ST_Transform(geom,
4326), 8)`` (:data:`WGS84`, :data:`GEOJSON_DIGITS`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql

from twin.store import LAYER_SCHEMA
from twin.store.meta import twin_srid
from twin.time import EXISTED

HERE = Path(__file__).resolve().parent
WGS84 = 4326
GEOJSON_DIGITS = 8  # decimal places of WGS84 degrees in answers: about a millimetre

# Point assets (hydrants, emergency resources) whose status says they serve no one.
OUT_OF_SERVICE = ("out_of_service", "planned")


@cache
def _text(name: str) -> str:
    return (HERE / f"{name}.sql").read_text(encoding="utf-8")


def existed_on(day_expression: str) -> sql.Composed:
    """twin.time's rule for the day an SQL expression gives (the bare columns are the innermost table's)."""
    return sql.SQL(EXISTED).format(start=sql.SQL(day_expression), end=sql.SQL(day_expression))


def compose(text: str, *layers: str, **parts: sql.Composable) -> sql.Composed:
    """SQL text with the time rule (``{standing}``: on ``%(day)s``), the tables of ``layers`` and ``parts``
    filled in."""
    tables = {layer: table(layer) for layer in layers}
    return sql.SQL(text).format(standing=existed_on("%(day)s"), **tables, **parts)


def table(layer: str) -> sql.Identifier:
    """A layer's table."""
    return sql.Identifier(LAYER_SCHEMA, layer)


def template(name: str, *layers: str, **parts: sql.Composable) -> sql.Composed:
    """The SQL file ``name.sql`` beside this module, composed as :func:`compose` does."""
    return compose(_text(name), *layers, **parts)


def srid(connection: psycopg.Connection) -> int:
    """The SRID of the twin's own CRS."""
    return twin_srid(connection)


def envelope(bbox: tuple[float, float, float, float] | None, twin_srid: int) -> sql.Composable:
    """A WGS84 box as a polygon in the twin's CRS (edges densified: the box keeps its shape), or NULL."""
    if bbox is None:
        return sql.SQL("NULL::geometry")
    west, south, east, north = (sql.Literal(value) for value in bbox)
    return sql.SQL("ST_Transform(ST_Segmentize(ST_MakeEnvelope({}, {}, {}, {}, {}), 0.001), {})").format(
        west, south, east, north, sql.Literal(WGS84), sql.Literal(twin_srid))


def to_wgs84(connection: psycopg.Connection, geometries: list[shapely.Geometry], twin_srid: int
             ) -> list[dict]:
    """Geometries made in Python, in the twin's CRS, as GeoJSON geometries in WGS84 (PostGIS transforms
    them, as it does the layers')."""
    if not geometries:
        return []
    rows = connection.execute(
        "SELECT ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_GeomFromWKB(w), %s), %s), %s)::json "
        "FROM unnest(%s::bytea[]) WITH ORDINALITY AS g(w, i) ORDER BY i",
        (twin_srid, WGS84, GEOJSON_DIGITS, [shapely.to_wkb(g) for g in geometries])).fetchall()
    return [row[0] for row in rows]


def feature(geometry: dict | None, **properties: Any) -> dict:
    """A GeoJSON feature."""
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(features: list[dict], **members: Any) -> dict:
    """A GeoJSON FeatureCollection; ``members`` (the analysis, its parameters, its summary) ride along as
    foreign members, which GeoJSON readers keep or ignore."""
    return {"type": "FeatureCollection", **members, "features": features}
