"""The nearest emergency resources to a point: for each kind (police stations, fire brigades, hospitals)
the n nearest in service in a year, with the straight-line distance and the distance along the roads.

The roads standing that year are a graph of their centre lines (:mod:`twin.analyses.graph`; pgRouting is
not installed), walked both ways (one-way streets and turn rules are not in the roads layer). The point
and each resource are snapped to the nearest road; the distance along the network is the walk from the
point to its road, along the roads, and from the road to the resource, and the answer carries that route.
Resources are ranked by it; one no road reaches (the roads are not connected to it) comes after the
others, by straight line, with ``network_m`` null.
"""

from __future__ import annotations

import math
import time
from typing import Any

import psycopg
import shapely

from twin.analyses import params
from twin.analyses.cache import run
from twin.analyses.graph import Network
from twin.analyses.queries import OUT_OF_SERVICE, WGS84, compose, srid, template
from twin.analyses.results import Analysis, Finding, Result
from twin.time import year_end

KINDS = ("police_stations", "fire_brigades", "hospitals")
MOST = 20  # resources of each kind one request may ask for


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
    origin_xy = _in_twin_crs(connection, params.place(lon, lat, x, y))
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


def _in_twin_crs(connection: psycopg.Connection, where: params.Place) -> tuple[float, float]:
    if not where.wgs84:
        return where.x, where.y
    row = connection.execute(
        "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), %s), %s) p",
        (where.x, where.y, WGS84, srid(connection))).fetchone()
    return float(row[0]), float(row[1])


NEAREST_RESOURCES = Analysis("nearest-resources", ("roads", *KINDS), _check, _compute)
