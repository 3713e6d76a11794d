"""Hydraulic models: EPANET water networks and SWMM drainage models, their 3D from node elevations and
inverts, in the units the file declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import refused

from importers.inp_sections import read_sections

FOOT = 0.3048


def _section(path: Path, name: str) -> dict[str, list[str]]:
    return {row.fields[0]: row.fields for row in read_sections(path)[name]}


def test_epanet_pipes_in_3d_from_junction_elevations(make_twin, real_copy) -> None:
    path = real_copy("water/ky4.inp")
    twin = make_twin("EPSG:3088")  # Kentucky single zone, metres; the file is in US survey feet
    missing_crs = twin.run("import", str(path), "--layer", "water_supply", check=False)
    assert missing_crs.returncode == 1 and "declares no CRS; give it with --crs" in missing_crs.stderr
    result = twin.run("import", str(path), "--layer", "water_supply", "--crs", "EPSG:3089")
    assert "1,156 imported, 0 rejected" in result.stderr  # pipes only: the 2 pumps are not pipes
    pipes, junctions = _section(path, "PIPES"), _section(path, "JUNCTIONS")
    for pipe_id in ("P-1", "P-10", "P-1000"):
        fields = pipes[pipe_id]
        diameter, z_start, z_end = twin.sql(
            "SELECT diameter_mm, ST_Z(ST_StartPoint(ST_GeometryN(geom, 1))), ST_Z(ST_EndPoint(ST_GeometryN(geom, 1))) "
            "FROM layers.water_supply WHERE source_id = %s", pipe_id)[0]
        assert diameter == pytest.approx(float(fields[4]) * 25.4)
        assert z_start == pytest.approx(float(junctions[fields[1]][1]) * FOOT)
        assert z_end == pytest.approx(float(junctions[fields[2]][1]) * FOOT)
    # The network lies where the file says, once feet become metres.
    extent = twin.sql("SELECT ST_XMin(e), ST_XMax(e) FROM (SELECT ST_Extent(ST_Transform(geom, 3089)) e "
                      "FROM layers.water_supply) x")[0]
    xs = [float(fields[1]) for fields in _section(path, "COORDINATES").values()]
    assert extent[0] >= min(xs) - 1 and extent[1] <= max(xs) + 1


def test_swmm_conduits_fall_along_their_inverts(make_twin, real_copy) -> None:
    path = real_copy("swmm/bellinge_small.inp")
    twin = make_twin("EPSG:32632")
    result = twin.run("import", str(path), "--layer", "sewage", "--crs", "EPSG:32632")
    assert "15 imported, 0 rejected" in result.stderr and "no terrain" not in result.stderr
    conduits, shapes = _section(path, "CONDUITS"), _section(path, "XSECTIONS")
    storage = _section(path, "STORAGE")
    for name, fields in list(conduits.items())[:5]:
        start_invert = float(storage[fields[1]][1]) + float(fields[5])
        diameter = float(shapes[name][2])
        row = twin.sql("SELECT start_invert_m, diameter_mm, ST_Z(ST_StartPoint(ST_GeometryN(geom, 1))) "
                       "FROM layers.sewage WHERE source_id = %s", name)[0]
        assert row[0] == pytest.approx(start_invert)
        assert row[1] == pytest.approx(diameter * 1000)
        assert row[2] == pytest.approx(start_invert + diameter / 2)  # the pipe's centre above its invert
    manholes = twin.run("import", str(path), "--layer", "manholes", "--crs", "EPSG:32632")
    assert "16 imported" in manholes.stderr  # 15 storage manholes and the outfall
    node = next(iter(storage))
    invert, depth = float(storage[node][1]), float(storage[node][2])
    assert twin.sql("SELECT ST_Z(geom), depth_m, cover_z_m FROM layers.manholes WHERE source_id = %s", node) == [
        (pytest.approx(invert), pytest.approx(depth), pytest.approx(invert + depth))]


def test_swmm_in_feet(make_twin, real_copy) -> None:
    path = real_copy("swmm/swmmio_model_state_plane.inp")
    # The model's CRS is not known (see PROVENANCE.md); its numbers are US feet. Read as Pennsylvania South
    # (ftUS) it lands in New York state, so the twin is UTM 18N: what is tested here is feet to metres.
    twin = make_twin("EPSG:32618")
    twin.run("import", str(path), "--layer", "sewage", "--crs", "EPSG:2272")
    assert twin.count("sewage") == 44
    conduits, junctions = _section(path, "CONDUITS"), _section(path, "JUNCTIONS")
    name, fields = next((n, f) for n, f in conduits.items() if f[1] in junctions)
    start_invert = (float(junctions[fields[1]][1]) + float(fields[5])) * FOOT
    assert twin.sql("SELECT start_invert_m FROM layers.sewage WHERE source_id = %s", name)[0][0] == pytest.approx(start_invert)
    assert twin.run("import", str(path), "--layer", "manholes", "--crs", "EPSG:2272").returncode == 0
    assert twin.count("manholes") == 45  # 31 junctions, 13 storage, 1 outfall


BAD = {
    "empty": ("", "the file is empty"),
    "neither": ("[TITLE]\nnothing\n[REPORT]\nStatus Yes\n", "unknown format"),
    "truncated row": ("[JUNCTIONS]\nJ1 10\nJ2 12\n[PIPES]\nP1 J1\n[COORDINATES]\nJ1 0 0\nJ2 10 0\n",
                      "line 5: [PIPES] row has 2 fields, needs 5"),
    "bad number": ("[JUNCTIONS]\nJ1 ten\n[PIPES]\nP1 J1 J2 100 150\n", "line 2: [JUNCTIONS] field 2 'ten' is not a number"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inp_files(make_twin, tmp_path: Path, case: str) -> None:
    twin = make_twin("EPSG:32632")
    path = tmp_path / "network.inp"
    text, message = BAD[case]
    path.write_text(text)
    before = twin.snapshot("water_supply")
    result = twin.run("import", str(path), "--layer", "water_supply", "--crs", "EPSG:32632", check=False)
    assert message in refused(result, path)
    assert twin.snapshot("water_supply") == before


def test_a_pipe_to_a_node_without_coordinates_is_rejected(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "cut.inp"
    path.write_text("[JUNCTIONS]\nJ1 10\nJ2 12\nJ3 11\n[PIPES]\nP1 J1 J2 100 150\nP2 J2 J3 100 150\n"
                    "[COORDINATES]\nJ1 500000 6130000\nJ2 500100 6130000\n")
    twin = make_twin("EPSG:32632")
    result = twin.run("import", str(path), "--layer", "water_supply", "--crs", "EPSG:32632")
    assert "1 imported, 1 rejected" in result.stderr
    assert twin.sql("SELECT row_number, reason FROM twin.rejects") == [
        (7, "node J3 has no coordinates or elevation in the file")]
