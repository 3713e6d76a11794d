"""GeoTIFF rasters: a DEM registered as the terrain and giving pipes their height, land cover by year, an
orthophoto, and bad rasters refused with the store and TWIN_HOME unchanged. Real PostGIS, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject, transform_bounds
from support import TEST_HOME, photo, refused

FORT_WORTH = "EPSG:32614"  # UTM 14N
ECO_CITY = "EPSG:4548"  # make_twin's default


def rasters(twin) -> list[tuple]:
    return twin.sql("SELECT layer, source, year, width, height FROM twin.rasters ORDER BY layer, year")


def copies() -> set[Path]:
    return set((TEST_HOME / "rasters").rglob("*")) if (TEST_HOME / "rasters").exists() else set()


def gdal_bilinear(dataset: rasterio.io.DatasetReader, x: float, y: float) -> float:
    """The height GDAL's own warper gives at (x, y) (the DEM's CRS), bilinear between cell centres: a
    reference computed apart from twin/terrain.py."""
    out = np.full((1, 1), np.nan)
    size = dataset.res[0] / 1000  # one tiny target cell centred on the point
    reproject(rasterio.band(dataset, 1), out, dst_transform=from_origin(x - size / 2, y + size / 2, size, size),
              dst_crs=dataset.crs, resampling=Resampling.bilinear, dst_nodata=np.nan)
    return float(out[0, 0])


def pipes_geojson(path: Path, pipes: dict[str, tuple[list, dict]], crs: str) -> Path:
    code = crs.split(":")[1]
    path.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{code}"}},
        "features": [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                      "properties": {"id": pipe, **properties}} for pipe, (coords, properties) in pipes.items()],
    }))
    return path


def pipe_ends(twin) -> dict[str, tuple[float, float]]:
    rows = twin.sql("SELECT source_id, ST_Z(ST_StartPoint(ST_GeometryN(geom, 1))), "
                    "ST_Z(ST_EndPoint(ST_GeometryN(geom, 1))) FROM layers.water_supply")
    return {source_id: (start, end) for source_id, start, end in rows}


def test_dem_gives_pipes_their_height(make_twin, real_copy, tmp_path: Path) -> None:
    dem = real_copy("dem/fortworth_dem.tif")
    twin = make_twin(FORT_WORTH)
    result = twin.run("import", str(dem), "--layer", "terrain")
    assert "raster registered" in result.stderr
    assert rasters(twin) == [("terrain", "fortworth_dem", None, 367, 359)]
    stored, xmin, ymin, xmax, ymax = twin.sql(
        "SELECT path, ST_XMin(bounds), ST_YMin(bounds), ST_XMax(bounds), ST_YMax(bounds) FROM twin.rasters")[0]
    copy = Path(stored)
    assert copy.name == "fortworth_dem.tif" and TEST_HOME / "rasters" in copy.parents
    assert copy.read_bytes() == dem.read_bytes()

    to_twin = Transformer.from_crs("EPSG:4326", FORT_WORTH, always_xy=True)
    to_dem = Transformer.from_crs(FORT_WORTH, "EPSG:4326", always_xy=True)
    with rasterio.open(dem) as dataset:
        expected = transform_bounds(dataset.crs, FORT_WORTH, *dataset.bounds, densify_pts=21)
        assert (xmin, ymin, xmax, ymax) == pytest.approx(expected, abs=1.0)  # metres
        heights = dataset.read(1).astype(float)
        # P1, P2: vertices at cell centres, where bilinear is the cell's own value (147-298 m in this DEM).
        cells = [(100, 120), (101, 125), (200, 40), (210, 60)]
        centres = [to_twin.transform(*dataset.xy(row, col)) for row, col in cells]
        # P3: vertices between centres, against GDAL's own bilinear.
        between = [to_twin.transform(*(dataset.transform * (col, row))) for col, row in [(113.6, 149.3), (185.2, 332.8)]]
        ground = [heights[row, col] for row, col in cells]
        ground += [gdal_bilinear(dataset, *to_dem.transform(x, y)) for x, y in between]
    assert all(147 <= g <= 298 for g in ground)
    assert ground[4] not in heights and ground[5] not in heights  # between cells of different heights
    dem.unlink()  # the twin reads its own copy from now on

    pipes = pipes_geojson(tmp_path / "mains.geojson", {
        "P1": (centres[:2], {"start_depth_m": 1.2, "end_depth_m": 1.6, "diameter_mm": 300}),
        "P2": (centres[2:], {"start_depth_m": 1.0, "end_depth_m": 1.0, "diameter_mm": 100}),
        "P3": (between, {"start_depth_m": 2.0, "end_depth_m": 0.8, "diameter_mm": 600}),
    }, FORT_WORTH)
    result = twin.run("import", str(pipes), "--layer", "water_supply")
    assert "3 imported, 0 rejected" in result.stderr and "terrain" not in result.stderr
    z = pipe_ends(twin)
    # Pressure pipes: the depth is to the pipe's top, the stored line is its centre.
    assert z["P1"] == pytest.approx((ground[0] - 1.2 - 0.15, ground[1] - 1.6 - 0.15), abs=1e-6)
    assert z["P2"] == pytest.approx((ground[2] - 1.0 - 0.05, ground[3] - 1.0 - 0.05), abs=1e-6)
    assert z["P3"] == pytest.approx((ground[4] - 2.0 - 0.3, ground[5] - 0.8 - 0.3), abs=1e-6)


def _land_cover(path: Path, classes: int, dtype: str = "uint8", crs: str | None = ECO_CITY, bands: int = 1,
                georeferenced: bool = True) -> Path:
    data = np.full((bands, 40, 50), classes, dtype=dtype)
    transform = from_origin(505_000, 4_335_000, 100, 100) if georeferenced else None
    with rasterio.open(path, "w", driver="GTiff", width=50, height=40, count=bands, dtype=dtype, crs=crs,
                       transform=transform) as dataset:
        dataset.write(data)
    return path


def test_land_cover_one_raster_a_year(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    twin.run("import", str(_land_cover(tmp_path / "landcover_2008.tif", 1)), "--layer", "land_cover", "--source", "lc")
    twin.run("import", str(_land_cover(tmp_path / "lc.tif", 6)), "--layer", "land_cover", "--source", "lc",
             "--year", "2015")
    twin.run("import", str(_land_cover(tmp_path / "lc.tif", 5)), "--layer", "land_cover", "--source", "lc",
             "--year", "2015")  # the same year again replaces it
    # A DEM that declares no CRS registers once --crs gives one.
    dem = _land_cover(tmp_path / "dem.tif", 3, dtype="float32", crs=None)
    twin.run("import", str(dem), "--layer", "terrain", "--crs", ECO_CITY)
    assert rasters(twin) == [("land_cover", "lc", 2008, 50, 40), ("land_cover", "lc", 2015, 50, 40),
                             ("terrain", "dem", None, 50, 40)]
    paths = {year: Path(path) for year, path in twin.sql("SELECT year, path FROM twin.rasters")}
    assert (paths[2008].name, paths[2015].name, paths[None].name) == ("lc-2008.tif", "lc-2015.tif", "dem.tif")
    assert not [path for path in copies() if path.name.endswith(".partial")]
    with rasterio.open(paths[2015]) as dataset:
        assert int(dataset.read(1)[0, 0]) == 5
    counts = {row["id"]: row["count"] for row in json.loads(twin.run("layers", "--json").stdout)}
    assert counts["land_cover"] == 2 and counts["terrain"] == 1
    assert twin.sql("SELECT crs LIKE '%4548%' FROM twin.rasters WHERE layer = 'terrain'")[0][0]
    area, xmin, ymax = twin.sql("SELECT ST_Area(bounds), ST_XMin(bounds), ST_YMax(bounds) FROM twin.rasters "
                                "WHERE year = 2008")[0]
    assert (area, xmin, ymax) == pytest.approx((5_000 * 4_000, 505_000, 4_335_000))


def _cut(path: Path, keep: float) -> None:
    whole = _land_cover(path.with_name("whole.tif"), 1).read_bytes()
    path.write_bytes(whole[:int(len(whole) * keep)])


BAD = {
    "truncated": (lambda p: _cut(p, 0.05), "cannot be read as a GeoTIFF"),  # in its header
    "cut short": (lambda p: _cut(p, 0.9), "the file is cut short"),  # its header is whole: it opens
    "empty": (lambda p: p.write_bytes(b""), "the file is empty"),
    "text": (lambda p: p.write_text("not a raster"), "cannot be read as a GeoTIFF"),
    "no year": (lambda p: _land_cover(p, 1), "which year does it show? give it with --year"),
    "no crs": (lambda p: _land_cover(p, 1, crs=None), "the raster declares no CRS; give it with --crs"),
    "no geotransform": (lambda p: _land_cover(p, 1, georeferenced=False), "the raster has no georeferencing"),
    "floats": (lambda p: _land_cover(p, 1, dtype="float32"), "land cover must hold whole-number classes"),
    "three bands": (lambda p: _land_cover(p, 1, bands=3), "has 3 bands"),
}


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_raster_is_refused_and_leaves_nothing(make_twin, tmp_path: Path, case: str) -> None:
    twin = make_twin()
    twin.run("import", str(_land_cover(tmp_path / "kept.tif", 2)), "--layer", "land_cover", "--year", "2010")
    before, files = rasters(twin), copies()
    path = tmp_path / "bad" / "cover.tif"
    path.parent.mkdir()
    make, message = BAD[case]
    make(path)
    year = [] if case == "no year" else ["--year", "2012"]
    result = twin.run("import", str(path), "--layer", "land_cover", *year, check=False)
    assert message in refused(result, path)
    assert rasters(twin) == before and copies() == files


def test_orthophoto_is_registered_and_found_without_layer(make_twin, tmp_path: Path) -> None:
    """An RGB or RGBA GeoTIFF of 8-bit bands is an orthophoto, with --layer or without; a single band may be
    a DEM or land cover alike, so it still needs --layer."""
    twin = make_twin()
    rgb = photo(tmp_path / "city_photo.tif", (505_000, 4_331_000), 100, (40, 50))
    assert "orthophoto <- city_photo (GeoTIFF): raster registered" in twin.run(
        "import", str(rgb), "--layer", "orthophoto").stderr
    rgba = photo(tmp_path / "centre.tif", (505_000, 4_331_000), 50, (20, 30), bands=4)
    assert "orthophoto <- centre (GeoTIFF): raster registered" in twin.run("import", str(rgba)).stderr
    assert sorted(rasters(twin)) == [("orthophoto", "centre", None, 30, 20), ("orthophoto", "city_photo", None, 50, 40)]
    stored = Path(twin.sql("SELECT path FROM twin.rasters WHERE source = 'centre'")[0][0])
    assert stored.read_bytes() == rgba.read_bytes() and TEST_HOME / "rasters" in stored.parents
    area, xmin, ymin = twin.sql("SELECT ST_Area(bounds), ST_XMin(bounds), ST_YMin(bounds) FROM twin.rasters "
                                "WHERE source = 'city_photo'")[0]
    assert (area, xmin, ymin) == pytest.approx((5_000 * 4_000, 505_000, 4_331_000))
    dem = _land_cover(tmp_path / "dem.tif", 3, dtype="float32")
    result = twin.run("import", str(dem), check=False)
    assert "say which with --layer (e.g. terrain, land_cover, orthophoto;" in refused(result, dem)


@pytest.mark.parametrize(("case", "message"), [
    ({"bands": 1}, "has 1 band; layer 'orthophoto' takes an RGB or RGBA photo (3 or 4 bands); a DEM goes to "
                   "--layer terrain"),
    ({"bands": 2}, "has 2 bands; layer 'orthophoto' takes an RGB or RGBA photo"),
    ({"dtype": "uint16"}, "holds uint16 bands; layer 'orthophoto' takes 8-bit bands (gdal_translate -ot Byte"),
    ({"dtype": "float32", "bands": 4}, "holds float32 bands; layer 'orthophoto' takes 8-bit bands"),
])
def test_orthophoto_other_than_8_bit_rgb_is_refused(make_twin, tmp_path: Path, case: dict, message: str) -> None:
    twin = make_twin()
    path, files = photo(tmp_path / "photo.tif", (505_000, 4_331_000), 100, (40, 50), **case), copies()
    assert message in refused(twin.run("import", str(path), "--layer", "orthophoto", check=False), path)
    assert rasters(twin) == [] and copies() == files


def test_year_for_terrain_is_refused(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    dem = _land_cover(tmp_path / "dem_2015.tif", 3, dtype="float32")
    result = twin.run("import", str(dem), "--layer", "terrain", "--year", "2015", check=False)
    assert "layer 'terrain' does not change by year; drop --year" in refused(result, dem)
    assert rasters(twin) == []


def test_raster_outside_the_twin_is_refused(make_twin, real_copy) -> None:
    twin = make_twin()  # the Eco-city's CRS; Fort Worth is on the other side of the world
    dem = real_copy("dem/fortworth_dem.tif")
    result = twin.run("import", str(dem), "--layer", "terrain", check=False)
    assert "lies outside the twin's extent" in refused(result, dem)
    assert rasters(twin) == []


def test_world_raster_is_outlined_where_the_twins_crs_holds(make_twin, tmp_path: Path) -> None:
    """UTM cannot project the far side of the world: the outline is the part inside UTM 14N's zone."""
    twin = make_twin(FORT_WORTH)
    world = tmp_path / "world_2020.tif"
    with rasterio.open(world, "w", driver="GTiff", width=360, height=180, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(-180, 90, 1, 1)) as dataset:
        dataset.write(np.ones((1, 180, 360), "uint8"))
    twin.run("import", str(world), "--layer", "land_cover")
    west, south, east, north = twin.sql("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                        "(SELECT ST_Transform(bounds, 4326) e FROM twin.rasters) x")[0]
    assert (west, south, east, north) == pytest.approx((-102, 0, -96, 84), abs=0.01)  # EPSG:32614's area of use


def test_nodata_beside_a_vertex_does_not_lose_its_ground(make_twin, tmp_path: Path) -> None:
    twin = make_twin(FORT_WORTH)
    dem = tmp_path / "voids.tif"
    heights = np.array([[180, 181, 182], [183, 184, -9999], [186, 187, 188]], "float32")
    with rasterio.open(dem, "w", driver="GTiff", width=3, height=3, count=1, dtype="float32", crs=FORT_WORTH,
                       nodata=-9999, transform=from_origin(650_000, 3_620_030, 10, 10)) as dataset:
        dataset.write(heights, 1)
    twin.run("import", str(dem), "--layer", "terrain")
    # From the centre of the 184 m cell (beside the void) to the centre of the 180 m cell.
    pipes = pipes_geojson(tmp_path / "mains.geojson", {
        "P1": ([[650_015, 3_620_015], [650_005, 3_620_025]], {"start_depth_m": 1.0, "diameter_mm": 200}),
    }, FORT_WORTH)
    twin.run("import", str(pipes), "--layer", "water_supply")
    assert pipe_ends(twin)["P1"] == pytest.approx((184 - 1.0 - 0.1, 180 - 1.0 - 0.1), abs=1e-6)
