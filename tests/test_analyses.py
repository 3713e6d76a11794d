"""The analyses: each on handmade features (written in a transaction of the blank twin, rolled back after
the test) with an answer known by hand, called in-process as the service calls them; then through the
service's app, in-process, on the demo Eco-city against facts of its generator and plain SQL; bad
parameters are 400s naming the parameter, never 500s."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import psycopg
import pytest
import shapely
from pyproj import Transformer
from support import ROOT, add_features, sql

from twin.analyses.burst import burst_isolation
from twin.analyses.clearance import CLEARANCES, clearances, pipe_clearance
from twin.analyses.coverage5g import coverage_5g
from twin.analyses.hydrants import hydrant_coverage
from twin.analyses.nearest import nearest_resources
from twin.analyses.results import Finding, Result
from twin.catalog import load_catalog
from twin.ecocity.networks import UTILITIES, make_pipes
from twin.ecocity.plan import make_plan
from twin.ecocity.planted import PLANTED
from twin.errors import ParameterError, SourceError
from twin.store.database import psycopg_of
from twin.time import EXISTED, changes, figures, year_end

pytestmark = pytest.mark.fast

X0, Y0 = 563_000.0, 4_333_000.0  # the handmade features' origin, in the Eco-city (EPSG:4548)
TO_WGS84 = Transformer.from_crs(4548, 4326, always_xy=True)


# -- the service's app, in-process ----------------------------------------------------------------------
def get(service, path: str, **query: object) -> tuple[int, dict]:
    response = service.get(path, params=query)
    return response.status_code, response.json()


def ok(service, path: str, **query: object) -> dict:
    status, body = get(service, path, **query)
    assert status == 200, body
    return body


# -- handmade features ----------------------------------------------------------------------------------
def at(x: float, y: float, z: float | None = None) -> list[float]:
    """A point of the handmade features: metres from their origin (EPSG:4548)."""
    return [X0 + x, Y0 + y] if z is None else [X0 + x, Y0 + y, z]


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)]]}


def line(*points: list[float]) -> dict:
    return {"type": "LineString", "coordinates": list(points)}


def point(coordinates: list[float]) -> dict:
    return {"type": "Point", "coordinates": coordinates}


def found(result: Result, key: str = "id", **where: object) -> dict[str, Finding]:
    """The result's findings matching ``where``, by a property."""
    return {f.properties[key]: f for f in result.findings
            if all(f.properties.get(name) == value for name, value in where.items())}


def wgs84_bbox(x0: float, y0: float, x1: float, y1: float) -> str:
    west, south, east, north = TO_WGS84.transform_bounds(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)
    return f"{west},{south},{east},{north}"


def test_hydrant_coverage_on_a_handmade_street(blank_twin) -> None:
    since = {"valid_from": "2009-01-01"}
    road = add_features(blank_twin, "roads", [
        (line(at(0, 0), at(400, 0)), {"id": "A", "width_m": 20.0, "valid_from": "2009-01-01"}),
        (line(at(0, 1000), at(150, 1000)), {"id": "B", "width_m": 10.0, "valid_from": "2018-01-01"})])
    add_features(blank_twin, "smart_hydrants", [  # at the kerb of road A, 9 m off its centre line
        *[(point(at(x, 9)), {"id": f"H{x}", **since}) for x in (0, 100, 200)],
        (point(at(300, 9)), {"id": "H300", "status": "out_of_service", **since}),
        (point(at(380, 9)), {"id": "H380", "valid_from": "2015-01-01"})])
    building = add_features(blank_twin, "buildings", [
        (box(90, 30, 110, 50), {"id": "P", **since}),  # 21 m from H100
        (box(95, 158, 105, 168), {"id": "S", **since}),  # 149 m from H100: covered
        (box(-5, 160, 5, 170), {"id": "U", **since}),  # 151 m from H0: not
        (box(495, 9, 505, 19), {"id": "T", **since}),  # 295 m from H200, 115 m from H380 once it stands
        (box(1000, 1000, 1010, 1010), {"id": "V", "valid_from": "2017-01-01"})])
    connection = psycopg_of(blank_twin)

    def answer(year: int, bbox: str | None = None, box: tuple | None = None) -> tuple[dict, dict]:
        result = hydrant_coverage(connection, year, bbox, box)
        uncovered = {f.properties["id"]: f.properties["nearest_hydrant_m"]
                     for f in result.of("finding", "uncovered_building")}
        gaps = {(f.properties["id"], f.properties["from_m"], f.properties["to_m"]) for f in result.of("finding", "hydrant_gap")}
        return uncovered, gaps

    assert answer(2012) == ({building["T"]: 295.0, building["U"]: 151.0}, {(road["A"], 200.0, 400.0)})
    # H380 stands from 2015; H300 is out of service, so the stretch from H200 to H380 stays a gap
    assert answer(2016) == ({building["U"]: 151.0}, {(road["A"], 200.0, 380.0)})
    # V's nearest hydrant is H380: hypot(620, 991) m away; road B, 150 m long, has none
    assert answer(2019) == ({building["U"]: 151.0, building["V"]: 1169.0},
                            {(road["A"], 200.0, 380.0), (road["B"], 0.0, 150.0)})
    assert answer(2019, bbox=wgs84_bbox(-50, 950, 200, 1050)) == ({}, {(road["B"], 0.0, 150.0)})
    assert answer(2019, box=(X0 - 50, Y0 + 950, X0 + 200, Y0 + 1050)) == ({}, {(road["B"], 0.0, 150.0)})
    result = hydrant_coverage(connection, 2019)
    gap = found(result)[road["B"]]
    assert gap.geometry.geom_type == "LineString"  # in the twin's CRS, as the road is
    assert shapely.get_coordinates(gap.geometry)[0] == pytest.approx([X0, Y0 + 1000])
    assert result.summary == {"uncovered_buildings": 2, "hydrant_gaps": 2, "gap_length_m": 330.0,
                              "seconds": result.summary["seconds"]}


