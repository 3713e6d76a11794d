"""Where roads cross: how each network's pipes meet, pass and keep clear of the other road's.

At every junction one road is the through road (the higher class, a tunnel road above all; of two alike
the north-south one) and the other yields, as GB 50289-2016 3.0.4 has branch lines give way to trunk
lines. The through road's pipes run straight on at their depths. A pipe of the yielding road meets its
own network's pipe of the through road where their lines cross (a tee there, with a riser where the two
lie at different depths); on its way there it passes the through road's other pipes, and where one of
those lies too near its own depth it dips, before the through road's pipes begin, to the shallowest
depth that clears every pipe it passes by their vertical clearance plus a margin, and climbs back after.
Drainage never dips (it falls by gravity): the depths are chosen so that it need not. A pipe whose network
goes no further ends before the crossing road's pipes, its horizontal clearance from them.

Everything here is in metres along a road (x for an east-west road, y for a north-south one) and across
it (the sections' offsets).
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.ecocity.drainage import Catchments
from twin.ecocity.plan import Plan, Road
from twin.ecocity.sections import Slot, gap, kind_of, sections
from twin.ecocity.utilities import (DRAINAGE, TUNNEL, UTILITIES, VERTICAL_MARGIN_M, carries, is_tunnel, line_of,
                                    size_m, vertical)

RANK = {"branch": 0, "secondary": 1, "arterial": 2}
EPSILON = 1e-9


@dataclass
class Piece:
    """A straight piece of one utility's pipe along a road: from ``along`` (a, b) at ``across`` (a, b),
    top depth (pressure pipes, ducts) or invert depth (drainage) ``depth`` (a, b). ``nodes``: whether each
    end is where the network branches, passes a junction or ends (valves and manholes stand there)."""

    road: Road
    utility: str
    slot: Slot
    along: tuple[float, float]
    across: tuple[float, float]
    depth: tuple[float, float]
    dip: bool = False
    nodes: tuple[bool, bool] = (True, True)


@dataclass(frozen=True)
class Band:
    """What a yielding pipe passes at a junction: a through pipe (or the tunnel), across its road and deep."""

    utility: str
    offset: float
    radius: float
    top: float
    bottom: float


class Junctions:
    """The plan's roads, their sections and catchments, and what meets at each grid node."""

    def __init__(self, plan: Plan, shallow: dict[tuple[str, str, str], tuple[float, str]] | None = None) -> None:
        self.plan = plan
        self.sections = sections(plan)
        self.catchments = Catchments(plan)
        self.carried = {road.id: carries(road, plan) for road in plan.roads}
        self.at: dict[tuple[int, int], dict[str, list[tuple[Road, int]]]] = {}
        for road in plan.roads:
            orientation = line_of(road)[0]
            for node, side in ((road.start, 1), (road.end, -1)):
                self.at.setdefault(node, {"h": [], "v": []})[orientation].append((road, side))
        # (road id, "start" or "end", utility) -> (metres, utility): pipes planted that much too shallow
        # where they pass under that utility's pipe (twin.ecocity.planted), kept by (node, direction,
        # utility) -> (metres, utility, side), since a pipe passing straight on dips on both its roads
        roads = {road.id: road for road in plan.roads}
        self.shallow = {}
        for (road_id, which, utility), fault in (shallow or {}).items():
            if road_id in roads:
                road = roads[road_id]
                node, side = (road.start, 1) if which == "start" else (road.end, -1)
                self.shallow[(node, line_of(road)[0], utility)] = (*fault, side)
        self._slots: dict[str, list[Slot]] = {}
        self._stops: dict[tuple, tuple[str, float]] = {}

    def section(self, road: Road) -> tuple[Slot, ...]:
        return self.sections[kind_of(road)]

    def slots(self, road: Road) -> list[Slot]:
        """The slots of the utilities a road carries (and its tunnel)."""
        known = self._slots.get(road.id)
        if known is None:
            known = self._slots[road.id] = [s for s in self.section(road)
                                            if s.utility in self.carried[road.id] or s.utility == "tunnel"]
        return known

    def through(self, node: tuple[int, int]) -> str | None:
        """The direction of the through road at a node ("h" or "v"), None where only one road passes."""
        at = self.at[node]
        if not at["h"] or not at["v"]:
            return None
        rank = {o: max(3 if is_tunnel(r) else RANK[r.road_class] for r, _ in at[o]) for o in ("h", "v")}
        return "h" if rank["h"] > rank["v"] else "v"

    def band(self, road: Road, slot: Slot, node: tuple[int, int]) -> Band:
        """How deep a road's pipe (or tunnel) lies at a node: (top, bottom)."""
        if slot.utility == "tunnel":
            top = TUNNEL["top_depth_m"]
            return Band("tunnel", slot.offset, slot.radius, top, top + TUNNEL["height_m"])
        height = size_m(slot.utility, road.road_class)[1]
        if slot.utility in DRAINAGE:
            invert = self.catchments.of(road, slot.offset).invert(node, slot.utility, road.road_class)
            return Band(slot.utility, slot.offset, slot.radius, invert - height, invert)
        top = UTILITIES[slot.utility]["top"]
        return Band(slot.utility, slot.offset, slot.radius, top, top + height)

    def pieces(self, road: Road) -> list[Piece]:
        """The pieces of every pipe under a road, from its start node to its end node."""
        out: list[Piece] = []
        (x0, y0), (x1, y1) = self.plan.node_xy(road.start), self.plan.node_xy(road.end)
        horizontal = line_of(road)[0] == "h"
        span = (x0, x1) if horizontal else (y0, y1)
        for slot in self.slots(road):
            if slot.utility == "tunnel":
                continue
            start = self._end(road, slot, road.start, span[0], 1)
            end = self._end(road, slot, road.end, span[1], -1)
            out += self._lay(road, slot, start, end)
        return out

    def _stop(self, road: Road, slot: Slot, node: tuple[int, int], side: int) -> tuple[str, float]:
        """How a pipe meets a node of its road (``side``: +1 where the road leaves the node towards east or
        north), and where, along the road from the node: at a tee on its network's pipe of the crossing
        road, passing straight on, or ending short of the crossing road's pipes."""
        key = (road.id, slot, node, side)
        if key not in self._stops:
            self._stops[key] = self._find_stop(road, slot, node, side)
        return self._stops[key]

    def _find_stop(self, road: Road, slot: Slot, node: tuple[int, int], side: int) -> tuple[str, float]:
        u = slot.utility
        orientation = line_of(road)[0]
        crossing = self.at[node]["v" if orientation == "h" else "h"]
        tees = sorted({s.offset for r, _ in crossing for s in self.slots(r) if s.utility == u})
        if tees:
            near = [o for o in tees if o * side > 0] or tees  # a drain beside a tunnel: the one on this side
            return "tee", min(near, key=abs)
        onward = any(r is not road and u in self.carried[r.id] for r, _ in self.at[node][orientation])
        # Passing on, the pipe's two pieces meet beyond the crossing road's pipes on its east or north
        # side (never between them, where the end of one would lie beside another); ending, it stops short
        # of them on its own side.
        towards = 1 if onward else side
        kept = [towards * s.offset + gap(u, slot.radius, s.utility, s.radius) for r, _ in crossing for s in self.slots(r)]
        return ("pass" if onward else "end"), towards * max(kept, default=0.0)

    def _end(self, road: Road, slot: Slot, node: tuple[int, int], base: float, side: int) -> dict:
        """Where a pipe ends at one of its road's nodes, and the dip it takes there (depth, from, to) if any."""
        u = slot.utility
        orientation = line_of(road)[0]
        kind, along = self._stop(road, slot, node, side)
        end = {"along": base + along, "dip": None}
        if kind == "end" or self.through(node) in (None, orientation):
            return end
        # The through road's pipes this one passes: those on its way to the tee (all, passing straight on)
        # whose own line reaches across this one's.
        passed = []
        for crossing, towards in self.at[node]["v" if orientation == "h" else "h"]:
            for other in self.slots(crossing):
                if other.utility == u:
                    continue
                reach = 0.0 if other.utility == "tunnel" else self._stop(crossing, other, node, towards)[1]
                if towards * (slot.offset - reach) < -EPSILON:
                    continue
                if kind == "tee" and (other.offset - along) * side <= 0:
                    continue
                passed.append(self.band(crossing, other, node))
        if not passed:
            return end
        own = self.band(road, slot, node)
        depth = self._clear(u, own, passed)
        if depth is None:
            return end
        fault = self.shallow.get((node, orientation, u))
        if fault and (kind == "pass" or fault[2] == side):
            depth = self._planted(u, own, passed, depth, *fault[:2]) or depth
        exit_ = side * max([side * along] + [side * b.offset + gap(u, slot.radius, b.utility, b.radius) for b in passed])
        end["dip"] = (depth, base + exit_, base + exit_ + side * max(3.0, 3 * (depth - own.top)))
        return end

    def _clear(self, utility: str, own: Band, passed: list[Band]) -> float | None:
        """The top depth at which a yielding pipe clears every pipe it passes: None where its own clears
        them; the shallowest deeper one otherwise."""
        height = own.bottom - own.top

        def clear(top: float) -> bool:
            return all(top + height + vertical(utility, b.utility) + VERTICAL_MARGIN_M <= b.top + EPSILON
                       or top >= b.bottom + vertical(utility, b.utility) + VERTICAL_MARGIN_M - EPSILON
                       for b in passed)

        if clear(own.top):
            return None
        if utility in DRAINAGE:
            raise ValueError(f"{utility} cannot pass under the crossing road's pipes: its depth needs changing")
        for top in sorted(b.bottom + vertical(utility, b.utility) + VERTICAL_MARGIN_M for b in passed):
            if top > own.top and clear(top):
                return top
        raise ValueError(f"no depth lets {utility} pass the crossing road's pipes")

    def _planted(self, utility: str, own: Band, passed: list[Band], proper: float, short: float, other: str
                 ) -> float | None:
        """The top depth of a dip planted too shallow: ``short`` metres inside the vertical clearance to
        the ``other`` utility's pipe, the one it dips under (at ``proper``), and clear of everything else
        (None where it would not be: the place is another in a city of another scale or seed)."""
        height = own.bottom - own.top
        target = max((b for b in passed if b.utility == other), key=lambda b: b.bottom, default=None)
        depth = None if target is None else target.bottom + vertical(utility, other) - short
        slack = VERTICAL_MARGIN_M / 2  # what ground between survey points could take from a clearance
        near = {b.utility for b in passed
                if depth is not None and not (depth + height + vertical(utility, b.utility) + slack <= b.top + EPSILON
                                              or depth >= b.bottom + vertical(utility, b.utility) + slack - EPSILON)}
        binding = depth is not None and abs(depth + short + VERTICAL_MARGIN_M - proper) < EPSILON
        return depth if binding and near == {other} and depth >= own.top else None

    def _lay(self, road: Road, slot: Slot, start: dict, end: dict) -> list[Piece]:
        """The pieces of one pipe between its two ends: dips at either end, the run between."""
        u, across = slot.utility, (slot.offset, slot.offset)
        if u in DRAINAGE:
            catchment = self.catchments.of(road, slot.offset)
            depths = tuple(catchment.invert(n, u, road.road_class) for n in (road.start, road.end))
            return [Piece(road, u, slot, (start["along"], end["along"]), across, depths)]
        top = UTILITIES[u]["top"]
        pieces: list[Piece] = []
        first, last = start["along"], end["along"]
        if start["dip"]:
            depth, exit_, back = start["dip"]
            under = abs(exit_ - first) > EPSILON  # the arm whose pipe passes on beyond them has only the climb
            pieces += [Piece(road, u, slot, (first, exit_), across, (depth, depth), True, (True, False))] * under
            pieces += [Piece(road, u, slot, (exit_, back), across, (depth, top), True, (not under, False))]
            first = back
        tail: list[Piece] = []
        if end["dip"]:
            depth, exit_, back = end["dip"]
            under = abs(last - exit_) > EPSILON
            tail = [Piece(road, u, slot, (back, exit_), across, (top, depth), True, (False, not under))]
            tail += [Piece(road, u, slot, (exit_, last), across, (depth, depth), True, (False, True))] * under
            last = back
        run = Piece(road, u, slot, (first, last), across, (top, top), False, (not start["dip"], not end["dip"]))
        return pieces + [run] + tail
