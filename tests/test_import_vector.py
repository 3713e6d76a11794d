"""The import contract through the generic vector formats (GeoPackage, GeoJSON, Shapefile, FlatGeobuf,
CSV): one transaction, re-import replaces, rejects with reasons, bad files refused in one line,
Chinese survey fields and coordinates. Real PostGIS, the real CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from support import refused, run_twin_on_terminal

from importers.chinese_crs import bd09_from_gcj02, wgs84_to_gcj02
from importers.loading import REBUILD_ROWS

ECO_X, ECO_Y = 506_000.0, 4_330_000.0  # the Eco-city in EPSG:4548


def write_geojson(path: Path, features: list[dict], crs: str | None = "EPSG:4548") -> Path:
    document: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs.replace(':', '::')}"}}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def feature(geometry: dict | None, **properties: object) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def line(*coords: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


# -- real data ------------------------------------------------------------------------------------------
def test_real_geojson_points_import_with_their_attributes(make_twin, real_copy) -> None:
    path = real_copy("water/fortaleza_hydrants.geojson")
    twin = make_twin("EPSG:31984")  # SIRGAS 2000 / UTM 24S: Fortaleza
    result = twin.run("import", str(path), "--layer", "smart_hydrants", "--map", "endereco=address")
    assert "246 imported, 0 rejected" in result.stderr
    source = gpd.read_file(path)
    assert twin.count("smart_hydrants") == len(source) == 246
    # The source's gid is the feature id; the address came through --map.
    first = source.iloc[0]
    row = twin.sql("SELECT address, ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326)) "
                   "FROM layers.smart_hydrants WHERE source_id = %s", str(first["gid"]))[0]
    assert row[0] == first["endereco"].strip()
    assert row[1] == pytest.approx(first.geometry.x, abs=1e-7) and row[2] == pytest.approx(first.geometry.y, abs=1e-7)
    extent = twin.sql("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                      "(SELECT ST_Transform(ST_SetSRID(ST_Extent(geom), 31984), 4326) e FROM layers.smart_hydrants) x")[0]
    assert extent[0] == pytest.approx(source.total_bounds[0], abs=1e-3)
    assert extent[3] == pytest.approx(source.total_bounds[3], abs=1e-3)


def test_real_geojson_lines_reject_the_broken_one(make_twin, real_copy) -> None:
    path = real_copy("water/fortaleza_water_mains.geojson")
    twin = make_twin("EPSG:31984")
    result = twin.run("import", str(path), "--layer", "water_supply", "--source", "cagece")
    assert "2,331 imported, 1 rejected" in result.stderr
    assert "ground height taken as 0 m" in result.stderr
    source = pyogrio.read_dataframe(path)
    broken = np.flatnonzero(~shapely.is_valid(np.asarray(source.geometry.array)))
    assert len(broken) == 1
    rejects = twin.sql("SELECT row_number, reason FROM twin.rejects")
    assert rejects == [(int(broken[0]) + 1, rejects[0][1])]
    assert rejects[0][1].startswith("invalid geometry: Too few points")
    report = path.parent / f"{path.name}.water_supply.rejects.csv"
    with report.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(rows[0]["row_number"])] == [broken[0] + 1] and rows[0]["reason"] == rejects[0][1]
    # 2D source lines on a 3D layer: Z from the (absent) terrain.
    assert twin.sql("SELECT min(ST_ZMin(geom)), max(ST_ZMax(geom)) FROM layers.water_supply") == [(0.0, 0.0)]


def test_real_sewer_lines_and_manholes(make_twin, real_copy) -> None:
    twin = make_twin("EPSG:32145")  # NAD83 / Vermont
    lines = real_copy("sewer/montpelier_lines.geojson")
    points = real_copy("sewer/montpelier_points.geojson")
    twin.run("import", str(lines), "--layer", "sewage")
    twin.run("import", str(points), "--layer", "manholes")
    assert twin.count("sewage") == 1133
    assert twin.count("manholes") == 1059
    assert twin.sql("SELECT GeometryType(geom), ST_NDims(geom) FROM layers.sewage LIMIT 1") == [("MULTILINESTRING", 3)]


# -- the contract ---------------------------------------------------------------------------------------
def test_reimport_replaces_and_keeps_ids(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    path = write_geojson(tmp_path / "hospitals.geojson", [
        feature(point(ECO_X, ECO_Y), id="H1", name="Eco-city Hospital", beds=300),
        feature(point(ECO_X + 500, ECO_Y), id="H2", name="TEDA Hospital", beds=120),
    ])
    twin.run("import", str(path), "--layer", "hospitals")
    ids = twin.sql("SELECT source_id, id FROM layers.hospitals ORDER BY source_id")
    twin.run("import", str(path), "--layer", "hospitals")
    assert twin.sql("SELECT source_id, id FROM layers.hospitals ORDER BY source_id") == ids
    # The log keeps both imports, and the history the rows the second replaced, as the first wrote them.
    first, second = (row[0] for row in twin.sql("SELECT id FROM twin.imports ORDER BY id"))
    assert twin.sql("SELECT source_id, import_id, superseded_by FROM history.hospitals ORDER BY source_id") == [
        ("H1", first, second), ("H2", first, second)]
    # A second source sits beside the first; re-importing it leaves the first alone.
    other = write_geojson(tmp_path / "clinics.geojson", [feature(point(ECO_X, ECO_Y + 500), id="C1", name="Clinic")])
    twin.run("import", str(other), "--layer", "hospitals")
    twin.run("import", str(other), "--layer", "hospitals")
    assert twin.sql("SELECT source, count(*) FROM layers.hospitals GROUP BY source ORDER BY source") == [
        ("clinics", 1), ("hospitals", 2)]
    assert twin.sql("SELECT name, beds FROM layers.hospitals WHERE source_id = 'H1'") == [("Eco-city Hospital", 300)]


def test_failed_import_leaves_the_store_as_it_was(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    path = tmp_path / "hospitals.geojson"
    write_geojson(path, [feature(point(ECO_X, ECO_Y), id="H1", name="A")])
    twin.run("import", str(path), "--layer", "hospitals")
    # A rule of the city's own database that twin does not know: it fails in the middle of the COPY, after
    # the old rows were deleted.
    twin.sql("ALTER TABLE layers.hospitals ADD CONSTRAINT city_rule CHECK (name <> 'forbidden')")
    before = twin.snapshot("hospitals")
    write_geojson(path, [feature(point(ECO_X, ECO_Y), id="H1", name="B"),
                         feature(point(ECO_X, ECO_Y), id="H2", name="forbidden")])
    result = twin.run("import", str(path), "--layer", "hospitals", check=False)
    assert 'violates check constraint "city_rule"' in refused(result, path)
    assert "nothing was imported" in result.stderr
    assert twin.snapshot("hospitals") == before


def test_rows_that_fail_validation_go_to_the_reject_report(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    square = [[ECO_X, ECO_Y], [ECO_X + 400, ECO_Y], [ECO_X + 400, ECO_Y + 400], [ECO_X, ECO_Y + 400], [ECO_X, ECO_Y]]
    bowtie = [[ECO_X, ECO_Y], [ECO_X + 400, ECO_Y + 400], [ECO_X + 400, ECO_Y], [ECO_X, ECO_Y + 400], [ECO_X, ECO_Y]]
    path = write_geojson(tmp_path / "grids.geojson", [
        feature({"type": "Polygon", "coordinates": [square]}, code="A-01", area_m2=160000),
        feature({"type": "Polygon", "coordinates": [bowtie]}, code="A-02"),
        feature(None, code="A-03"),
        feature({"type": "Polygon", "coordinates": [square]}, code=None),
        feature({"type": "Polygon", "coordinates": [square]}, code="A-05", area_m2="lots"),
        feature({"type": "Polygon", "coordinates": [[[x + 5e6, y] for x, y in square]]}, code="A-06"),
    ])
    before = twin.snapshot("management_grids")
    strict = twin.run("import", str(path), "--layer", "management_grids", "--strict", check=False)
    assert "row 2: invalid geometry: Self-intersection" in refused(strict, path)
    assert twin.snapshot("management_grids") == before

    result = twin.run("import", str(path), "--layer", "management_grids")
    assert "1 imported, 5 rejected" in result.stderr
    reasons = dict(twin.sql("SELECT row_number, reason FROM twin.rejects ORDER BY row_number"))
    assert reasons[2].startswith("invalid geometry: Self-intersection")
    assert reasons[3] == "no geometry"
    assert reasons[4] == "missing required attribute 'code'"
    assert reasons[5] == "area_m2: cannot read 'lots' as a number"
    assert reasons[6].startswith("outside the twin's extent")
    data = twin.sql("SELECT data FROM twin.rejects WHERE row_number = 5")[0][0]
    assert data["code"] == "A-05" and data["area_m2"] == "lots"
    with (tmp_path / "grids.geojson.management_grids.rejects.csv").open(encoding="utf-8") as handle:
        assert [int(row["row_number"]) for row in csv.DictReader(handle)] == [2, 3, 4, 5, 6]


def test_every_vector_format_gives_the_same_rows(make_twin, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["Gate valve 1", "Gate valve 2"], "diameter_mm": [300.0, 200.0], "depth_m": [1.5, 1.2],
         "utility": ["water_supply", "water_supply"]},
        geometry=[shapely.Point(ECO_X, ECO_Y), shapely.Point(ECO_X + 100, ECO_Y)], crs="EPSG:4548",
    )
    twin = make_twin()
    for suffix, driver in [(".gpkg", "GPKG"), (".geojson", "GeoJSON"), (".shp", "ESRI Shapefile"), (".fgb", "FlatGeobuf")]:
        path = tmp_path / f"valves{suffix}"
        pyogrio.write_dataframe(frame, path, driver=driver)
        result = twin.run("import", str(path), "--layer", "valves", "--source", f"v{suffix}")
        assert "2 imported, 0 rejected" in result.stderr, (suffix, result.stderr)
        rows = twin.sql("SELECT name, diameter_mm, ST_Z(geom) FROM layers.valves WHERE source = %s ORDER BY name",
                        f"v{suffix}")
        # No terrain: ground 0, so a valve stands at minus its depth.
        assert rows == [("Gate valve 1", 300.0, -1.5), ("Gate valve 2", 200.0, -1.2)], suffix


def test_csv_with_lonlat_and_with_wkt(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    lonlat = tmp_path / "police.csv"
    lonlat.write_text("名称,经度,纬度,phone\n滨海公安局生态城分局,117.7256,39.1233,022-1\n派出所,117.74,39.14,022-2\n",
                      encoding="gb18030")
    result = twin.run("import", str(lonlat), "--layer", "police_stations")
    assert "2 imported" in result.stderr and "text read as gb18030" in result.stderr
    assert twin.sql("SELECT name FROM layers.police_stations ORDER BY phone")[0] == ("滨海公安局生态城分局",)
    wkt = tmp_path / "tunnels.csv"
    wkt.write_text(f'id,wkt,width_m,height_m,top_depth_m\nT1,"LINESTRING ({ECO_X} {ECO_Y}, {ECO_X + 800} {ECO_Y})",6,3.5,2.5\n',
                   encoding="utf-8")
    no_crs = twin.run("import", str(wkt), "--layer", "utility_tunnels", check=False)
    assert "declares no CRS; give it with --crs" in refused(no_crs, wkt)
    twin.run("import", str(wkt), "--layer", "utility_tunnels", "--crs", "EPSG:4548")
    assert twin.sql("SELECT ST_ZMin(geom), ST_ZMax(geom) FROM layers.utility_tunnels") == [(-2.5, -2.5)]


def test_a_long_import_says_at_each_stage_what_it_is_doing(make_twin, tmp_path: Path) -> None:
    """At a terminal: reading, checking, a bar while the rows are written, then indexing (bulk loads
    rebuild the indexes after the COPY), and the summary; nothing of it in a log (no terminal)."""
    twin = make_twin()
    count = REBUILD_ROWS + 5_000
    path = tmp_path / "cameras.csv"
    path.write_text("id,lon,lat\n" + "".join(f"C{i},{117.72 + (i % 500) * 1e-4:.6f},{39.12 + (i // 500) * 1e-4:.6f}\n"
                                             for i in range(count)))
    status, written = run_twin_on_terminal("import", str(path), "--layer", "cameras",
                                           TWIN_DATABASE_URL=twin.url, TWIN_CRS=twin.crs)
    assert status == 0, written
    stages = ["reading cameras.csv", f"checking {count:,} features of cameras.csv", "writing cameras",
              "indexing cameras", f"{count}/{count}", f"{count:,} imported"]
    at = [written.find(stage) for stage in stages]
    assert -1 not in at and at == sorted(at), written
    logged = twin.run("import", str(path), "--layer", "cameras")
    assert logged.stderr.strip().startswith("cameras <- cameras (CSV)"), logged.stderr


# -- Chinese surveys ------------------------------------------------------------------------------------
def test_chinese_survey_shapefile_in_gbk_without_cpg(make_twin, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"管线编号": ["JS001", "JS002"], "起点埋深": [1.2, 1.6], "终点埋深": [1.4, 1.8], "管径": ["DN300", "200"],
         "材质": ["球墨铸铁", "PE"], "建设年代": ["2012年", "2015"], "权属单位": ["生态城水务", "生态城水务"]},
        geometry=[shapely.LineString([(ECO_X, ECO_Y), (ECO_X + 100, ECO_Y)]),
                  shapely.LineString([(ECO_X, ECO_Y + 50), (ECO_X + 100, ECO_Y + 50)])],
        crs="EPSG:4548",
    )
    path = tmp_path / "给水管线.shp"
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    twin = make_twin()
    result = twin.run("import", str(path), "--layer", "water_supply")
    assert "2 imported, 0 rejected" in result.stderr
    rows = twin.sql("SELECT source_id, material, diameter_mm, install_year, owner, valid_from::text, "
                    "ST_Z(ST_StartPoint(ST_GeometryN(geom, 1))), ST_Z(ST_EndPoint(ST_GeometryN(geom, 1))) "
                    "FROM layers.water_supply ORDER BY source_id")
    assert rows[0][:6] == ("JS001", "球墨铸铁", 300.0, 2012, "生态城水务", "2012-01-01")
    # Pressure pipe: depth to the pipe's top, so the centre is half a diameter deeper.
    assert rows[0][6] == pytest.approx(-1.2 - 0.15) and rows[0][7] == pytest.approx(-1.4 - 0.15)


def test_pinyin_abbreviations_map_without_map_flags(make_twin, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"GXBH": ["YS1"], "QDMS": [2.0], "ZDMS": [2.5], "GJ": [600.0], "CZ": ["钢筋混凝土"], "MSND": [2010],
         "QSDW": ["排水公司"]},
        geometry=[shapely.LineString([(ECO_X, ECO_Y), (ECO_X + 60, ECO_Y)])], crs="EPSG:4548",
    )
    path = tmp_path / "ys.gpkg"
    pyogrio.write_dataframe(frame, path)
    twin = make_twin()
    twin.run("import", str(path), "--layer", "rainwater")
    row = twin.sql("SELECT source_id, material, diameter_mm, install_year, owner, "
                   "ST_Z(ST_StartPoint(ST_GeometryN(geom, 1))) FROM layers.rainwater")[0]
    # Drainage: depth to the invert, so the centre is half a diameter above it.
    assert row[:5] == ("YS1", "钢筋混凝土", 600.0, 2010, "排水公司") and row[5] == pytest.approx(-2.0 + 0.3)


@pytest.mark.parametrize("system", ["GCJ-02", "BD-09"])
def test_chinese_web_map_coordinates_are_unshifted(make_twin, tmp_path: Path, system: str) -> None:
    lon, lat = np.array([117.7256, 117.7801]), np.array([39.1233, 39.1689])  # WGS84 truth
    glon, glat = wgs84_to_gcj02(lon, lat)
    if system == "BD-09":
        glon, glat = bd09_from_gcj02(glon, glat)
    path = tmp_path / "cameras.csv"
    path.write_text("id,lng,lat\n" + "".join(f"C{i},{x:.9f},{y:.9f}\n" for i, (x, y) in enumerate(zip(glon, glat))))
    twin = make_twin()
    twin.run("import", str(path), "--layer", "cameras", "--crs", system)
    rows = twin.sql("SELECT ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326)) FROM layers.cameras "
                    "ORDER BY source_id")
    for (x, y), (wx, wy) in zip(rows, zip(lon, lat)):
        assert abs(x - wx) * 86_000 < 0.01 and abs(y - wy) * 111_000 < 0.01  # within a centimetre


# -- bad files ------------------------------------------------------------------------------------------
def _gpkg(tmp_path: Path) -> Path:
    path = tmp_path / "valves.gpkg"
    frame = gpd.GeoDataFrame({"name": [f"v{i}" for i in range(200)]},
                             geometry=[shapely.Point(ECO_X + i, ECO_Y) for i in range(200)], crs="EPSG:4548")
    pyogrio.write_dataframe(frame, path)
    return path


BAD_FILES = {
    "truncated": ("valves.gpkg", lambda p: p.write_bytes(_gpkg(p.parent).read_bytes()[:9000]), "cannot be read as GeoPackage"),
    "empty": ("valves.geojson", lambda p: p.write_bytes(b""), "the file is empty"),
    "wrong format": ("valves.gpkg", lambda p: p.write_text("name,x\nA,1\n"), "cannot be read as GeoPackage"),
    "unknown suffix": ("valves.xyz", lambda p: p.write_text("hello"), "unknown format '.xyz'"),
    "no geometry": ("valves.csv", lambda p: p.write_text("name,depth_m\nA,1\n"), "no geometry columns"),
    "mixed types": ("valves.geojson", lambda p: write_geojson(p, [feature(point(ECO_X, ECO_Y)),
                                                                  feature(line((ECO_X, ECO_Y), (ECO_X + 1, ECO_Y)))]),
                    "mixed geometry types (LineString, Point)"),
    "wrong kind": ("valves.geojson", lambda p: write_geojson(p, [feature(line((ECO_X, ECO_Y), (ECO_X + 1, ECO_Y)))]),
                   "holds LineString geometry but layer 'valves' takes points"),
    "no crs": ("valves.csv", lambda p: p.write_text(f"name,x,y\nA,{ECO_X},{ECO_Y}\n"), "declares no CRS"),
    "wrong encoding": ("valves.geojson", lambda p: p.write_bytes(json.dumps(
        {"type": "FeatureCollection", "features": [feature(point(ECO_X, ECO_Y), name="阀门")]},
        ensure_ascii=False).encode("gb18030")), "not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_refused_in_one_line_and_changes_nothing(make_twin, tmp_path: Path, case: str) -> None:
    twin = make_twin()
    good = _gpkg(tmp_path)
    twin.run("import", str(good), "--layer", "valves", "--source", "kept")
    before = twin.snapshot("valves")
    name, make, message = BAD_FILES[case]
    folder = tmp_path / "bad"
    folder.mkdir()
    path = folder / name
    make(path)
    result = twin.run("import", str(path), "--layer", "valves", "--source", "kept", check=False)
    assert message in refused(result, path)
    assert twin.snapshot("valves") == before


def test_bad_flags_are_refused_in_one_line(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    path = _gpkg(tmp_path)
    checks = [
        (("--crs", "EPSG:999999"), "--crs: unknown CRS 'EPSG:999999'"),
        (("--map", "name=nothing"), "--map name=nothing: layer 'valves' has no attribute 'nothing'"),
        (("--map", "nothing=name"), f"--map nothing=name: {path} has no column 'nothing'"),
        (("--map", "name"), "--map name: write it as SOURCE_COLUMN=ATTRIBUTE"),
    ]
    for flags, message in checks:
        result = twin.run("import", str(path), "--layer", "valves", *flags, check=False)
        assert result.returncode == 1 and message in result.stderr, (flags, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    unknown = twin.run("import", str(path), "--layer", "nothing", check=False)
    assert unknown.returncode == 1 and "unknown layer 'nothing'" in unknown.stderr


def test_real_gcj02_district_boundary(make_twin, real_copy) -> None:
    """The Binhai district boundary from a Chinese web map: GCJ-02, so --crs GCJ-02 moves it back."""
    path = real_copy("tianjin/binhai_district.geojson")
    twin = make_twin()  # EPSG:4548, the Eco-city's own CRS
    twin.run("import", str(path), "--layer", "management_grids", "--crs", "GCJ-02", "--map", "adcode=code",
             "--source", "gcj")
    twin.run("import", str(path), "--layer", "management_grids", "--map", "adcode=code", "--source", "raw")
    rows = dict(twin.sql("SELECT source, ST_Area(geom) FROM layers.management_grids"))
    assert rows["gcj"] == pytest.approx(rows["raw"], rel=1e-3)  # a shift, not a distortion
    assert 2.2e9 < rows["gcj"] < 3.0e9  # Binhai New Area: 2,270 km2 of land; the boundary takes in tidal flats
    shift = twin.sql("SELECT ST_Distance(ST_Centroid(a.geom), ST_Centroid(b.geom)) FROM layers.management_grids a, "
                     "layers.management_grids b WHERE a.source = 'gcj' AND b.source = 'raw'")[0][0]
    assert 300 < shift < 700  # GCJ-02 moves Tianjin by about half a kilometre
    assert twin.sql("SELECT name, code FROM layers.management_grids WHERE source = 'gcj'") == [("滨海新区", "120116")]


def test_every_attribute_type_round_trips(make_twin, tmp_path: Path) -> None:
    """Text, numbers, booleans, dates and JSON survive the binary COPY, nulls included."""
    path = write_geojson(tmp_path / "cameras.geojson", [
        feature(point(ECO_X, ECO_Y), id="C1", name="北门", ai_enabled="是", height_m=6.5, install_year="2019",
                valid_from="2019-05-01", valid_to="2021-01-01", tags={"vendor": "海康", "ports": [1, 2]}),
        feature(point(ECO_X + 10, ECO_Y), id="C2", name=None, ai_enabled="no", height_m=None, install_year=None,
                valid_from=None, valid_to=None, tags=None),
        feature(point(ECO_X + 20, ECO_Y), id="C3", name="backwards", valid_from="2020-01-01", valid_to="2019-01-01"),
    ])
    twin = make_twin()
    result = twin.run("import", str(path), "--layer", "cameras")
    assert "2 imported, 1 rejected" in result.stderr
    rows = twin.sql("SELECT source_id, name, ai_enabled, height_m, install_year, valid_from::text, valid_to::text, "
                    "tags FROM layers.cameras ORDER BY source_id")
    assert rows == [
        ("C1", "北门", True, 6.5, 2019, "2019-05-01", "2021-01-01", {"vendor": "海康", "ports": [1, 2]}),
        ("C2", None, False, None, None, None, None, None),
    ]
    assert twin.sql("SELECT reason FROM twin.rejects") == [("valid_to 2019-01-01 is not after valid_from 2020-01-01",)]


def test_a_file_whose_rows_are_all_rejected_is_reported(make_twin, tmp_path: Path) -> None:
    """Every row rejected: the summary and the log still say so, and the rejects are kept."""
    path = write_geojson(tmp_path / "grids.geojson", [feature({"type": "Polygon", "coordinates": [
        [[ECO_X, ECO_Y], [ECO_X + 100, ECO_Y], [ECO_X + 100, ECO_Y + 100], [ECO_X, ECO_Y]]]}, name="no code")])
    twin = make_twin()
    result = twin.run("import", str(path), "--layer", "management_grids")
    assert "0 imported, 1 rejected" in result.stderr
    assert twin.sql("SELECT imported, rejected FROM twin.imports") == [(0, 1)]
    assert twin.sql("SELECT reason FROM twin.rejects") == [("missing required attribute 'code'",)]
