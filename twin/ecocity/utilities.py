"""The Eco-city's utilities: what each pipe network is (CJJ 61 survey name, sizes by road class, material,
owner, depth band), which roads carry it, and the clearances the generator lays them to.

The clearances are the pipe clearance check's own table (``twin/analyses/gb50289.toml``, GB 50289-2016
with each value's source), so that the generator lays the networks to what the analysis checks. The
generator keeps a margin beyond each: :data:`LATERAL_MARGIN_M` beside, :data:`VERTICAL_MARGIN_M` across.
"""

from __future__ import annotations

from functools import cache

from twin.analyses.clearance import clearances
from twin.ecocity.plan import Plan, Road

# utility -> Chinese survey name, top depth (m; CJJ 61 cover depths, ECOCITY.md), size by road class (mm;
# "WxH" for ducts), material, owner, pressure class. Drainage has no top: its inverts are set along the
# flow (twin.ecocity.drainage).
UTILITIES: dict[str, dict] = {
    "communications": {"zh": "通信", "top": 0.70, "size": {"arterial": "400X200", "secondary": "300X200", "branch": "200X150"},
                       "material": "PVC", "owner": "生态城信息网络公司", "pressure": None},
    "power": {"zh": "电力", "top": 0.75, "size": {"arterial": 150, "secondary": 150, "branch": 110},
              "material": "MPP", "owner": "国网天津滨海供电", "pressure": "10kV"},
    "gas": {"zh": "燃气", "top": 1.10, "size": {"arterial": 250, "secondary": 160, "branch": 110},
            "material": "PE", "owner": "生态城燃气公司", "pressure": "中压A"},
    "reclaimed_water": {"zh": "再生水", "top": 1.15, "size": {"arterial": 200, "secondary": 150, "branch": 100},
                        "material": "PE", "owner": "生态城水务公司", "pressure": "0.4MPa"},
    "water_supply": {"zh": "给水", "top": 1.55, "size": {"arterial": 400, "secondary": 300, "branch": 150},
                     "material": "球墨铸铁", "owner": "生态城水务公司", "pressure": "0.4MPa"},
    "heat": {"zh": "热力", "top": 1.55, "size": {"arterial": 350, "secondary": 250, "branch": 150},
             "material": "钢", "owner": "生态城热力公司", "pressure": "1.6MPa"},
    "pneumatic_waste": {"zh": "气力输送", "top": 1.55, "size": {"arterial": 500, "secondary": 400, "branch": 300},
                        "material": "钢", "owner": "生态城环卫公司", "pressure": None},
    "rainwater": {"zh": "雨水", "top": None, "size": {"arterial": 800, "secondary": 600, "branch": 400},
                  "material": "钢筋混凝土", "owner": "生态城排水公司", "pressure": None},
    "sewage": {"zh": "污水", "top": None, "size": {"arterial": 500, "secondary": 400, "branch": 300},
               "material": "钢筋混凝土", "owner": "生态城排水公司", "pressure": None},
}
PRESSURE = ("water_supply", "reclaimed_water", "gas", "heat")
DRAINAGE = ("rainwater", "sewage")
# Utility tunnels under the arterials on grid line 8 (both directions). The water, reclaimed water, heat,
# power and communications mains of those roads run inside; gas and drainage stay buried beside it.
TUNNEL = {"width_m": 5.0, "height_m": 3.5, "top_depth_m": 2.6, "compartments": 3, "utilities": "给水,再生水,热力,电力,通信"}
TUNNEL_LINE = 8
IN_TUNNEL = ("water_supply", "reclaimed_water", "heat", "power", "communications")
# Where each of them runs inside a tunnel (GB 50838-2015 4.3: heat pipes not in the power cables'
# compartment): its compartment (1 the south or west one), its offset across from the tunnel's axis (m,
# north or east positive) and its top's depth below ground (m). Inside the walls and slabs (0.3 m) and
# partitions (0.2 m): compartment 1 from -2.2 to -0.9 m, 2 from -0.7 to 0.7 m, 3 from 0.9 to 2.2 m; depth
# 2.9 to 5.8 m. Cables on two tiers of racks, pipes on supports 0.4 m above the floor.
IN_TUNNEL_LAYOUT: dict[str, tuple[int, float, float]] = {
    "communications": (1, -1.85, 3.40), "power": (1, -1.85, 4.20),
    "water_supply": (2, -0.30, 5.00), "reclaimed_water": (2, 0.35, 5.20),
    "heat": (3, 1.50, 4.80),
}
# GB 50838-2015 (城市综合管廊工程技术规范) 5.1.7 sets a utility tunnel's clearance to the pipes around it:
# 1.0 m beside and 0.5 m across for open-cut tunnels. Not found by any source searched: an assumption here,
# kept as the generator's own rule, not a value of the clearance check (tunnels are not in its table).
TUNNEL_CLEARANCE = {"horizontal_m": 1.0, "vertical_m": 0.5}
ARTERIAL_EVERY = 8  # half-cell steps between arterial grid lines (twin.ecocity.plan)

