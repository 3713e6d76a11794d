"""The synthetic Eco-city: the minima, the rules a pipeline manager would check, determinism, files that
open with standard readers, and the demo twin built from them."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from clearances import too_close
from support import TEST_HOME, run_twin, sql

from importers.inp_sections import read_sections
from twin.ecocity import generate
from twin.ecocity.assets import points
from twin.ecocity.buildings import make_buildings
from twin.ecocity.drainage import Catchments
from twin.ecocity.networks import DRAINAGE, UTILITIES, make_fittings, make_pipes, make_tunnels
from twin.ecocity.plan import make_plan
from twin.ecocity.planted import PLANTED, place
from twin.ecocity.utilities import IN_TUNNEL, IN_TUNNEL_LAYOUT, TUNNEL, is_tunnel, size_m, tunnel_id

# CJJ 61 cover depths (ECOCITY.md): top of pipe for pressure pipes and ducts, invert for drainage.
CJJ_DEPTHS = {"communications": (0.7, 1.0), "gas": (0.9, 1.5), "water_supply": (1.0, 1.8),
              "heat": (1.0, 2.0), "rainwater": (1.5, 5.0), "sewage": (1.5, 5.0)}


@pytest.fixture(scope="module")
def city():
    rng = np.random.default_rng(0)
    plan = make_plan(rng, 1.0)
    buildings = make_buildings(plan, rng)
    pipes = make_pipes(plan)
    return plan, buildings, pipes, points(plan, buildings, rng)


@pytest.fixture(scope="module")
def files(demo_database: str) -> Path:
    """The files the demo twin was built from: the generator's at scale 1, seed 0 (`twin demo`'s)."""
    folder = TEST_HOME / "ecocity"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["scale"], manifest["seed"]) == (1.0, 0)
    return folder


@pytest.mark.fast
def test_minima_at_scale_one(city) -> None:
    plan, buildings, pipes, facilities = city
    assert len(buildings) >= 15_000
    assert {pipe.utility for pipe in pipes} == set(UTILITIES)
    valves, manholes = make_fittings(pipes)
    assert valves and manholes
    minima = {"base_stations_5g": 200, "smart_elevators": 300, "smart_hydrants": 200, "cameras": 4000,
              "police_stations": 1, "fire_brigades": 1, "hospitals": 1, "traffic_signals": 1, "bus_stations": 1,
              "smart_lamp_poles": 1}
    for layer, least in minima.items():
        assert len(facilities[layer]) >= least, layer
    assert len({sensor["sensor_type"] for sensor in facilities["iot_sensors"]}) == 19
    assert all(station["year"] >= 2019 for station in facilities["base_stations_5g"])
    uses = Counter(b.use for b in buildings)
    assert {"residential", "villa", "office", "school", "commercial"} <= set(uses)
    assert max(b.floors for b in buildings) >= 30 and min(b.floors for b in buildings) <= 3
    # About 30 km2 at 39.10-39.20 N, 117.70-117.80 E; built from 2008 in the south to 2020 in the north.
    x0, y0, x1, y1 = plan.bounds
    assert 28e6 < (x1 - x0) * (y1 - y0) < 34e6
    years = plan.cell_years[plan.cell_years > 0]
    assert years.min() == 2008 and years.max() <= 2020
    south, north = plan.cell_years[:3], plan.cell_years[-3:]
    assert south[south > 0].mean() < north[north > 0].mean() - 4


@pytest.mark.fast
def test_hydrants_at_most_120_m_apart_along_roads_in_2020(city) -> None:
    plan, _, _, facilities = city
    hydrants = shapely.points([(h["geometry"].x, h["geometry"].y) for h in facilities["smart_hydrants"]
                               if h["year"] <= 2020])
    tree = shapely.STRtree(hydrants)
    for road in plan.roads:
        near = hydrants[tree.query(road.line.buffer(road.width / 2 + 1))]
        positions = np.sort(shapely.line_locate_point(road.line, near))
        gaps = np.diff(np.concatenate([[0.0], positions, [road.line.length]]))
        # Hydrants at a road's ends stand on the crossing road too; within the road none are further apart.
        assert gaps.max() <= 120.0, road.id


@pytest.mark.fast
def test_depths_follow_cjj61_and_drainage_falls(city) -> None:
    """Along the roads each pipe lies in its CJJ 61 band; where it passes under a crossing road's pipes it
    dips deeper (never below the drainage), within 30 m of the junction."""
    plan, _, pipes, _ = city
    nodes = shapely.points([plan.node_xy(node) for road in plan.roads for node in (road.start, road.end)])
    for pipe in pipes:
        if pipe.utility in CJJ_DEPTHS and not pipe.dip and pipe.tunnel is None:  # in a tunnel: its own places
            low, high = CJJ_DEPTHS[pipe.utility]
            assert low <= pipe.start_depth <= high and low <= pipe.end_depth <= high, pipe.id
        if pipe.dip:
            top = UTILITIES[pipe.utility]["top"]
            assert top <= min(pipe.start_depth, pipe.end_depth) and max(pipe.start_depth, pipe.end_depth) < 3.0
            assert shapely.distance(nodes, pipe.line).min() < 30.0, pipe.id
        if pipe.utility in DRAINAGE:
            assert pipe.end_depth > pipe.start_depth, f"{pipe.id} must fall towards the outfall"
    assert {pipe.utility for pipe in pipes if pipe.dip} >= {"water_supply", "gas", "heat", "communications", "power"}


@pytest.mark.fast
def test_utilities_follow_the_roads_that_would_carry_them(city) -> None:
    """Not every road carries every utility, so their lengths differ as a city's do: drainage, water and
    communications under every road, gas and power under most, heat under the main roads, reclaimed water
    and pneumatic waste collection on a few."""
    plan, _, pipes, _ = city
    km = {u: sum(p.line.length for p in pipes if p.utility == u) / 1000 for u in UTILITIES}
    roads = sum(road.line.length for road in plan.roads) / 1000
    assert km["rainwater"] > km["water_supply"] > km["gas"] > km["heat"] > km["reclaimed_water"] > 0
    assert km["water_supply"] > km["power"] > km["heat"] > km["pneumatic_waste"] > 0
    assert km["heat"] < 0.7 * roads and km["reclaimed_water"] < 0.1 * roads and km["pneumatic_waste"] < 0.1 * roads
    tunnel_roads = {road.id for road in plan.roads if is_tunnel(road)}
    assert tunnel_roads and all(p.tunnel is not None for p in pipes if p.road in tunnel_roads and p.utility in IN_TUNNEL)
    assert {p.utility for p in pipes if p.road in tunnel_roads and p.tunnel is None} == {"gas", "rainwater", "sewage"}


@pytest.mark.fast
def test_the_tunnels_carry_their_mains_inside_them(city) -> None:
    """Under each tunnel road its tunnel carries the water, reclaimed water, heat, power and communications
    mains, named by the tunnel's id: each along the tunnel's axis from end to end, inside its walls and
    slabs, in its compartment (heat never beside the power cables, GB 50838-2015 4.3); nothing else is in a
    tunnel."""
    plan, _, pipes, _ = city
    tunnels = {tunnel: line for tunnel, line, _ in make_tunnels(plan)}
    roads = {road.id: road for road in plan.roads}
    inside = [p for p in pipes if p.tunnel is not None]
    assert {p.tunnel for p in inside} == set(tunnels)
    assert {(p.tunnel, p.utility) for p in inside} == {(t, u) for t in tunnels for u in IN_TUNNEL}
    wall, slab = TUNNEL["width_m"] / 2 - 0.3, 0.3
    for pipe in inside:
        road = roads[pipe.road]
        assert is_tunnel(road) and pipe.tunnel == tunnel_id(road)
        axis = tunnels[pipe.tunnel]
        assert pipe.line.hausdorff_distance(axis) == pytest.approx(abs(IN_TUNNEL_LAYOUT[pipe.utility][1])), pipe.id
        width, height = size_m(pipe.utility, road.road_class)
        assert abs(IN_TUNNEL_LAYOUT[pipe.utility][1]) + width / 2 <= wall, pipe.id
        assert pipe.start_depth == pipe.end_depth >= TUNNEL["top_depth_m"] + slab, pipe.id
        assert pipe.start_depth + height <= TUNNEL["top_depth_m"] + TUNNEL["height_m"] - slab, pipe.id
    compartment = {u: place[0] for u, place in IN_TUNNEL_LAYOUT.items()}
    assert compartment["heat"] != compartment["power"] and set(compartment.values()) <= set(range(1, TUNNEL["compartments"] + 1))


@pytest.mark.fast
def test_no_pipe_older_than_its_road_and_no_elevator_older_than_its_building(city) -> None:
    plan, buildings, pipes, facilities = city
    roads = {road.id: road.build_year for road in plan.roads}
    for pipe in pipes:
        assert pipe.install_year >= roads[pipe.road], pipe.id
    built = {b.id: b.build_year for b in buildings}
    for elevator in facilities["smart_elevators"]:
        assert elevator["year"] >= built[elevator["building_id"]]
        assert elevator["floors_served"] >= 7


@pytest.mark.fast
def test_each_network_is_connected(city) -> None:
    """Each pressure network and cable network is one, counting the tunnels that carry it; drainage is one
    network per catchment (the tunnels divide them: nothing passes under a tunnel), each to its outfall."""
    plan, _, pipes, _ = city
    tunnels = [line for _, line, _ in make_tunnels(plan)]
    catchments = Catchments(plan)
    for utility in UTILITIES:
        parent: dict[tuple, tuple] = {}

        def find(node: tuple) -> tuple:
            while parent.setdefault(node, node) != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for pipe in (p for p in pipes if p.utility == utility):
            a, b = (tuple(np.round(pipe.line.coords[i], 2)) for i in (0, -1))
            parent[find(a)] = find(b)
            if pipe.tunnel is not None or (utility in IN_TUNNEL and any(shapely.intersects(pipe.line, tunnel)
                                                                         for tunnel in tunnels)):
                parent[find(a)] = find(("tunnel",))  # the tunnels meet each other at grid line 8's crossing
        ends = [node for node in list(parent) if node != ("tunnel",)]
        expected = len(catchments.all) if utility in DRAINAGE else 1
        assert len({find(node) for node in ends}) == expected, utility


@pytest.mark.fast
def test_pipes_keep_their_clearances_but_for_the_planted_faults(city) -> None:
    """GB 50289's clearances hold between every two networks, beside each other and where they cross,
    but at the faults planted on purpose: each of those, and nothing else, comes too close."""
    plan, _, pipes, _ = city
    tunnels = {tunnel: line for tunnel, line, _ in make_tunnels(plan)}
    for year in (2020, 2008):
        standing = [p for p in pipes if p.install_year <= year]
        places = {(frozenset((a.utility, b.utility)), next(
            (i for i, f in enumerate(PLANTED) if {f.utility, f.other} == {a.utility, b.utility}
             and np.hypot(*np.subtract(place(f, plan), a.line.interpolate(0.5, normalized=True).coords[0])) < 120),
            None)) for a, b, _, _ in too_close(standing, tunnels)}
        planted = {(frozenset((f.utility, f.other)), i) for i, f in enumerate(PLANTED)
                   if min(r.build_year for r in plan.roads if r.id == f.road) <= year}
        assert places == planted, year
        assert (year == 2008) == (len(planted) == 2)


@pytest.mark.fast
def test_the_demo_twin_knows_which_tunnel_each_main_runs_in(demo_database: str) -> None:
    """Imported through twin import from the survey field 所在管廊: each tunnel main names a tunnel the
    tunnels layer holds, and lies inside its footprint."""
    for utility in IN_TUNNEL:
        counts = sql(demo_database, f"SELECT count(*), count(p.tunnel), count(t.id), "
                                    f"count(*) FILTER (WHERE ST_Within(ST_Force2D(p.geom), ST_Buffer(t.geom, t.width_m / 2))) "
                                    f"FROM layers.{utility} p LEFT JOIN layers.utility_tunnels t ON t.source_id = p.tunnel "
                                    f"WHERE p.tunnel IS NOT NULL")[0]
        tunnels = sql(demo_database, "SELECT count(*) FROM layers.utility_tunnels")[0][0]
        assert counts == (tunnels, tunnels, tunnels, tunnels), utility


@pytest.mark.fast
def test_same_seed_same_files_and_another_seed_another_city(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((first, 3), (second, 3), (other, 4)):
        generate(folder, 0.1, seed, progress=False)
    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "buildings.gpkg").read_bytes() != (other / "buildings.gpkg").read_bytes()


def test_files_of_another_generator_are_made_again(tmp_path: Path) -> None:
    """`twin demo` keeps the files it made, unless the generator's code changed since."""
    from twin.demo import ensure_generated
    from twin.ecocity import MANIFEST, version

    made = ensure_generated(tmp_path, 0.1, 3)
    assert made["generator"] == version()
    stamp = (tmp_path / "roads.gpkg").stat().st_mtime_ns
    kept = ensure_generated(tmp_path, 0.1, 3)
    assert kept["imports"] == made["imports"] and (tmp_path / "roads.gpkg").stat().st_mtime_ns == stamp
    older = {**made, "generator": "an older one"}
    (tmp_path / MANIFEST).write_text(json.dumps(older), encoding="utf-8")
    again = ensure_generated(tmp_path, 0.1, 3)
    assert again["generator"] == version() and (tmp_path / "roads.gpkg").stat().st_mtime_ns > stamp


