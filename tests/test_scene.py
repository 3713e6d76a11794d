"""The scene builder against PostGIS: small handmade files imported with the real CLI (or, for buildings,
features written straight into the blank twin), then each layer's mesh checked against what the
footprints, pipes, points, areas, 3D surfaces, land cover and orthophotos say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import pyvista as pv
import shapely
from pyproj import CRS
from support import QUADRANTS, ROOT, add_features, photo, write_solid_cityjson

from twin.catalog import load_catalog
from twin.store import database
from twin.store.database import psycopg_of
from twin.terrain import Terrain
from viewer.scene.build import build

CATALOG = load_catalog(ROOT / "layers")
X0, Y0 = 506_000.0, 4_330_000.0  # the south-west corner of the handmade DEMs (EPSG:4548)
CELL, SIDE = 10.0, 100  # a 1 km square DEM of 10 m cells


def _geojson(path: Path, features: list[tuple[dict, dict]], crs: str = "EPSG:4548") -> Path:
    """A FeatureCollection of (properties, geometry)."""
    path.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs.replace(':', '::')}"}},
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}))
    return path


def _square(x: float, y: float, size: float) -> list:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def _raster(path: Path, values: np.ndarray, cell: float = CELL, nodata: float | None = None) -> Path:
    """A GeoTIFF in EPSG:4548 whose north-west corner is (X0, Y0 + rows * cell)."""
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype=values.dtype, crs="EPSG:4548", nodata=nodata,
                       transform=from_origin(X0, Y0 + values.shape[0] * cell, cell, cell)) as dataset:
        dataset.write(values, 1)
    return path


def _rolling(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground that bends everywhere: a flat sheet between an area's outline would miss it by metres."""
    return 5.0 + 2.0 * np.sin((x - X0) / 150.0) * np.cos((y - Y0) / 200.0)


def _rolling_dem(tmp_path: Path) -> Path:
    rows, cols = np.mgrid[0:SIDE, 0:SIDE] + 0.5
    return _raster(tmp_path / "dem.tif", _rolling(X0 + cols * CELL, Y0 + (SIDE - rows) * CELL).astype("float32"))


def _scene(twin):
    with database.raw(twin.url) as connection:
        meshes, ground, origin = build(connection, CATALOG)
        terrain = Terrain.from_store(connection, CRS.from_user_input(twin.crs))
    return meshes, ground, origin, terrain


def _cells_of(layer_mesh, feature_id: str) -> pv.UnstructuredGrid:
    return layer_mesh.mesh.extract_cells(layer_mesh.mesh.cell_data["row"] == layer_mesh.ids.index(feature_id))


def _ids(twin, layer: str) -> dict[str, str]:
    return dict(twin.sql(f"SELECT source_id, id::text FROM layers.{layer}"))


@pytest.mark.fast
def test_buildings_are_coloured_by_use_and_by_build_year_as_recorded(blank_twin) -> None:
    """Each building's cells in its class's colour: a use no class names is another use, a building with
    no use or year recorded is said to have none; build years in ranges from the oldest to the newest."""
    recorded = {"flats": ("residential", 1990), "villa": ("villa", 1990), "shop": ("commercial", 2001),
                "church": ("church", 1750), "unknown": (None, None)}
    ids = add_features(blank_twin, "buildings", [
        ({"type": "Polygon", "coordinates": [_square(X0 + 50 * i, Y0, 20)]},
         {"id": key, "height_m": 10.0, "use": use, "build_year": year})
        for i, (key, (use, year)) in enumerate(recorded.items())])
    made = build(psycopg_of(blank_twin), CATALOG)[0]["buildings"]
    by_use, by_year = made.colourings
    style = CATALOG["buildings"].style.colour_by
    housing, shops = style[0].classes[0].color, style[0].classes[2].color
    assert by_use.legends["en"] == [("Housing", housing), ("Shops and commerce", shops),
                                    ("Other use", style[0].other.color), ("No use recorded", style[0].missing.color)]
    assert by_use.legends["zh-CN"] == [("居住", housing), ("商业", shops), ("其他用途", style[0].other.color),
                                       ("无用途记录", style[0].missing.color)]
    assert (by_use.titles["zh-CN"], by_year.titles["zh-CN"]) == ("按用途", "按建成年份")

    def colour(colouring, key: str) -> str:
        drawn = np.unique(_cells_of(made, ids[key]).cell_data[colouring.array], axis=0)
        assert len(drawn) == 1, key  # every face of a building alike
        return "#" + bytes(drawn[0].tolist()).hex()

    assert [colour(by_use, key) for key in recorded] == [housing, housing, shops, style[0].other.color,
                                                         style[0].missing.color]
    ramp = style[1].ramp
    assert colour(by_year, "church") == ramp[0] and colour(by_year, "shop") == ramp[-1]
    assert colour(by_year, "unknown") == style[1].missing.color
    labels = [label for label, _ in by_year.legends["en"]]
    assert labels[0].startswith("1750") and labels[-2].endswith("2001") and labels[-1] == "No build year recorded"
    assert [label for label, _ in by_year.legends["zh-CN"]] == labels[:-1] + ["无建成年份记录"]