def test_nearest_resources_along_handmade_roads(blank_twin) -> None:
    add_features(blank_twin, "roads", [  # an L of two roads, and one that meets neither
        (line(at(0, 0), at(1000, 0)), {"id": "R1"}), (line(at(1000, 0), at(1000, 1000)), {"id": "R2"}),
        (line(at(0, 2000), at(500, 2000)), {"id": "R3"})])
    police = add_features(blank_twin, "police_stations", [
        (point(at(1010, 900)), {"id": "P1"}), (point(at(400, 300)), {"id": "P2"}),
        (point(at(100, 1990)), {"id": "P3"})])
    fire = add_features(blank_twin, "fire_brigades", [(point(at(600, -5)), {"id": "F1"})])
    hospital = add_features(blank_twin, "hospitals", [
        (point(at(150, 5)), {"id": "H1", "status": "out_of_service"}),
        (point(at(500, 5)), {"id": "H2", "valid_from": "2030-01-01"}), (point(at(1005, 500)), {"id": "H3"})])
    connection = psycopg_of(blank_twin)
    result = nearest_resources(connection, x=X0 + 100, y=Y0 + 10, n=3, year=2020)
    resources = found(result, role="resource")
    # The point lies 10 m off R1; P2 300 m off it at 400 m; P1 10 m off R2, 900 m up it; P3 on R3 alone.
    ranked = [(p["layer"], p["id"], p["rank"], p["straight_m"], p["network_m"])
              for p in (f.properties for f in result.of("role", "resource"))]
    assert ranked == [
        ("police_stations", police["P2"], 1, round(math.hypot(300, 290), 1), 610.0),
        ("police_stations", police["P1"], 2, round(math.hypot(910, 890), 1), 1820.0),
        ("police_stations", police["P3"], 3, 1980.0, None),
        ("fire_brigades", fire["F1"], 1, round(math.hypot(500, 15), 1), 515.0),
        ("hospitals", hospital["H3"], 1, round(math.hypot(905, 490), 1), 1415.0)]
    assert result.summary["police_stations"] == 3 and result.summary["road_segments"] == 3
    routes = {f.properties["id"]: shapely.get_coordinates(f.geometry) for f in result.of("role", "route")}
    assert set(routes) == {police["P1"], police["P2"], fire["F1"], hospital["H3"]}
    way = [(X0 + x, Y0 + y) for x, y in ((100, 10), (100, 0), (1000, 0), (1000, 900), (1010, 900))]
    assert routes[police["P1"]].ravel().tolist() == pytest.approx([c for xy in way for c in xy])
    assert shapely.get_coordinates(resources[police["P2"]].geometry)[0] == pytest.approx([X0 + 400, Y0 + 300])
    origin = result.of("role", "origin")[0].geometry
    assert (origin.x, origin.y) == (X0 + 100, Y0 + 10)
    # the same point as WGS84 longitude/latitude, and fewer of each kind
    lon, lat = TO_WGS84.transform(X0 + 100, Y0 + 10)
    again = nearest_resources(connection, lon=lon, lat=lat, n=1, year=2020)
    assert [(f.properties["id"], f.properties["network_m"]) for f in again.of("role", "resource")] == [
        (police["P2"], 610.0), (fire["F1"], 515.0), (hospital["H3"], 1415.0)]
    # undated roads and resources always stand; H2, opening in 2030, is the nearest hospital from then
    later = found(nearest_resources(connection, x=X0 + 100, y=Y0 + 10, n=1, year=2031),
                  role="resource", layer="hospitals")
    assert list(later) == [hospital["H2"]] and later[hospital["H2"]].properties["network_m"] == 415.0


