"""The 3D scene from PostGIS: one merged mesh per layer, never an actor per feature, with the feature's
row index and years as cell data so picking and the year slider need no rebuild.

Coordinates are made relative to a scene origin: VTK keeps many points as float32, which would lose
centimetres at projected coordinates near 500,000 / 4,330,000.
"""

from __future__ import annotations

import numpy as np
import psycopg
from psycopg import sql
import pyvista as pv
import shapely
from pyproj import CRS

from twin.catalog import Catalog, Layer
from twin.store import LAYER_SCHEMA, core_table, layer_table
from twin.store.meta import twin_crs
from twin.terrain import Terrain
from viewer.scene.areas import drape, ribbons
from viewer.scene.buildings import buildings
from viewer.scene.colouring import colourings
from viewer.scene.depth import exaggerable
from viewer.scene.land_cover import land_cover
from viewer.scene.layer_mesh import SCENE_ORDER, LayerMesh, faces, ragged, tag_cells
from viewer.scene.orthophoto import orthophoto
from viewer.scene.terrain_mesh import Ground, surface
from viewer.scene.tiles import split

# A road (or any draped line) without a width still shows, this wide.
NARROWEST_RIBBON_M = 2.0
# Level ground (a twin without a DEM) reaches this far beyond the data at least.
LEVEL_GROUND_MARGIN_M = 100.0
SYMBOL_M = 3.0  # a point symbol's size where its layer file gives none


def layer_tables(connection: psycopg.Connection, catalog: Catalog) -> list[Layer]:
    """The catalog's vector layers that have a table (a twin without a CRS yet has none)."""
    have = {row[0] for row in connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (LAYER_SCHEMA,))}
    return [layer for layer in catalog.vector_layers if layer.id in have]


def data_extent(connection: psycopg.Connection, layers: list[Layer]) -> tuple[float, float, float, float] | None:
    """xmin, ymin, xmax, ymax of everything the twin holds (features and rasters), None when it holds nothing."""
    parts = [sql.SQL("SELECT ST_Extent(geom) FROM {}").format(layer_table(layer.id))
             for layer in layers]
    parts.append(sql.SQL("SELECT ST_Extent(bounds) FROM {}").format(core_table("rasters")))
    row = connection.execute(sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                     "(SELECT ST_Extent(e) e FROM ({}) parts(e)) whole").format(
        sql.SQL(" UNION ALL ").join(parts))).fetchone()
    return None if row is None or row[0] is None else tuple(float(v) for v in row)  # type: ignore[return-value]


def base_height(connection: psycopg.Connection, layers: list[Layer]) -> float:
    """Where the ground lies in a twin without a DEM: near the lowest ground its extruded layers stand on
    (Zurich's buildings at 400-620 m), else at the top of what it holds in 3D (pipes lie under the
    ground), else 0 m."""
    grounds = [sql.SQL("SELECT {} FROM {}").format(sql.Identifier(layer.draw.base), layer_table(layer.id))
               for layer in layers if layer.draw.base and layer.draw.base in layer.attributes]
    tops = [sql.SQL("SELECT ST_ZMax(geom) FROM {}").format(layer_table(layer.id))
            for layer in layers if layer.z]
    for parts, share in ((grounds, 0.05), (tops, 0.95)):
        if parts:
            row = connection.execute(sql.SQL("SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY h) FROM ({}) p(h)").format(
                sql.SQL(" UNION ALL ").join(parts)), (share,)).fetchone()
            if row and row[0] is not None:
                return float(row[0])
    return 0.0