@pytest.mark.fast
def test_every_file_opens_with_a_standard_reader(files: Path) -> None:
    manifest = json.loads((files / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["imports"]:
        path = files / entry["file"]
        if path.suffix in (".gpkg", ".geojson"):
            assert len(pyogrio.read_dataframe(path)) > 0, path
        elif path.suffix == ".tif":
            with rasterio.open(path) as dataset:
                data = dataset.read(1)
                assert dataset.crs.to_epsg() == 4548
                if entry["layer"] == "terrain":
                    assert 0 <= data.min() and data.max() <= 4.0
                else:
                    assert set(np.unique(data)) <= {1, 2, 3, 4, 5, 6}
    with (files / "base_stations_5g.csv").open() as handle:
        cells = list(csv.reader(handle))
    assert len(cells) >= 200 and all(row[0] == "NR" and row[1] == "460" for row in cells)
    city = json.loads((files / "buildings.city.json").read_text(encoding="utf-8"))
    assert city["type"] == "CityJSON" and len(city["CityObjects"]) >= 15_000
    assert all(o["attributes"]["yearOfConstruction"] for o in list(city["CityObjects"].values())[:100])
    network = read_sections(files / "water_supply.inp")
    assert len(network["PIPES"]) > 1000 and len(network["JUNCTIONS"]) > 500
    covers = [files / f"land_cover_{year}.tif" for year in range(2008, 2021)]
    with rasterio.open(covers[0]) as start, rasterio.open(covers[-1]) as end:
        assert (start.read(1) == 6).mean() < (end.read(1) == 6).mean()  # the city grows


def test_demo_builds_the_twin_and_meets_the_minima(database_url: str) -> None:
    import psycopg

    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS demo_twin WITH (FORCE)")
        conn.execute("CREATE DATABASE demo_twin")
    url = database_url.rsplit("/", 1)[0] + "/demo_twin"
    first = run_twin("demo", "--no-serve", TWIN_DATABASE_URL=url)
    assert "synthetic" in first.stderr
    again = run_twin("demo", "--no-serve", TWIN_DATABASE_URL=url)
    assert "the twin already holds the Eco-city" in again.stderr and "already generated" in again.stderr
    counts = {row["id"]: row["count"] for row in json.loads(run_twin("layers", "--json", TWIN_DATABASE_URL=url).stdout)}
    minima = {"buildings": 15_000, "base_stations_5g": 200, "smart_elevators": 300, "smart_hydrants": 200,
              "cameras": 4_000, "police_stations": 1, "fire_brigades": 1, "hospitals": 1, "terrain": 1,
              "land_cover": 13, "utility_tunnels": 1, "valves": 1, "manholes": 1, "traffic_signals": 1,
              "bus_stations": 1, "iot_sensors": 19, "smart_lamp_poles": 1, "management_grids": 1, "parks": 1,
              "water_bodies": 1, "roads": 1}
    for utility in UTILITIES:
        minima[utility] = 1
    for layer, least in minima.items():
        assert counts[layer] >= least, layer
    rejects = run_twin("db", "status", "--json", TWIN_DATABASE_URL=url)
    assert rejects.returncode == 0
    import psycopg as pg

    with pg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM twin.rejects").fetchone() == (0,)
        # Pipes lie below ground at their depth: water's top 1.55 m down, under ground of 1-4 m; in the
        # tunnels 5 m down, on supports above the floor.
        for tunnel, low, high in (("IS NULL", -1.5, 2.5), ("IS NOT NULL", -4.5, -0.5)):
            z = conn.execute("SELECT min(ST_ZMin(geom)), max(ST_ZMax(geom)) FROM layers.water_supply "
                             f"WHERE tunnel {tunnel}").fetchone()
            assert low < z[0] and z[1] < high, tunnel
    assert (TEST_HOME / "ecocity" / "manifest.json").is_file()