def test_the_clearance_table_says_what_each_value_was_checked_against(tmp_path) -> None:
    source, pairs = clearances()
    assert source.startswith("GB 50289-2016")
    for pair in pairs:
        for value, checked in ((pair.horizontal_m, pair.horizontal_source), (pair.vertical_m, pair.vertical_source)):
            if value is not None:  # a source of its own, or said to be unchecked or assumed
                assert checked.startswith(("S1", "S2", "S3", "unchecked", "assumed")), pair
        if "pneumatic_waste" in pair.utilities:
            assert {pair.horizontal_source, pair.vertical_source} <= {"assumed", None}
    text = CLEARANCES.read_text(encoding="utf-8")
    bare = tmp_path / "bare.toml"
    bare.write_text(text.replace('vertical_source = "S3 (the older 附表二: 热力管线 / 给水管线 0.15)"\n', ""),
                    encoding="utf-8")
    with pytest.raises(SourceError, match="water_supply/heat gives no vertical_source"):
        clearances(bare)


def test_pipe_clearance_on_handmade_pipes(blank_twin) -> None:
    water = add_features(blank_twin, "water_supply", [
        (line(at(0, 0, -1.0), at(100, 0, -1.0)), {"id": "W", "diameter_mm": 400.0})])
    gas = add_features(blank_twin, "gas", [  # G1's wall is 0.7 m from W's, G2's 0.4 m where 0.5 is needed
        (line(at(0, 1.0, -1.0), at(100, 1.0, -1.0)), {"id": "G1", "diameter_mm": 200.0}),
        (line(at(0, -0.7, -1.0), at(100, -0.7, -1.0)), {"id": "G2", "diameter_mm": 200.0,
                                                       "valid_from": "2015-01-01"}),
        (line(at(0, 0, -1.0), at(100, 0, -1.0)), {"id": "G3", "diameter_mm": 200.0, "status": "planned"})])
    # a 400 x 200 mm duct crossing 0.5 m above: 0.2 m clear of W, where 0.15 is needed
    add_features(blank_twin, "communications", [
        (line(at(50, -20, -0.5), at(50, 20, -0.5)), {"id": "C", "section_width_mm": 400.0,
                                                      "section_height_mm": 200.0})])
    power = add_features(blank_twin, "power", [  # crossing 0.35 m above: 0.075 m clear of W where 0.25 is needed
        (line(at(70, -20, -0.65), at(70, 20, -0.65)), {"id": "P", "diameter_mm": 150.0})])
    connection = psycopg_of(blank_twin)

    def pairs(year: int, bbox: str | None = None, box: tuple | None = None) -> list[tuple]:
        result = pipe_clearance(connection, year, bbox, box)
        return [(p["utility_a"], p["pipe_a"], p["utility_b"], p["pipe_b"], p["relation"],
                 p["wall_distance_m"], p["required_m"], p["shortfall_m"])
                for p in (f.properties for f in result.findings)]

    crossing = ("water_supply", water["W"], "power", power["P"], "crossing", 0.075, 0.25, 0.175)
    beside = ("water_supply", water["W"], "gas", gas["G2"], "parallel", 0.4, 0.5, 0.1)
    assert pairs(2020) == [crossing, beside]  # the worst shortfall first
    assert pairs(2012) == [crossing]  # G2 was laid in 2015
    assert pairs(2020, bbox=wgs84_bbox(0, -30, 30, 30)) == [beside]  # P lies beyond x = 30 m
    assert pairs(2020, box=(X0, Y0 - 30, X0 + 30, Y0 + 30)) == [beside]
    result = pipe_clearance(connection, 2020)
    place = shapely.get_coordinates(result.findings[0].geometry, include_z=True)[0]  # where they cross
    assert place == pytest.approx([X0 + 70, Y0, -0.825])
    assert result.summary["by_utilities"] == {"water_supply/power": 1, "water_supply/gas": 1}
    assert result.parameters["source"].startswith("GB 50289-2016")


def test_pipe_clearance_leaves_pipes_in_one_tunnel_to_gb50838(blank_twin) -> None:
    """A water main and a heat pipe 0.3 m apart wall to wall (0.5 m needed buried): in the same tunnel, or
    in two tunnels that meet, they are not checked; buried, or in two tunnels apart, they are."""
    add_features(blank_twin, "utility_tunnels", [
        (line(at(0, 0, -2.6), at(100, 0, -2.6)), {"id": "T1", "width_m": 5.0, "height_m": 3.5}),
        (line(at(100, 0, -2.6), at(200, 0, -2.6)), {"id": "T2", "name": "管廊二", "width_m": 5.0, "height_m": 3.5}),
        (line(at(500, 0, -2.6), at(600, 0, -2.6)), {"id": "T3", "width_m": 5.0, "height_m": 3.5})])

    def pair(x0: float, tunnels: tuple[str | None, str | None]) -> None:
        add_features(blank_twin, "water_supply", [
            (line(at(x0, -0.3, -5.2), at(x0 + 90, -0.3, -5.2)), {"id": f"W{x0}", "diameter_mm": 400.0,
                                                                  "tunnel": tunnels[0]})])
        add_features(blank_twin, "heat", [
            (line(at(x0 + 5, 0.3, -5.2), at(x0 + 95, 0.3, -5.2)), {"id": f"H{x0}", "diameter_mm": 200.0,
                                                                   "tunnel": tunnels[1]})])

    pair(0, ("T1", "T1"))  # one tunnel
    pair(1000, (None, None))  # buried
    pair(2000, ("T1", "管廊二"))  # T1 and T2 (by its name) meet end to end: one gallery
    pair(3000, ("T1", "T3"))  # apart
    pair(4000, ("T1", None))  # one in a tunnel, one buried beside it
    findings = pipe_clearance(psycopg_of(blank_twin), 2020).findings
    checked = sorted(round(shapely.get_coordinates(f.geometry)[0][0] - X0, -3) for f in findings)
    assert checked == [1000, 3000, 4000]
    assert all(f.properties["wall_distance_m"] == pytest.approx(0.3) for f in findings)


