"""The underground: eight pipe networks and power ducts along every road, utility tunnels under two
main roads, valves on the pressure networks and manholes on the drainage.

Each network is the road grid moved sideways by its own offset, so it is connected wherever the roads
are, and lies in its own depth band (CJJ 61 cover depths: communications 0.7-1.0 m, gas 0.9-1.5 m,
water 1.0-1.8 m, heat 1.0-2.0 m; drainage 1.5-5 m falling towards its outfall). The bands do not
overlap, so no two pipes meet even where networks cross; drainage keeps clear of the tunnels sideways.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from twin.ecocity.plan import Plan, Road

# utility -> Chinese survey name, lateral offset (m), top depth (m), size by road class (mm; "WxH" for
# ducts), material, owner, pressure class. Drainage depths are set along the flow instead.
UTILITIES: dict[str, dict] = {
    "communications": {"zh": "通信", "offset": 1.5, "top": 0.70, "size": {"arterial": "400X200", "secondary": "300X200", "branch": "200X150"},
                       "material": "PVC", "owner": "生态城信息网络公司", "pressure": None},
    "power": {"zh": "电力", "offset": -1.5, "top": 0.92, "size": {"arterial": 150, "secondary": 150, "branch": 110},
              "material": "MPP", "owner": "国网天津滨海供电", "pressure": "10kV"},
    "gas": {"zh": "燃气", "offset": -4.5, "top": 1.10, "size": {"arterial": 250, "secondary": 160, "branch": 110},
            "material": "PE", "owner": "生态城燃气公司", "pressure": "中压A"},
    "reclaimed_water": {"zh": "再生水", "offset": 6.0, "top": 1.37, "size": {"arterial": 200, "secondary": 150, "branch": 100},
                        "material": "PE", "owner": "生态城水务公司", "pressure": "0.4MPa"},
    "water_supply": {"zh": "给水", "offset": 4.5, "top": 1.58, "size": {"arterial": 400, "secondary": 300, "branch": 150},
                     "material": "球墨铸铁", "owner": "生态城水务公司", "pressure": "0.4MPa"},
    "heat": {"zh": "热力", "offset": -6.0, "top": 2.00, "size": {"arterial": 350, "secondary": 250, "branch": 150},
             "material": "钢", "owner": "生态城热力公司", "pressure": "1.6MPa"},
    "pneumatic_waste": {"zh": "气力输送", "offset": 3.5, "top": 2.40, "size": {"arterial": 400, "secondary": 400, "branch": 300},
                        "material": "钢", "owner": "生态城环卫公司", "pressure": None},
    "rainwater": {"zh": "雨水", "offset": 5.0, "top": None, "size": {"arterial": 800, "secondary": 600, "branch": 400},
                  "material": "钢筋混凝土", "owner": "生态城排水公司", "pressure": None},
    "sewage": {"zh": "污水", "offset": -5.0, "top": None, "size": {"arterial": 500, "secondary": 400, "branch": 300},
               "material": "钢筋混凝土", "owner": "生态城排水公司", "pressure": None},
}
PRESSURE = ("water_supply", "reclaimed_water", "gas", "heat")
DRAINAGE = ("rainwater", "sewage")
# Rainwater inverts from 3.7 m deep at the far end to 4.1 m at the outfall; sewage 0.2 m below rain's
# invert plus its own diameter, so the two never touch where they cross.
RAIN_INVERT, RAIN_FALL = 3.7, 0.4
TUNNEL = {"width_m": 5.0, "height_m": 3.5, "top_depth_m": 2.5, "compartments": 3, "utilities": "给水,再生水,热力,电力,通信"}


@dataclass
class Pipe:
    id: str
    utility: str
    line: shapely.LineString  # from its start (upstream for drainage) to its end
    size: float | str  # diameter mm, or "WxH" for a duct
    start_depth: float  # to the top for pressure pipes and ducts, to the invert for drainage
    end_depth: float
    install_year: int
    road_class: str


def diameter_m(size: float | str) -> float:
    """The vertical size of a pipe or duct in metres."""
    if isinstance(size, str):
        return float(size.split("X")[1]) / 1000
    return float(size) / 1000


def make_pipes(plan: Plan) -> list[Pipe]:
    outfall = (plan.columns * 2, 0)  # the south-east corner: the treatment works by the sea
    reach = plan.columns * 2 + plan.rows * 2
    pipes: list[Pipe] = []
    for utility, spec in UTILITIES.items():
        if utility == "pneumatic_waste":
            roads = [road for road in plan.roads if road.road_class != "branch"]
        else:
            roads = plan.roads
        shift = spec["offset"]
        for road in roads:
            size = spec["size"][road.road_class]
            line = shapely.affinity.translate(road.line, shift, shift)
            if utility in DRAINAGE:
                line, start_depth, end_depth = _falling(road, line, outfall, reach, utility, size)
            else:
                start_depth = end_depth = spec["top"]
            pipes.append(Pipe(f"{utility[:2].upper()}-{road.id[2:]}", utility, line, size, start_depth, end_depth,
                              road.build_year, road.road_class))
    return pipes


def _falling(road: Road, line: shapely.LineString, outfall: tuple[int, int], reach: int, utility: str,
             size: float | str) -> tuple[shapely.LineString, float, float]:
    """Point the pipe downhill, towards the outfall, and give it the invert depths at its ends."""
    def steps(node: tuple[int, int]) -> int:
        return abs(node[0] - outfall[0]) + abs(node[1] - outfall[1])

    start, end = road.start, road.end
    if steps(start) < steps(end):
        line = shapely.reverse(line)
        start, end = end, start

    def depth(node: tuple[int, int]) -> float:
        rain = RAIN_INVERT + RAIN_FALL * (1 - steps(node) / reach)
        return rain if utility == "rainwater" else rain + 0.2 + diameter_m(size)

    return line, depth(start), depth(end)


@dataclass
class Fitting:
    id: str
    utility: str
    point: shapely.Point
    depth: float  # to its centre (valves) or the invert (manholes)
    install_year: int
    diameter: float


def make_fittings(pipes: list[Pipe]) -> tuple[list[Fitting], list[Fitting]]:
    """Valves where pressure pipes meet, manholes at every drainage node (built with their first pipe)."""
    valves: dict[tuple, Fitting] = {}
    manholes: dict[tuple, Fitting] = {}
    for pipe in pipes:
        if pipe.utility not in PRESSURE and pipe.utility not in DRAINAGE:
            continue
        for end, depth in ((0, pipe.start_depth), (-1, pipe.end_depth)):
            x, y = pipe.line.coords[end]
            key = (pipe.utility, round(x, 1), round(y, 1))
            target = valves if pipe.utility in PRESSURE else manholes
            centre = depth + diameter_m(pipe.size) / 2 if pipe.utility in PRESSURE else depth
            known = target.get(key)
            if known is None or pipe.install_year < known.install_year:
                kind = "V" if pipe.utility in PRESSURE else "M"
                target[key] = Fitting(f"{kind}-{pipe.utility[:2].upper()}-{x:.0f}-{y:.0f}", pipe.utility,
                                      shapely.Point(x, y), max(centre, known.depth if known else 0),
                                      pipe.install_year, float(pipe.size) if not isinstance(pipe.size, str) else 0)
            elif centre > known.depth:
                known.depth = centre  # a manhole reaches the deepest pipe at it
    return list(valves.values()), list(manholes.values())


def make_tunnels(plan: Plan) -> list[tuple[str, shapely.LineString, int]]:
    """Utility tunnels under the second north-south arterial and the first east-west arterial north of
    the start-up area (both on grid line 8): (id, roof centre line, year)."""
    tunnels = []
    for road in plan.roads:
        vertical = road.start[0] == road.end[0]
        on_line = road.start[0] == 8 if vertical else road.start[1] == 8
        if road.road_class == "arterial" and on_line:
            tunnels.append((f"T-{road.id[2:]}", road.line, road.build_year))
    return tunnels
