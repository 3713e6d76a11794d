"""Heights between vertical datums (`twin import --heights`): converted with PROJ into a compound twin CRS
where a grid is installed (Debian's proj-data brings EGM96's), kept with a note where none is, and
kept with a note in a twin without a vertical datum."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS, Transformer
from support import write_solid_cityjson

from twin import crs as crs_rules

# Amsterdam, in WGS84 with heights above the ellipsoid; EGM96's geoid lies about 43 m above it there.
POINTS = [(4.90, 52.37, 45.0), (4.95, 52.40, 50.5)]
AMSTERDAM = "EPSG:32631+5773"  # UTM 31N with EGM96 heights


def _points(path: Path, points: list[tuple[float, float, float]], crs: str = "EPSG:4326") -> Path:
    features = [{"type": "Feature", "properties": {"utility": "sewage"},
                 "geometry": {"type": "Point", "coordinates": list(xyz)}} for xyz in points]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features,
                                "crs": {"type": "name", "properties": {"name": crs}}}))
    return path


def _stored(twin) -> list[tuple[float, float, float]]:
    return twin.sql("SELECT ST_X(geom), ST_Y(geom), ST_Z(geom) FROM layers.manholes ORDER BY ST_Y(geom)")


def _expected(source: str | CRS, target: str, points: list[tuple[float, ...]]) -> list[tuple[float, float, float]]:
    """Where pyproj puts the points, with Debian's grids as the import sees them."""
    crs_rules.use_system_grids()
    moved = Transformer.from_crs(source, target, always_xy=True).transform(*zip(*points))
    return list(zip(*moved))


def test_ellipsoidal_heights_become_egm96_heights(make_twin, tmp_path: Path) -> None:
    twin = make_twin(AMSTERDAM)
    result = twin.run("import", str(_points(tmp_path / "m.geojson", POINTS)), "--layer", "manholes",
                      "--heights", "EPSG:4979")
    assert "2 imported" in result.stderr and "heights kept" not in result.stderr
    stored = _stored(twin)
    assert np.array(stored) == pytest.approx(np.array(_expected("EPSG:4979", AMSTERDAM, POINTS)), abs=1e-6)
    for (_, _, raw), (_, _, z) in zip(POINTS, stored):
        assert 40 < raw - z < 46  # the geoid's separation from the ellipsoid at Amsterdam


def test_a_file_whose_crs_carries_its_heights_needs_no_flag(make_twin, tmp_path: Path) -> None:
    """EPSG:4979 is WGS84 with ellipsoidal heights: converted as with --heights."""
    twin = make_twin(AMSTERDAM)
    twin.run("import", str(_points(tmp_path / "m.geojson", POINTS, crs="urn:ogc:def:crs:EPSG::4979")),
             "--layer", "manholes")
    assert np.array(_stored(twin)) == pytest.approx(np.array(_expected("EPSG:4979", AMSTERDAM, POINTS)),
                                                   abs=1e-6)


def test_nap_heights_without_the_dutch_geoid_are_kept_and_said(make_twin, tmp_path: Path) -> None:
    """RD New + NAP (EPSG:7415, CityJSON's usual CRS) to EGM96 needs the Dutch geoid, which Debian's
    proj-data does not ship: the heights stay NAP's and the note names the grid."""
    rd = _expected("EPSG:4979", "EPSG:28992", POINTS)
    twin = make_twin(AMSTERDAM)
    result = twin.run("import", str(_points(tmp_path / "m.geojson", rd, crs="urn:ogc:def:crs:EPSG::7415")),
                      "--layer", "manholes")
    assert ("note: heights kept in NAP height (EPSG:5709): PROJ has no grid to convert them to EGM96 height "
            "(EPSG:5773) (install nl_nsgi_nlgeo2018.tif from https://cdn.proj.org/nl_nsgi_nlgeo2018.tif into "
            "/usr/share/proj") in result.stderr
    stored = _stored(twin)
    assert [z for _, _, z in stored] == [z for _, _, z in rd]
    assert np.array(stored)[:, :2] == pytest.approx(np.array(_expected("EPSG:28992", "EPSG:32631", rd))[:, :2],
                                                    abs=0.01)


@pytest.mark.parametrize("twin_crs, points, heights, note", [
    # No grid relates EGM96 to China's Yellow Sea 1985 heights: PROJ has only a ballpark, which moves nothing.
    ("EPSG:4548+5737", [(117.70, 39.05, 3.5), (117.72, 39.07, 4.0)], "EPSG:5773",
     "heights kept in EGM96 height (EPSG:5773): PROJ has no grid to convert them to Yellow Sea 1985 height "
     "(EPSG:5737) (PROJ knows no transformation between them but a ballpark one"),
    ("EPSG:32631", POINTS, "EPSG:4979",
     "heights kept in ellipsoidal heights (WGS 84) as given: the twin's CRS EPSG:32631 has no vertical datum"),
])
def test_heights_that_cannot_be_converted_are_kept(make_twin, tmp_path: Path, twin_crs: str,
                                                   points: list[tuple[float, float, float]], heights: str,
                                                   note: str) -> None:
    twin = make_twin(twin_crs)
    result = twin.run("import", str(_points(tmp_path / "m.geojson", points)), "--layer", "manholes",
                      "--heights", heights)
    assert f"note: {note}" in result.stderr
    assert [z for _, _, z in _stored(twin)] == [z for _, _, z in points]


def test_heights_must_name_a_vertical_crs(make_twin, tmp_path: Path) -> None:
    twin = make_twin(AMSTERDAM)
    result = twin.run("import", str(_points(tmp_path / "m.geojson", POINTS)), "--layer", "manholes",
                      "--heights", "EPSG:32631", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "twin: --heights: EPSG:32631 is not a vertical CRS; give the datum of the file's heights, e.g. EPSG:5773 "
        "(EGM96), EPSG:5737 (Yellow Sea 1985), EPSG:5709 (NAP) or EPSG:4979 (ellipsoidal, WGS 84)"]
    assert twin.count("manholes") == 0


def test_a_buildings_surfaces_and_ground_move_with_its_heights(make_twin, tmp_path: Path) -> None:
    """A CityJSON building in UTM with ellipsoidal heights: its LOD2 faces and the ground it stands on
    become EGM96 heights alike."""
    x0, y0, ground, top = 629_000, 5_803_000, 45.0, 57.0
    corners = [(x0, y0), (x0 + 10, y0), (x0 + 10, y0 + 10), (x0, y0 + 10)]
    vertices = [[x, y, z] for z in (ground, top) for x, y in corners]
    faces = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]], [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]
    path = write_solid_cityjson(tmp_path / "house.city.json", 32631, vertices, faces)
    twin = make_twin(AMSTERDAM)
    result = twin.run("import", str(path), "--layer", "buildings", "--heights", "EPSG:4979")
    assert "1 imported" in result.stderr
    (z_min, z_max, ground_z, height), = twin.sql("SELECT ST_ZMin(lod2), ST_ZMax(lod2), ground_z_m, height_m "
                                                 "FROM layers.buildings")
    ellipsoidal = CRS.from_epsg(32631).to_3d()
    (_, _, low), (_, _, high) = _expected(ellipsoidal, AMSTERDAM, [(x0, y0, ground), (x0, y0, top)])
    assert z_min == pytest.approx(low, abs=0.01) and z_max == pytest.approx(high, abs=0.01)
    assert ground_z == pytest.approx(low, abs=0.01) and 40 < ground - ground_z < 46
    assert height == pytest.approx(top - ground)