def test_pipe_clearance_groups_a_run_along_the_same_two_networks(blank_twin) -> None:
    """Two water pipes end to end with two gas pipes end to end 0.6 m beside them (0.4 m wall to wall
    where 0.5 is needed) are one place on the list; a gas pipe nearer still, elsewhere, is another, and
    comes first."""
    def pipe(x0: float, x1: float, y: float, name: str) -> tuple[dict, dict]:
        return line(at(x0, y, -1.0), at(x1, y, -1.0)), {"id": name, "diameter_mm": 200.0}

    water = add_features(blank_twin, "water_supply", [pipe(0, 100, 0, "W1"), pipe(100, 200, 0, "W2"),
                                                      pipe(500, 600, 0, "W3")])
    gas = add_features(blank_twin, "gas", [pipe(0, 100, 0.6, "G1"), pipe(100, 200, 0.6, "G2"),
                                           pipe(500, 600, 0.55, "G3")])
    result = pipe_clearance(psycopg_of(blank_twin), 2020)
    groups = [(p["group"], p["pipe_a"], p["pipe_b"], p["group_findings"], p["group_shortfall_m"])
              for p in (f.properties for f in result.findings)]
    assert groups[0] == (1, water["W3"], gas["G3"], 1, 0.15)
    run = {(a, b) for group, a, b, count, worst in groups[1:] if (group, count, worst) == (2, 4, 0.1)}
    assert run == {(water[w], gas[g]) for w in ("W1", "W2") for g in ("G1", "G2")}
    assert result.summary["pairs"] == 5 and result.summary["groups"] == 2
    assert result.summary["groups_by_utilities"] == {"water_supply/gas": 2}
    assert "_ends" not in result.findings[0].properties


def test_burst_isolation_on_a_handmade_network(blank_twin) -> None:
    r"""The water network, z = -1 m (V: valves; v3 normally closed, c a check valve; g a gas valve):

        D (100,100)          E (200,100)
        |                    |
        v3 (100,60)          |
        |                    |
    A --c-- B --g--------- v2 -- C --- F (abandoned)
    (0,0) v1(50,0.4) (100,0) (200,0) (300,0) (400,0)
    """
    z = -1.0
    pipes = add_features(blank_twin, "water_supply", [
        (line(at(0, 0, z), at(100, 0, z)), {"id": "A"}), (line(at(100, 0, z), at(200, 0, z)), {"id": "B"}),
        (line(at(200, 0, z), at(300, 0, z)), {"id": "C"}),
        (line(at(100, 0, z), at(100, 100, z)), {"id": "D"}),
        (line(at(200, 0, z), at(200, 100, z)), {"id": "E"}),
        (line(at(300, 0, z), at(400, 0, z)), {"id": "F", "status": "abandoned"})])
    valves = add_features(blank_twin, "valves", [
        (point(at(50, 0.4, z)), {"id": "v1", "utility": "water_supply", "valve_type": "gate"}),  # along A
        (point(at(200, 0, z)), {"id": "v2", "utility": "water_supply", "valve_type": "butterfly"}),
        (point(at(100, 60, z)), {"id": "v3", "utility": "water_supply", "valve_type": "gate",
                                 "normally_open": False}),
        (point(at(100, 0, z)), {"id": "c", "utility": "water_supply", "valve_type": "check"}),
        (point(at(150, 0, z)), {"id": "g", "utility": "gas", "valve_type": "ball"})])
    buildings = add_features(blank_twin, "buildings", [
        (box(20, 10, 30, 20), {"id": "near A", "floor_area_m2": 500.0}),
        (box(110, 20, 120, 30), {"id": "near D", "floor_area_m2": 700.0}),
        (box(250, 10, 260, 20), {"id": "near C", "floor_area_m2": 900.0}),
        (box(50, 400, 60, 410), {"id": "far", "floor_area_m2": 100.0})])  # 300 m from any pipe
    connection = psycopg_of(blank_twin)
    result = burst_isolation(connection, pipes["B"], 2020)
    roles = {(f.properties["layer"], f.properties["id"]): f.properties["role"] for f in result.findings}
    assert roles == {
        ("water_supply", pipes["B"]): "burst", ("water_supply", pipes["A"]): "isolated",
        ("water_supply", pipes["D"]): "isolated",
        ("valves", valves["v1"]): "close", ("valves", valves["v2"]): "close",
        ("valves", valves["v3"]): "closed",
        ("buildings", buildings["near A"]): "cut_off", ("buildings", buildings["near D"]): "cut_off"}
    assert {k: v for k, v in result.summary.items() if k != "seconds"} == {
        "valves_to_close": 2, "valves_closed_already": 1, "isolated_pipes": 3, "isolated_length_m": 300.0,
        "buildings_cut_off": 2, "floor_area_cut_off_m2": 1200.0}
    # A burst of C is stopped by v2 on one side; past C, F is abandoned and carries nothing
    roles = {f.properties["id"]: f.properties["role"] for f in burst_isolation(connection, pipes["C"], 2020).findings}
    assert roles == {pipes["C"]: "burst", valves["v2"]: "close", buildings["near C"]: "cut_off"}
    nothing = "00000000-0000-0000-0000-000000000000"
    abandoned = f"pipe: water_supply pipe {pipes['F']} carried no water in 2020 (status abandoned)"
    unknown = f"pipe: no water_supply pipe has the feature id or source id '{nothing}'"
    for pipe, message in ((pipes["F"], abandoned), (nothing, unknown)):
        with pytest.raises(ParameterError) as refused:
            burst_isolation(connection, pipe, 2020)
        assert str(refused.value) == message
    # the source id the viewer shows names the pipe as well; one two sources share names none
    by_source_id = burst_isolation(connection, "B", 2020)
    assert by_source_id.findings == result.findings
    assert (by_source_id.parameters["pipe"], by_source_id.parameters["source_id"]) == (pipes["B"], "B")
    surveyed = add_features(blank_twin, "water_supply", [(line(at(0, 50, z), at(100, 50, z)), {"id": "B"})],
                            source="survey")
    with pytest.raises(ParameterError) as refused:
        burst_isolation(connection, "B", 2020)
    assert str(refused.value) == (f"pipe: 'B' is the source id of pipes of 2 sources (handmade: {pipes['B']}; "
                                  f"survey: {surveyed['B']}); give the feature id of the one meant")