@pytest.mark.fast
def test_buildings_have_the_cells_their_footprints_give(blank_twin) -> None:
    """A wall per footprint edge (courtyards too) and a roof: one polygon, or triangles around a hole."""
    ell = [[X0, Y0], [X0 + 30, Y0], [X0 + 30, Y0 + 10], [X0 + 10, Y0 + 10], [X0 + 10, Y0 + 30], [X0, Y0 + 30], [X0, Y0]]
    court = [_square(X0 + 100, Y0, 40), _square(X0 + 115, Y0 + 15, 10)[::-1]]
    footprints = {"square": ({"type": "Polygon", "coordinates": [_square(X0 + 200, Y0, 20)]}, 1 + 4),
                  "ell": ({"type": "Polygon", "coordinates": [ell]}, 1 + 6),
                  "court": ({"type": "Polygon", "coordinates": court}, (4 + 4 + 2 - 2) + 8),
                  "pair": ({"type": "MultiPolygon", "coordinates": [[_square(X0 + 300, Y0, 10)],
                                                                   [_square(X0 + 320, Y0, 10)]]}, 2 * 5)}
    ids = add_features(blank_twin, "buildings", [
        (geometry, {"id": key, "height_m": 12.0 + i}) for i, (key, (geometry, _)) in enumerate(footprints.items())])
    connection = psycopg_of(blank_twin)
    meshes, _, origin = build(connection, CATALOG)
    areas = dict(connection.execute("SELECT source_id, ST_Area(geom) FROM layers.buildings").fetchall())
    assert meshes["buildings"].mesh.n_cells == sum(cells for _, cells in footprints.values())
    for i, (key, (_, cells)) in enumerate(footprints.items()):
        drawn = _cells_of(meshes["buildings"], ids[key])
        assert drawn.n_cells == cells, key
        assert drawn.bounds[4] + origin[2] == 0.0 and drawn.bounds[5] + origin[2] == pytest.approx(12.0 + i)
        surface = drawn.extract_surface(algorithm=None).compute_cell_sizes()
        roof = surface.extract_cells(np.isclose(surface.cell_centers().points[:, 2] + origin[2], 12.0 + i))
        assert np.sum(roof.cell_data["Area"]) == pytest.approx(areas[key]), key  # courtyards open to the sky
    # Triangles: a roof of n corners makes n - 2, a wall 2.
    assert _cells_of(meshes["buildings"], ids["ell"]).extract_surface(algorithm=None).triangulate().n_cells == 4 + 12


