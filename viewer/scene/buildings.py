"""Buildings as one mesh: their own 3D surfaces where they carry them (the ``lod2`` column, from CityJSON
or CityGML), else the footprint extruded from the ground to the roof (LOD1)."""

from __future__ import annotations

import numpy as np
import psycopg
from psycopg import sql
import pyvista as pv
import shapely

from twin.catalog import Layer
from twin.store import LAYER_SCHEMA
from twin.terrain import Terrain
from viewer.scene.areas import polygon_parts
from viewer.scene.layer_mesh import SCENE_ORDER, LayerMesh, faces, ragged, tag_cells

DEFAULT_HEIGHT = 10.0  # metres, for a building with neither height nor floors


def buildings(connection: psycopg.Connection, layer: Layer, origin: np.ndarray,
              terrain: Terrain | None) -> LayerMesh | None:
    """The layer's footprints extruded as its ``draw`` says (height, floors, base), or its own solids."""
    draw = layer.draw

    def column(name: str | None, wrap: str = "{}") -> sql.Composable:
        return sql.SQL(wrap).format(sql.Identifier(name)) if name else sql.NULL

    rows = connection.execute(sql.SQL(
        "SELECT id::text, ST_AsBinary(ST_Force2D(geom)), coalesce({height}, {floors} * %s, %s), {base}, "
        "valid_from, valid_to, {solid} FROM {table} " + SCENE_ORDER).format(
        height=column(draw.height), floors=column(draw.floors), base=column(draw.base),
        solid=column(draw.solid, "ST_AsBinary({})"), table=sql.Identifier(LAYER_SCHEMA, layer.id)),
        (draw.storey_height, DEFAULT_HEIGHT)).fetchall()
    if not rows:
        return None
    surfaces = np.array([shapely.from_wkb(r[6]) if r[6] is not None else None for r in rows], dtype=object)
    own = ~shapely.is_missing(surfaces) & ~shapely.is_empty(surfaces)
    footprints = shapely.from_wkb([r[1] for r in rows])
    ground = np.array([r[3] if r[3] is not None else np.nan for r in rows], float)
    unknown = np.isnan(ground)
    if unknown.any() and terrain is not None:  # imported before the DEM: stand it on the DEM now
        centre = shapely.centroid(footprints[unknown])
        ground[unknown] = terrain.height(shapely.get_x(centre), shapely.get_y(centre))
    ground = np.nan_to_num(ground)
    top = ground + np.array([r[2] for r in rows], float)
    made = [_extruded(footprints, np.flatnonzero(~own), ground, top), _surfaces(surfaces, np.flatnonzero(own))]
    points = np.concatenate([m[0] for m in made]) - origin
    offset = len(made[0][0])
    mesh = pv.PolyData(points, np.concatenate([made[0][1], _shift(made[1][1], offset)]))
    tag_cells(mesh, np.concatenate([m[2] for m in made]), [r[4] for r in rows], [r[5] for r in rows])
    return LayerMesh(layer, mesh, [r[0] for r in rows])