def test_5g_coverage_per_handmade_grid_and_year(blank_twin) -> None:
    add_features(blank_twin, "management_grids", [
        (box(0, 0, 400, 400), {"id": "A", "code": "ECO-A", "level": "cell"}),
        (box(400, 0, 800, 400), {"id": "B", "code": "ECO-B", "level": "cell"}),
        (box(0, 0, 800, 400), {"id": "D", "code": "DISTRICT", "level": "district"})])
    add_features(blank_twin, "base_stations_5g", [
        (point(at(100, 100)), {"id": "S1", "radio": "NR", "range_m": 150.0, "valid_from": "2019-01-01"}),
        (point(at(600, 100)), {"id": "S2", "radio": "LTE", "range_m": 5000.0}),  # not 5G
        (point(at(700, 300)), {"id": "S3", "radio": "NR", "valid_from": "2020-01-01"})])  # no range: 300 m
    add_features(blank_twin, "buildings", [
        (box(150, 100, 170, 120), {"id": "B1", "floor_area_m2": 1000.0}),  # 50 m from S1
        (box(350, 350, 370, 370), {"id": "B2", "floor_area_m2": 3000.0}),  # 354 m from S1, 331 m from S3
        (box(500, 100, 520, 120), {"id": "B3", "floors": 2}),  # 2 x 400 m2, 255 m from S3
        (box(600, 100, 610, 110), {"id": "B4", "floor_area_m2": 50.0, "valid_from": "2021-01-01"})])
    connection = psycopg_of(blank_twin)
    result = coverage_5g(connection, "2018/2020")
    figures_ = {(p["code"], p["year"]): (p["buildings"], p["buildings_covered"], p["building_share"],
                                         p["floor_area_m2"], p["floor_area_covered_m2"],
                                         p["floor_area_share"])
                for p in (f.properties for f in result.findings)}
    assert figures_ == {
        ("ECO-A", 2018): (2, 0, 0.0, 4000.0, 0.0, 0.0), ("ECO-B", 2018): (1, 0, 0.0, 800.0, 0.0, 0.0),
        ("ECO-A", 2019): (2, 1, 0.5, 4000.0, 1000.0, 0.25), ("ECO-B", 2019): (1, 0, 0.0, 800.0, 0.0, 0.0),
        ("ECO-A", 2020): (2, 1, 0.5, 4000.0, 1000.0, 0.25),
        ("ECO-B", 2020): (1, 1, 1.0, 800.0, 800.0, 1.0)}
    assert result.summary["years"]["2020"] == {
        "buildings": 3, "buildings_covered": 2, "building_share": 0.6667, "floor_area_m2": 4800.0,
        "floor_area_covered_m2": 1800.0, "floor_area_share": 0.375}
    district = coverage_5g(connection, "2021", "district").findings
    assert [(f.properties["code"], f.properties["buildings"], f.properties["buildings_covered"])
            for f in district] == [("DISTRICT", 4, 3)]  # B4 stands from 2021, within S3's 300 m
    assert district[0].geometry.geom_type == "MultiPolygon"