def test_pipes_are_tubes_of_their_diameter_at_their_depth(make_twin, tmp_path: Path) -> None:
    """Pressure pipes are measured to their top, drainage to its invert (CJJ 61): the tube's axis lies
    half a diameter below or above ground minus depth."""
    twin = make_twin()
    twin.run("import", str(_raster(tmp_path / "dem.tif", np.full((SIDE, SIDE), 3.0, "float32"))), "--layer", "terrain")
    line = {"type": "LineString", "coordinates": [[X0 + 100, Y0 + 500], [X0 + 700, Y0 + 500]]}
    for layer, diameter, depth in (("water_supply", 600, 1.5), ("sewage", 800, 2.5)):
        twin.run("import", str(_geojson(tmp_path / f"{layer}.geojson", [
            ({"id": "P1", "diameter_mm": diameter, "start_depth_m": depth, "end_depth_m": depth}, line)])),
            "--layer", layer)
    meshes, _, origin, _ = _scene(twin)
    for layer, radius, axis_z in (("water_supply", 0.3, 3.0 - 1.5 - 0.3), ("sewage", 0.4, 3.0 - 2.5 + 0.4)):
        points = meshes[layer].mesh.points + origin
        assert (points[:, 0].min(), points[:, 0].max()) == pytest.approx((X0 + 100, X0 + 700), abs=1e-3)
        from_axis = np.hypot(points[:, 1] - (Y0 + 500), points[:, 2] - axis_z)
        # The tube's surface at its radius, and its centre line (drawn a pixel wide from afar) on the axis.
        on_axis = from_axis < 1e-6
        assert on_axis.sum() == 2 and meshes[layer].mesh.n_lines == 1, layer
        assert from_axis[~on_axis] == pytest.approx(np.full(int((~on_axis).sum()), radius), abs=1e-3), layer
        assert points[:, 2].mean() == pytest.approx(axis_z, abs=1e-3)


def test_utility_tunnels_are_boxes_hanging_from_their_roof_line(make_twin, tmp_path: Path) -> None:
    """A tunnel's surveyed line is the centre of its roof: the box is its width wide and its height deep
    below that line."""
    twin = make_twin()
    twin.run("import", str(_raster(tmp_path / "dem.tif", np.full((SIDE, SIDE), 3.0, "float32"))), "--layer", "terrain")
    line = {"type": "LineString", "coordinates": [[X0 + 100, Y0 + 500], [X0 + 300, Y0 + 500], [X0 + 300, Y0 + 700]]}
    twin.run("import", str(_geojson(tmp_path / "tunnel.geojson", [
        ({"id": "T1", "width_m": 6.0, "height_m": 3.5, "top_depth_m": 2.0}, line)])), "--layer", "utility_tunnels")
    meshes, _, origin, _ = _scene(twin)
    tunnel = meshes["utility_tunnels"].mesh
    points = tunnel.points + origin
    assert tunnel.n_cells == 2 * 6  # a closed box of six faces per segment
    roof = 3.0 - 2.0
    assert (points[:, 2].min(), points[:, 2].max()) == pytest.approx((roof - 3.5, roof), abs=1e-3)
    first = tunnel.extract_cells(np.arange(6)).points + origin  # the west-east segment
    assert (first[:, 1].min(), first[:, 1].max()) == pytest.approx((Y0 + 497, Y0 + 503), abs=1e-3)
    assert tunnel.volume == pytest.approx((200 + 200) * 6.0 * 3.5, rel=1e-6)


def test_glyphs_stand_at_their_points(make_twin, tmp_path: Path) -> None:
    """A point without height stands on the ground; a point with one (a valve) at it."""
    twin = make_twin()
    twin.run("import", str(_rolling_dem(tmp_path)), "--layer", "terrain")
    cameras = {"C1": (X0 + 123.0, Y0 + 456.0), "C2": (X0 + 801.5, Y0 + 77.25)}
    twin.run("import", str(_geojson(tmp_path / "cameras.geojson", [
        ({"id": key, "name": key}, {"type": "Point", "coordinates": xy}) for key, xy in cameras.items()])),
        "--layer", "cameras")
    twin.run("import", str(_geojson(tmp_path / "valves.geojson", [
        ({"id": "V1"}, {"type": "Point", "coordinates": [X0 + 300.0, Y0 + 300.0, 1.75]})])), "--layer", "valves")
    meshes, _, origin, terrain = _scene(twin)
    ids = _ids(twin, "cameras")
    size = CATALOG["cameras"].draw.size
    for key, (x, y) in cameras.items():
        low, high = (np.array(_cells_of(meshes["cameras"], ids[key]).bounds).reshape(3, 2) + origin[:, None]).T
        assert (low[:2] + high[:2]) / 2 == pytest.approx([x, y], abs=1e-3)
        assert low[2] == pytest.approx(terrain.height(x, y), abs=1e-3)  # on the ground
        assert high[2] - low[2] == pytest.approx(size, abs=1e-3)
    valve = np.array(meshes["valves"].mesh.bounds).reshape(3, 2) + origin[:, None]
    assert valve.mean(axis=1)[:2] == pytest.approx([X0 + 300.0, Y0 + 300.0], abs=1e-3)
    assert valve[2, 0] == pytest.approx(1.75, abs=1e-3)


