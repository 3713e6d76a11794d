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
from support import TEST_HOME, run_twin

from importers.inp_sections import read_sections
from twin.ecocity import generate
from twin.ecocity.assets import points
from twin.ecocity.buildings import make_buildings
from twin.ecocity.networks import DRAINAGE, UTILITIES, diameter_m, make_fittings, make_pipes
from twin.ecocity.plan import make_plan

# CJJ 61 cover depths (ECOCITY.md): top of pipe for pressure pipes and ducts, invert for drainage.
CJJ_DEPTHS = {"communications": (0.7, 1.0), "gas": (0.9, 1.5), "water_supply": (1.0, 1.8),
              "reclaimed_water": (1.0, 1.8), "heat": (1.0, 2.0), "rainwater": (1.5, 5.0), "sewage": (1.5, 5.0)}


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
    _, _, pipes, _ = city
    for pipe in pipes:
        if pipe.utility in CJJ_DEPTHS:
            low, high = CJJ_DEPTHS[pipe.utility]
            assert low <= pipe.start_depth <= high and low <= pipe.end_depth <= high, pipe.id
        if pipe.utility in DRAINAGE:
            assert pipe.end_depth > pipe.start_depth, f"{pipe.id} must fall towards the outfall"


@pytest.mark.fast
def test_no_pipe_older_than_its_road_and_no_elevator_older_than_its_building(city) -> None:
    plan, buildings, pipes, facilities = city
    roads = {road.id[2:]: road.build_year for road in plan.roads}
    for pipe in pipes:
        assert pipe.install_year >= roads[pipe.id.split("-", 1)[1]], pipe.id
    built = {b.id: b.build_year for b in buildings}
    for elevator in facilities["smart_elevators"]:
        assert elevator["year"] >= built[elevator["building_id"]]
        assert elevator["floors_served"] >= 7


@pytest.mark.fast
def test_each_network_is_connected(city) -> None:
    _, _, pipes, _ = city
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
        assert len({find(node) for node in list(parent)}) == 1, utility


@pytest.mark.fast
def test_no_two_pipes_occupy_the_same_space(city) -> None:
    _, _, pipes, _ = city
    lines = np.array([pipe.line for pipe in pipes], dtype=object)
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    checked = 0
    for i, j in zip(left, right):
        a, b = pipes[i], pipes[j]
        if i >= j or a.utility == b.utility:
            continue
        crossing = shapely.intersection(a.line, b.line)
        if crossing.geom_type != "Point":
            raise AssertionError(f"{a.id} and {b.id} run along each other")

        def band(pipe) -> tuple[float, float]:
            along = shapely.line_locate_point(pipe.line, crossing, normalized=True)
            depth = pipe.start_depth + (pipe.end_depth - pipe.start_depth) * along
            size = diameter_m(pipe.size)
            return (depth - size, depth) if pipe.utility in DRAINAGE else (depth, depth + size)

        (top_a, bottom_a), (top_b, bottom_b) = band(a), band(b)
        assert bottom_a <= top_b or bottom_b <= top_a, f"{a.id} and {b.id} meet"
        checked += 1
    assert checked > 1000


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
        # Pipes lie below ground at their depth: water's top 1.58 m down, under ground of 1-4 m.
        z = conn.execute("SELECT min(ST_ZMin(geom)), max(ST_ZMax(geom)) FROM layers.water_supply").fetchone()
        assert -1.5 < z[0] and z[1] < 2.5
    assert (TEST_HOME / "ecocity" / "manifest.json").is_file()