# -- the demo Eco-city ----------------------------------------------------------------------------------
CENTRE = "117.73,39.13,117.76,39.155"  # a WGS84 box in the middle of the demo city
FAULTS_OF_2008 = {"R-h000-015", "R-h002-012"}  # the roads of the planted faults already in the ground in 2008


def standing(year: int, alias: str = "") -> str:
    """twin.time's rule in SQL, on a table alias."""
    day = f"'{year_end(year).isoformat()}'::date"
    return EXISTED.format(start=day, end=day).replace("valid_", f"{alias}.valid_" if alias else "valid_")


@pytest.mark.parametrize("year", [2012, 2020])
def test_demo_hydrants_stand_along_every_road(service, demo_database: str, year: int) -> None:
    body = ok(service, "/analyses/hydrant-coverage", year=year)
    # the generator puts a hydrant every 100 m along each road, from the year the road is built
    assert body["summary"]["hydrant_gaps"] == 0
    uncovered = sql(demo_database, f"SELECT count(*) FROM layers.buildings b WHERE {standing(year, 'b')} "
                                   f"AND NOT EXISTS (SELECT FROM layers.smart_hydrants h WHERE "
                                   f"{standing(year, 'h')} AND ST_DWithin(h.geom, b.geom, 150))")[0][0]
    assert body["summary"]["uncovered_buildings"] == uncovered


def test_demo_nearest_resources(service, demo_database: str) -> None:
    body = ok(service, "/analyses/nearest-resources", lon=117.75, lat=39.14, n=2, year=2020)
    origin = body["features"][0]
    assert origin["properties"]["role"] == "origin"
    assert origin["geometry"]["coordinates"] == pytest.approx([117.75, 39.14], abs=1e-7)
    for layer in ("police_stations", "fire_brigades", "hospitals"):
        resources = [f["properties"] for f in body["features"]
                     if f["properties"]["role"] == "resource" and f["properties"]["layer"] == layer]
        in_service = sql(demo_database, f"SELECT count(*) FROM layers.{layer} WHERE {standing(2020)}")[0][0]
        assert [r["rank"] for r in resources] == list(range(1, min(2, in_service) + 1))
        assert all(r["network_m"] >= r["straight_m"] - 0.1 for r in resources)  # none shorter than straight
        assert [r["network_m"] for r in resources] == sorted(r["network_m"] for r in resources)
    routes = [f for f in body["features"] if f["properties"]["role"] == "route"]
    assert routes
    assert all(r["geometry"]["coordinates"][0] == pytest.approx([117.75, 39.14], abs=1e-7) for r in routes)


def test_demo_pipe_clearance_finds_only_the_planted_faults(service, demo_database: str) -> None:
    """The demo city's networks keep GB 50289's clearances everywhere but at the faults planted on
    purpose (twin.ecocity.planted, listed in the README): each is one place on the list, the pair of
    utilities it names, at its place; in 2008 only the two laid by then."""
    names = dict(sql(demo_database, " UNION ALL ".join(
        f"SELECT id::text, source_id FROM layers.{u}" for u in UTILITIES)))
    roads = {pipe.id: pipe.road for pipe in make_pipes(make_plan(np.random.default_rng(0), 1.0))}
    for year in (2008, 2020):
        body = ok(service, "/analyses/pipe-clearance", year=year, limit=10_000)
        features = body["features"]
        assert body["summary"]["pairs"] == body["numberMatched"] == len(features)
        places: dict[int, list[tuple[set, set]]] = {}
        for f in features:
            p = f["properties"]
            pipes = {roads[names[p["pipe_a"]]], roads[names[p["pipe_b"]]]}
            places.setdefault(p["group"], []).append(({p["utility_a"], p["utility_b"]}, pipes))
        planted = [f for f in PLANTED if year == 2020 or f.road in FAULTS_OF_2008]
        assert body["summary"]["groups"] == len(places) == len(planted), year
        for fault in planted:  # each fault is one group: its two utilities, a pipe of the road it was laid under
            assert sum(all(pair == {fault.utility, fault.other} and fault.road in pipes for pair, pipes in found)
                       for found in places.values()) == 1, fault
        groups = [f["properties"]["group"] for f in features]
        worst = [f["properties"]["group_shortfall_m"] for f in features]
        assert groups == sorted(groups) and worst == sorted(worst, reverse=True)
        assert worst[0] == max(f["properties"]["shortfall_m"] for f in features)
    for f in features:  # the walls' distance, recomputed
        p = f["properties"]
        assert p["utility_a"] != p["utility_b"] and p["shortfall_m"] > 0 and p["checked"]
        assert p["shortfall_m"] == pytest.approx(p["required_m"] - p["wall_distance_m"], abs=1e-3)
        radius = ("coalesce({0}.diameter_mm, CASE WHEN ST_Intersects(ST_Force2D(a.geom), ST_Force2D(b.geom)) "
                  "THEN {0}.section_height_mm ELSE {0}.section_width_mm END) / 2000.0")
        wall = sql(demo_database, f"SELECT ST_3DDistance(a.geom, b.geom) - {radius.format('a')} - "
                                  f"{radius.format('b')} "
                                  f"FROM layers.{p['utility_a']} a, layers.{p['utility_b']} b "
                                  "WHERE a.id = %s AND b.id = %s", p["pipe_a"], p["pipe_b"])[0][0]
        assert wall == pytest.approx(p["wall_distance_m"], abs=1e-3)
    around = ok(service, "/analyses/pipe-clearance", year=2020, bbox=CENTRE)["features"]
    whole = {(f["properties"]["pipe_a"], f["properties"]["pipe_b"]) for f in features}
    assert {(f["properties"]["pipe_a"], f["properties"]["pipe_b"]) for f in around} < whole