def ground_height(terrain: Terrain | None, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The DEM's height at each point; 0 m outside it or without one, as the importers take it."""
    return np.nan_to_num(terrain.height(x, y)) if terrain is not None else np.zeros(len(x))


def lines(connection: psycopg.Connection, layer: Layer, origin: np.ndarray, terrain: Terrain | None,
          cell: float) -> LayerMesh | None:
    """Pipes as tubes of their real diameter at their stored (centre-line) heights; ducts and tunnels by
    their size; what is draped (roads) as ribbons of its width on the ground."""
    size = layer.draw.diameter or layer.draw.width
    sizes = [size, layer.draw.section_size] if layer.draw.diameter and layer.draw.section_size else [size]
    rows = connection.execute(sql.SQL(
        "SELECT id::text, ST_AsBinary(ST_Force3D(geom)), {size}, valid_from, valid_to, {height} FROM {table} "
        + SCENE_ORDER).format(size=_first_of(sizes), height=_first_of([layer.draw.section_height]),
             table=layer_table(layer.id))).fetchall()
    if not rows:
        return None
    geometry = shapely.from_wkb([r[1] for r in rows])
    sizes = np.array([float(r[2] or 0) for r in rows])
    ids, born, gone = [r[0] for r in rows], [r[3] for r in rows], [r[4] for r in rows]
    if layer.draw.mode == "drape":
        mesh, row_of_cell = ribbons(geometry, np.maximum(sizes, NARROWEST_RIBBON_M), terrain, origin,
                                    layer.draw.offset, cell)
        tag_cells(mesh, row_of_cell, born, gone)
        return LayerMesh(layer, mesh, ids)
    parts, owner = shapely.get_parts(geometry, return_index=True)
    coords, part_of = shapely.get_coordinates(parts, include_z=True, return_index=True)
    coords = coords - origin
    if layer.draw.mode == "box":
        heights = np.array([float(r[5] or 0) for r in rows])
        mesh, segment_of = boxes(coords, part_of, sizes[owner], heights[owner])
        tag_cells(mesh, owner[segment_of], born, gone)
        return LayerMesh(layer, _buried(mesh, terrain, origin), ids)
    counts = np.bincount(part_of, minlength=len(parts))
    mesh = pv.PolyData(coords, lines=ragged(np.cumsum(counts) - counts, counts))
    feature = owner[part_of]
    if layer.draw.mode == "tube":
        mesh.point_data["radius"] = np.maximum(sizes[feature] / 2000.0, 0.05)
    tag_cells(mesh, owner, born, gone)
    if layer.draw.mode == "tube":
        tubes = _with_centre_lines(mesh.tube(scalars="radius", absolute=True, n_sides=8), mesh)
        return LayerMesh(layer, _buried(tubes, terrain, origin), ids)
    return LayerMesh(layer, mesh, ids)


def _buried(mesh: pv.PolyData, terrain: Terrain | None, origin: np.ndarray) -> pv.PolyData:
    """A pipe's or tunnel's mesh, each point's depth below the DEM there stretched by underground mode."""
    xyz = mesh.points
    exaggerable(mesh, xyz[:, 2], ground_height(terrain, xyz[:, 0] + origin[0], xyz[:, 1] + origin[1]) - origin[2])
    return mesh


def _with_centre_lines(tubes: pv.PolyData, centre: pv.PolyData) -> pv.PolyData:
    """The tubes and their centre lines in one mesh: a line is drawn a pixel or two wide at any distance,
    where a 0.2 m pipe in a view of a whole network (Kentucky's over 10 km) is far under a pixel.
    ``centre``'s lines run over consecutive points, as :func:`lines` makes them."""
    from vtk.util.numpy_support import vtk_to_numpy

    offsets = vtk_to_numpy(centre.GetLines().GetOffsetsArray()).astype(np.int64)
    both = pv.PolyData(np.vstack([tubes.points, centre.points]),
                       lines=ragged(offsets[:-1] + tubes.n_points, np.diff(offsets)), strips=tubes.strips)
    for name in ("row", "valid_from", "valid_to"):  # vtkPolyData's order: lines before strips
        both.cell_data[name] = np.r_[centre.cell_data[name], tubes.cell_data[name]]
    return both


def boxes(coords: np.ndarray, part_of: np.ndarray, widths: np.ndarray, heights: np.ndarray
          ) -> tuple[pv.PolyData, np.ndarray]:
    """A closed box per segment of each line (``coords`` grouped by ``part_of``), ``widths[part]`` wide and
    hanging ``heights[part]`` below the line, which is the centre of its roof (a utility tunnel as
    surveyed); returns the mesh and, per cell, the part it belongs to."""
    same = part_of[1:] == part_of[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    part = part_of[:-1][same]
    along = end[:, :2] - start[:, :2]
    length = np.hypot(along[:, 0], along[:, 1])
    length[length == 0] = 1.0
    half = np.maximum(widths[part], 1.0) / 2.0
    across = np.column_stack([-along[:, 1] / length * half, along[:, 0] / length * half, np.zeros(len(part))])
    down = np.column_stack([np.zeros((len(part), 2)), -np.maximum(heights[part], 1.0)])
    # Corners per segment: roof left/right then floor left/right, at the start (0-3) and the end (4-7).
    corners = np.stack([start + across, start - across, start - across + down, start + across + down,
                        end + across, end - across, end - across + down, end + across + down], axis=1)
    quads = np.array([[0, 1, 5, 4], [3, 7, 6, 2], [0, 4, 7, 3], [1, 2, 6, 5], [0, 3, 2, 1], [4, 5, 6, 7]])
    offsets = (np.arange(len(part)) * 8)[:, None, None]
    mesh = pv.PolyData(corners.reshape(-1, 3), faces((quads[None, :, :] + offsets).reshape(-1, 4)))
    return mesh, np.repeat(part, len(quads))


def _first_of(columns: list[str | None]) -> sql.Composed:
    """SQL for the first of the attribute ``columns`` (None: the layer has none) that a row has, else 0."""
    return sql.SQL("coalesce({}0)").format(sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(name))
                                                           for name in columns if name))


