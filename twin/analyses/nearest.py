"""The nearest emergency resources to a point: for each kind (police stations, fire brigades, hospitals)
the n nearest in service in a year, with the straight-line distance and the distance along the roads.

The roads standing that year are a graph of their centre lines (:mod:`twin.analyses.graph`; pgRouting is
not installed), walked both ways (one-way streets and turn rules are not in the roads layer). The point
and each resource are snapped to the nearest road; the distance along the network is the walk from the
point to its road, along the roads, and from the road to the resource, and the answer carries that route.
Resources are ranked by it; one no road reaches (the roads are not connected to it) comes after the
others, by straight line, with ``network_m`` null. A point farther than :data:`REACH_M` from the twin's
extent is refused, saying how far out it lies: the twin knows no road there to start from.
"""

from __future__ import annotations

import math
import time
from typing import Any

import psycopg
import shapely
from psycopg import sql

from twin.analyses import params
from twin.analyses.cache import run
from twin.analyses.graph import Network
from twin.analyses.queries import OUT_OF_SERVICE, WGS84, compose, srid, template
from twin.analyses.results import Analysis, Finding, Result
from twin.errors import ParameterError
from twin.store.city import read as read_city
from twin.time import year_end

KINDS = ("police_stations", "fire_brigades", "hospitals")
MOST = 20  # resources of each kind one request may ask for
# Farther than this from the twin's extent, the twin holds no road or resource that says anything about
# the point: the answer would be a walk of thousands of km "to the nearest road" (lon=0, lat=0: 18,164 km).
REACH_M = 20_000.0


def nearest_resources(connection: psycopg.Connection, lon: float | None = None, lat: float | None = None,
                      x: float | None = None, y: float | None = None, n: int = 3,
                      year: int | None = None) -> Result:
    """The ``n`` nearest of each kind of emergency resource to the point lon/lat (WGS84) or x/y (the twin's
    CRS) in ``year`` (default: the last year of the twin's data): the point (``role: "origin"``), the
    resources (``role: "resource"``, ranked per kind) and the route to each (``role: "route"``)."""
    return run(connection, NEAREST_RESOURCES, lon=lon, lat=lat, x=x, y=y, n=n, year=year)


def _check(lon: float | None, lat: float | None, x: float | None, y: float | None, n: int, year: int | None
           ) -> dict[str, Any]:
    params.place(lon, lat, x, y)
    return {"lon": lon, "lat": lat, "x": x, "y": y, "n": params.count(n, "n", MOST), "year": params.year(year)}


def _compute(connection: psycopg.Connection, lon: float | None, lat: float | None, x: float | None,
             y: float | None, n: int, year: int) -> Result:
    started = time.perf_counter()
    where = params.place(lon, lat, x, y)
    _check_near_the_city(connection, where)
    origin_xy = _in_twin_crs(connection, where)
    values = {"day": year_end(year), "out": list(OUT_OF_SERVICE)}
    roads = connection.execute(compose("SELECT ST_AsBinary(ST_Force2D(geom)) FROM {roads} WHERE {standing}",
                                       "roads"), values).fetchall()
    network = Network(shapely.from_wkb([row[0] for row in roads]), range(len(roads)))
    resources = connection.execute(template("nearest_resources", *KINDS), values).fetchall()
    offset, walks = _walks(network, origin_xy, [(row[5], row[6]) for row in resources])
    found = [Finding(shapely.Point(origin_xy), {"role": "origin",
                                                "road_offset_m": None if offset is None else round(offset, 1)})]
    counts = {}
    for kind in KINDS:
        ranked = sorted((_Found(row, walk, origin_xy) for row, walk in zip(resources, walks)
                         if row[0] == kind), key=_Found.order)[:n]
        counts[kind] = len(ranked)
        for rank, answer in enumerate(ranked, start=1):
            found.append(Finding(answer.geometry, {"role": "resource", "rank": rank, **answer.properties}))
            if answer.walk is not None:
                found.append(Finding(shapely.LineString(answer.walk[1]), {
                    "role": "route", "rank": rank, "layer": kind, "id": answer.properties["id"],
                    "network_m": answer.properties["network_m"]}))
    return Result("nearest-resources", {"lon": lon, "lat": lat, "x": x, "y": y, "n": n, "year": year},
                  {**counts, "road_segments": len(network), "seconds": round(time.perf_counter() - started, 3)},
                  found)


