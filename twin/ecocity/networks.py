"""The underground: nine pipe networks along the roads that would carry them, utility tunnels under the
two arterials on grid line 8, valves on the pressure networks and manholes on the drainage.

Which roads carry which utility, and how deep each lies, is :mod:`twin.ecocity.utilities`; where across a
road, :mod:`twin.ecocity.sections`; how the networks meet and keep clear of each other where roads cross,
:mod:`twin.ecocity.junctions`; where drainage flows, :mod:`twin.ecocity.drainage`. All of it keeps GB
50289-2016's clearances with a margin, but for the few faults :mod:`twin.ecocity.planted` lays on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from twin.ecocity.junctions import Junctions, Piece
from twin.ecocity.plan import Plan, Road
from twin.ecocity.planted import plant, shallow
from twin.ecocity.utilities import (DRAINAGE, IN_TUNNEL_LAYOUT, PRESSURE, TUNNEL, UTILITIES, diameter_m, is_tunnel,
                                    line_of, tunnel_id)

__all__ = ["DRAINAGE", "PRESSURE", "TUNNEL", "UTILITIES", "Fitting", "Pipe", "diameter_m", "make_fittings",
           "make_pipes", "make_tunnels"]


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
    road: str  # the id of the road it lies under
    dip: bool = False  # where it passes under a crossing road's pipes, or climbs back from there
    nodes: tuple[bool, bool] = (True, True)  # whether its start and end are network nodes
    tunnel: str | None = None  # the id of the utility tunnel it runs in, if it does


def make_pipes(plan: Plan) -> list[Pipe]:
    junctions = Junctions(plan, shallow())
    pipes: list[Pipe] = []
    for road in plan.roads:
        pieces = plant(junctions.pieces(road), road)
        groups: dict[tuple[str, float], list[Piece]] = {}
        for piece in pieces:
            groups.setdefault((piece.utility, piece.slot.offset), []).append(piece)
        for (utility, offset), group in groups.items():
            sides = len({p.slot.offset for p in pieces if p.utility == utility}) > 1
            pipes += [_pipe(plan, piece, _name(road.id, utility, offset, sides, index, len(group)))
                      for index, piece in enumerate(sorted(group, key=lambda p: min(p.along)), start=1)]
        if is_tunnel(road):
            pipes += _in_tunnel(plan, road)
    return pipes


def _in_tunnel(plan: Plan, road: Road) -> list[Pipe]:
    """The mains a tunnel road's tunnel carries, inside it: along its axis at their compartments' places
    (IN_TUNNEL_LAYOUT), from node to node at one depth. Nothing inside dips: the crossing roads' pipes pass
    over the tunnel's roof, and where two tunnels meet their mains meet inside."""
    (x0, y0), (x1, y1) = plan.node_xy(road.start), plan.node_xy(road.end)
    horizontal = line_of(road)[0] == "h"
    pipes = []
    for utility, (_, offset, top) in IN_TUNNEL_LAYOUT.items():
        dx, dy = (0.0, offset) if horizontal else (offset, 0.0)
        line = shapely.LineString([(x0 + dx, y0 + dy), (x1 + dx, y1 + dy)])
        pipes.append(Pipe(f"{utility[:2].upper()}-{road.id[2:]}", utility, line,
                          UTILITIES[utility]["size"][road.road_class], top, top, road.build_year, road.road_class,
                          road.id, tunnel=tunnel_id(road)))
    return pipes


def _name(road_id: str, utility: str, offset: float, sides: bool, index: int, count: int) -> str:
    """管线编号: the utility's code, the road's, the side of a tunnel road for its two drains, and the
    piece's number where a pipe is several pieces."""
    side = ""
    if sides:
        side = ("N" if offset > 0 else "S") if road_id[2] == "h" else ("E" if offset > 0 else "W")
    return f"{utility[:2].upper()}-{road_id[2:]}{side}" + (f"-{index}" if count > 1 else "")


def _pipe(plan: Plan, piece: Piece, name: str) -> Pipe:
    road = piece.road
    base = plan.node_xy(road.start)
    horizontal = line_of(road)[0] == "h"
    points = [(along, base[1] + across) if horizontal else (base[0] + across, along)
              for along, across in zip(piece.along, piece.across)]
    depths, nodes = piece.depth, piece.nodes
    if piece.utility in DRAINAGE and depths[0] > depths[1]:  # drawn downhill, towards the outfall
        points, depths, nodes = points[::-1], depths[::-1], nodes[::-1]
    return Pipe(name, piece.utility, shapely.LineString(points), UTILITIES[piece.utility]["size"][road.road_class],
                depths[0], depths[1], road.build_year, road.road_class, road.id, piece.dip, nodes)


@dataclass
class Fitting:
    id: str
    utility: str
    point: shapely.Point
    depth: float  # to its centre (valves) or the invert (manholes)
    install_year: int
    diameter: float


def make_fittings(pipes: list[Pipe]) -> tuple[list[Fitting], list[Fitting]]:
    """Valves where pressure pipes meet at a node, manholes at every drainage node (built with their first
    pipe). Where pipes meet at different depths (a riser) the fitting reaches the deepest."""
    valves: dict[tuple, Fitting] = {}
    manholes: dict[tuple, Fitting] = {}
    for pipe in pipes:
        if pipe.utility not in PRESSURE and pipe.utility not in DRAINAGE:
            continue
        for end, depth, node in ((0, pipe.start_depth, pipe.nodes[0]), (-1, pipe.end_depth, pipe.nodes[1])):
            if not node:
                continue
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
    return [(tunnel_id(road), road.line, road.build_year) for road in plan.roads if is_tunnel(road)]
