"""What the analyses share: their SQL files, the time rule in them, and the area asked about.

An analysis's SQL sits beside it as ``<name>.sql``, a psycopg template: ``{standing}`` is
:data:`twin.time.EXISTED` for the day ``%(day)s`` (31 December of the year asked about) and
``{<layer id>}`` each layer table it reads. The rule is applied inside a one-table subquery, where its bare
column names are that table's. Geometries leave in the twin's CRS as WKB, ``ST_AsBinary(geom)``, the
last column of a row (:func:`twin.analyses.results.findings`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import psycopg
from psycopg import sql

from twin.store import LAYER_SCHEMA
from twin.store.meta import twin_srid
from twin.time import EXISTED

HERE = Path(__file__).resolve().parent
WGS84 = 4326

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


def envelope(connection: psycopg.Connection, bbox: list[float] | None, box: list[float] | None) -> sql.Composable:
    """The area asked about as a polygon in the twin's CRS, or NULL for everywhere: a WGS84 ``bbox``
    (edges densified, so that the box keeps its shape) or a ``box`` of the twin's own CRS."""
    if bbox is not None:
        west, south, east, north = (sql.Literal(value) for value in bbox)
        return sql.SQL("ST_Transform(ST_Segmentize(ST_MakeEnvelope({}, {}, {}, {}, {}), 0.001), {})").format(
            west, south, east, north, sql.Literal(WGS84), sql.Literal(srid(connection)))
    if box is not None:
        return sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(*map(sql.Literal, box),
                                                                       sql.Literal(srid(connection)))
    return sql.SQL("NULL::geometry")