class _Found:
    """A resource, how far it is, and the way there."""

    def __init__(self, row: tuple, walk: tuple[float, list[tuple[float, float]]] | None,
                 origin_xy: tuple[float, float]) -> None:
        layer, id_, name, phone, address, x, y, wkb = row
        self.geometry = shapely.from_wkb(wkb)
        self.walk = walk
        self.straight = math.hypot(x - origin_xy[0], y - origin_xy[1])
        self.properties = {"layer": layer, "id": str(id_), "name": name, "phone": phone, "address": address,
                           "straight_m": round(self.straight, 1),
                           "network_m": None if walk is None else round(walk[0], 1)}

    def order(self) -> tuple:
        """Along the roads first; those no road reaches last, by straight line."""
        return (self.walk is None, self.straight if self.walk is None else self.walk[0], self.straight)


def _walks(network: Network, origin_xy: tuple[float, float], points: list[tuple[float, float]]
           ) -> tuple[float | None, list[tuple[float, list[tuple[float, float]]] | None]]:
    """How far the origin lies off the roads, and for each point the way there: its length (off the road,
    along it, off it again) and its vertices from the origin to the point; None where no road leads."""
    snaps = network.snap([origin_xy, *points])
    if not snaps:
        return None, [None] * len(points)
    origin, targets = snaps[0], snaps[1:]
    distance, via = network.distances(origin)
    walks = []
    for point, target in zip(points, targets):
        route = network.route(origin, target, distance, via)
        walks.append(None if route is None else
                     (origin.offset + route[0] + target.offset, [origin_xy, *route[1], point]))
    return origin.offset, walks


def _check_near_the_city(connection: psycopg.Connection, where: params.Place) -> None:
    """A 400 for a point farther than :data:`REACH_M` from the twin's extent (none recorded: no data, no
    check): on the ellipsoid for lon/lat (a point across the world has no meaningful place in the twin's
    projected CRS), in the twin's CRS for x/y."""
    extent = read_city(connection).extent
    if extent is None:
        return
    box = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(*map(sql.Literal, extent),
                                                               sql.Literal(srid(connection)))
    # the extent's edges densified, so that the box keeps its shape in WGS84
    wgs84 = sql.SQL("ST_Transform(ST_Segmentize({}, 100), {})").format(box, sql.Literal(WGS84))
    if where.wgs84:
        point = sql.SQL("ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), {})").format(sql.Literal(WGS84))
        distance = sql.SQL("ST_Distance({}::geography, {}::geography)").format(wgs84, point)
    else:
        point = sql.SQL("ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), ST_SRID({}))").format(box)
        distance = sql.SQL("ST_Distance({}, {})").format(box, point)
    query = sql.SQL("SELECT {}, ST_XMin(w), ST_YMin(w), ST_XMax(w), ST_YMax(w) FROM {} w")
    far, west, south, east, north = connection.execute(query.format(distance, wgs84),
                                                       {"x": where.x, "y": where.y}).fetchone()
    if far > REACH_M:
        name, pair = ("lon", "lon/lat") if where.wgs84 else ("x", "x/y")
        raise ParameterError.of(name, "far_outside", pair=pair, x=where.x, y=where.y, km=far / 1000, west=west,
                                 south=south, east=east, north=north, reach=REACH_M / 1000)


def _in_twin_crs(connection: psycopg.Connection, where: params.Place) -> tuple[float, float]:
    if not where.wgs84:
        return where.x, where.y
    row = connection.execute(
        "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), %s), %s) p",
        (where.x, where.y, WGS84, srid(connection))).fetchone()
    return float(row[0]), float(row[1])


NEAREST_RESOURCES = Analysis("nearest-resources", ("roads", *KINDS), _check, _compute)