def test_areas_lie_on_the_terrain(make_twin, tmp_path: Path) -> None:
    """Water, a park with a pond cut out and a grid cell follow the rolling DEM (vertices and points between
    them), cover exactly their polygons, and keep their feature's row and years for picking."""
    twin = make_twin()
    twin.run("import", str(_rolling_dem(tmp_path)), "--layer", "terrain")
    park = shapely.Polygon(shapely.Point(X0 + 400, Y0 + 400).buffer(250).exterior.coords,
                           [shapely.box(X0 + 350, Y0 + 350, X0 + 450, Y0 + 430).exterior.coords])
    shapes = {"water_bodies": {"W1": shapely.Point(X0 + 800, Y0 + 800).buffer(120, quad_segs=5)},
              "parks": {"P1": park},
              "management_grids": {"G1": shapely.box(X0 + 100, Y0 + 600, X0 + 500, Y0 + 1000)}}
    for layer, features in shapes.items():
        twin.run("import", str(_geojson(tmp_path / f"{layer}.geojson", [
            ({"id": key, "code": key, "valid_from": "2012-05-01"}, shapely.geometry.mapping(shape))
            for key, shape in features.items()])), "--layer", layer)
    meshes, _, origin, terrain = _scene(twin)
    for layer, features in shapes.items():
        layer_mesh = meshes[layer]
        offset = CATALOG[layer].draw.offset
        points = layer_mesh.mesh.points + origin
        assert points[:, 2] == pytest.approx(terrain.height(points[:, 0], points[:, 1]) + offset, abs=1e-3), layer
        flat = layer_mesh.mesh.copy()
        flat.points[:, 2] = 0.0
        shape = features[next(iter(features))]
        assert np.sum(flat.compute_cell_sizes().cell_data["Area"]) == pytest.approx(shape.area, rel=1e-6), layer
        assert set(layer_mesh.mesh.cell_data["row"]) == {0} and set(layer_mesh.mesh.cell_data["valid_from"]) == {2012}
        # Between the vertices too: a vertical ray at points inside the area meets the mesh on the ground.
        rng = np.random.default_rng(7)
        low_x, low_y, high_x, high_y = shape.bounds
        probes = [p for p in zip(rng.uniform(low_x, high_x, 200), rng.uniform(low_y, high_y, 200))
                  if shape.buffer(-1.0).contains(shapely.Point(p))][:40]
        assert len(probes) >= 20
        for x, y in probes:
            x_, y_ = x - origin[0], y - origin[1]
            hit, _ = layer_mesh.mesh.ray_trace((x_, y_, 100.0), (x_, y_, -100.0), first_point=True)
            assert hit[2] + origin[2] == pytest.approx(terrain.height(x, y) + offset, abs=0.02), (layer, x, y)


