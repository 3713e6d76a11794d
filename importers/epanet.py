"""EPANET 2 network files (.inp): water-supply pipes in 3D, and the network's valves.

A pipe runs from its start node through its [VERTICES] to its end node; its height at each vertex is
interpolated between the two nodes' elevations (junction elevation, tank elevation, reservoir head),
so the network is real 3D. EPANET files carry no CRS: the user gives it with --crs. In US flow units
(CFS, GPM, MGD, IMGD, AFD) diameters are inches and elevations feet; in SI units, millimetres and metres.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from importers.base import FixedLayers, Importer, ImportOptions, Records
from importers.inp_sections import (
    US_UNITS, Row, coordinates, fractions, need, number, read_sections, section_names, vertices,
)
from twin.errors import SourceError

US_FLOW_UNITS = {"CFS", "GPM", "MGD", "IMGD", "AFD"}
PIPE_LAYERS = {"water_supply", "reclaimed_water"}
VALVE_TYPES = {"PRV": "pressure_reducing", "PSV": "pressure_reducing", "PBV": "pressure_reducing",
               "FCV": "gate", "TCV": "butterfly", "GPV": "gate"}


class EPANET(FixedLayers, Importer):
    format = "EPANET"
    layers_fed = ("water_supply", "valves")  # reclaimed water only by --layer

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        names = section_names(head)
        return path.suffix.lower() == ".inp" and bool(names & {"PIPES", "JUNCTIONS", "RESERVOIRS"}) and \
            not names & {"CONDUITS", "SUBCATCHMENTS", "OUTFALLS"}

    def read(self, path: Path, options: ImportOptions) -> Records:
        sections = read_sections(path)
        if "PIPES" not in sections and "JUNCTIONS" not in sections:
            raise SourceError(f"{path}: no [PIPES] or [JUNCTIONS]: not an EPANET network")
        units = _units(sections)
        to_metres = US_UNITS if units in US_FLOW_UNITS else 1.0
        to_mm = 25.4 if units in US_FLOW_UNITS else 1.0
        elevation = _elevations(path, sections, to_metres)
        where = coordinates(path, sections)
        bends = vertices(path, sections)
        if options.layer.id in PIPE_LAYERS:
            links, kind = sections.get("PIPES", []), "PIPES"
        elif options.layer.id == "valves":
            links, kind = sections.get("VALVES", []), "VALVES"
        else:
            raise SourceError(f"{path}: an EPANET network feeds the layers water_supply, reclaimed_water or "
                              f"valves, not '{options.layer.id}'")
        geometry = np.full(len(links), None, dtype=object)
        problems: dict[int, str] = {}
        diameters = np.full(len(links), np.nan)
        columns: dict[str, list] = {"status": [], "valve_type": []}
        for index, row in enumerate(links):
            need(path, kind, row, 5 if kind == "PIPES" else 4, "id, start node, end node, ...")
            start, end = row.fields[1], row.fields[2]
            missing = [node for node in (start, end) if node not in where or node not in elevation]
            if missing:
                problems[index] = f"node {missing[0]} has no coordinates or elevation in the file"
            else:
                geometry[index] = _line(where[start], bends.get(row.fields[0], []), where[end],
                                        elevation[start], elevation[end], kind == "VALVES")
            diameter_at = 4 if kind == "PIPES" else 3
            diameters[index] = number(path, kind, row, diameter_at) * to_mm
            columns["status"].append(_status(row, kind))
            columns["valve_type"].append(VALVE_TYPES.get(row.fields[4].upper()) if kind == "VALVES" and len(row.fields) > 4 else None)
        attributes = pd.DataFrame({"diameter_mm": diameters, "status": columns["status"]})
        if kind == "VALVES":
            attributes["valve_type"] = columns["valve_type"]
            attributes["utility"] = "water_supply"
        notes = [f"{len(links):,} {kind.lower()} read; units {units}: "
                 f"{'inches and feet converted to mm and m' if to_metres != 1.0 else 'mm and m'}"]
        return Records(geometry=geometry, attributes=attributes, crs=None,
                       row_numbers=np.array([row.line for row in links]),
                       source_ids=np.array([row.fields[0] for row in links], dtype=object),
                       notes=notes, problems=problems)


def _units(sections: dict[str, list[Row]]) -> str:
    for row in sections.get("OPTIONS", []):
        if row.fields[0].upper() == "UNITS" and len(row.fields) > 1:
            return row.fields[1].upper()
    return "GPM"  # EPANET's own default


def _elevations(path: Path, sections: dict[str, list[Row]], to_metres: float) -> dict[str, float]:
    heights: dict[str, float] = {}
    for section in ("JUNCTIONS", "RESERVOIRS", "TANKS"):
        for row in sections.get(section, []):
            need(path, section, row, 2, "id, elevation")
            heights[row.fields[0]] = number(path, section, row, 1) * to_metres
    return heights


def _line(start: tuple[float, float], bends: list[tuple[float, float]], end: tuple[float, float],
          z_start: float, z_end: float, midpoint: bool) -> shapely.Geometry:
    points = np.array([start, *bends, end], dtype=float)
    z = z_start + (z_end - z_start) * fractions(points)
    if midpoint:  # a valve is a link in EPANET, a fitting in the twin: its middle
        line = shapely.LineString(np.column_stack([points, z]))
        return shapely.line_interpolate_point(line, 0.5, normalized=True)
    return shapely.LineString(np.column_stack([points, z]))


def _status(row: Row, kind: str) -> str | None:
    if kind != "PIPES" or len(row.fields) < 8:
        return None
    return {"OPEN": "in_service", "CV": "in_service", "CLOSED": "in_service"}.get(row.fields[7].upper())
