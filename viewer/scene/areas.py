"""Areas lying on the terrain (water, parks, management grids, road ribbons): each polygon is cut along a
grid aligned with the DEM, so the mesh has a vertex wherever the ground surface could bend; squares
wholly inside stay quads, the cut edge pieces are triangulated (constrained Delaunay, holes kept), and
every vertex takes the DEM's height plus the layer's offset.

A polygon triangulated only from its outline would be a flat sheet spanning it: over a 400 m grid cell
it would sink under every rise of the ground and float over every dip.
"""

from __future__ import annotations

import math

import numpy as np
import pyvista as pv
import shapely

from twin.terrain import Terrain
from viewer.scene.layer_mesh import faces

# At most this many grid squares per layer: a layer covering the whole city (the management grids) is
# cut more coarsely rather than made into a mesh heavier than the buildings.
MAX_SQUARES = 50_000


def drape(polygons: np.ndarray, terrain: Terrain | None, origin: np.ndarray, offset: float,
          cell: float) -> tuple[pv.PolyData, np.ndarray] | None:
    """A mesh of (Multi)Polygons, one per feature row, on the ground, and the row of each cell.

    ``cell``: the ground surface's cell size in metres (coarsened to keep the layer under
    MAX_SQUARES). Without a terrain the areas lie flat at ``offset``, uncut."""
    parts, owner = polygon_parts(polygons)
    if not len(parts):
        return None
    squares = np.zeros((0, 4, 2))
    square_owner = np.zeros(0, np.int64)
    pieces, piece_owner = parts, owner
    if terrain is not None:
        squares, square_owner, pieces, piece_owner = _cut(parts, owner, terrain, cell)
    triangles, triangle_owner = _triangulate(pieces, piece_owner)
    xy = np.concatenate([squares.reshape(-1, 2), triangles.reshape(-1, 2)])
    if not len(xy):
        return None
    z = np.zeros(len(xy))
    if terrain is not None:
        z = np.nan_to_num(terrain.height(xy[:, 0], xy[:, 1]))  # outside the DEM: 0 m, as the importers take it
    points = np.column_stack([xy, z + offset]) - origin
    n_square_points = 4 * len(squares)
    cells = np.concatenate([faces(np.arange(n_square_points).reshape(-1, 4)),
                            faces(n_square_points + np.arange(3 * len(triangles)).reshape(-1, 3))])
    mesh = pv.PolyData(points, cells)
    return mesh, np.concatenate([square_owner, triangle_owner])


def ribbons(lines: np.ndarray, widths: np.ndarray, terrain: Terrain | None, origin: np.ndarray, offset: float,
            cell: float) -> tuple[pv.PolyData, np.ndarray]:
    """Bands of ``widths`` along (Multi)LineStrings, one per feature row, on the ground, and the row of
    each cell: a quad between each two vertices, with a vertex at least every ``cell`` metres along, and
    mitred where the line turns (cheaper than cutting buffered outlines, and just as close to the DEM
    for a band a few cells wide)."""
    parts, owner = shapely.get_parts(shapely.force_2d(lines), return_index=True)
    if terrain is not None and cell > 0:
        parts = shapely.segmentize(parts, cell)
    xy, part_of = shapely.get_coordinates(shapely.remove_repeated_points(parts), return_index=True)
    same = part_of[1:] == part_of[:-1]  # each segment within one part
    step = np.where(same[:, None], xy[1:] - xy[:-1], 0.0)
    step /= np.maximum(np.linalg.norm(step, axis=1), 1e-12)[:, None]
    ahead, behind = np.r_[step, np.zeros((1, 2))], np.r_[np.zeros((1, 2)), step]  # a vertex's next and last
    tangent = ahead + behind
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1), 1e-12)[:, None]
    # The mitre: as far out as keeps the band's edges parallel to both segments, at most twice the width.
    cosine = np.where(np.any(ahead, axis=1) & np.any(behind, axis=1), np.sum(tangent * ahead, axis=1), 1.0)
    reach = widths[owner[part_of]] / 2 / np.maximum(cosine, 0.5)
    side = np.column_stack([-tangent[:, 1], tangent[:, 0]]) * reach[:, None]
    xy = np.concatenate([xy + side, xy - side])
    z = np.zeros(len(xy))
    if terrain is not None:
        z = np.nan_to_num(terrain.height(xy[:, 0], xy[:, 1]))
    n = len(part_of)
    first = np.flatnonzero(same)
    quads = np.column_stack([first, n + first, n + first + 1, first + 1])
    return pv.PolyData(np.column_stack([xy, z + offset]) - origin, faces(quads)), owner[part_of[first]]


def polygon_parts(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons of non-zero area in each geometry (made valid first: GEOS cuts and triangulates only
    valid ones) and the index of the geometry each came from."""
    geometries = np.asarray(geometries, dtype=object)
    invalid = ~shapely.is_valid(geometries)
    if invalid.any():
        geometries = geometries.copy()
        geometries[invalid] = shapely.make_valid(geometries[invalid])
    parts, index = geometries, np.arange(len(geometries))
    for _ in range(2):  # a collection may hold a multipolygon
        parts, of = shapely.get_parts(parts, return_index=True)
        index = index[of]
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    return parts[keep], index[keep]


def _cut(parts: np.ndarray, owner: np.ndarray, terrain: Terrain,
         cell: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid squares wholly inside a polygon (their corners, (n, 4, 2)), and the pieces of polygons
    cut by the grid's lines, each with its owner."""
    corner = ~terrain.inverse * (0.0, 0.0)  # the DEM's corner, so squares share the DEM's cell lines
    low = shapely.bounds(parts)
    spans = (low[:, 2] - low[:, 0]) * (low[:, 3] - low[:, 1])
    cell = cell * max(1, math.ceil(math.sqrt(spans.sum() / MAX_SQUARES) / cell))
    first = np.floor((low[:, :2] - corner) / cell).astype(np.int64)
    count = np.maximum(np.ceil((low[:, 2:] - corner) / cell).astype(np.int64) - first, 1)
    per_part = count[:, 0] * count[:, 1]
    part = np.repeat(np.arange(len(parts)), per_part)
    local = np.arange(len(part)) - np.repeat(np.cumsum(per_part) - per_part, per_part)
    ix = first[part, 0] + local % count[part, 0]
    iy = first[part, 1] + local // count[part, 0]
    x0, y0 = corner[0] + ix * cell, corner[1] + iy * cell
    boxes = shapely.box(x0, y0, x0 + cell, y0 + cell)
    shapely.prepare(parts)
    inside = shapely.contains(parts[part], boxes)
    edge = ~inside & shapely.intersects(parts[part], boxes)
    squares = np.stack([np.column_stack([x0, y0]), np.column_stack([x0 + cell, y0]),
                        np.column_stack([x0 + cell, y0 + cell]), np.column_stack([x0, y0 + cell])], axis=1)[inside]
    pieces = shapely.intersection(parts[part[edge]], boxes[edge])
    return squares, owner[part[inside]], pieces, owner[part[edge]]


def _triangulate(pieces: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangles (n, 3, 2) covering the polygonal part of each piece (a cut can leave lines and points
    where a polygon only touches a square), each with its piece's owner."""
    polygons, index = polygon_parts(pieces)
    if not len(polygons):
        return np.zeros((0, 3, 2)), np.zeros(0, np.int64)
    triangles, of = shapely.get_parts(shapely.constrained_delaunay_triangles(polygons), return_index=True)
    coords = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3]  # rings closed: drop the repeat
    return coords, np.asarray(owner)[index[of]]
