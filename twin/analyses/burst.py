"""Burst isolation: for a burst water-supply pipe, the valves to close, the pipes that lose water, and the
buildings cut off.

The network in service in the year (abandoned and planned pipes carry no water) is a graph of its pipes
(:mod:`twin.analyses.graph`); each valve of the water-supply network within :data:`VALVE_SNAP_M` of a pipe
is a node of it (at a pipe's end, or splitting it where it stands along one). The trace starts from the
burst pipe and spreads through junctions until it meets valves: the valves met are the ones to close
(those normally closed already are, and are listed as such), everything reached is isolated. Check valves
cannot be closed by hand, so the trace passes them. A building is cut off when the pipe in service
nearest its footprint, within :data:`SERVICE_M`, is isolated (the twin holds no service connections).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import psycopg
import shapely

from twin.analyses import params
from twin.analyses.cache import run
from twin.analyses.graph import Network
from twin.analyses.queries import compose, template
from twin.analyses.results import Analysis, Result, findings
from twin.errors import ParameterError
from twin.time import year_end

VALVE_SNAP_M = 1.0  # a valve this close to a pipe sits on it (survey points of fittings and lines differ)
SERVICE_M = 200.0  # the longest service connection assumed from a main to a building
NO_WATER = ("abandoned", "planned")  # pipe statuses that carry no water


def burst_isolation(connection: psycopg.Connection, pipe: str, year: int | None = None) -> Result:
    """What closing off the burst water-supply pipe ``pipe`` (its feature id, or its source id as the
    viewer shows it: the version standing in ``year``) takes in ``year`` (default: the last year of the
    twin's data): the burst pipe (``role: "burst"``), the valves to close (``"close"``; ``"closed"`` for
    those normally closed), the other isolated pipes (``"isolated"``) and the buildings cut off
    (``"cut_off"``)."""
    return run(connection, BURST_ISOLATION, pipe=pipe, year=year)


def _check(pipe: str, year: int | None) -> dict[str, Any]:
    # the key names the pipe as asked: which row a source id stands for is the data's (the key's revision)
    return {"pipe": params.feature_ref(pipe, "pipe"), "year": params.year(year)}


def _compute(connection: psycopg.Connection, pipe: str, year: int) -> Result:
    started = time.perf_counter()
    values = {"day": year_end(year), "out": list(NO_WATER), "snap": VALVE_SNAP_M, "service": SERVICE_M}
    pipe, source_id = _burst_pipe(connection, pipe, year, values)
    rows = connection.execute(template("burst_network", "water_supply", "valves"), values).fetchall()
    ids = [str(row[0]) for row in rows]
    network = Network(shapely.from_wkb([row[1] for row in rows]), ids)
    valves = connection.execute(template("burst_valves", "valves"), values).fetchall()
    nodes = network.nodes_near([(row[5], row[6]) for row in valves], VALVE_SNAP_M)
    barriers = {node for node, valve in zip(nodes, valves) if node is not None and valve[2] != "check"}
    start = np.flatnonzero(network.segment_feature == ids.index(pipe)).tolist()
    reached, met = network.trace(start, barriers)
    isolated = sorted({ids[network.segment_feature[segment]] for segment in reached})
    values["isolated"] = isolated
    found = findings(connection.execute(template("burst_pipes", "water_supply"), values).fetchall(),
                     lambda id_, name, diameter, material, length: {
                         "role": "burst" if str(id_) == pipe else "isolated", "layer": "water_supply",
                         "id": str(id_), "name": name, "diameter_mm": diameter, "material": material,
                         "length_m": length})
    closing = [valve for valve, node in zip(valves, nodes) if node in met]
    found += findings([(*valve[:5], *valve[7:]) for valve in closing],
                      lambda id_, name, kind, diameter, normally_open, source_id: {
                          "role": "close" if normally_open is not False else "closed", "layer": "valves",
                          "id": str(id_), "source_id": source_id, "name": name, "valve_type": kind,
                          "diameter_mm": diameter})
    buildings = connection.execute(template("burst_buildings", "water_supply", "buildings"), values).fetchall()
    found += findings(buildings, lambda id_, name, use, area, served, distance: {
        "role": "cut_off", "layer": "buildings", "id": str(id_), "name": name, "use": use,
        "floor_area_m2": area, "served_by": str(served), "service_m": distance})
    roles = [f.properties["role"] for f in found]
    return Result(
        "burst-isolation", {"pipe": pipe, "source_id": source_id, "year": year, "valve_snap_m": VALVE_SNAP_M,
                            "service_m": SERVICE_M},
        {"valves_to_close": roles.count("close"), "valves_closed_already": roles.count("closed"),
         "isolated_pipes": len(isolated),
         "isolated_length_m": round(sum(f.properties.get("length_m") or 0 for f in found
                                        if f.properties["layer"] == "water_supply"), 1),
         "buildings_cut_off": len(buildings),
         "floor_area_cut_off_m2": round(sum(row[3] or 0 for row in buildings), 1),
         "seconds": round(time.perf_counter() - started, 3)},
        found)


def _burst_pipe(connection: psycopg.Connection, pipe: str, year: int, values: dict) -> tuple[str, str]:
    """The feature id and source id of the water-supply pipe ``pipe`` names, its feature id or its source
    id (of the version standing in ``year``); a 400 unless it names one pipe carrying water in ``year``."""
    query = compose("SELECT id::text, source, source_id, {standing}, status FROM {water_supply} "
                    "WHERE id = %(id)s OR source_id = %(pipe)s "
                    "ORDER BY id = %(id)s DESC, source, version DESC", "water_supply")
    feature_id = pipe if params.is_feature_id(pipe) else None
    rows = connection.execute(query, {**values, "id": feature_id, "pipe": pipe}).fetchall()
    if not rows:
        raise ParameterError.of("pipe", "no_pipe", value=pipe)
    if rows[0][0] != pipe:  # a source id: of one source, the version standing then (else the latest)
        sources = {}
        for row in rows:
            if row[1] not in sources or (row[3] and not sources[row[1]][3]):
                sources[row[1]] = row
        if len(sources) > 1:
            choices = "; ".join(f"{source}: {row[0]}" for source, row in sorted(sources.items()))
            raise ParameterError.of("pipe", "pipe_sources", value=pipe, count=len(sources), choices=choices)
        rows = list(sources.values())
    id_, _, source_id, standing, status = rows[0]
    if not standing or status in NO_WATER:
        raise ParameterError.of("pipe", "pipe_dry" if standing else "pipe_absent", value=pipe, year=year,
                                 status=status)
    return id_, source_id


BURST_ISOLATION = Analysis("burst-isolation", ("water_supply", "valves", "buildings"), _check, _compute)
