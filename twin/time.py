"""The twin's time model: what "the city in year Y" means, and the figures of each year.

A feature exists in year Y when it stood at the end of that year: ``valid_from`` (null: always) on or
before 31 December Y, and ``valid_to`` (null: still standing; the first day it no longer existed) after
it. In whole years: ``year(valid_from) <= Y < year(valid_to)``. The viewer's year filter, the figures
below and the service's ``datetime`` all follow this one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from twin.catalog import Catalog
from twin.store import core_table, layer_table

FLOOR_AREA = "floor_area_m2"  # the attribute summed into a year's floor area, where a layer has it

# The rule as a condition on a layer row, in words both SQL and CQL2 text read: the feature existed on
# some day from {start} to {end} (date expressions of the caller's language). "In year Y" is the one day
# ``year_end(Y)``; a single day D is start = end = D.
EXISTED = "(valid_from IS NULL OR valid_from <= {end}) AND (valid_to IS NULL OR valid_to > {start})"


def _stood(year: str) -> sql.Composed:
    """:data:`EXISTED` at the end of the year that ``year`` (SQL: a column or a parameter) names."""
    end = sql.SQL("make_date({}, 12, 31)").format(sql.SQL(year))
    return sql.SQL(EXISTED).format(end=end, start=end)


def year_end(year: int) -> date:
    """The day a year is judged on: the city in year Y is what stood on 31 December Y."""
    return date(year, 12, 31)


def year_range(connection: psycopg.Connection, catalog: Catalog) -> tuple[int, int] | None:
    """First and last year the data knows of (from every time-varying layer, and the days of the snapshots
    imported: a snapshot that only closed features still shows its year), or None."""
    parts = [sql.SQL("SELECT min(extract(year FROM valid_from)), max(greatest(extract(year FROM valid_from), "
                     "extract(year FROM valid_to) - 1)) FROM {}").format(layer_table(layer.id))
             for layer in catalog.vector_layers if layer.time_varying]
    if not parts:
        return None
    parts.append(sql.SQL("SELECT NULL, max(extract(year FROM as_of)) FROM {}").format(core_table("imports")))
    rows = connection.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    firsts = [int(r[0]) for r in rows if r[0] is not None]
    lasts = [int(r[1]) for r in rows if r[1] is not None]
    if not firsts:
        return None
    return min(firsts), max(lasts + firsts)


# Sums of lengths and floor areas come out of PostgreSQL with binary noise (285.79999999999234 km for
# roads built in 100 m lengths): kilometres are given to the metre, floor areas to 0.1 m², as measured.
KM_DIGITS, AREA_DIGITS = 3, 1


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass(frozen=True)
class YearFigures:
    """One layer's figures in one year."""

    count: int
    length_km: float | None  # line layers
    floor_area_m2: float | None  # layers with a floor area


def figures(connection: psycopg.Connection, catalog: Catalog, first: int, last: int
            ) -> dict[int, dict[str, YearFigures]]:
    """Year -> layer -> figures, for every vector layer and every year from ``first`` to ``last``, in one
    query per layer (the database walks each table once)."""
    out: dict[int, dict[str, YearFigures]] = {year: {} for year in range(first, last + 1)}
    for layer in catalog.vector_layers:
        length = sql.SQL("coalesce(sum(ST_Length(geom)), 0) / 1000.0" if layer.geometry == "line" else "NULL")
        area = (sql.SQL("coalesce(sum({}), 0)").format(sql.Identifier(FLOOR_AREA)) if FLOOR_AREA in layer.attributes
                else sql.SQL("NULL"))
        query = sql.SQL(
            "SELECT y, count(t.*), {length}, {area} FROM generate_series(%(first)s::int, %(last)s::int) y "
            "LEFT JOIN {table} t ON {stood} GROUP BY y"
        ).format(length=length, area=area, table=layer_table(layer.id), stood=_stood("y"))
        for year, count, km, floor_area in connection.execute(query, {"first": first, "last": last}):
            out[year][layer.id] = YearFigures(int(count), _rounded(km, KM_DIGITS),
                                              _rounded(floor_area, AREA_DIGITS))
    return out


