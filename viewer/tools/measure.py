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
import pyvista as pv
from psycopg import sql

from twin.catalog import Layer
from twin.store import LAYER_SCHEMA
from twin.terrain import Terrain
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.timeline import subset


@dataclass(frozen=True)
class Measurement:
    """Its title and the names of its rows are keys of the messages' ``measure`` section (worded in the
    page's language by the panel); a value "{key}" is that section's words too."""

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
    return Measurement("distance", straight, [
        ("distance", metres(straight)), ("horizontal", metres(horizontal)), ("height_difference", metres(vertical)),
        ("from", coordinates(a)), ("to", coordinates(b)),
    ])


def building_cells(layer_mesh: LayerMesh, row: int) -> pv.UnstructuredGrid:
    """A building's own 3D cells (extruded or LOD2), with only their own points."""
    return subset(layer_mesh.mesh, layer_mesh.mesh.cell_data["row"] == row, own_points=True)


def building_height(cells: pv.DataSet, origin: np.ndarray) -> Measurement:
    """Roof top above the building's ground, read off its own cells (:func:`building_cells`)."""
    ground, roof = float(cells.bounds[4]) + origin[2], float(cells.bounds[5]) + origin[2]
    height = roof - ground
    return Measurement("building_height", height, [
        ("height", metres(height)), ("roof_top", metres(roof)), ("ground", metres(ground)),
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
        return Measurement("depth", float("nan"), [("depth", "{depth_unknown}")])
    line_z, size_m = float(row[0]), float(row[1] or 0.0)
    ground = float(terrain.height(np.array([at[0]]), np.array([at[1]]))[0]) if terrain is not None else 0.0
    ground = 0.0 if np.isnan(ground) else ground
    # A tube's line is its axis; a tunnel's (box) line is the centre of its roof.
    top = line_z if layer.draw.mode == "box" else line_z + size_m / 2
    centre, bottom = top - size_m / 2, top - size_m
    rows = [("depth_top", metres(ground - top)), ("depth_centre", metres(ground - centre)),
            ("depth_bottom", metres(ground - bottom)), ("ground", metres(ground)),
            ("size", metres(size_m))]
    if terrain is None:
        rows.append(("note", "{no_terrain}"))
    return Measurement("depth_below_ground", ground - top, rows)


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
