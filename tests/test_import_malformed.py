"""Real files never crash an import: geometries GEOS cannot build, NaN or infinite coordinates and empty
parts are rejects with their reason in every vector format; --make-valid repairs; a wrong CRS stops at
once; an unexpected error is one line with its traceback in a log file."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from pyogrio.raw import write
from support import refused

# Metres of EPSG:32650 (UTM 50N) in the Eco-city, inside the default twin CRS (EPSG:4548).
X, Y = 600_000.0, 4_330_000.0
SQUARE = [(X, Y), (X + 40, Y), (X + 40, Y + 40), (X, Y + 40), (X, Y)]


def _polygon_wkb(rings: list[list[tuple[float, float]]]) -> bytes:
    """WKB written by hand: GEOS will not make these geometries, but files hold them."""
    data = struct.pack("<BII", 1, 3, len(rings))
    for ring in rings:
        data += struct.pack("<I", len(ring)) + b"".join(struct.pack("<dd", *point) for point in ring)
    return data


MALFORMED = {  # case -> (WKB, WKT, the reason twin gives)
    "ring of two points": (_polygon_wkb([[(X, Y), (X + 5, Y + 5)]]), f"POLYGON (({X} {Y}, {X + 5} {Y + 5}))",
                           "geometry cannot be built: IllegalArgumentException"),
    "NaN coordinate": (_polygon_wkb([[(X, Y), (X + 9, Y), (float("nan"), Y + 9), (X, Y)]]),
                       f"POLYGON (({X} {Y}, {X + 9} {Y}, NaN {Y + 9}, {X} {Y}))", "invalid geometry: Invalid Coordinate"),
    "infinite coordinate": (_polygon_wkb([[(X, Y), (X + 9, Y), (float("inf"), Y + 9), (X, Y)]]),
                            f"POLYGON (({X} {Y}, {X + 9} {Y}, Inf {Y + 9}, {X} {Y}))",
                            "invalid geometry: Invalid Coordinate"),
    "empty part": (struct.pack("<BII", 1, 6, 2) + _polygon_wkb([SQUARE]) + struct.pack("<BII", 1, 3, 0),
                   "MULTIPOLYGON (((" + ", ".join(f"{x} {y}" for x, y in SQUARE) + ")), EMPTY)",
                   "geometry has an empty part"),
}
# Shapefile refuses non-finite coordinates, GeoJSON has no NaN, FlatGeobuf drops empty parts: each format
# with what it can hold.
FORMATS = {"GPKG": ("gpkg", list(MALFORMED)), "FlatGeobuf": ("fgb", list(MALFORMED)[:3]),
           "ESRI Shapefile": ("shp", ["ring of two points"]), "GeoJSON": ("geojson", ["ring of two points", "empty part"]),
           "CSV": ("csv", list(MALFORMED))}
CASES = [(driver, case) for driver, (_, cases) in FORMATS.items() for case in cases]


def _write(folder: Path, driver: str, rows: list[tuple[str, bytes, str]], crs: str = "EPSG:32650") -> Path:
    """A file of ``rows`` (code, WKB, WKT) in the driver's format."""
    suffix = FORMATS[driver][0] if driver in FORMATS else "gpkg"
    path = folder / f"grids.{suffix}"
    if driver == "CSV":
        lines = ["code,wkt", *(f'{code},"{wkt}"' for code, _, wkt in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    geometry = np.array([wkb for _, wkb, _ in rows], dtype=object)
    write(str(path), geometry=geometry, field_data=[np.array([code for code, _, _ in rows], dtype=object)],
          fields=["code"], driver=driver, crs=crs,
          geometry_type="MultiPolygon" if driver == "ESRI Shapefile" else "Unknown")
    return path


@pytest.mark.parametrize(("driver", "case"), CASES)
def test_malformed_geometry_is_a_reject_with_its_reason(make_twin, tmp_path: Path, driver: str, case: str) -> None:
    wkb, wkt, reason = MALFORMED[case]
    path = _write(tmp_path, driver, [("A-01", _polygon_wkb([SQUARE]), "POLYGON ((" + ", ".join(
        f"{x} {y}" for x, y in SQUARE) + "))"), ("A-02", wkb, wkt)])
    twin = make_twin()
    before = twin.snapshot("management_grids")
    crs = ["--crs", "EPSG:32650"] if driver == "CSV" else []
    strict = twin.run("import", str(path), "--layer", "management_grids", "--strict", *crs, check=False)
    assert reason in refused(strict, path)
    assert twin.snapshot("management_grids") == before

    result = twin.run("import", str(path), "--layer", "management_grids", *crs)
    assert "Traceback" not in result.stderr and "1 imported, 1 rejected" in result.stderr
    (row, stored), = twin.sql("SELECT row_number, reason FROM twin.rejects")
    assert reason in stored and row == (3 if driver == "CSV" else 2)
    report = (tmp_path / f"{path.name}.management_grids.rejects.csv").read_text(encoding="utf-8")
    assert reason in report


def test_malformed_osm_multipolygon_is_a_reject(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "degenerate.osm"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="twin tests">
  <node id="1" lat="39.12" lon="117.72"/><node id="2" lat="39.1203" lon="117.72"/>
  <node id="3" lat="39.1203" lon="117.7203"/><node id="4" lat="39.12" lon="117.7203"/>
  <way id="10"><nd ref="1"/><nd ref="1"/><tag k="building" v="yes"/></way>
  <way id="11"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/><tag k="building" v="yes"/></way>
</osm>
""", encoding="utf-8")
    twin = make_twin()
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "1 imported, 1 rejected" in result.stderr and "Traceback" not in result.stderr
    assert twin.sql("SELECT source_id, reason FROM twin.rejects") == [
        ("way/10", "geometry cannot be built: IllegalArgumentException: Invalid number of points in LinearRing "
                   "found 2 - must be 0 or >= 3")]


def test_make_valid_repairs_keeping_the_layers_kind(make_twin, tmp_path: Path) -> None:
    bowtie = [(X, Y), (X + 40, Y + 40), (X + 40, Y), (X, Y + 40), (X, Y)]
    sliver = [(X, Y), (X + 40, Y), (X, Y)]  # repaired, a line: nothing polygonal is left
    rows = [("A-01", _polygon_wkb([bowtie]), ""), ("A-02", MALFORMED["empty part"][0], ""),
            ("A-03", _polygon_wkb([sliver]), ""), ("A-04", _polygon_wkb([SQUARE]), "")]
    path = _write(tmp_path, "GPKG", rows)
    twin = make_twin()
    result = twin.run("import", str(path), "--layer", "management_grids", "--make-valid")
    assert "3 imported (2 repaired), 1 rejected" in result.stderr
    assert "2 invalid geometries repaired (--make-valid)" in result.stderr
    shapes = twin.sql("SELECT code, ST_NumGeometries(geom), round(ST_Area(geom) / 100), ST_IsValid(geom) "
                      "FROM layers.management_grids ORDER BY code")
    assert shapes == [("A-01", 2, 8, True), ("A-02", 1, 16, True), ("A-04", 1, 16, True)]  # hm2, reprojected
    (reason,), = twin.sql("SELECT reason FROM twin.rejects")
    assert reason.startswith("invalid geometry: Too few points")


@pytest.mark.parametrize("mistake", ["metres declared as degrees", "degrees declared as metres"])
def test_a_wrong_crs_stops_at_once(make_twin, tmp_path: Path, mistake: str) -> None:
    count = 20_000
    x, y = (X + np.arange(count) % 1000 * 10.0, Y + np.arange(count) // 1000 * 10.0)
    if mistake == "degrees declared as metres":
        x, y = 117.72 + (x - X) * 1e-5, 39.12 + (y - Y) * 1e-5
    points = [struct.pack("<BIdd", 1, 1, a, b) for a, b in zip(x, y)]
    path = tmp_path / "hydrants.gpkg"
    write(str(path), geometry=np.array(points, dtype=object), field_data=[np.arange(count)], fields=["n"],
          driver="GPKG", geometry_type="Point",
          crs="EPSG:4326" if mistake == "metres declared as degrees" else "EPSG:32650")
    twin = make_twin()
    before = twin.snapshot("smart_hydrants")
    started = time.perf_counter()
    result = twin.run("import", str(path), "--layer", "smart_hydrants", check=False)
    seconds = time.perf_counter() - started
    line = refused(result, path)
    assert "lies wholly outside the twin's area" in line and "--crs" in line
    hint = "too large for degrees" if mistake == "metres declared as degrees" else "try --crs EPSG:4326"
    assert hint in line
    assert twin.snapshot("smart_hydrants") == before
    assert seconds < 15  # it read the extent, not 20,000 rows to reject


def test_a_csv_in_a_wrong_crs_stops_after_reading(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "lamps.csv"
    path.write_text("id,lon,lat\n" + "".join(f"L{n},{X + n},{Y}\n" for n in range(50)), encoding="utf-8")
    twin = make_twin()
    line = refused(twin.run("import", str(path), "--layer", "smart_lamp_poles", check=False), path)
    assert "too large for degrees" in line
    assert twin.count("smart_lamp_poles") == 0


def test_an_unexpected_error_is_one_line_and_a_log(make_twin, tmp_path: Path) -> None:
    # A CityJSON surface whose boundaries are a number, not lists of vertex indices: no check foresaw it.
    path = tmp_path / "odd.city.json"
    path.write_text(json.dumps({"type": "CityJSON", "version": "2.0", "vertices": [[0, 0, 0]], "CityObjects": {
        "b1": {"type": "Building", "geometry": [{"type": "Solid", "lod": "1", "boundaries": 5}]}}}))
    twin = make_twin()
    home = tmp_path / "home"
    result = twin.run("import", str(path), "--crs", "EPSG:4548", check=False, TWIN_HOME=str(home))
    line = refused(result, path)
    assert "unexpected error (TypeError: " in line and "Traceback" not in result.stderr
    log = Path(line.rsplit("details in ", 1)[1])
    assert log.parent == home / "logs" and log.name.startswith("twin-") and log.suffix == ".log"
    assert "Traceback (most recent call last)" in log.read_text() and "TypeError" in log.read_text()
