"""Where the camera can go: named viewpoints worked out from the data (so any city gets them), and a
search that finds a feature by name or id in every layer and frames it.

All positions here are in scene coordinates (the twin's CRS less the scene origin, see viewer.scene.build).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql

from twin import i18n
from twin.catalog import Catalog, Layer
from twin.store import LAYER_SCHEMA
from twin.terrain import Terrain

# The start-up area is where a city began: the buildings of its first few years.
FIRST_YEARS = 3
# The street view: from this high over a road (a bus's roof, a first floor's window), looking this far
# along it: the street in front, the city beyond it to the horizon.
STREET_EYE_M, STREET_AHEAD_M = 10.0, 300.0
SEARCH_LIMIT = 12


@dataclass(frozen=True)
class Viewpoint:
    key: str
    titles: dict[str, str]  # language -> what the "Go to" menu calls it
    focal_point: tuple[float, float, float]
    position: tuple[float, float, float]
    underground: bool = False  # the view looks at what lies below ground


@dataclass(frozen=True)
class Found:
    """A search hit."""

    layer_id: str
    feature_id: str
    label: str
    bounds: tuple[float, float, float, float, float, float]  # xmin, ymin, zmin, xmax, ymax, zmax, in the CRS


def framing(bounds: tuple[float, float, float, float, float, float], origin: np.ndarray,
            tilt_from: tuple[float, float, float] = (-0.6, -1.0, 0.9), least: float = 60.0,
            most: float = float("inf"), around: float = 1.0
            ) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(focal point, camera position) that frame a box of the twin's CRS, looking from ``tilt_from``
    (south-west and above by default), framing ``around`` times its size (1: the box fills the view),
    at least ``least`` and at most ``most`` metres."""
    low, high = np.array(bounds[:3], float), np.array(bounds[3:], float)
    centre = (low + high) / 2 - origin
    size = min(max(float(np.linalg.norm(high - low)) * around, least), most)
    direction = np.array(tilt_from, float)
    direction /= np.linalg.norm(direction)
    # 30 degrees of view angle: the box's diagonal fills the view at about twice its size away.
    position = centre + direction * size * 1.9
    return tuple(centre.tolist()), tuple(position.tolist())


def named(connection: psycopg.Connection, layers: list[Layer], origin: np.ndarray,
          scene_bounds: tuple[float, float, float, float, float, float], terrain: Terrain | None = None
          ) -> list[Viewpoint]:
    """City overview, a street (the road nearest the middle of the buildings), the start-up area (where
    building began) and the longest tunnel, as far as the twin's ``layers`` (those holding features)
    have them; ``scene_bounds`` in scene coordinates (a VTK bounds tuple: xmin, xmax, ymin, ymax, ...);
    ``terrain`` gives the street its ground's height."""
    xmin, xmax, ymin, ymax, zmin, zmax = scene_bounds
    overview = (xmin, ymin, zmin, xmax, ymax, zmax)
    focal, position = framing(tuple(np.r_[overview[:3] + origin, overview[3:] + origin].tolist()), origin,
                              tilt_from=(-0.5, -1.0, 1.1))
    views = [Viewpoint("overview", _in_every_language("viewer.view_overview"), focal, position)]
    buildings = next((layer for layer in layers if layer.draw.mode == "extrude"), None)
    roads = next((layer for layer in layers if layer.geometry == "line" and layer.draw.mode == "drape"), None)
    street = _street(connection, buildings, roads, origin, terrain) if buildings and roads else None
    if street is not None:
        views.append(street)
    for layer in layers:
        if layer.draw.mode == "extrude" and layer.time_varying:
            start = _start_up_area(connection, layer)
            if start is not None:
                bounds, first, last = start
                focal, position = framing(bounds, origin)
                views.append(Viewpoint("start-up", _in_every_language("viewer.view_start_up", first=first, last=last),
                                       focal, position))
                break
    boxes = [layer for layer in layers if layer.draw.mode == "box"]
    if boxes:
        tunnel = _tunnel(connection, boxes[0], origin)
        if tunnel is not None:
            views.append(tunnel)
    return views


def _street(connection: psycopg.Connection, buildings: Layer, roads: Layer, origin: np.ndarray,
            terrain: Terrain | None) -> Viewpoint | None:
    """On the road nearest the middle of the buildings, STREET_EYE_M above it, looking along it."""
    middle = connection.execute(sql.SQL("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) "
                                        "AS c FROM {}) t").format(sql.Identifier(LAYER_SCHEMA, buildings.id))).fetchone()
    if middle is None or middle[0] is None:
        return None
    row = connection.execute(sql.SQL(
        "WITH road AS (SELECT ST_GeometryN(geom, 1) AS line, ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), ST_SRID(geom)) "
        "AS m FROM {} ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), ST_SRID(geom)) LIMIT 1), "
        "along AS (SELECT line, ST_LineLocatePoint(line, m) AS at, "
        "least(0.5, 20.0 / greatest(ST_Length(line), 1.0)) AS step FROM road) "
        "SELECT ST_X(a), ST_Y(a), ST_X(b), ST_Y(b) FROM (SELECT ST_LineInterpolatePoint(line, at) AS a, "
        "ST_LineInterpolatePoint(line, CASE WHEN at + step <= 1 THEN at + step ELSE at - step END) AS b "
        "FROM along) t").format(sql.Identifier(LAYER_SCHEMA, roads.id)), {"x": middle[0], "y": middle[1]}).fetchone()
    if row is None or row[0] is None:
        return None
    here, ahead = np.array(row[:2], float), np.array(row[2:], float)
    way = (ahead - here) / max(float(np.linalg.norm(ahead - here)), 1e-9)
    ground = float(terrain.height(here[:1], here[1:])[0]) if terrain is not None else 0.0
    eye = np.r_[here, (ground if np.isfinite(ground) else 0.0) + STREET_EYE_M] - origin
    focal = eye + np.r_[way * STREET_AHEAD_M, 0.0]
    return Viewpoint("street", _in_every_language("viewer.view_street"), tuple(focal.tolist()), tuple(eye.tolist()))