def test_the_ground_is_as_coarse_as_the_land_allows(make_twin, tmp_path: Path) -> None:
    """Flat or gently rolling land gets the fewest cells the bounds allow, rough land keeps the finest; and
    between its samples the surface stays under the DEM, so nothing lying on the ground is covered."""
    side = 400  # 160,000 DEM cells: every second or third sample, by the bounds
    rows, cols = np.mgrid[0:side, 0:side] + 0.5
    rolling = _rolling(X0 + cols * CELL, Y0 + (side - rows) * CELL)
    rough = rolling + np.random.default_rng(0).uniform(-2.0, 2.0, rolling.shape)
    for name, values, step in (("flat", np.full((side, side), 3.0), 3), ("rolling", rolling, 3), ("rough", rough, 2)):
        twin = make_twin()
        twin.run("import", str(_raster(tmp_path / f"{name}.tif", values.astype("float32"))), "--layer", "terrain")
        _, ground, origin, terrain = _scene(twin)
        assert ground.cell == pytest.approx(step * CELL), name
        if name == "rough":
            continue
        sheet = ground.extract_surface(algorithm=None).triangulate()
        rng = np.random.default_rng(3)
        for x, y in zip(rng.uniform(X0 + 50, X0 + side * CELL - 50, 40), rng.uniform(Y0 + 50, Y0 + side * CELL - 50, 40)):
            hit, _ = sheet.ray_trace((x - origin[0], y - origin[1], 100.0), (x - origin[0], y - origin[1], -100.0),
                                     first_point=True)
            assert hit[2] + origin[2] < terrain.height(x, y), (name, x, y)


