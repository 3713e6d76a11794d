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

import psycopg
import shapely

from twin.analyses import params
from twin.analyses.graph import Network
from twin.analyses.queries import (
    OUT_OF_SERVICE,
    WGS84,
    collection,
    compose,
    feature,
    srid,
    template,
    to_wgs84,
)
from twin.time import year_end

KINDS = ("police_stations", "fire_brigades", "hospitals")
MOST = 20  # resources of each kind one request may ask for


def nearest_resources(connection: psycopg.Connection, lon: float | None = None, lat: float | None = None,
                      x: float | None = None, y: float | None = None, n: int = 3,
                      year: int | None = None) -> dict:
    """The ``n`` nearest of each kind of emergency resource to the point lon/lat (WGS84) or x/y (the twin's
    CRS) in ``year`` (default: this year): a GeoJSON FeatureCollection of the point (``role: "origin"``),
    the resources (``role: "resource"``, ranked per kind) and the route to each (``role: "route"``)."""
    started = time.perf_counter()
    where, n, year = params.place(lon, lat, x, y), params.count(n, "n", MOST), params.year(year)
    twin_srid = srid(connection)
    origin_xy = _in_twin_crs(connection, where, twin_srid)
    values = {"day": year_end(year), "out": list(OUT_OF_SERVICE)}
    roads = connection.execute(compose("SELECT ST_AsBinary(ST_Force2D(geom)) FROM {roads} WHERE {standing}",
                                       "roads"), values).fetchall()
    network = Network(shapely.from_wkb([row[0] for row in roads]), range(len(roads)))
    resources = connection.execute(template("nearest_resources", *KINDS), values).fetchall()
    offset, walks = _walks(network, origin_xy, [(row[5], row[6]) for row in resources])
    origin = feature(None, role="origin", road_offset_m=None if offset is None else round(offset, 1))
    features, made = [origin], [shapely.Point(origin_xy)]  # made: geometries of the features made here
    counts = {}
    for kind in KINDS:
        found = sorted((_Found(row, walk, origin_xy) for row, walk in zip(resources, walks)
                        if row[0] == kind), key=_Found.order)[:n]
        counts[kind] = len(found)
        for rank, answer in enumerate(found, start=1):
            features.append(feature(answer.geometry, role="resource", rank=rank, **answer.properties))
            if answer.walk is not None:
                features.append(feature(None, role="route", rank=rank, layer=kind, id=answer.properties["id"],
                                        network_m=answer.properties["network_m"]))
                made.append(shapely.LineString(answer.walk[1]))
    for made_feature, geometry in zip((f for f in features if f["geometry"] is None),
                                      to_wgs84(connection, made, twin_srid)):
        made_feature["geometry"] = geometry
    return collection(
        features, analysis="nearest-resources",
        parameters={"lon": lon, "lat": lat, "x": x, "y": y, "n": n, "year": year},
        summary={**counts, "road_segments": len(network), "seconds": round(time.perf_counter() - started, 3)})


class _Found:
    """A resource, how far it is, and the way there."""

    def __init__(self, row: tuple, walk: tuple[float, list[tuple[float, float]]] | None,
                 origin_xy: tuple[float, float]) -> None:
        layer, id_, name, phone, address, x, y, self.geometry = row
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


def _in_twin_crs(connection: psycopg.Connection, where: params.Place, twin_srid: int) -> tuple[float, float]:
    if not where.wgs84:
        return where.x, where.y
    row = connection.execute(
        "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), %s), %s) p",
        (where.x, where.y, WGS84, twin_srid)).fetchone()
    return float(row[0]), float(row[1])
