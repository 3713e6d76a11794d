"""Road cross sections: where each utility lies across a road, its offset from the centre line.

Each kind of road (its class, its direction, whether a tunnel runs under it) has one section, packed from
one side to the other so that every two pipes are at least GB 50289's horizontal clearance apart wall to
wall, plus a margin (twin.ecocity.utilities): cables under the pavements at the edges, gas and heat on the
power side, water on the communications side, drainage under the carriageway. Under a tunnel road the
tunnel takes the centre and drainage runs on both sides of it, since nothing crosses the tunnel below.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.ecocity.plan import Plan, Road
from twin.ecocity.utilities import (LATERAL_MARGIN_M, TUNNEL, carries, horizontal, is_tunnel, line_of,
                                    size_m)

# South to north across an east-west road, west to east across a north-south one.
ORDER = ("power", "gas", "heat", "sewage", "pneumatic_waste", "rainwater", "reclaimed_water", "water_supply",
         "communications")
TUNNEL_ORDER = ("sewage", "rainwater", "tunnel", "rainwater", "sewage", "gas")
KERB_M = 1.0  # pipes stay this far inside the road's edges


@dataclass(frozen=True)
class Slot:
    """A utility's place across a road: ``offset`` metres from the centre line (north of an east-west road,
    east of a north-south one), ``radius`` its half width there."""

    utility: str
    offset: float
    radius: float


Kind = tuple[str, str, bool]  # road class, direction ("h" or "v"), tunnel under it


def kind_of(road: Road) -> Kind:
    return road.road_class, line_of(road)[0], is_tunnel(road)


def gap(a: str, radius_a: float, b: str, radius_b: float) -> float:
    """Centre to centre distance two pipes side by side keep: the clearance, their radii, the margin."""
    return horizontal(a, b) + radius_a + radius_b + LATERAL_MARGIN_M


def sections(plan: Plan) -> dict[Kind, tuple[Slot, ...]]:
    """The section of each kind of road the plan has, holding every utility some road of that kind carries."""
    held: dict[Kind, set[str]] = {}
    widths: dict[Kind, float] = {}
    for road in plan.roads:
        held.setdefault(kind_of(road), set()).update(carries(road, plan))
        widths[kind_of(road)] = road.width
    return {kind: _pack(kind, utilities, widths[kind]) for kind, utilities in held.items()}


def _pack(kind: Kind, utilities: set[str], width: float) -> tuple[Slot, ...]:
    road_class, _, tunnel = kind
    order = [u for u in (TUNNEL_ORDER if tunnel else ORDER) if u in utilities or u == "tunnel"]

    def radius(utility: str) -> float:
        return TUNNEL["width_m"] / 2 if utility == "tunnel" else size_m(utility, road_class)[0] / 2

    placed: list[Slot] = []
    for utility in order:
        offset = max((slot.offset + gap(slot.utility, slot.radius, utility, radius(utility)) for slot in placed),
                     default=0.0)
        placed.append(Slot(utility, offset, radius(utility)))
    if tunnel:  # the tunnel under the middle of the road
        centre = next(slot.offset for slot in placed if slot.utility == "tunnel")
    else:
        centre = (placed[0].offset - placed[0].radius + placed[-1].offset + placed[-1].radius) / 2
    slots = tuple(Slot(s.utility, round(s.offset - centre, 3), s.radius) for s in placed)
    edge = max(abs(s.offset) + s.radius for s in slots)
    if edge > width / 2 - KERB_M:
        raise ValueError(f"the utilities of a {road_class} road need {2 * edge:.1f} m, more than its {width:.0f} m")
    return slots


def slots_of(section: tuple[Slot, ...], utility: str) -> list[Slot]:
    return [slot for slot in section if slot.utility == utility]
