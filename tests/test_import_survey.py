"""Chinese pipeline survey tables (point and line tables in .xlsx, .csv, .mdb) and file geodatabases:
pipes joined by 点号 in 3D from 地面高程 and 埋深, fittings in their layers, dangling and repeated 点号
rejected with their reason. Real PostGIS, the real CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from support import refused

from importers.survey import SurveyTables
from twin.catalog import load_catalog

E, N = 506_000.0, 4_330_000.0  # the Eco-city in EPSG:4548: easting, northing

POINT_HEADER = ["点号", "X", "Y", "地面高程", "埋深", "特征", "附属物"]
LINE_HEADER = ["起点点号", "终点点号", "起点埋深", "终点埋深", "管径", "材质", "建设年代", "权属单位"]
# 点号, north, east, ground, depth, feature, fitting: X is north as Chinese surveys write it.
WATER_POINTS = [
    ["J1", N, E, 2.61, 1.20, "三通", "闸阀"],
    ["J2", N, E + 50, 2.55, 1.25, "直线点", ""],
    ["J3", N + 40, E + 50, 2.70, 1.30, "弯头", "消火栓"],
    ["J4", N + 40, E + 100, 2.48, 1.10, "预留口", "阀门井"],
]
WATER_LINES = [
    ["J1", "J2", 1.20, 1.25, "DN300", "球墨铸铁", "2012年", "中新天津生态城水务"],
    ["J2", "J3", 1.25, 1.30, "DN300", "球墨铸铁", "2012年", "中新天津生态城水务"],
    ["J3", "J4", "", "", "DN200", "PE", "2015", "中新天津生态城水务"],  # depths from the point table
    ["J4", "J9", 1.10, 1.00, "DN200", "PE", "2015", "中新天津生态城水务"],  # J9: not surveyed
]


def write_workbook(path: Path, sheets: dict[str, list[list]], title: str | None = None) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        if title:
            sheet.append([title])  # survey deliverables open with a title row above the header
        for row in rows:
            sheet.append([None if value == "" else value for value in row])
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def ends(twin, layer: str, source_id: str) -> list[tuple[float, float, float]]:
    return [tuple(point) for point in twin.sql(
        f"SELECT ST_X(p), ST_Y(p), ST_Z(p) FROM (SELECT (ST_DumpPoints(geom)).geom p FROM layers.{layer} "
        "WHERE source_id = %s) x", source_id)]


def test_xlsx_survey_pipes_in_3d_fittings_and_dangling_points(make_twin, tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "生态城管线.xlsx", {
        "给水管点": [POINT_HEADER, *WATER_POINTS], "给水管线": [LINE_HEADER, *WATER_LINES],
        "说明": [["本成果依据 CJJ 61-2017"]],  # a sheet that is no survey table
    }, title="给水管线点成果表")
    assert SurveyTables().feeds(path, load_catalog()) == ["water_supply", "valves", "smart_hydrants"]
    twin = make_twin("EPSG:4548")
    result = twin.run("import", str(path), "--layer", "water_supply")
    assert "3 imported, 1 rejected" in result.stderr
    assert "X read as northing, Y as easting" in result.stderr
    assert "coordinates read in the twin's CRS EPSG:4548" in result.stderr
    assert "2 pipe ends without a depth in the line table took the point table's 埋深" in result.stderr
    assert "import them with --layer valves, --layer smart_hydrants" in result.stderr
    # Water supply is measured to the pipe's top (CJJ 61): its centre lies half the DN300 lower.
    assert ends(twin, "water_supply", "J1-J2") == [
        (pytest.approx(E), pytest.approx(N), pytest.approx(2.61 - 1.20 - 0.15)),
        (pytest.approx(E + 50), pytest.approx(N), pytest.approx(2.55 - 1.25 - 0.15))]
    assert ends(twin, "water_supply", "J3-J4")[1] == (pytest.approx(E + 100), pytest.approx(N + 40),
                                                      pytest.approx(2.48 - 1.10 - 0.10))
    row = twin.sql("SELECT diameter_mm, material, install_year, owner, start_depth_m, end_depth_m, valid_from::text "
                   "FROM layers.water_supply WHERE source_id = 'J3-J4'")[0]
    assert row == (200.0, "PE", 2015, "中新天津生态城水务", pytest.approx(1.30), pytest.approx(1.10), "2015-01-01")
    assert twin.sql("SELECT row_number, reason FROM twin.rejects") == [
        (6, "终点点号 'J9' is not in the point table (生态城管线.xlsx, sheet 给水管点)")]
    rejects = (tmp_path / "生态城管线.xlsx.water_supply.rejects.csv").read_text(encoding="utf-8")
    assert "终点点号 'J9' is not in the point table" in rejects

    valves = twin.run("import", str(path), "--layer", "valves")
    assert "2 imported, 0 rejected" in valves.stderr and "三通" not in valves.stderr  # J1's 附属物 wins
    assert "points that are no fitting (they shape the pipes): 直线点 1" in valves.stderr
    assert twin.sql("SELECT source_id, valve_type, utility, depth_m, ST_X(geom), ST_Y(geom), ST_Z(geom) "
                    "FROM layers.valves ORDER BY source_id") == [
        ("J1", "gate", "water_supply", 1.20, pytest.approx(E), pytest.approx(N), pytest.approx(2.61 - 1.20)),
        ("J4", None, "water_supply", 1.10, pytest.approx(E + 100), pytest.approx(N + 40), pytest.approx(2.48 - 1.10))]
    twin.run("import", str(path), "--layer", "smart_hydrants")
    assert twin.sql("SELECT source_id, ST_X(geom), ST_Y(geom) FROM layers.smart_hydrants") == [
        ("J3", pytest.approx(E + 50), pytest.approx(N + 40))]
    wrong = twin.run("import", str(path), "--layer", "buildings", check=False)
    assert "survey tables feed pipe layers" in refused(wrong, path)


SEWAGE_POINTS = [
    ["W1", N, E, 2.80, 2.10, "", "检查井"],
    ["W2", N, E + 40, 2.75, 2.30, "", "窨井"],
    ["W3", N, E + 80, 2.70, 2.50, "", "污水检查井"],
    ["W3", N + 1, E + 81, 2.70, 2.50, "", "污水检查井"],  # 点号 given twice
    ["W4", N, E + 120, 2.72, 2.62, "出水口", ""],
]
SEWAGE_LINES = [
    ["W1", "W2", 2.10, 2.30, "DN400", "钢筋混凝土", "2010", "生态城污水处理厂"],
    ["W2", "W3", 2.30, 2.50, "DN400", "钢筋混凝土", "2010", "生态城污水处理厂"],
    ["W3", "W4", 2.50, 2.62, "DN500", "钢筋混凝土", "2011", "生态城污水处理厂"],
]


def test_gb18030_csv_pair_sewage_at_invert_repeated_points_rejected(make_twin, tmp_path: Path) -> None:
    lines = write_csv(tmp_path / "污水管线.csv", [LINE_HEADER, *SEWAGE_LINES], "gb18030")
    write_csv(tmp_path / "污水管点.csv", [POINT_HEADER, *SEWAGE_POINTS], "gb18030")
    assert SurveyTables().feeds(lines, load_catalog()) == ["sewage", "manholes"]
    twin = make_twin("EPSG:4548")
    result = twin.run("import", str(lines), "--layer", "sewage")
    assert "1 imported, 2 rejected" in result.stderr and "污水管线.csv: text read as gb18030" in result.stderr
    # Drainage depths are to the invert (CJJ 61): the centre lies half the DN400 above it.
    assert [z for _, _, z in ends(twin, "sewage", "W1-W2")] == [pytest.approx(2.80 - 2.10 + 0.20),
                                                                pytest.approx(2.75 - 2.30 + 0.20)]
    assert twin.sql("SELECT material, owner FROM layers.sewage") == [("钢筋混凝土", "生态城污水处理厂")]
    reasons = [reason for (reason,) in twin.sql("SELECT reason FROM twin.rejects ORDER BY row_number")]
    assert reasons == ["终点点号 'W3' is in the point table 2 times (rows 4, 5): which is meant is unknown",
                       "起点点号 'W3' is in the point table 2 times (rows 4, 5): which is meant is unknown"]
    manholes = twin.run("import", str(lines), "--layer", "manholes")
    assert "2 imported, 2 rejected" in manholes.stderr
    assert twin.sql("SELECT source_id, utility, cover_z_m, ST_Z(geom) FROM layers.manholes ORDER BY source_id") == [
        ("W1", "sewage", 2.80, pytest.approx(2.80 - 2.10)), ("W2", "sewage", 2.75, pytest.approx(2.75 - 2.30))]

    # --strict: the first bad row fails the whole import, and the store is as it was.
    before = twin.snapshot("sewage")
    strict = twin.run("import", str(lines), "--layer", "sewage", "--strict", check=False)
    assert "row 3: 终点点号 'W3' is in the point table 2 times" in refused(strict, lines)
    assert twin.snapshot("sewage") == before


def test_utf8_csv_pair_by_option_with_easting_first_and_no_ground(make_twin, tmp_path: Path) -> None:
    # A GIS export: X is the easting here, one point has no ground height, the CRS comes from --crs.
    points = write_csv(tmp_path / "survey_points.csv", [
        ["物探点号", "X", "Y", "地面高程", "特征"], ["R1", E, N, 2.9, "雨水篦"], ["R2", E, N + 30, "", "弯头"]])
    lines = write_csv(tmp_path / "YS_line.csv", [["起点点号", "终点点号", "起点埋深", "终点埋深", "管径"],
                                                 ["R1", "R2", 1.5, 1.6, "600"]])
    twin = make_twin("EPSG:4548")
    alone = twin.run("import", str(lines), "--layer", "rainwater", check=False)
    assert "needs its point table" in refused(alone, lines) and "YS_point.csv" in alone.stderr
    result = twin.run("import", str(lines), "--layer", "rainwater", "--points", str(points), "--crs", "EPSG:4548")
    assert "1 imported, 0 rejected" in result.stderr
    assert "X read as easting, Y as northing" in result.stderr and "EPSG:4548 (--crs)" in result.stderr
    assert "1 pipe ends join points without 地面高程" in result.stderr
    assert ends(twin, "rainwater", "R1-R2") == [
        (pytest.approx(E), pytest.approx(N), pytest.approx(2.9 - 1.5 + 0.3)),
        (pytest.approx(E), pytest.approx(N + 30), pytest.approx(0.0 - 1.6 + 0.3))]  # no DEM: ground 0 m
    assert SurveyTables().feeds(lines, load_catalog()) == ["rainwater"]
    # Found beside it by name, the pair needs no --points; a name that says no utility feeds nothing by itself.
    (tmp_path / "YS_point.csv").write_bytes(points.read_bytes())
    assert twin.run("import", str(lines), "--layer", "rainwater").returncode == 0
    unnamed = write_csv(tmp_path / "lines.csv", [["起点点号", "终点点号"], ["R1", "R2"]])
    (tmp_path / "points.csv").write_bytes(points.read_bytes())
    assert SurveyTables().feeds(unnamed, load_catalog()) == []


def test_workbook_of_two_utilities(make_twin, tmp_path: Path) -> None:
    gas_points = [["G1", N + 10, E, 2.6, 0.9, "", "阀门"], ["G2", N + 10, E + 60, 2.6, 0.9, "", ""]]
    path = write_workbook(tmp_path / "管线成果.xlsx", {
        "JS_POINT": [POINT_HEADER, *WATER_POINTS[:2]], "JS_LINE": [LINE_HEADER, WATER_LINES[0]],
        "RQ_POINT": [POINT_HEADER, *gas_points], "RQ_LINE": [LINE_HEADER, ["G1", "G2", 0.9, 0.9, "De160", "PE"]],
    })
    assert SurveyTables().feeds(path, load_catalog()) == ["water_supply", "gas", "valves"]
    twin = make_twin("EPSG:4548")
    twin.run("import", str(path), "--layer", "gas")
    assert twin.sql("SELECT source_id, diameter_mm FROM layers.gas") == [("G1-G2", 160.0)]
    twin.run("import", str(path), "--layer", "valves")
    assert twin.sql("SELECT source_id, utility FROM layers.valves ORDER BY source_id") == [
        ("G1", "gas"), ("J1", "water_supply")]
    heat = twin.run("import", str(path), "--layer", "heat", check=False)
    assert "no line table of heat (line tables of: water_supply, gas)" in refused(heat, path)


def test_access_database_read_with_mdbtools(make_twin, tmp_path: Path) -> None:
    # No program on this machine writes an Access database (mdbtools only reads), so what is tested is
    # that a damaged one is refused in one line, through the real mdbtools.
    path = tmp_path / "给水.mdb"
    path.write_bytes(b"\x00\x01\x00\x00Standard Jet DB\x00" + b"\x00" * 64)
    twin = make_twin("EPSG:4548")
    result = twin.run("import", str(path), "--layer", "water_supply", check=False)
    assert "cannot be read as an Access database" in refused(result, path)


def test_file_geodatabase_layers(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "city.gdb"
    pipes = gpd.GeoDataFrame({"材质": ["PE", "钢"], "管径": [200.0, 300.0]},
                             geometry=[shapely.LineString([(E, N), (E + 100, N)]),
                                       shapely.LineString([(E, N + 50), (E + 100, N + 50)])], crs="EPSG:4548")
    pyogrio.write_dataframe(pipes, path, layer="water_supply", driver="OpenFileGDB")
    pyogrio.write_dataframe(pipes.iloc[:1], path, layer="燃气", driver="OpenFileGDB")
    twin = make_twin("EPSG:4548")
    result = twin.run("import", str(path), "--layer", "water_supply")  # the layer named like the target
    assert "(File geodatabase): 2 imported, 0 rejected" in result.stderr
    assert twin.sql("SELECT material, diameter_mm FROM layers.water_supply ORDER BY diameter_mm") == [
        ("PE", 200.0), ("钢", 300.0)]
    twin.run("import", str(path), "--layer", "gas", "--source-layer", "燃气")
    assert twin.count("gas") == 1
    several = twin.run("import", str(path), "--layer", "heat", check=False)
    assert "holds several layers (water_supply, 燃气); choose one with --source-layer" in refused(several, path)
