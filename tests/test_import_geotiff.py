"""GeoTIFF rasters: a DEM registered as the terrain and giving pipes their height, land cover by year,
and bad rasters refused with the store and TWIN_HOME unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin

from support import TEST_HOME, refused

FORT_WORTH = "EPSG:32614"  # UTM 14N


def rasters(twin) -> list[tuple]:
    return twin.sql("SELECT layer, source, year, width, height FROM twin.rasters ORDER BY layer, year")


def copies() -> set[Path]:
    return set((TEST_HOME / "rasters").rglob("*")) if (TEST_HOME / "rasters").exists() else set()


def test_dem_gives_pipes_their_height(make_twin, real_copy, tmp_path: Path) -> None:
    dem = real_copy("dem/fortworth_dem.tif")
    twin = make_twin(FORT_WORTH)
    result = twin.run("import", str(dem), "--layer", "terrain")
    assert "raster registered" in result.stderr
    assert rasters(twin) == [("terrain", "fortworth_dem", None, 367, 359)]
    with rasterio.open(dem) as dataset:
        heights = dataset.read(1).astype(float)
        # Vertices at cell centres: there bilinear interpolation is the cell's own value.
        cells = [(100, 120), (101, 125), (200, 40), (210, 60)]
        lonlat = [dataset.xy(row, col) for row, col in cells]
        truth = [heights[row, col] for row, col in cells]
    to_twin = Transformer.from_crs("EPSG:4326", FORT_WORTH, always_xy=True)
    points = [to_twin.transform(lon, lat) for lon, lat in lonlat]
    pipes = tmp_path / "mains.geojson"
    pipes.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{FORT_WORTH.split(':')[1]}"}},
        "features": [
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [points[0], points[1]]},
             "properties": {"id": "P1", "start_depth_m": 1.2, "end_depth_m": 1.6, "diameter_mm": 300}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [points[2], points[3]]},
             "properties": {"id": "P2", "start_depth_m": 1.0, "end_depth_m": 1.0, "diameter_mm": 100}},
        ],
    }))
    result = twin.run("import", str(pipes), "--layer", "water_supply")
    assert "no terrain" not in result.stderr
    rows = twin.sql("SELECT source_id, ST_Z(ST_StartPoint(ST_GeometryN(geom, 1))), "
                    "ST_Z(ST_EndPoint(ST_GeometryN(geom, 1))) FROM layers.water_supply ORDER BY source_id")
    # Pressure pipes: depth to the pipe's top, the stored line is its centre.
    assert rows[0][1] == pytest.approx(truth[0] - 1.2 - 0.15, abs=1e-6)
    assert rows[0][2] == pytest.approx(truth[1] - 1.6 - 0.15, abs=1e-6)
    assert rows[1][1] == pytest.approx(truth[2] - 1.0 - 0.05, abs=1e-6)
    assert rows[1][2] == pytest.approx(truth[3] - 1.0 - 0.05, abs=1e-6)


def _land_cover(path: Path, classes: int, dtype: str = "uint8", crs: str | None = "EPSG:4548", bands: int = 1) -> Path:
    data = np.full((bands, 40, 50), classes, dtype=dtype)
    with rasterio.open(path, "w", driver="GTiff", width=50, height=40, count=bands, dtype=dtype, crs=crs,
                       transform=from_origin(505_000, 4_335_000, 100, 100)) as dataset:
        dataset.write(data)
    return path


def test_land_cover_one_raster_a_year(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    twin.run("import", str(_land_cover(tmp_path / "landcover_2008.tif", 1)), "--layer", "land_cover", "--source", "lc")
    twin.run("import", str(_land_cover(tmp_path / "lc.tif", 6)), "--layer", "land_cover", "--source", "lc",
             "--year", "2015")
    twin.run("import", str(_land_cover(tmp_path / "lc.tif", 5)), "--layer", "land_cover", "--source", "lc",
             "--year", "2015")  # the same year again replaces it
    assert rasters(twin) == [("land_cover", "lc", 2008, 50, 40), ("land_cover", "lc", 2015, 50, 40)]
    path = Path(twin.sql("SELECT path FROM twin.rasters WHERE year = 2015")[0][0])
    with rasterio.open(path) as dataset:
        assert int(dataset.read(1)[0, 0]) == 5
    counts = {row["id"]: row["count"] for row in json.loads(twin.run("layers", "--json").stdout)}
    assert counts["land_cover"] == 2 and counts["terrain"] == 0
    area = twin.sql("SELECT ST_Area(bounds) FROM twin.rasters WHERE year = 2008")[0][0]
    assert area == pytest.approx(5_000 * 4_000)


BAD = {
    "truncated": (lambda p: p.write_bytes(_land_cover(p.with_name("whole.tif"), 1).read_bytes()[:500]),
                  "cannot be read as a GeoTIFF"),
    "empty": (lambda p: p.write_bytes(b""), "the file is empty"),
    "text": (lambda p: p.write_text("not a raster"), "cannot be read as a GeoTIFF"),
    "no year": (lambda p: _land_cover(p, 1), "which year does it show? give it with --year"),
    "no crs": (lambda p: _land_cover(p, 1, crs=None), "the raster declares no CRS; give it with --crs"),
    "floats": (lambda p: _land_cover(p, 1, dtype="float32"), "land cover must hold whole-number classes"),
    "three bands": (lambda p: _land_cover(p, 1, bands=3), "has 3 bands"),
}


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


def test_raster_outside_the_twin_is_refused(make_twin, real_copy) -> None:
    twin = make_twin()  # the Eco-city's CRS; Fort Worth is on the other side of the world
    dem = real_copy("dem/fortworth_dem.tif")
    result = twin.run("import", str(dem), "--layer", "terrain", check=False)
    assert result.returncode == 1 and "lies outside the twin's extent" in result.stderr
    assert rasters(twin) == []


def test_vector_file_into_raster_layer_is_refused(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    path = tmp_path / "x.csv"
    path.write_text("lon,lat\n117.7,39.1\n")
    result = twin.run("import", str(path), "--layer", "terrain", check=False)
    assert result.returncode == 1
    assert "holds features (CSV) but layer 'terrain' is a raster layer" in result.stderr
