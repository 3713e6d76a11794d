"""The 3D scene from PostGIS: one merged mesh per layer, never an actor per feature, with the feature's
row index and years as cell data so picking and the year slider need no rebuild.

Coordinates are made relative to a scene origin: VTK keeps many points as float32, which would lose
centimetres at projected coordinates near 500,000 / 4,330,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import psycopg
import pyvista as pv
import shapely

from twin.catalog import Catalog, Layer
from twin.store import CORE_SCHEMA, LAYER_SCHEMA
from twin.store.meta import terrain as registered_terrain

DEFAULT_HEIGHT = 10.0  # metres, for a building with neither height nor floors


@dataclass
class LayerMesh:
    layer: Layer
    mesh: pv.PolyData | pv.StructuredGrid
    ids: list[str] = field(default_factory=list)  # feature id per row index (cell data "row")


def scene_origin(connection: psycopg.Connection) -> np.ndarray:
    """The south-west corner of what the twin holds (buildings, roads or the terrain), at height 0."""
    row = connection.execute(
        f"SELECT ST_XMin(e), ST_YMin(e) FROM (SELECT ST_Extent(bounds) e FROM {CORE_SCHEMA}.rasters) r").fetchone()
    if row is None or row[0] is None:
        row = connection.execute(f"SELECT ST_XMin(e), ST_YMin(e) FROM (SELECT ST_Extent(geom) e FROM "
                                 f"{LAYER_SCHEMA}.roads) r").fetchone()
    return np.array([row[0] or 0.0, row[1] or 0.0, 0.0])


def _years(values: list) -> np.ndarray:
    return np.array([v.year if v is not None else 0 for v in values], dtype=np.int32)


def buildings(connection: psycopg.Connection, layer: Layer, origin: np.ndarray) -> LayerMesh | None:
    rows = connection.execute(
        f"SELECT id::text, ST_AsBinary(ST_Force2D(geom)), coalesce(height_m, floors * %s, %s), "
        f"coalesce(ground_z_m, 0), valid_from, valid_to FROM {LAYER_SCHEMA}.buildings",
        (layer.draw.storey_height, DEFAULT_HEIGHT)).fetchall()
    if not rows:
        return None
    geometry = shapely.from_wkb([r[1] for r in rows])
    polygons, owner = shapely.get_parts(geometry, return_index=True)
    rings = shapely.get_exterior_ring(polygons)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    keep = np.r_[ring_of[1:] == ring_of[:-1], False]  # drop each ring's closing vertex
    coords, ring_of = coords[keep] - origin[:2], ring_of[keep]
    counts = np.bincount(ring_of, minlength=len(polygons))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    feature = owner[ring_of]
    ground = np.array([r[3] for r in rows], float)[feature]
    top = ground + np.array([r[2] for r in rows], float)[feature]
    n = len(coords)
    points = np.vstack([np.column_stack([coords, ground]), np.column_stack([coords, top])])
    # Roofs: one polygon cell per ring, over the top copies of its vertices.
    roof_faces = np.concatenate([np.r_[count, n + start + np.arange(count)] for start, count in zip(starts, counts)])
    # Walls: a quad per edge, from each vertex to the next one of its ring.
    position = np.arange(n) - starts[ring_of]
    following = starts[ring_of] + (position + 1) % counts[ring_of]
    walls = np.column_stack([np.full(n, 4), np.arange(n), following, n + following, n + np.arange(n)]).ravel()
    mesh = pv.PolyData(points.astype(np.float64), np.concatenate([roof_faces, walls]))
    rows_of_cells = np.concatenate([owner, owner[ring_of]])
    mesh.cell_data["row"] = rows_of_cells.astype(np.int32)
    mesh.cell_data["valid_from"] = _years([r[4] for r in rows])[rows_of_cells]
    mesh.cell_data["valid_to"] = _years([r[5] for r in rows])[rows_of_cells]
    return LayerMesh(layer, mesh, [r[0] for r in rows])


def lines(connection: psycopg.Connection, layer: Layer, origin: np.ndarray) -> LayerMesh | None:
    """Pipes as tubes of their real diameter; ducts and tunnels by their size; roads as flat lines."""
    size = layer.draw.diameter or layer.draw.width
    size_sql = f"coalesce({size}, 0)" if size else "0"
    if layer.draw.diameter and "section_height_mm" in layer.attributes:
        size_sql = f"coalesce({layer.draw.diameter}, section_height_mm, 0)"
    rows = connection.execute(
        f"SELECT id::text, ST_AsBinary(ST_Force3D(geom)), {size_sql}, valid_from, valid_to "
        f"FROM {LAYER_SCHEMA}.{layer.id}").fetchall()
    if not rows:
        return None
    geometry = shapely.from_wkb([r[1] for r in rows])
    parts, owner = shapely.get_parts(geometry, return_index=True)
    coords, part_of = shapely.get_coordinates(parts, include_z=True, return_index=True)
    coords = coords - origin
    counts = np.bincount(part_of, minlength=len(parts))
    cells = np.concatenate([np.r_[count, start + np.arange(count)]
                            for start, count in zip(np.r_[0, np.cumsum(counts)[:-1]], counts)])
    mesh = pv.PolyData(coords, lines=cells)
    feature = owner[part_of]
    sizes = np.array([float(r[2] or 0) for r in rows])
    if layer.draw.mode == "tube":
        mesh.point_data["radius"] = np.maximum(sizes[feature] / 2000.0, 0.05)
    elif layer.draw.mode == "box":
        mesh.point_data["radius"] = np.maximum(sizes[feature] / 2.0, 0.5)
    mesh.cell_data["row"] = owner.astype(np.int32)
    mesh.cell_data["valid_from"] = _years([r[3] for r in rows])[owner]
    mesh.cell_data["valid_to"] = _years([r[4] for r in rows])[owner]
    if layer.draw.mode in ("tube", "box"):
        tube = mesh.tube(scalars="radius", absolute=True, n_sides=8 if layer.draw.mode == "tube" else 4)
        return LayerMesh(layer, tube, [r[0] for r in rows])
    mesh.points[:, 2] += layer.draw.offset
    return LayerMesh(layer, mesh, [r[0] for r in rows])


_SYMBOLS = {"sphere": lambda s: pv.Sphere(radius=s / 2, theta_resolution=6, phi_resolution=6),
            "cone": lambda s: pv.Cone(height=s, radius=s / 3, direction=(0, 0, 1), resolution=8),
            "cube": lambda s: pv.Cube(x_length=s, y_length=s, z_length=s),
            "cylinder": lambda s: pv.Cylinder(radius=s / 3, height=s, direction=(0, 0, 1), resolution=8),
            "pole": lambda s: pv.Cylinder(radius=0.3, height=s, direction=(0, 0, 1), resolution=6),
            "diamond": lambda s: pv.Octahedron(radius=s / 2),
            "pin": lambda s: pv.Cone(height=s, radius=s / 3, direction=(0, 0, -1), resolution=8)}


def points(connection: psycopg.Connection, layer: Layer, origin: np.ndarray) -> LayerMesh | None:
    rows = connection.execute(
        f"SELECT id::text, ST_X(geom), ST_Y(geom), coalesce(ST_Z(ST_Force3D(geom)), 0), valid_from, valid_to "
        f"FROM {LAYER_SCHEMA}.{layer.id}").fetchall()
    if not rows:
        return None
    size = layer.draw.size or 3.0
    xyz = np.array([[r[1], r[2], r[3]] for r in rows]) - origin
    xyz[:, 2] += size / 2 + layer.draw.offset
    cloud = pv.PolyData(xyz)
    cloud.point_data["row"] = np.arange(len(rows), dtype=np.int32)
    cloud.point_data["valid_from"] = _years([r[4] for r in rows])
    cloud.point_data["valid_to"] = _years([r[5] for r in rows])
    glyph = _SYMBOLS.get(layer.draw.symbol or "sphere", _SYMBOLS["sphere"])(size)
    mesh = cloud.glyph(geom=glyph, scale=False, orient=False)
    per_cell = mesh.point_data_to_cell_data().cell_data
    for name in ("row", "valid_from", "valid_to"):
        mesh.cell_data[name] = per_cell[name].astype(np.int32)
    return LayerMesh(layer, mesh, [r[0] for r in rows])


def terrain(connection: psycopg.Connection, origin: np.ndarray, step: int = 2) -> pv.StructuredGrid | None:
    """The DEM as a surface (every ``step``-th cell)."""
    import rasterio

    found = registered_terrain(connection)
    if found is None:
        return None
    with rasterio.open(found[0]) as dataset:
        heights = dataset.read(1)[::step, ::step].astype(float)
        transform = dataset.transform
    rows, cols = np.mgrid[0:heights.shape[0], 0:heights.shape[1]] * step + 0.5
    x = transform.c + cols * transform.a - origin[0]
    y = transform.f + rows * transform.e - origin[1]
    grid = pv.StructuredGrid(x, y, np.nan_to_num(heights) - 0.3)  # a little below roads and parks
    return grid


def build(connection: psycopg.Connection, catalog: Catalog) -> tuple[dict[str, LayerMesh], pv.StructuredGrid | None, np.ndarray]:
    origin = scene_origin(connection)
    meshes: dict[str, LayerMesh] = {}
    for layer in catalog.vector_layers:
        if layer.id == "buildings":
            made = buildings(connection, layer, origin)
        elif layer.geometry == "line":
            made = lines(connection, layer, origin)
        elif layer.geometry == "point":
            made = points(connection, layer, origin)
        else:
            made = None  # polygon areas on the ground: drawn by the land cover for now
        if made is not None:
            meshes[layer.id] = made
    return meshes, terrain(connection, origin), origin
