"""Where the drainage flows: catchments, their outfalls, and the inverts that fall towards them.

Nothing crosses under a utility tunnel (its floor is 6 m down), so the tunnels divide the city into
catchments, each draining to an outfall of its own on the city's edge: the southern ones to their south-east
corner (the treatment works and pumping stations by the sea), the northern ones to their north-east
corner. Rainwater inverts fall from :data:`RAIN_INVERT` deep at a catchment's far end by
:data:`RAIN_FALL` to its outfall; sewage runs below the rainwater, crown :data:`SEWAGE_BELOW` under the
rainwater invert, so the two keep GB 50289's vertical clearance with a margin wherever they cross.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.ecocity.plan import Plan, Road
from twin.ecocity.utilities import VERTICAL_MARGIN_M, is_tunnel, line_of, size_m, vertical

RAIN_INVERT, RAIN_FALL = 3.85, 0.35
SEWAGE_BELOW = vertical("rainwater", "sewage") + VERTICAL_MARGIN_M


@dataclass(frozen=True)
class Catchment:
    key: tuple[int, int]  # (tunnel lines west of it, tunnel lines south of it)
    outfall: tuple[int, int]  # grid node (half-cell steps)
    reach: int  # the most steps from a node of it to the outfall

    def steps(self, node: tuple[int, int]) -> int:
        return abs(node[0] - self.outfall[0]) + abs(node[1] - self.outfall[1])

    def invert(self, node: tuple[int, int], utility: str, road_class: str) -> float:
        """A drain's invert depth at a grid node of the catchment."""
        rain = RAIN_INVERT + RAIN_FALL * (1 - self.steps(node) / self.reach)
        return rain if utility == "rainwater" else rain + SEWAGE_BELOW + size_m(utility, road_class)[1]


class Catchments:
    """The plan's catchments, divided by its tunnel lines."""

    def __init__(self, plan: Plan) -> None:
        self.columns = sorted({line_of(r)[1] for r in plan.roads if is_tunnel(r) and line_of(r)[0] == "v"})
        self.rows = sorted({line_of(r)[1] for r in plan.roads if is_tunnel(r) and line_of(r)[0] == "h"})
        xs = [0, *self.columns, plan.columns * 2]
        ys = [0, *self.rows, plan.rows * 2]
        self.all: dict[tuple[int, int], Catchment] = {}
        for i in range(len(xs) - 1):
            for j in range(len(ys) - 1):
                outfall = (xs[i + 1], ys[0] if j == 0 else ys[-1])
                reach = max(abs(x - outfall[0]) + abs(y - outfall[1]) for x in xs[i:i + 2] for y in ys[j:j + 2])
                self.all[(i, j)] = Catchment((i, j), outfall, max(reach, 1))

    def of(self, road: Road, offset: float) -> Catchment:
        """The catchment of a drain: where its road lies, and for a drain beside a tunnel, which side."""
        x = (road.start[0] + road.end[0]) / 2
        y = (road.start[1] + road.end[1]) / 2
        side = 0.01 if offset > 0 else -0.01
        if is_tunnel(road):
            if line_of(road)[0] == "h":
                y += side
            else:
                x += side
        return self.all[(sum(x > c for c in self.columns), sum(y > r for r in self.rows))]
