"""Measuring in the 3D view (what CJJ/T 315 asks of a CIM viewer): the distance between two picked
points, the height of a building, the depth of a pipe below ground.

Picked positions come from the view, where underground mode may stretch depths; every function here
takes positions already brought back to true metres in the twin's CRS (``Pick.true_position`` of
:mod:`viewer.tools.picking`, plus the scene's origin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql

from twin.catalog import Layer
from twin.store import LAYER_SCHEMA
from twin.terrain import Terrain
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.timeline import subset


@dataclass(frozen=True)
class Measurement:
    title: str
    value_m: float  # the headline figure, in metres
    rows: list[tuple[str, str]]  # (what, how much) for the panel


def metres(value: float) -> str:
    return f"{value:,.2f} m"


def distance(a: np.ndarray, b: np.ndarray) -> Measurement:
    """Straight-line distance between two points, with its horizontal and vertical parts."""
    horizontal = float(np.hypot(*(b[:2] - a[:2])))
    vertical = float(b[2] - a[2])
    straight = float(np.linalg.norm(b - a))
    return Measurement("Distance", straight, [
        ("Distance", metres(straight)), ("Horizontal", metres(horizontal)), ("Height difference", metres(vertical)),
        ("From", coordinates(a)), ("To", coordinates(b)),
    ])


def building_height(layer_mesh: LayerMesh, row: int, origin: np.ndarray) -> Measurement:
    """Roof top above the building's ground, read off its own 3D cells (extruded or LOD2)."""
    cells = subset(layer_mesh.mesh, layer_mesh.mesh.cell_data["row"] == row, own_points=True)
    ground, roof = float(cells.bounds[4]) + origin[2], float(cells.bounds[5]) + origin[2]
    height = roof - ground
    return Measurement("Building height", height, [
        ("Height", metres(height)), ("Roof top (elevation)", metres(roof)), ("Ground (elevation)", metres(ground)),
    ])


def pipe_depth(connection: psycopg.Connection, layer: Layer, feature_id: str, at: np.ndarray,
               terrain: Terrain | None) -> Measurement:
    """Depth below ground of a pipe (or duct or tunnel) where it was picked: to its top, centre and
    bottom, from its stored 3D centre line and size and the DEM's ground height there."""
    row = connection.execute(sql.SQL(
        "SELECT ST_Z(ST_LineInterpolatePoint(line, ST_LineLocatePoint(line, p))), size "
        "FROM (SELECT ST_GeometryN(geom, n) AS line, ST_SetSRID(ST_MakePoint(%s, %s), ST_SRID(geom)) AS p, "
        "{size} AS size FROM {table}, generate_series(1, ST_NumGeometries(geom)) n WHERE id = %s) parts "
        "ORDER BY ST_Distance(line, p) LIMIT 1").format(size=size_sql(layer), table=sql.Identifier(LAYER_SCHEMA, layer.id)),
        (float(at[0]), float(at[1]), feature_id)).fetchone()
    if row is None or row[0] is None:
        return Measurement("Depth", float("nan"), [("Depth", "not known: the line has no heights")])
    line_z, size_m = float(row[0]), float(row[1] or 0.0)
    ground = float(terrain.height(np.array([at[0]]), np.array([at[1]]))[0]) if terrain is not None else 0.0
    ground = 0.0 if np.isnan(ground) else ground
    # A tube's line is its axis; a tunnel's (box) line is the centre of its roof.
    top = line_z if layer.draw.mode == "box" else line_z + size_m / 2
    centre, bottom = top - size_m / 2, top - size_m
    rows = [("Depth to top", metres(ground - top)), ("Depth to centre", metres(ground - centre)),
            ("Depth to bottom", metres(ground - bottom)), ("Ground (elevation)", metres(ground)),
            ("Size", metres(size_m))]
    if terrain is None:
        rows.append(("Note", "no terrain imported: ground taken as 0 m"))
    return Measurement("Depth below ground", ground - top, rows)


def size_sql(layer: Layer) -> sql.Composable:
    """The pipe's outer size in metres: its diameter (mm), a duct's section height (mm), a box's height (m)."""
    draw = layer.draw
    if draw.mode == "box" and draw.section_height:
        return sql.SQL("coalesce({}, 0)").format(sql.Identifier(draw.section_height))
    if draw.diameter:
        fallback = sql.SQL(", {}").format(sql.Identifier(draw.section_size)) if draw.section_size else sql.SQL("")
        return sql.SQL("coalesce({}{}, 0) / 1000.0").format(sql.Identifier(draw.diameter), fallback)
    return sql.SQL("0")


def coordinates(point: np.ndarray) -> str:
    return f"{point[0]:,.2f}, {point[1]:,.2f}, {point[2]:,.2f}"