def test_demo_findings_come_a_page_at_a_time(service, demo_database: str) -> None:
    """Findings come 1,000 a page unless asked, counted whole, the next page linked."""
    started = sql(demo_database, "SELECT now()")[0][0]
    whole = ok(service, "/analyses/pipe-clearance", year=2020)
    matched = whole["summary"]["pairs"]
    assert matched > 10 and whole["numberMatched"] == whole["numberReturned"] == matched
    assert [link["rel"] for link in whole["links"]] == ["self"]
    page = ok(service, "/analyses/pipe-clearance", year=2020, limit=4, offset=4)
    assert page["features"] == whole["features"][4:8] and page["numberReturned"] == 4
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert service.get(following).json()["features"] == whole["features"][8:12]
    last = ok(service, "/analyses/pipe-clearance", year=2020, limit=10, offset=matched - 3)
    assert last["numberReturned"] == 3 and [link["rel"] for link in last["links"]] == ["self"]
    hydrants = ok(service, "/analyses/hydrant-coverage", year=2020, limit=1)
    assert hydrants["numberMatched"] == len(ok(service, "/analyses/hydrant-coverage", year=2020)["features"])
    # every page came from one computation, which the cache keeps with all its findings (results of other
    # code, kept in the demo's database by earlier runs, are under other keys: those used now count)
    kept = sql(demo_database, "SELECT found, made_at < used_at FROM twin.results WHERE analysis = 'pipe-clearance' "
                              "AND parameters @> '{\"year\": 2020, \"bbox\": null, \"box\": null}' "
                              "AND used_at >= %s", started)
    assert kept == [(matched, True)]


def test_demo_burst_isolation(service, demo_database: str) -> None:
    pipe = sql(demo_database, "SELECT id::text FROM layers.water_supply ORDER BY source_id "
                              "OFFSET 500 LIMIT 1")[0][0]
    body = ok(service, "/analyses/burst-isolation", pipe=pipe, year=2020)
    pipes = [f["properties"]["id"] for f in body["features"] if f["properties"]["layer"] == "water_supply"]
    valves = [f["properties"]["id"] for f in body["features"] if f["properties"]["layer"] == "valves"]
    assert pipe in pipes and valves
    # every valve is one of the water network's, on an isolated pipe
    assert sql(demo_database, "SELECT DISTINCT utility FROM layers.valves WHERE id = ANY(%s::uuid[])",
               valves) == [("water_supply",)]
    assert sql(demo_database, "SELECT count(*) FROM layers.valves v WHERE v.id = ANY(%s::uuid[]) AND EXISTS "
                              "(SELECT FROM layers.water_supply p WHERE p.id = ANY(%s::uuid[]) "
                              "AND ST_DWithin(v.geom, p.geom, 1))", valves, pipes) == [(len(valves),)]
    # each building cut off has an isolated pipe as its nearest
    for f in body["features"]:
        if f["properties"]["role"] == "cut_off":
            nearest = sql(demo_database, "SELECT p.id::text FROM layers.water_supply p, layers.buildings b "
                                         "WHERE b.id = %s ORDER BY ST_Distance(p.geom, b.geom) LIMIT 1",
                          f["properties"]["id"])[0][0]
            assert nearest in pipes
    cut_off = [f for f in body["features"] if f["properties"]["role"] == "cut_off"]
    assert body["summary"]["buildings_cut_off"] == len(cut_off)