def test_roads_are_ribbons_of_their_width_on_the_ground(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    twin.run("import", str(_rolling_dem(tmp_path)), "--layer", "terrain")
    bend = [[X0 + 100, Y0 + 100], [X0 + 600, Y0 + 100], [X0 + 600, Y0 + 450]]  # 850 m, one right angle
    twin.run("import", str(_geojson(tmp_path / "roads.geojson", [
        ({"id": "R1", "width_m": 12.0}, {"type": "LineString", "coordinates": bend})])), "--layer", "roads")
    meshes, _, origin, terrain = _scene(twin)
    ribbon = meshes["roads"].mesh
    points = ribbon.points + origin
    assert points[:, 2] == pytest.approx(terrain.height(points[:, 0], points[:, 1]) + CATALOG["roads"].draw.offset,
                                         abs=1e-3)
    flat = ribbon.copy()
    flat.points[:, 2] = 0.0
    assert np.sum(flat.compute_cell_sizes().cell_data["Area"]) == pytest.approx(850 * 12.0)  # mitred at the bend
    assert ribbon.n_cells >= 850 / CELL  # a vertex every DEM cell along, to follow the ground
    assert set(ribbon.cell_data["row"]) == {0}


def _gabled_house(x: float, y: float) -> tuple[list, list]:
    """A 10 m x 8 m house, eaves at 6 m, ridge at 9 m: ground, two roof slopes, two gables, two walls."""
    vertices = [[x, y, 0], [x + 10, y, 0], [x + 10, y + 8, 0], [x, y + 8, 0],
                [x, y, 6], [x + 10, y, 6], [x + 10, y + 8, 6], [x, y + 8, 6], [x, y + 4, 9], [x + 10, y + 4, 9]]
    faces = [[[0, 3, 2, 1]], [[4, 5, 9, 8]], [[7, 8, 9, 6]], [[0, 4, 8, 7, 3]], [[1, 2, 6, 9, 5]],
             [[0, 1, 5, 4]], [[3, 7, 6, 2]]]
    return vertices, faces


def _face_area(corners: np.ndarray) -> float:
    return float(np.linalg.norm(np.sum(np.cross(corners, np.roll(corners, -1, axis=0)), axis=0)) / 2)


def test_lod2_buildings_keep_their_own_surfaces(make_twin, tmp_path: Path) -> None:
    """A CityJSON house is drawn from its faces (triangulated, every vertex at its own height) and a
    GeoJSON footprint beside it extruded, in one mesh whose rows name the right features."""
    x, y = 155_000.0, 463_000.0
    vertices, faces = _gabled_house(x, y)
    path = write_solid_cityjson(tmp_path / "house.city.json", 28992, vertices, faces)
    twin = make_twin("EPSG:28992")
    twin.run("import", str(path), "--layer", "buildings")
    twin.run("import", str(_geojson(tmp_path / "box.geojson", [
        ({"id": "box", "height_m": 7.0}, {"type": "Polygon", "coordinates": [_square(x + 30, y, 10)]})], "EPSG:28992")),
        "--layer", "buildings")
    meshes, _, origin, _ = _scene(twin)
    ids = _ids(twin, "buildings")
    house = _cells_of(meshes["buildings"], ids["house"])
    corners = np.array(vertices)
    assert house.n_cells == sum(len(face[0]) - 2 for face in faces)  # all triangles, no extrusion
    assert {tuple(p) for p in np.round(house.points + origin, 3)} == {tuple(p) for p in corners}
    area = sum(_face_area(corners[face[0]]) for face in faces)
    assert np.sum(house.compute_cell_sizes().cell_data["Area"]) == pytest.approx(area, rel=1e-6)
    box = _cells_of(meshes["buildings"], ids["box"])
    assert box.n_cells == 5 and box.bounds[5] - box.bounds[4] == pytest.approx(7.0)


def test_real_zurich_lod2_surfaces(make_twin, real_copy) -> None:
    """The real Zurich CityJSON: every building part drawn from its own faces, their heights and area kept."""
    twin = make_twin("EPSG:2056")
    twin.run("import", str(real_copy("buildings/zurich_lod2.city.json")), "--layer", "buildings")
    meshes, _, origin, _ = _scene(twin)
    layer_mesh = meshes["buildings"]
    rows = twin.sql("SELECT id::text, ST_AsBinary(lod2) FROM layers.buildings")
    assert len(rows) == 161
    for feature_id, wkb in rows:
        faces = shapely.get_parts(shapely.from_wkb(wkb))
        drawn = _cells_of(layer_mesh, feature_id)
        mine = {tuple(p) for p in np.round(shapely.get_coordinates(faces, include_z=True), 2)}
        assert {tuple(p) for p in np.round(drawn.points + origin, 2)} == mine
        area = sum(_face_area(shapely.get_coordinates(ring, include_z=True)[:-1]) * (1 if i == 0 else -1)
                   for face in faces for i, ring in enumerate([face.exterior, *face.interiors]))  # holes left open
        assert np.sum(drawn.compute_cell_sizes().cell_data["Area"]) == pytest.approx(area, rel=1e-3), feature_id


def _render_from_above(ground, texture, origin) -> tuple[np.ndarray, pv.Plotter]:
    plotter = pv.Plotter(off_screen=True, window_size=(500, 500))
    plotter.add_mesh(ground, texture=texture, lighting=False)
    centre = np.array(ground.center)
    plotter.camera.enable_parallel_projection()
    plotter.camera.focal_point = centre
    plotter.camera.position = centre + (0, 0, 1000)
    plotter.camera.up = (0, 1, 0)
    plotter.camera.parallel_scale = 510
    plotter.render()
    return np.asarray(plotter.screenshot(return_img=True)), plotter


def _seen(ground, texture, origin, places: list[tuple[float, float]]) -> dict[tuple[float, float], tuple]:
    """The colour the ground shows, rendered from above, at each place (metres east and north of X0, Y0)."""
    image, plotter = _render_from_above(ground, texture, origin)
    seen = {}
    for dx, dy in places:
        plotter.renderer.SetWorldPoint(X0 + dx - origin[0], Y0 + dy - origin[1], 5.0, 1.0)
        plotter.renderer.WorldToDisplay()
        px, py, _ = plotter.renderer.GetDisplayPoint()
        seen[(dx, dy)] = tuple(int(v) for v in image[image.shape[0] - 1 - round(py), round(px), :3])
    plotter.close()
    return seen


def test_land_cover_is_draped_in_its_class_colours(make_twin, tmp_path: Path) -> None:
    """Rendered from above, ground at known land-cover cells shows their classes' colours, for the latest
    year by default and for any year asked; a 20 m land cover on a 10 m DEM; no-data shows the terrain."""
    twin = make_twin()
    twin.run("import", str(_rolling_dem(tmp_path)), "--layer", "terrain")
    classes = np.zeros((50, 50), "uint8")  # 20 m cells, rows north to south; 0: no data
    classes[:25, :25], classes[:25, 25:], classes[25:, :25], classes[25:, 25:] = 3, 4, 6, 0
    older = np.full((50, 50), 1, "uint8")
    twin.run("import", str(_raster(tmp_path / "cover-2015.tif", classes, 20.0, nodata=0)), "--layer", "land_cover")
    twin.run("import", str(_raster(tmp_path / "cover-2012.tif", older, 20.0, nodata=0)), "--layer", "land_cover")
    _, ground, origin, _ = _scene(twin)
    colour = {c.value: pv.Color(c.color).int_rgb for c in CATALOG["land_cover"].style.classes}
    plain = pv.Color(CATALOG["terrain"].style.color).int_rgb
    assert ground.land_cover.years == [2012, 2015]
    assert ground.texture() is ground.texture(2015) is ground.texture(2030)  # made once, then kept
    assert ground.texture(2013) is ground.texture(2012)
    for year, expected in ((None, {(150, 850): colour[3], (850, 850): colour[4], (150, 150): colour[6],
                                   (850, 150): plain}),
                           (2014, {(150, 850): colour[1], (850, 150): colour[1]}),
                           (2011, {(150, 850): plain, (850, 850): plain})):  # before the first land cover
        assert _seen(ground, ground.texture(year), origin, list(expected)) == {
            place: tuple(rgb) for place, rgb in expected.items()}, year


def test_ground_without_land_cover_keeps_its_plain_colour(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    twin.run("import", str(_rolling_dem(tmp_path)), "--layer", "terrain")
    _, ground, origin, terrain = _scene(twin)
    assert ground.texture() is None and ground.land_cover is None
    assert ground.points[:, 2].max() + origin[2] < np.nanmax(terrain.heights)  # drawn a little below the DEM


# Places in the middle of each quadrant of a 1 km photo at (X0, Y0), in QUADRANTS' order.
QUADRANT_CENTRES = [(250.0, 750.0), (750.0, 750.0), (250.0, 250.0), (750.0, 250.0)]


def test_orthophoto_drapes_level_ground_without_a_dem(make_twin, tmp_path: Path) -> None:
    """A twin of a hydrant and a photo, without a DEM: the level stand-in wears the photo, at its pixels' size."""
    twin = make_twin()
    twin.run("import", str(_geojson(tmp_path / "hydrants.geojson", [
        ({"id": "H1"}, {"type": "Point", "coordinates": [X0 + 500.0, Y0 + 500.0]})])), "--layer", "smart_hydrants")
    twin.run("import", str(photo(tmp_path / "photo.tif", (X0, Y0), CELL, (SIDE, SIDE))))  # routed: RGB
    meshes, ground, origin, dem = _scene(twin)
    assert dem is None and ground.terrain.flat and "smart_hydrants" in meshes
    assert ground.land_cover is None and ground.texture() is ground.texture(2015)  # a photo is the same every year
    # Level ground reaches 100 m beyond the data (the photo) and has a cell of that width beyond its centres.
    assert ground.texture().dimensions == (240, 240)  # 10 m texels, the photo's pixels
    assert _seen(ground, ground.texture(), origin, QUADRANT_CENTRES) == dict(zip(QUADRANT_CENTRES, QUADRANTS))


def test_orthophoto_takes_precedence_over_land_cover_on_a_dem(make_twin, tmp_path: Path) -> None:
    """On a DEM with land cover, the photo shows in every year; where it is transparent (RGBA), the plain
    ground colour, not the land cover."""
    twin = make_twin()
    twin.run("import", str(_rolling_dem(tmp_path)), "--layer", "terrain")
    twin.run("import", str(_raster(tmp_path / "cover-2015.tif", np.full((50, 50), 4, "uint8"), 20.0)),
             "--layer", "land_cover")
    twin.run("import", str(photo(tmp_path / "photo.tif", (X0, Y0), 5.0, (200, 200), bands=4)),
             "--layer", "orthophoto")
    _, ground, origin, _ = _scene(twin)
    assert ground.land_cover.years == [2015]
    assert ground.texture(2010) is ground.texture() is ground.texture(2015)
    assert ground.texture().dimensions == (200, 200)  # the photo's 5 m pixels over the DEM's 1 km
    plain = pv.Color(CATALOG["terrain"].style.color).int_rgb
    assert _seen(ground, ground.texture(2015), origin, QUADRANT_CENTRES) == dict(
        zip(QUADRANT_CENTRES, [*QUADRANTS[:3], tuple(plain)]))
