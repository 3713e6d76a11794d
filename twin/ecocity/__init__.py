"""A synthetic Sino-Singapore Tianjin Eco-city, 2008-2020, in the file formats real cities deliver.

No open data of the city's buildings or pipes exists, so the demo city is generated, honouring the facts
in ECOCITY.md (place, 400 m eco-cells, the eco-valley and Qingjing Lake, growth from the southern
start-up area, CJJ 61 pipes, the smart-city inventory), and labelled synthetic wherever it is shown.

``generate(out, scale, seed)`` writes the files and ``manifest.json``; the same seed gives the same files.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from twin.ecocity import write
from twin.ecocity.assets import areas, points
from twin.ecocity.buildings import make_buildings
from twin.ecocity.networks import UTILITIES, make_fittings, make_pipes, make_tunnels
from twin.ecocity.plan import CRS, make_plan
from twin.ecocity.rasters import dem, land_cover

MANIFEST = "manifest.json"
HERE = Path(__file__).resolve().parent
POINT_LAYERS = ("smart_hydrants", "cameras", "smart_lamp_poles", "traffic_signals", "bus_stations",
                "smart_elevators", "iot_sensors", "police_stations", "fire_brigades", "hospitals")


def version() -> str:
    """A hash of the generator's code: files made by other code are made again (the same seed gives the
    same files only from the same code)."""
    digest = hashlib.sha256()
    for path in sorted(HERE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def generate(out: Path, scale: float = 1.0, seed: int = 0, progress: bool | None = None) -> dict:
    """Write the city under ``out`` and return its manifest."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    steps = tqdm(total=8, desc="generating the Eco-city", unit=" steps", disable=None if progress is None else not progress)
    plan = make_plan(rng, scale)
    buildings = make_buildings(plan, rng)
    pipes = make_pipes(plan)
    valves, manholes = make_fittings(pipes)
    tunnels = make_tunnels(plan)
    facilities = points(plan, buildings, rng)
    places = areas(plan)
    steps.update()
    imports: list[dict] = []

    def add(name: str, layer: str, **options: object) -> Path:
        imports.append({"file": name, "layer": layer, **options})
        return out / name

    write.raster(add("terrain.tif", "terrain", source="ecocity_dem"), plan, dem(plan))
    for year, cover in land_cover(plan, buildings):
        write.raster(add(f"land_cover_{year}.tif", "land_cover", source="ecocity_land_cover", year=year), plan, cover)
    steps.update()
    write.gpkg(add("roads.gpkg", "roads"), [
        {"id": road.id, "road_class": road.road_class, "width_m": road.width, "lanes": road.lanes,
         "build_year": road.build_year, "geometry": road.line} for road in plan.roads], "roads")
    for layer, records in places.items():
        write.gpkg(add(f"{layer}.gpkg", layer), [_dated(record) for record in records], layer)
    steps.update()
    write.buildings_gpkg(add("buildings.gpkg", "buildings", source="ecocity_buildings"), buildings)
    write.buildings_cityjson(out / "buildings.city.json", buildings)  # the same buildings, as CityJSON LOD1
    steps.update()
    for utility in UTILITIES:
        write.pipes_gpkg(add(f"{utility}.gpkg", utility), [p for p in pipes if p.utility == utility], utility)
    write.epanet(out / "water_supply.inp", [p for p in pipes if p.utility == "water_supply"])
    write.tunnels_gpkg(add("utility_tunnels.gpkg", "utility_tunnels"), tunnels)
    write.fittings_gpkg(add("valves.gpkg", "valves"), valves, "valves")
    write.fittings_gpkg(add("manholes.gpkg", "manholes"), manholes, "manholes")
    steps.update()
    write.opencellid(add("base_stations_5g.csv", "base_stations_5g"), facilities["base_stations_5g"])
    for layer in POINT_LAYERS:
        write.geojson(add(f"{layer}.geojson", layer), facilities[layer])
    steps.update(2)
    steps.close()
    manifest = {
        "city": "Sino-Singapore Tianjin Eco-city (synthetic)", "crs": CRS, "scale": scale, "seed": seed,
        "generator": version(),
        "counts": {"buildings": len(buildings), "roads": len(plan.roads), "pipes": len(pipes), "valves": len(valves),
                   "manholes": len(manholes), "utility_tunnels": len(tunnels),
                   **{layer: len(records) for layer, records in facilities.items()},
                   **{layer: len(records) for layer, records in places.items()}},
        "imports": imports,
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest_text = json.dumps({k: v for k, v in manifest.items() if k != "seconds"}, indent=2, ensure_ascii=False)
    (out / MANIFEST).write_text(manifest_text + "\n", encoding="utf-8")
    return manifest


def _dated(record: dict) -> dict:
    """An area record with its year as valid_from, the way a city's GIS keeps it."""
    out = {k: v for k, v in record.items() if k != "year"}
    out["valid_from"] = f"{record['year']}-01-01"
    return out