def areas(connection: psycopg.Connection, layer: Layer, origin: np.ndarray, terrain: Terrain | None,
          cell: float) -> LayerMesh | None:
    """Polygons (water, parks, grids) lying on the ground at their layer's offset."""
    rows = connection.execute(sql.SQL("SELECT id::text, ST_AsBinary(ST_Force2D(geom)), valid_from, valid_to "
                                      "FROM {} " + SCENE_ORDER).format(layer_table(layer.id))).fetchall()
    draped = drape(shapely.from_wkb([r[1] for r in rows]), terrain, origin, layer.draw.offset, cell) if rows else None
    if draped is None:
        return None
    tag_cells(draped[0], draped[1], [r[2] for r in rows], [r[3] for r in rows])
    return LayerMesh(layer, draped[0], [r[0] for r in rows])


# Few faces each: a city has tens of thousands of devices, and server-side rendering pays per triangle
# (measured: frame time follows the geometry, hardly the picture's size).
_SYMBOLS = {"sphere": lambda s: pv.Sphere(radius=s / 2, theta_resolution=6, phi_resolution=4),
            "cone": lambda s: pv.Cone(height=s, radius=s / 3, direction=(0, 0, 1), resolution=6),
            "cube": lambda s: pv.Cube(x_length=s, y_length=s, z_length=s),
            "cylinder": lambda s: pv.Cylinder(radius=s / 3, height=s, direction=(0, 0, 1), resolution=6),
            "pole": lambda s: pv.Cylinder(radius=0.3, height=s, direction=(0, 0, 1), resolution=4),
            "diamond": lambda s: pv.Octahedron(radius=s / 2),
            "pin": lambda s: pv.Cone(height=s, radius=s / 3, direction=(0, 0, -1), resolution=6)}


