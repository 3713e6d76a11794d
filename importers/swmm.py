"""SWMM 5 drainage models (.inp): conduits of the rainwater or sewage network, and their manholes.

A conduit's invert at each end is its node's invert elevation plus the conduit's offset there (with
LINK_OFFSETS DEPTH, the default, an offset is a height above the node's invert; with ELEVATION it is the
elevation itself, ``*`` meaning the node's). The pipeline then puts the pipe's centre half a diameter
above the invert, so gravity drainage falls as the model says. Nodes become manholes at their invert,
with their depth and cover level. SWMM files carry no CRS: the user gives it with --crs. In US flow
units (CFS, GPM, MGD) lengths are feet; in SI units (CMS, LPS, MLD) metres.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from importers.base import FixedLayers, Importer, ImportOptions, Records
from importers.inp_sections import US_UNITS, Row, coordinates, need, number, read_sections, section_names, vertices
from twin.errors import SourceError

US_FLOW_UNITS = {"CFS", "GPM", "MGD"}
PIPE_LAYERS = {"rainwater", "sewage"}
ROUND = {"CIRCULAR", "FORCE_MAIN", "FILLED_CIRCULAR"}
# Node sections: name, invert elevation, then its maximum depth where the section has one.
NODE_SECTIONS = {"JUNCTIONS": True, "STORAGE": True, "OUTFALLS": False, "DIVIDERS": True}


class SWMM(FixedLayers, Importer):
    format = "SWMM"
    layers_fed = ("rainwater", "manholes")  # SWMM models storm water; sewage by --layer

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        names = section_names(head)
        return path.suffix.lower() == ".inp" and bool(names & {"CONDUITS", "SUBCATCHMENTS", "OUTFALLS", "XSECTIONS"})

    def read(self, path: Path, options: ImportOptions) -> Records:
        sections = read_sections(path)
        if "CONDUITS" not in sections and not any(name in sections for name in NODE_SECTIONS):
            raise SourceError(f"{path}: no [CONDUITS] or nodes: not a SWMM model")
        scale = US_UNITS if _option(sections, "FLOW_UNITS", "CFS") in US_FLOW_UNITS else 1.0
        nodes = _nodes(path, sections, scale)
        where = coordinates(path, sections)
        if options.layer.id in PIPE_LAYERS:
            return _conduits(path, sections, nodes, where, scale)
        if options.layer.id == "manholes":
            return _manholes(nodes, where, options)
        raise SourceError(f"{path}: a SWMM model feeds the layers rainwater, sewage or manholes, "
                          f"not '{options.layer.id}'")


def _option(sections: dict[str, list[Row]], name: str, default: str) -> str:
    for row in sections.get("OPTIONS", []):
        if row.fields[0].upper() == name and len(row.fields) > 1:
            return row.fields[1].upper()
    return default


def _nodes(path: Path, sections: dict[str, list[Row]], scale: float) -> dict[str, tuple[Row, str, float, float]]:
    """name -> (row, section, invert m, max depth m)."""
    nodes: dict[str, tuple[Row, str, float, float]] = {}
    for section, has_depth in NODE_SECTIONS.items():
        for row in sections.get(section, []):
            need(path, section, row, 3 if has_depth else 2, "name, invert elevation, ...")
            depth = number(path, section, row, 2) * scale if has_depth else 0.0
            nodes[row.fields[0]] = (row, section, number(path, section, row, 1) * scale, depth)
    return nodes


def _conduits(path: Path, sections: dict[str, list[Row]], nodes: dict, where: dict, scale: float) -> Records:
    conduits = sections.get("CONDUITS", [])
    shapes = {row.fields[0]: row for row in sections.get("XSECTIONS", [])}
    bends = vertices(path, sections)
    by_elevation = _option(sections, "LINK_OFFSETS", "DEPTH") == "ELEVATION"
    n = len(conduits)
    geometry = np.full(n, None, dtype=object)
    values = {name: np.full(n, np.nan) for name in
              ("start_invert_m", "end_invert_m", "diameter_mm", "section_width_mm", "section_height_mm")}
    problems: dict[int, str] = {}
    for index, row in enumerate(conduits):
        need(path, "CONDUITS", row, 7, "name, from node, to node, length, roughness, in offset, out offset")
        start, end = row.fields[1], row.fields[2]
        missing = [node for node in (start, end) if node not in nodes or node not in where]
        if missing:
            problems[index] = f"node {missing[0]} has no invert or no coordinates in the file"
            continue
        geometry[index] = shapely.LineString([where[start], *bends.get(row.fields[0], []), where[end]])
        for column, node, field in (("start_invert_m", start, 5), ("end_invert_m", end, 6)):
            invert = nodes[node][2]
            if row.fields[field] == "*":
                values[column][index] = invert
            else:
                offset = number(path, "CONDUITS", row, field) * scale
                values[column][index] = offset if by_elevation else invert + offset
        shape = shapes.get(row.fields[0])
        if shape is None:
            problems[index] = f"conduit {row.fields[0]} has no [XSECTIONS] row"
            continue
        need(path, "XSECTIONS", shape, 3, "link, shape, geom1")
        height = number(path, "XSECTIONS", shape, 2) * scale * 1000
        if shape.fields[1].upper() in ROUND:
            values["diameter_mm"][index] = height
        else:
            values["section_height_mm"][index] = height
            if len(shape.fields) > 3:
                values["section_width_mm"][index] = number(path, "XSECTIONS", shape, 3) * scale * 1000
    unit = "feet converted to metres" if scale != 1.0 else "metres"
    return Records(geometry=geometry, attributes=pd.DataFrame(values), crs=None,
                   row_numbers=np.array([row.line for row in conduits]),
                   source_ids=np.array([row.fields[0] for row in conduits], dtype=object),
                   notes=[f"{n:,} conduits read ({unit})"], problems=problems)


def _manholes(nodes: dict, where: dict, options: ImportOptions) -> Records:
    names = list(nodes)
    geometry = np.full(len(names), None, dtype=object)
    problems: dict[int, str] = {}
    inverts, depths = np.zeros(len(names)), np.zeros(len(names))
    for index, name in enumerate(names):
        _, _, invert, depth = nodes[name]
        inverts[index], depths[index] = invert, depth
        if name in where:
            geometry[index] = shapely.Point(*where[name], invert)  # at its invert: real 3D
        else:
            problems[index] = f"node {name} has no coordinates in the file"
    attributes = pd.DataFrame({
        "invert_m": inverts, "depth_m": depths, "cover_z_m": inverts + depths,
        "utility": [options.layer.id if options.layer.id in PIPE_LAYERS else None] * len(names),
        "node_type": [nodes[name][1].lower() for name in names],
    })
    return Records(geometry=geometry, attributes=attributes, crs=None,
                   row_numbers=np.array([nodes[name][0].line for name in names]),
                   source_ids=np.array(names, dtype=object), problems=problems)
