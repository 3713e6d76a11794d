"""Everything above ground besides buildings and roads: the smart facilities and emergency resources
(points), and the areas (management grids, parks and the eco-valley, water).

Each record is a dict: ``id``, ``geometry`` (EPSG:4548), ``year`` (when it came into service) and the
layer's attributes by their catalog names.
"""

from __future__ import annotations

import numpy as np
import shapely

from twin.ecocity.buildings import Building
from twin.ecocity.plan import CELL, FIRST_YEAR, LAST_YEAR, ORIGIN, Plan, Road

SENSOR_TYPES = ["water_meter", "gas_meter", "heat_meter", "electricity_meter", "water_pressure", "water_quality",
                "water_level", "manhole_cover", "gas_leak", "pipe_leak", "air_quality", "noise", "weather",
                "soil_moisture", "smoke", "parking", "waste_bin_fill", "structural_strain", "tunnel_environment"]
HYDRANT_SPACING = 100.0  # GB 50974: at most 120 m apart along a road


def _along(road: Road, spacing: float, side: float, first: float = 0.0) -> list[shapely.Point]:
    """Points every ``spacing`` metres along a road, ``side`` metres to its left (negative: right)."""
    line = road.line
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    length = line.length
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    out = []
    for distance in np.arange(first, length + 1e-6, spacing):
        p = line.interpolate(distance)
        out.append(shapely.Point(p.x + nx * side, p.y + ny * side))
    return out


def points(plan: Plan, buildings: list[Building], rng: np.random.Generator) -> dict[str, list[dict]]:
    layers: dict[str, list[dict]] = {name: [] for name in (
        "smart_hydrants", "cameras", "smart_lamp_poles", "traffic_signals", "bus_stations", "smart_elevators",
        "base_stations_5g", "iot_sensors", "police_stations", "fire_brigades", "hospitals")}
    hydrants: dict[tuple, dict] = {}
    for road in plan.roads:
        kerb = road.width / 2 - 1.0
        for point in _along(road, HYDRANT_SPACING, kerb):
            key = (round(point.x), round(point.y))
            if key not in hydrants or hydrants[key]["year"] > road.build_year:
                hydrants[key] = {"id": f"H-{key[0]}-{key[1]}", "geometry": point, "year": road.build_year,
                                 "hydrant_type": "above_ground", "diameter_mm": 100.0,
                                 "pressure_mpa": round(float(rng.uniform(0.25, 0.45)), 2)}
        for index, point in enumerate(_along(road, 70.0, -kerb, first=35.0)):
            layers["cameras"].append({"id": f"C-{road.id[2:]}-{index}", "geometry": point,
                                      "year": min(LAST_YEAR, road.build_year + 1),
                                      "camera_type": ["dome", "bullet", "ptz"][index % 3],
                                      "purpose": "traffic" if road.road_class != "branch" else "security",
                                      "height_m": 6.0, "ai_enabled": road.build_year >= 2016})
        if road.road_class != "branch":
            for index, point in enumerate(_along(road, 50.0, kerb, first=25.0)):
                layers["smart_lamp_poles"].append({"id": f"L-{road.id[2:]}-{index}", "geometry": point,
                                                   "year": max(road.build_year, 2012), "height_m": 12.0,
                                                   "functions": "lighting,camera,5g,display"})
        if road.road_class == "arterial" and (road.start[0] + road.start[1]) % 3 == 0:
            mid = road.line.interpolate(0.5, normalized=True)
            layers["bus_stations"].append({"id": f"S-{road.id[2:]}", "geometry": shapely.Point(mid.x, mid.y + kerb),
                                           "year": road.build_year, "routes": f"{(road.start[0] * 7) % 40 + 1}路",
                                           "driverless": road.build_year >= 2016, "shelter": True})
    layers["smart_hydrants"] = sorted(hydrants.values(), key=lambda record: record["id"])
    layers["traffic_signals"] = _signals(plan)
    tall = [b for b in buildings if b.floors >= 7]
    for index in rng.choice(len(tall), size=min(len(tall), 360), replace=False):
        building = tall[int(index)]
        layers["smart_elevators"].append({
            "id": f"E-{building.id}", "geometry": building.footprint.centroid,
            "year": min(LAST_YEAR, building.build_year + int(rng.integers(0, 2))),
            "building_id": building.id, "floors_served": building.floors, "rated_load_kg": 1000.0})
    for index in rng.choice(len(tall), size=min(len(tall), 240), replace=False):
        building = tall[int(index)]
        layers["base_stations_5g"].append({"id": f"G-{building.id}", "geometry": building.footprint.centroid,
                                           "year": int(rng.choice([2019, 2020])),
                                           "antenna_height_m": building.height + 3, "mnc": int(rng.choice([0, 1, 11]))})
    layers["iot_sensors"] = _sensors(plan, buildings, rng)
    for layer, count in (("police_stations", 5), ("fire_brigades", 4), ("hospitals", 4)):
        layers[layer] = _services(layer, count, buildings, rng)
    return layers


