"""The faults the demo city has on purpose, so that the pipe clearance check has something to find: a few
places where a pipe was laid against GB 50289-2016, each a known pair of utilities at a known place
(README, "The demo city"). Everywhere else the networks keep their clearances with a margin.

Two kinds: a pipe of a yielding road that dips too little where it passes under a crossing road's pipe
(``short``: metres too shallow at that end of its road, ``end``), and a pipe that leaves its line for a
stretch towards its neighbour (``jog``: metres towards the ``other`` utility's pipe, mid-road).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from twin.ecocity.junctions import Piece
from twin.ecocity.plan import Plan, Road

JOG_LENGTH_M, JOG_SLANT_M = 24.0, 3.0  # the stretch off the line, and each slanting piece to and from it


@dataclass(frozen=True)
class Plant:
    utility: str
    other: str  # the utility it comes too close to
    road: str  # the road it lies under (scale 1, seed 0: the demo city)
    end: str | None = None  # "start" or "end" of the road: the junction where it dips too little
    short: float | None = None  # metres too shallow there
    jog: float | None = None  # metres towards the other pipe


PLANTED: tuple[Plant, ...] = (
    Plant("water_supply", "heat", "R-h000-015", end="end", short=0.10),
    Plant("power", "gas", "R-h002-012", jog=0.6),
    Plant("communications", "gas", "R-h002-007", end="end", short=0.08),
    Plant("pneumatic_waste", "water_supply", "R-h001-010", end="start", short=0.12),
    Plant("reclaimed_water", "gas", "R-v000-007", end="end", short=0.06),
    Plant("heat", "water_supply", "R-h018-024", end="start", short=0.10),
    Plant("water_supply", "reclaimed_water", "R-v024-020", jog=0.8),
    Plant("gas", "heat", "R-h026-008", jog=0.6),
)


def shallow() -> dict[tuple[str, str, str], tuple[float, str]]:
    """The dips planted too shallow, as twin.ecocity.junctions takes them."""
    return {(p.road, p.end, p.utility): (p.short, p.other) for p in PLANTED if p.short is not None}


def place(fault: Plant, plan: Plan) -> tuple[float, float] | None:
    """Where a fault lies: the junction of a dip too shallow, the middle of a road's jog (None where the
    plan has no such road, at another scale or seed)."""
    road = next((r for r in plan.roads if r.id == fault.road), None)
    if road is None:
        return None
    if fault.jog is not None:
        middle = road.line.interpolate(0.5, normalized=True)
        return middle.x, middle.y
    return plan.node_xy(road.start if fault.end == "start" else road.end)


def plant(pieces: list[Piece], road: Road) -> list[Piece]:
    """A road's pipe pieces with the jogs planted under it."""
    for fault in PLANTED:
        if fault.jog is None or fault.road != road.id:
            continue
        others = [p.slot.offset for p in pieces if p.utility == fault.other]
        runs = [p for p in pieces if p.utility == fault.utility and not p.dip]
        if not others or not runs:
            continue
        run = max(runs, key=lambda p: abs(p.along[1] - p.along[0]))
        toward = fault.jog if others[0] > run.slot.offset else -fault.jog
        pieces = [p for p in pieces if p is not run] + _jogged(run, toward)
    return pieces


def _jogged(run: Piece, toward: float) -> list[Piece]:
    """A straight piece split to leave its line by ``toward`` metres across for a stretch in its middle."""
    (a, b), (offset, _), (depth, _) = run.along, run.across, run.depth
    direction = 1 if b > a else -1
    middle = (a + b) / 2
    marks = [a, middle - direction * JOG_LENGTH_M / 2, middle - direction * (JOG_LENGTH_M / 2 - JOG_SLANT_M),
             middle + direction * (JOG_LENGTH_M / 2 - JOG_SLANT_M), middle + direction * JOG_LENGTH_M / 2, b]
    across = [offset, offset, offset + toward, offset + toward, offset, offset]
    out = []
    for i in range(5):
        nodes = (run.nodes[0] if i == 0 else False, run.nodes[1] if i == 4 else False)
        out.append(replace(run, along=(marks[i], marks[i + 1]), across=(across[i], across[i + 1]),
                           depth=(depth, depth), nodes=nodes))
    return out