def _start_up_area(connection: psycopg.Connection, layer: Layer) -> tuple[tuple, int, int] | None:
    """Where the layer's first few years of features stand, and those years; None without dates."""
    height = sql.Identifier(layer.draw.height) if layer.draw.height else sql.Literal(None)
    row = connection.execute(sql.SQL(
        "WITH first AS (SELECT min(extract(year FROM valid_from))::int AS year FROM {table}) "
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), (SELECT year FROM first), "
        "height FROM (SELECT ST_Extent(geom) AS e, max(coalesce({height}, 10)) AS height "
        "FROM {table}, first WHERE extract(year FROM valid_from) < first.year + %s) b").format(
        table=sql.Identifier(LAYER_SCHEMA, layer.id), height=height), (FIRST_YEARS,)).fetchone()
    if row is None or row[0] is None:
        return None
    xmin, ymin, xmax, ymax, first, height = row
    return (xmin, ymin, 0.0, xmax, ymax, float(height or 0)), first, first + FIRST_YEARS - 1


def _tunnel(connection: psycopg.Connection, layer: Layer, origin: np.ndarray) -> Viewpoint | None:
    """The layer's longest feature (a utility tunnel), seen from beside and a little above its roof,
    along its length."""
    row = connection.execute(sql.SQL(
        "SELECT coalesce(name, source_id), ST_X(a), ST_Y(a), ST_Z(a), ST_X(b), ST_Y(b), ST_Z(b) FROM ("
        "SELECT name, source_id, ST_LineInterpolatePoint(ST_GeometryN(geom, 1), 0.45) AS a, "
        "ST_LineInterpolatePoint(ST_GeometryN(geom, 1), 0.55) AS b FROM {} "
        "ORDER BY ST_Length(geom) DESC, source_id LIMIT 1) t").format(
        sql.Identifier(LAYER_SCHEMA, layer.id))).fetchone()
    if row is None:
        return None
    name = row[0]
    a, b = np.array(row[1:4], float) - origin, np.array(row[4:7], float) - origin
    along = (b - a) / (np.linalg.norm(b - a) or 1.0)
    side = np.array([-along[1], along[0], 0.0])
    focal = (a + b) / 2
    position = focal - along * 40.0 + side * 25.0 + np.array([0.0, 0.0, 18.0])
    # "Utility tunnel T3": the English title in the singular (a Chinese one has no plural)
    titles = {language: f"{layer.title_in(language).rstrip('s')} {name}" for language in i18n.LANGUAGES}
    return Viewpoint("tunnel", titles, tuple(focal.tolist()), tuple(position.tolist()),
                     underground=True)


def _in_every_language(key: str, **params: object) -> dict[str, str]:
    return {language: i18n.text(key, language, **params) for language in i18n.LANGUAGES}


def layers_named(catalog: Catalog, text: str, language: str = i18n.DEFAULT) -> list[Layer]:
    """The vector layers whose title, id or group (in the page's ``language``) contains ``text`` (case
    aside): "hospital" finds the Hospitals, "emergency" the emergency resources; "医院" in Chinese."""
    needle = text.strip().casefold()
    if not needle:
        return []
    return [layer for layer in catalog.vector_layers
            if any(needle in name.casefold()
                   for name in (layer.title_in(language), layer.id.replace("_", " "), layer.group_title(language)))]


def search(connection: psycopg.Connection, catalog: Catalog, text: str) -> list[Found]:
    """Features whose name or source id contains ``text`` (exact ids first), across every layer."""
    text = text.strip()
    if not text:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    parts = []
    for layer in catalog.vector_layers:
        parts.append(sql.SQL(
            "SELECT {layer_id} AS layer, id::text, coalesce(name, source_id) AS label, "
            "coalesce(source_id = %(text)s OR id::text = %(text)s OR name = %(text)s, false) AS exact, "
            "ST_XMin(b), ST_YMin(b), ST_ZMin(b), ST_XMax(b), ST_YMax(b), ST_ZMax(b) "
            "FROM (SELECT id, name, source_id, box3d(geom) AS b FROM {table} "
            "WHERE name ILIKE %(pattern)s OR source_id ILIKE %(pattern)s OR id::text = %(text)s "
            "LIMIT %(limit)s) f").format(layer_id=sql.Literal(layer.id), table=sql.Identifier(LAYER_SCHEMA, layer.id)))
    query = sql.SQL("SELECT * FROM ({}) hits ORDER BY exact DESC, length(label), label LIMIT %(limit)s").format(
        sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(part) for part in parts))
    rows = connection.execute(query, {"text": text, "pattern": pattern, "limit": SEARCH_LIMIT}).fetchall()
    return [Found(r[0], r[1], r[2], tuple(float(v or 0.0) for v in r[4:10])) for r in rows]