LATERAL_MARGIN_M = 0.3  # beyond GB 50289's horizontal clearance, for pipes laid beside each other
VERTICAL_MARGIN_M = 0.1  # beyond its vertical clearance where pipes cross: survey rounding, ground between vertices
WORKING_SPACE_M = 1.0  # wall to wall between pipes the standard gives no horizontal clearance for (trench room)


def size_m(utility: str, road_class: str) -> tuple[float, float]:
    """(width, height) in metres of a utility's pipe or duct on a road of that class."""
    size = UTILITIES[utility]["size"][road_class]
    if isinstance(size, str):
        width, height = size.split("X")
        return float(width) / 1000, float(height) / 1000
    return float(size) / 1000, float(size) / 1000


def diameter_m(size: float | str) -> float:
    """The vertical size of a pipe or duct in metres."""
    if isinstance(size, str):
        return float(size.split("X")[1]) / 1000
    return float(size) / 1000


@cache
def _table() -> dict[frozenset, tuple[float | None, float | None]]:
    return {frozenset(pair.utilities): (pair.horizontal_m, pair.vertical_m) for pair in clearances()[1]}


def horizontal(a: str, b: str) -> float:
    """Wall-to-wall distance to keep between two pipes side by side: GB 50289's, else working space."""
    if "tunnel" in (a, b):
        return TUNNEL_CLEARANCE["horizontal_m"]
    value = _table().get(frozenset((a, b)), (None, None))[0]
    return WORKING_SPACE_M if value is None else max(value, 0.0)


def vertical(a: str, b: str) -> float:
    """Wall-to-wall distance to keep between two pipes where one crosses the other."""
    if "tunnel" in (a, b):
        return TUNNEL_CLEARANCE["vertical_m"]
    value = _table().get(frozenset((a, b)), (None, None))[1]
    return 0.0 if value is None else value


def is_tunnel(road: Road) -> bool:
    """Whether a road has a utility tunnel under it: the arterials on grid line 8."""
    return road.road_class == "arterial" and line_of(road)[1] == TUNNEL_LINE


def tunnel_id(road: Road) -> str:
    """The id of the tunnel under a tunnel road (its survey number, 管廊编号)."""
    return f"T-{road.id[2:]}"


def line_of(road: Road) -> tuple[str, int]:
    """The grid line a road segment lies on: ("h", row line) east-west, ("v", column line) north-south."""
    if road.start[1] == road.end[1]:
        return "h", road.start[1]
    return "v", road.start[0]


def pneumatic_area(plan: Plan) -> tuple[tuple[int, int], tuple[int, int]]:
    """The grid nodes (half-cell steps: columns, rows) the start-up area's pneumatic waste collection
    serves: the block between arterials around the start-up area's centre, so that it meets no tunnel."""
    west = plan.columns // ARTERIAL_EVERY * ARTERIAL_EVERY  # the arterial west of the start-up area's centre
    return (west + 1, west + ARTERIAL_EVERY - 1), (1, ARTERIAL_EVERY - 1)


def carries(road: Road, plan: Plan) -> set[str]:
    """The utilities buried under a road, as a new city lays them: drainage, water and communications
    under every road; power not under the east-west branch roads and gas not under the north-south ones
    (each block is fed from one side); heat on the main roads only (the community networks beyond the heat
    exchange stations are not public mains); reclaimed water trunk mains along the north-south arterials,
    fed from the tunnels; pneumatic waste collection in the start-up area. Under a tunnel road only what
    the tunnel does not hold."""
    orientation, _ = line_of(road)
    if is_tunnel(road):
        return {"gas", "rainwater", "sewage"}
    out = {"rainwater", "sewage", "water_supply", "communications"}
    if road.road_class != "branch" or orientation == "v":
        out.add("power")
    if road.road_class != "branch" or orientation == "h":
        out.add("gas")
    if road.road_class != "branch":
        out.add("heat")
    if road.road_class == "arterial" and orientation == "v":
        out.add("reclaimed_water")
    (x0, x1), (y0, y1) = pneumatic_area(plan)
    inside = all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in (road.start, road.end))
    if inside and road.road_class != "arterial":
        out.add("pneumatic_waste")
    return out