def points(connection: psycopg.Connection, layer: Layer, origin: np.ndarray, terrain: Terrain | None) -> LayerMesh | None:
    """A glyph standing on each point: at its own height where the layer has heights, else on the ground."""
    rows = connection.execute(sql.SQL(
        "SELECT id::text, ST_X(geom), ST_Y(geom), coalesce(ST_Z(ST_Force3D(geom)), 0), valid_from, valid_to "
        "FROM {} " + SCENE_ORDER).format(layer_table(layer.id))).fetchall()
    if not rows:
        return None
    size = layer.draw.size or SYMBOL_M
    xyz = np.array([[r[1], r[2], r[3]] for r in rows])
    ground = ground_height(terrain, xyz[:, 0], xyz[:, 1]) - origin[2]
    if not layer.z:
        xyz[:, 2] = ground + origin[2]
    xyz = xyz - origin
    own = xyz[:, 2].copy()  # the feature's point, under the symbol's centre
    xyz[:, 2] += size / 2 + layer.draw.offset
    cloud = pv.PolyData(xyz)
    cloud.point_data["row"] = np.arange(len(rows), dtype=np.int32)
    glyph = _SYMBOLS.get(layer.draw.symbol or "sphere", _SYMBOLS["sphere"])(size)
    glyphs = cloud.glyph(geom=glyph, scale=False, orient=False)
    glyph_rows = np.rint(glyphs.point_data_to_cell_data().cell_data["row"]).astype(np.int64)
    # Each point is also a vertex, drawn a few pixels wide at any distance: a city's devices are metres
    # across, and in a view of a whole city (Calgary's cells over 30 km) a glyph alone is under a pixel.
    n = len(glyphs.points)
    mesh = pv.PolyData(np.vstack([glyphs.points, xyz]), faces=glyphs.faces,
                       verts=faces(n + np.arange(len(rows))[:, None]))
    tag_cells(mesh, np.r_[np.arange(len(rows)), glyph_rows], [r[4] for r in rows], [r[5] for r in rows])
    if layer.z:  # a valve or manhole under the ground moves down whole as its depth is stretched
        row_of_point = np.r_[np.rint(glyphs.point_data["row"]).astype(np.int64), np.arange(len(rows))]
        exaggerable(mesh, own[row_of_point], ground[row_of_point])
    return LayerMesh(layer, mesh, [r[0] for r in rows])


def build(connection: psycopg.Connection, catalog: Catalog) -> tuple[dict[str, LayerMesh], Ground | None, np.ndarray]:
    """Every vector layer's mesh (layers without features left out), the ground (its DEM, or level ground
    at the data's base height without one; ``ground.texture(year)`` is its orthophoto or land cover; None
    for a twin that holds nothing) and the scene origin (the south-west corner of what the twin holds, at 0 m)."""
    layers = layer_tables(connection, catalog)
    extent = data_extent(connection, layers)
    if extent is None:
        return {}, None, np.zeros(3)
    origin = np.array([extent[0], extent[1], 0.0])
    crs = CRS.from_user_input(twin_crs(connection))
    terrain = Terrain.from_store(connection, crs)
    if terrain is None:
        margin = max(0.1 * max(extent[2] - extent[0], extent[3] - extent[1]), LEVEL_GROUND_MARGIN_M)
        terrain = Terrain.flat(base_height(connection, layers), (extent[0] - margin, extent[1] - margin,
                                                                extent[2] + margin, extent[3] + margin), crs)
    ground = surface(terrain, origin, land_cover(connection, catalog, terrain),
                     orthophoto(connection, catalog, terrain))
    meshes: dict[str, LayerMesh] = {}
    for layer in layers:
        if layer.draw.mode in ("extrude", "solid"):
            made = buildings(connection, layer, origin, terrain)
        elif layer.geometry == "line":
            made = lines(connection, layer, origin, terrain, ground.cell)
        elif layer.geometry == "point":
            made = points(connection, layer, origin, terrain)
        else:
            made = areas(connection, layer, origin, terrain, ground.cell)
        if made is not None:
            made.colourings = colourings(connection, made)
            # A symbol drawn as its dot is off by the symbol's size (viewer.scene.tiles).
            made.tiles = split(made.mesh, layer.draw.mode, layer.draw.size or SYMBOL_M)
            meshes[layer.id] = made
    return meshes, ground, origin