def _signals(plan: Plan) -> list[dict]:
    """A signal at every junction of two arterial or secondary roads, working from the later road."""
    ends: dict[tuple[int, int], list[Road]] = {}
    for road in plan.roads:
        if road.road_class == "branch":
            continue
        for node in (road.start, road.end):
            ends.setdefault(node, []).append(road)
    signals = []
    for node, roads in sorted(ends.items()):
        directions = {road.start[0] == road.end[0] for road in roads}
        if len(directions) == 2 and len(roads) >= 3:
            x, y = plan.node_xy(node)
            signals.append({"id": f"X-{node[0]}-{node[1]}", "geometry": shapely.Point(x, y), "junction": f"{node}",
                            "year": max(road.build_year for road in roads), "phases": 4,
                            "ai_timed": max(road.build_year for road in roads) >= 2015})
    return signals


def _sensors(plan: Plan, buildings: list[Building], rng: np.random.Generator) -> list[dict]:
    sensors = []
    for kind_index, kind in enumerate(SENSOR_TYPES):
        for number in range(110):
            building = buildings[int(rng.integers(len(buildings)))]
            c = building.footprint.centroid
            sensors.append({"id": f"I-{kind_index:02d}-{number:03d}", "sensor_type": kind,
                            "geometry": shapely.Point(c.x + rng.uniform(-5, 5), c.y + rng.uniform(-5, 5)),
                            "year": int(max(building.build_year, 2014 + rng.integers(0, 7))),
                            "reporting_interval_s": int(rng.choice([60, 300, 900, 3600])),
                            "battery_pct": round(float(rng.uniform(20, 100)), 1)})
    return sensors


def _services(layer: str, count: int, buildings: list[Building], rng: np.random.Generator) -> list[dict]:
    """Emergency resources in public buildings spread over the city, opening as the city grew."""
    public = [b for b in buildings if b.use in ("commercial", "office", "school")]
    picks = rng.choice(len(public), size=count, replace=False)
    names = {"police_stations": "派出所", "fire_brigades": "消防站", "hospitals": "医院"}
    out = []
    for number, index in enumerate(sorted(int(i) for i in picks)):
        building = public[index]
        record = {"id": f"{layer[:3].upper()}-{number + 1}", "name": f"生态城第{number + 1}{names[layer]}",
                  "geometry": building.footprint.centroid, "year": building.build_year,
                  "phone": f"022-6630{number:04d}", "address": f"中新天津生态城 {building.id}"}
        record.update({"police_stations": {"staff": 40 + 10 * number}, "fire_brigades": {"vehicles": 6 + number},
                       "hospitals": {"beds": 300 + 100 * number, "grade": "二级甲等"}}[layer])
        out.append(record)
    return out


def areas(plan: Plan) -> dict[str, list[dict]]:
    """Management grids (eco-cells, communities, districts), parks and green space, water; areas to 0.1 m²
    (shapely's carry binary noise, 1700198.8556892334, which the API would hand on)."""
    grids = []
    for row in range(plan.rows):
        for column in range(plan.columns):
            year = int(plan.cell_years[row, column]) or FIRST_YEAR
            grids.append({"id": f"G{row:02d}{column:02d}", "code": f"ECO-{row:02d}-{column:02d}", "level": "cell",
                          "geometry": plan.cell_box(row, column), "area_m2": CELL * CELL, "year": year})
    for row in range(0, plan.rows, 2):
        for column in range(0, plan.columns, 2):
            box = shapely.box(ORIGIN[0] + column * CELL, ORIGIN[1] + row * CELL,
                              ORIGIN[0] + min(column + 2, plan.columns) * CELL, ORIGIN[1] + min(row + 2, plan.rows) * CELL)
            grids.append({"id": f"C{row:02d}{column:02d}", "code": f"COM-{row // 2:02d}-{column // 2:02d}",
                          "level": "community", "geometry": box, "area_m2": round(box.area, 1),
                          "year": FIRST_YEAR})
    x0, y0, x1, y1 = plan.bounds
    middle = (y0 + y1) / 2
    for index, (low, high) in enumerate(((y0, middle), (middle, y1))):
        box = shapely.box(x0, low, x1, high)
        grids.append({"id": f"D{index}", "code": ["南部片区", "北部片区"][index], "level": "district",
                      "geometry": box, "area_m2": round(box.area, 1), "year": FIRST_YEAR})
    valley = shapely.difference(plan.valley, shapely.union(plan.lake, plan.canal))
    parks = [{"id": "P-valley", "name": "生态谷", "kind": "eco_valley", "geometry": valley,
              "area_m2": round(valley.area, 1), "year": 2011}]
    water = [
        {"id": "W-lake", "name": "静湖", "kind": "lake", "geometry": plan.lake,
         "area_m2": round(plan.lake.area, 1), "year": 2011},
        {"id": "W-canal", "name": "蓟运河故道", "kind": "canal", "geometry": plan.canal,
         "area_m2": round(plan.canal.area, 1), "year": FIRST_YEAR},
    ]
    return {"management_grids": grids, "parks": parks, "water_bodies": water}