def test_demo_5g_coverage_counts_every_building(service, demo_database: str) -> None:
    body = ok(service, "/analyses/coverage-5g", year="2018/2020")
    with psycopg.connect(demo_database) as connection:
        by_year = figures(connection, load_catalog(ROOT / "layers"), 2018, 2020)
    years = body["summary"]["years"]
    for year in (2018, 2019, 2020):  # the eco-cells tile the city, so each building is in one
        assert years[str(year)]["buildings"] == by_year[year]["buildings"].count
        assert years[str(year)]["floor_area_m2"] == pytest.approx(by_year[year]["buildings"].floor_area_m2,
                                                                  abs=1)
    assert years["2018"]["buildings_covered"] == 0  # the first NR stations came in 2019
    assert 0 < years["2019"]["building_share"] <= years["2020"]["building_share"] <= 1
    assert len(body["features"]) == 3 * sql(demo_database, "SELECT count(*) FROM layers.management_grids "
                                                           "WHERE level = 'cell'")[0][0]


def test_demo_changes_are_twin_time_changes(service, demo_database: str) -> None:
    body = ok(service, "/analyses/changes", **{"from": 2015, "to": 2020})
    catalog = load_catalog(ROOT / "layers")
    with psycopg.connect(demo_database) as connection:
        expected = [{**asdict(change), "title": catalog[change.layer].title}
                    for change in changes(connection, catalog, 2015, 2020)]
    assert body["layers"] == expected
    built = sql(demo_database, f"SELECT count(*) FROM layers.buildings WHERE {standing(2020)} "
                               f"AND NOT ({standing(2015)})")
    assert next(layer for layer in body["layers"] if layer["layer"] == "buildings")["appeared"] == built[0][0]


def test_openapi_describes_the_analyses(service) -> None:
    document = ok(service, "/api")
    listed = ok(service, "/analyses")["analyses"]
    names = {"hydrant-coverage", "nearest-resources", "pipe-clearance", "burst-isolation", "coverage-5g",
             "changes"}
    assert {entry["id"] for entry in listed} == names
    for name in names:
        operation = document["paths"][f"/analyses/{name}"]["get"]
        assert operation["summary"] and operation["description"]
        assert operation["parameters"] and all(p["description"] and p["schema"].get("examples")
                                               for p in operation["parameters"])
        assert "example" in next(iter(operation["responses"]["200"]["content"].values()))
    answers = document["paths"]["/analyses/pipe-clearance"]["get"]["responses"]["200"]
    assert "application/geo+json" in answers["content"]


@pytest.mark.parametrize(("path", "query", "detail"), [
    ("hydrant-coverage", {"year": "abc"}, "year: 'abc' is not a whole number"),
    ("hydrant-coverage", {"year": 0}, "year: 0 is not a year from 1 to 9999"),
    ("hydrant-coverage", {"bbox": "117.7,39.1,117.8"}, "bbox: '117.7,39.1,117.8' must be 4 (or 6) finite"),
    ("pipe-clearance", {"bbox": "117.8,39.1,117.7,39.2"}, "bbox: '117.8,39.1,117.7,39.2' has its minimum"),
    ("pipe-clearance", {"bbox": "a,b,c,d"}, "bbox: 'a,b,c,d' is not comma-separated numbers"),
    ("pipe-clearance", {"limit": 0}, "limit: 0 is not 1 or more"),
    ("pipe-clearance", {"limit": 10_001}, "limit: 10001 is not 10000 or less"),
    ("hydrant-coverage", {"offset": -1}, "offset: -1 is not 0 or more"),
    ("nearest-resources", {}, "lon: give a point as lon and lat"),
    ("nearest-resources", {"lon": 117.75, "lat": 39.14, "x": 1, "y": 2}, "lon: give a point as lon and lat"),
    ("nearest-resources", {"lon": 117.75}, "lat: missing; lon/lat go together"),
    ("nearest-resources", {"lon": 200, "lat": 39}, "lon: 200.0,39.0 is not a WGS84 longitude,latitude"),
    ("nearest-resources", {"x": "inf", "y": 2}, "x: inf is not a finite number"),
    ("nearest-resources", {"x": 1e300, "y": 2}, "x: 1e+300,2.0 lies beyond any projected CRS"),
    ("nearest-resources", {"lon": 117.75, "lat": 39.14, "n": 0}, "n: 0 is not from 1 to 20"),
    ("burst-isolation", {}, "pipe: missing; this parameter is required"),
    ("burst-isolation", {"pipe": "42"}, "pipe: no water_supply pipe has the feature id or source id '42'"),
    ("coverage-5g", {"year": "2020/2018"}, "year: the interval '2020/2018' starts after it ends"),
    ("coverage-5g", {"year": "1500/1900"}, "year: '1500/1900' spans more than 200 years"),
    ("coverage-5g", {"year": "soon"}, "year: 'soon' is not a year"),
    ("coverage-5g", {"level": "street"}, "level: 'street' is not a management grid level"),
    ("changes", {"from": 2020}, "to: missing; this parameter is required"),
    ("changes", {"from": 2020, "to": 2015}, "from: 2020 is after to (2015)"),
])
def test_bad_parameters_are_400s_naming_them(service, path: str, query: dict, detail: str) -> None:
    status, body = get(service, f"/analyses/{path}", **query)
    assert status == 400 and body["detail"].startswith(detail), body
