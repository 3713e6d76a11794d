"""A twin is a city: `twin init NAME [--crs]`, the CRS the first import chooses, compound and local CRSs,
and the name and CRS the CLI reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import run_twin, sql

from twin import crs as crs_rules


def _twin(url: str, *args: str, check: bool = True):
    return run_twin(*args, check=check, TWIN_DATABASE_URL=url, TWIN_CRS=None)


def _points(path: Path, points: list[tuple[float, float]], crs: str = "EPSG:4326") -> Path:
    features = [{"type": "Feature", "properties": {"name": f"p{i}"},
                 "geometry": {"type": "Point", "coordinates": list(xy)}} for i, xy in enumerate(points)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features,
                                "crs": {"type": "name", "properties": {"name": crs}}}))
    return path


@pytest.mark.parametrize("lon, lat, code", [
    (117.7, 39.05, 4548),   # Tianjin: CGCS2000 / 3-degree GK CM 117E
    (104.07, 30.67, 4544),  # Chengdu: CM 105E
    (114.17, 22.3, 4547),   # Hong Kong: CM 114E
    (7.42, 43.74, 32632),   # Monaco: UTM 32N
    (126.98, 37.57, 32652), # Seoul, beside China: UTM 52N
    (151.2, -33.87, 32756), # Sydney: UTM 56S
])
@pytest.mark.fast
def test_the_crs_for_a_place(lon: float, lat: float, code: int) -> None:
    assert crs_rules.for_place(lon, lat)[0].to_epsg() == code


def test_init_names_the_city_and_fixes_its_crs(scratch_database: str) -> None:
    result = _twin(scratch_database, "init", "Prague", "--crs", "EPSG:5514")
    assert "twin of Prague in EPSG:5514" in result.stderr
    status = json.loads(_twin(scratch_database, "db", "status", "--json").stdout)
    assert status["city"] == "Prague" and status["crs"] == "EPSG:5514"
    assert set(sql(scratch_database, "SELECT DISTINCT srid FROM geometry_columns WHERE f_table_schema = 'layers'")) \
        == {(5514,)}
    assert _twin(scratch_database, "layers").stdout.splitlines()[0] == "Prague (EPSG:5514)"
    # Again is harmless; another CRS or, once it holds data, another city's name is refused.
    _twin(scratch_database, "init", "Prague", "--crs", "EPSG:5514")
    other = _twin(scratch_database, "init", "Prague", "--crs", "EPSG:32633", check=False)
    assert other.returncode == 1 and "this twin's CRS is EPSG:5514, not EPSG:32633" in other.stderr
    sql(scratch_database, "INSERT INTO layers.police_stations (source, source_id, geom) "
                          "VALUES ('t', '1', ST_SetSRID(ST_MakePoint(-743000, -1043000), 5514))")
    renamed = _twin(scratch_database, "init", "Brno", check=False)
    assert renamed.returncode == 1 and "already holds Prague (1 features)" in renamed.stderr


def test_init_names_the_city_in_another_language(scratch_database: str) -> None:
    _twin(scratch_database, "init", "Tianjin Eco-city", "--name-in", "zh-CN=中新天津生态城")
    assert sql(scratch_database, "SELECT value FROM twin.meta WHERE key = 'name.zh-CN'") == [("中新天津生态城",)]
    for bad in ("fr=Écoville", "zh-CN", "zh-CN= "):
        refused = _twin(scratch_database, "init", "Tianjin Eco-city", "--name-in", bad, check=False)
        message = refused.stderr.strip().splitlines()[-1]
        assert refused.returncode == 1 and "give LANGUAGE=NAME with LANGUAGE one of zh-CN" in message, message


def test_a_geographic_crs_is_refused(scratch_database: str) -> None:
    result = _twin(scratch_database, "init", "Somewhere", "--crs", "EPSG:4326", check=False)
    assert result.returncode == 1
    assert "EPSG:4326 is not projected, not metres" in result.stderr.strip().splitlines()[-1]
    feet = _twin(scratch_database, "init", "Somewhere", "--crs", "EPSG:3089", check=False)
    assert "EPSG:3089 is in US survey foot, not metres" in feet.stderr


def test_a_compound_crs_keeps_its_heights_datum(scratch_database: str) -> None:
    _twin(scratch_database, "init", "Tianjin", "--crs", "EPSG:4548+5737")
    status = json.loads(_twin(scratch_database, "db", "status", "--json").stdout)
    assert status["crs"] == "EPSG:4548+5737"
    assert set(sql(scratch_database, "SELECT DISTINCT srid FROM geometry_columns WHERE f_table_schema = 'layers'")) \
        == {(4548,)}


def test_a_local_grid_from_a_proj_string(scratch_database: str, tmp_path: Path) -> None:
    """A city's own grid (a transverse Mercator of its own, as many Chinese cities keep) gets an SRID of
    its own, and data in WGS84 lands in it where PROJ puts it."""
    grid = "+proj=tmerc +lat_0=0 +lon_0=117.5 +k=1 +x_0=50000 +y_0=-4000000 +ellps=GRS80 +units=m +no_defs"
    _twin(scratch_database, "init", "Local", "--crs", grid)
    srid = sql(scratch_database, "SELECT DISTINCT srid FROM geometry_columns WHERE f_table_name = 'hospitals'")[0][0]
    assert srid >= 910_000
    _twin(scratch_database, "import", str(_points(tmp_path / "h.geojson", [(117.7, 39.05)])), "--layer", "hospitals")
    lon, lat = sql(scratch_database, "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(geom, 4326) g "
                                     "FROM layers.hospitals) t")[0]
    assert abs(lon - 117.7) < 1e-6 and abs(lat - 39.05) < 1e-6
    x, y = sql(scratch_database, "SELECT ST_X(geom), ST_Y(geom) FROM layers.hospitals")[0]
    assert 60_000 < x < 80_000 and 300_000 < y < 340_000  # in the grid's own numbers


def test_the_first_import_chooses_the_crs(scratch_database: str, tmp_path: Path) -> None:
    _twin(scratch_database, "db", "migrate")
    status = json.loads(_twin(scratch_database, "db", "status", "--json").stdout)
    assert status["crs"].startswith("none yet") and status["layer_tables"] == 0
    path = _points(tmp_path / "tianjin_hydrants.geojson", [(117.70, 39.05), (117.72, 39.07)])
    # A first import that fails leaves the twin as it was: still without a CRS.
    broken = tmp_path / "broken.geojson"
    broken.write_text(path.read_text().replace('"coordinates": [117.72, 39.07]', '"coordinates": []'))
    assert _twin(scratch_database, "import", str(broken), "--layer", "smart_hydrants", "--strict",
                 check=False).returncode == 1
    assert json.loads(_twin(scratch_database, "db", "status", "--json").stdout)["layer_tables"] == 0

    result = _twin(scratch_database, "import", str(path), "--layer", "smart_hydrants")
    assert "it is now EPSG:4548, the CGCS2000 3-degree Gauss-Kruger zone of central meridian 117E" in result.stderr
    status = json.loads(_twin(scratch_database, "db", "status", "--json").stdout)
    assert status["crs"] == "EPSG:4548" and status["city"] == "Tianjin hydrants"
    xmin, ymin, xmax, ymax = (float(v.replace(",", "")) for v in status["extent"].split())
    (bx0, by0, bx1, by1), = sql(scratch_database, "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                                                  "FROM (SELECT ST_Extent(geom) e FROM layers.smart_hydrants) t")
    assert (round(xmin), round(ymin), round(xmax), round(ymax)) == (round(bx0), round(by0), round(bx1), round(by1))


def test_a_projected_file_gives_the_twin_its_own_crs(scratch_database: str, tmp_path: Path) -> None:
    path = _points(tmp_path / "prague.geojson", [(-743_000.0, -1_043_000.0)], crs="urn:ogc:def:crs:EPSG::5514")
    unmade = _twin(scratch_database, "import", str(path), "--layer", "police_stations", check=False)
    assert unmade.returncode == 1 and "run `twin db migrate`" in unmade.stderr
    _twin(scratch_database, "db", "migrate")
    result = _twin(scratch_database, "import", str(path), "--layer", "police_stations")
    assert "it is now EPSG:5514, the file's own projected CRS" in result.stderr
    assert sql(scratch_database, "SELECT ST_SRID(geom), ST_X(geom) FROM layers.police_stations") == [(5514, -743_000.0)]


def test_a_file_far_from_the_twin_is_refused_at_once(scratch_database: str, tmp_path: Path) -> None:
    """Inside the CRS's area of use, yet hundreds of km from the city: a CRS mistake, or another city."""
    _twin(scratch_database, "init", "Tianjin", "--crs", "EPSG:4548")
    _twin(scratch_database, "import", str(_points(tmp_path / "tianjin.geojson", [(117.70, 39.05)])),
          "--layer", "smart_hydrants")
    near = _points(tmp_path / "binhai.geojson", [(117.80, 39.10)])  # 10 km away: the same city
    assert "1 imported" in _twin(scratch_database, "import", str(near), "--layer", "hospitals").stderr
    far = _points(tmp_path / "jinan.geojson", [(117.00, 36.65)])  # 270 km south, in the same zone
    result = _twin(scratch_database, "import", str(far), "--layer", "hospitals", check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "km from the twin's data" in lines[0] and "its own TWIN_HOME" in lines[0]
    assert sql(scratch_database, "SELECT count(*) FROM layers.hospitals") == [(1,)]