@dataclass(frozen=True)
class Change:
    """What of one layer appeared, disappeared and was altered between two years (A before B)."""

    layer: str
    appeared: int
    disappeared: int
    appeared_km: float | None = None
    disappeared_km: float | None = None
    appeared_floor_area_m2: float | None = None
    disappeared_floor_area_m2: float | None = None
    altered: int = 0  # features standing in both years, in another version in B (a snapshot altered them)


def _compared(table: sql.Composable, *extra: sql.Composable) -> sql.Composed:
    """A feature's version standing at the end of year %(a)s beside the one standing at the end of %(b)s
    (either missing), matched by source and source id (a feature's versions share them); ``extra``: more
    columns of each side than its ``id``."""
    columns = sql.SQL(", ").join([sql.SQL("source, source_id, id"), *extra])
    return sql.SQL(
        "(SELECT {columns} FROM {table} WHERE {a}) a FULL JOIN "
        "(SELECT {columns} FROM {table} WHERE {b}) b USING (source, source_id)"
    ).format(columns=columns, table=table, a=_stood("%(a)s"), b=_stood("%(b)s"))


# Of :func:`_compared`'s rows: standing at the end of year B but not of A, the reverse, and both in other
# versions; named in the queries' FILTER clauses.
_KINDS = {"appeared": sql.SQL("a.id IS NULL"), "disappeared": sql.SQL("b.id IS NULL"),
          "altered": sql.SQL("a.id <> b.id")}


def changes(connection: psycopg.Connection, catalog: Catalog, year_a: int, year_b: int) -> list[Change]:
    """Per vector layer, the features standing at the end of ``year_b`` but not of ``year_a`` (appeared),
    the reverse (disappeared), with their km (lines) and floor area, and those standing in both in another
    version (altered); layers without change left out."""
    out: list[Change] = []
    for layer in catalog.vector_layers:
        length = sql.SQL("ST_Length(geom) / 1000.0" if layer.geometry == "line" else "NULL::float")
        area = sql.Identifier(FLOOR_AREA) if FLOOR_AREA in layer.attributes else sql.SQL("NULL::float")
        query = sql.SQL(
            "SELECT count(*) FILTER (WHERE {appeared}), count(*) FILTER (WHERE {disappeared}), "
            "sum(b.km) FILTER (WHERE {appeared}), sum(a.km) FILTER (WHERE {disappeared}), "
            "sum(b.area) FILTER (WHERE {appeared}), sum(a.area) FILTER (WHERE {disappeared}), "
            "count(*) FILTER (WHERE {altered}) FROM {compared}"
        ).format(**_KINDS, compared=_compared(layer_table(layer.id), sql.SQL("{} AS km").format(length),
                                              sql.SQL("{} AS area").format(area)))
        row = connection.execute(query, {"a": year_a, "b": year_b}).fetchone()
        if row[0] or row[1] or row[6]:
            km = layer.geometry == "line"
            floor = FLOOR_AREA in layer.attributes
            out.append(Change(layer.id, int(row[0]), int(row[1]),
                              _rounded(row[2] or 0, KM_DIGITS) if km else None,
                              _rounded(row[3] or 0, KM_DIGITS) if km else None,
                              _rounded(row[4] or 0, AREA_DIGITS) if floor else None,
                              _rounded(row[5] or 0, AREA_DIGITS) if floor else None,
                              int(row[6])))
    return out


def changed_ids(connection: psycopg.Connection, catalog: Catalog, year_a: int, year_b: int
                ) -> dict[str, tuple[list[str], list[str], list[str]]]:
    """Per vector layer with any change, the ids of the features that appeared, that disappeared (their
    version in A) and that were altered (their version in B) between ``year_a`` and ``year_b`` (as
    :func:`changes` counts them), for drawing them."""
    out: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for layer in catalog.vector_layers:
        query = sql.SQL(
            "SELECT coalesce(array_agg(b.id::text) FILTER (WHERE {appeared}), '{{}}'), "
            "coalesce(array_agg(a.id::text) FILTER (WHERE {disappeared}), '{{}}'), "
            "coalesce(array_agg(b.id::text) FILTER (WHERE {altered}), '{{}}') FROM {compared}"
        ).format(**_KINDS, compared=_compared(layer_table(layer.id)))
        appeared, disappeared, altered = connection.execute(query, {"a": year_a, "b": year_b}).fetchone()
        if appeared or disappeared or altered:
            out[layer.id] = (appeared, disappeared, altered)
    return out