def _extruded(footprints: np.ndarray, which: np.ndarray, ground: np.ndarray,
              top: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, VTK faces and the row of each face for the footprints ``which``: a wall per edge of every
    ring (courtyards too), a roof as one polygon, or as triangles where it has holes."""
    if not len(which):
        return np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0, np.int64)
    polygons, part_of = shapely.get_parts(footprints[which], return_index=True)
    owner = which[part_of]
    rings, polygon_of = shapely.get_rings(polygons, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    keep = np.r_[ring_of[1:] == ring_of[:-1], False]  # drop each ring's closing vertex
    coords, ring_of = coords[keep], ring_of[keep]
    counts = np.bincount(ring_of, minlength=len(rings))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    row_of_vertex = owner[polygon_of[ring_of]]
    n = len(coords)
    points = np.vstack([np.column_stack([coords, ground[row_of_vertex]]),
                        np.column_stack([coords, top[row_of_vertex]])])
    # Walls: a quad per edge, from each vertex to the next one of its ring.
    position = np.arange(n) - starts[ring_of]
    following = starts[ring_of] + (position + 1) % counts[ring_of]
    walls = faces(np.column_stack([np.arange(n), following, n + following, n + np.arange(n)]))
    # Roofs without holes: one polygon over the top copies of their exterior ring's vertices.
    holes = shapely.get_num_interior_rings(polygons)
    exterior = np.r_[0, np.cumsum(holes + 1)[:-1]]  # each polygon's first ring
    plain = np.flatnonzero(holes == 0)
    plain_roofs = ragged(n + starts[exterior[plain]], counts[exterior[plain]])
    # Roofs with holes: triangles, over points of their own at the roof's height.
    holed = np.flatnonzero(holes > 0)
    triangles, of = shapely.get_parts(shapely.constrained_delaunay_triangles(polygons[holed]), return_index=True)
    corners = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3].reshape(-1, 2)
    triangle_rows = owner[holed[of]]
    points = np.vstack([points, np.column_stack([corners, np.repeat(top[triangle_rows], 3)])])
    cells = np.concatenate([plain_roofs,
                            faces(2 * n + np.arange(3 * len(triangles)).reshape(-1, 3)), walls])
    return points, cells, np.concatenate([owner[plain], triangle_rows, row_of_vertex])


def _surfaces(surfaces: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, VTK faces (triangles) and the row of each face for the 3D surfaces of ``which``.

    Each face is triangulated in the axis-aligned plane it is seen best from (dropping the axis its
    normal points along most), so walls are triangulated as well as roofs; the triangles' corners are
    the face's own vertices, which keep their own heights."""
    polygons, owner = shapely.get_parts(surfaces[which], return_index=True)
    owner = which[owner]
    if not len(polygons):
        return np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0, np.int64)
    coords, face_of = shapely.get_coordinates(polygons, include_z=True, return_index=True)
    normal = _normals(shapely.get_exterior_ring(polygons))
    dropped = np.argmax(np.abs(normal), axis=1)
    kept = np.array([[1, 2], [0, 2], [0, 1]])[dropped]  # the two axes the face is drawn on
    flat = shapely.set_coordinates(shapely.force_2d(polygons), np.take_along_axis(coords, kept[face_of], axis=1))
    flat, face_of_part = polygon_parts(flat)  # a face bent out of its plane may cross itself once flattened
    triangles, of = shapely.get_parts(shapely.constrained_delaunay_triangles(flat), return_index=True)
    corners = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3].reshape(-1, 2)
    face = np.repeat(face_of_part[of], 3)
    xyz = _lift(corners, face, coords, face_of, kept, dropped, normal)
    return xyz, faces(np.arange(len(xyz)).reshape(-1, 3)), owner[face_of_part[of]]


def _normals(rings: np.ndarray) -> np.ndarray:
    """Each ring's Newell normal (its length: twice the area it encloses)."""
    coords, ring_of = shapely.get_coordinates(rings, include_z=True, return_index=True)
    following = np.r_[coords[1:], coords[:1]]
    last = np.r_[ring_of[1:] != ring_of[:-1], True]  # closed rings: the last vertex repeats the first
    terms = np.cross(coords, following)
    terms[last] = 0.0
    normal = np.zeros((len(rings), 3))
    np.add.at(normal, ring_of, terms)
    return normal


def _lift(corners: np.ndarray, face: np.ndarray, coords: np.ndarray, face_of: np.ndarray, kept: np.ndarray,
          dropped: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The 3D point of each triangle corner: the face's own vertex it was flattened from, or, for a
    vertex added where a bent face crossed itself, the point of the face's plane."""
    known = np.column_stack([face_of, np.take_along_axis(coords, kept[face_of], axis=1)])
    key = np.ascontiguousarray(known).view([("face", "f8"), ("a", "f8"), ("b", "f8")]).ravel()
    order = np.argsort(key, kind="stable")
    wanted = np.ascontiguousarray(np.column_stack([face, corners])).view(key.dtype).ravel()
    at = np.minimum(np.searchsorted(key[order], wanted), len(key) - 1)
    found = key[order][at] == wanted
    depth = coords[order[at], dropped[face]]
    # n . p = n . (a vertex of the face), solved for the dropped axis.
    anchor = coords[np.searchsorted(face_of, face)]
    n = normal[face]
    along = np.take_along_axis(n, kept[face], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # only found corners lie on degenerate faces
        plane = (np.sum(n * anchor, axis=1) - np.sum(along * corners, axis=1)) / np.take_along_axis(
            n, dropped[face][:, None], axis=1)[:, 0]
    depth = np.where(found, depth, plane)
    xyz = np.zeros((len(corners), 3))
    np.put_along_axis(xyz, kept[face], corners, axis=1)
    np.put_along_axis(xyz, dropped[face][:, None], depth[:, None], axis=1)
    return xyz


def _shift(cells: np.ndarray, by: int) -> np.ndarray:
    """Faces of triangles (3, a, b, c, ...) with their point ids moved by ``by``."""
    shifted = cells.reshape(-1, 4).copy()
    shifted[:, 1:] += by
    return shifted.ravel()
