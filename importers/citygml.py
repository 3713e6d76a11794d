"""CityGML 1.0 and 2.0 buildings (bldg:Building, bldg:BuildingPart), parsed with lxml: GDAL's reader
cannot make buildings of their polyhedral surfaces.

Each Building or BuildingPart with geometry of its own becomes one building row, at its highest LOD
(lod4 down to lod0 footprints): footprint from its GroundSurfaces or lod0FootPrint, else the outline of
its faces; height from measuredHeight, else from the faces; the faces kept whole as 3D. The CRS is the
nearest srsName: on the geometry, on the object's or the model's Envelope.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from lxml import etree
from pyproj import CRS

from importers.base import Importer, ImportOptions, Records, parse_crs
from importers.geometry import footprint_of
from twin.errors import SourceError

GML = "{http://www.opengis.net/gml}"
BUILDINGS = ("Building", "BuildingPart")
_LOD = re.compile(r"^lod(\d)")
# Bare names some writers put in srsName, as the EPSG CRS they mean.
SRS_NAMES = {"CH1903": "EPSG:21781", "CH1903+": "EPSG:2056", "LV03": "EPSG:21781", "LV95": "EPSG:2056"}
ATTRIBUTES = {"measuredHeight": "height_m", "yearOfConstruction": "build_year", "roofType": "roof_type",
              "storeysAboveGround": "floors", "function": "use"}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


class CityGML(Importer):
    format = "CityGML"
    suffixes = (".gml", ".citygml")
    priority = 10

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        return path.suffix.lower() in (".gml", ".citygml", ".xml") and b"CityModel" in head

    def read(self, path: Path, options: ImportOptions) -> Records:
        if options.layer.id != "buildings":
            raise SourceError(f"{path}: CityGML feeds the buildings layer, not '{options.layer.id}'")
        try:
            root = etree.parse(str(path), etree.XMLParser(huge_tree=True, resolve_entities=False)).getroot()
        except etree.XMLSyntaxError as exc:
            raise SourceError(f"{path}: not well-formed XML at line {exc.lineno} ({exc.msg}); "
                              "the file may be truncated") from None
        if _local(root) != "CityModel" or "citygml" not in (etree.QName(root).namespace or ""):
            raise SourceError(f"{path}: not a CityGML document (its root is {_local(root) or root.tag})")
        model_srs = _envelope_srs(root)
        rows, srs_names = [], set()
        for element in root.iter():
            if _local(element) in BUILDINGS and "building" in (etree.QName(element).namespace or ""):
                row = _building(path, element)
                if row is not None:
                    srs_names.add(row.pop("srs") or model_srs)
                    rows.append(row)
        srs_names.discard(None)
        if len(srs_names) > 1:
            raise SourceError(f"{path}: buildings in several CRSs ({', '.join(sorted(srs_names))}); split the file")
        crs = _crs(path, srs_names.pop()) if srs_names else None
        frame = pd.DataFrame(rows)
        geometry = frame.pop("geometry").to_numpy(object) if rows else np.array([], dtype=object)
        ids = frame.pop("id").to_numpy(object) if rows else None
        return Records(geometry=geometry, attributes=frame, crs=crs, source_ids=ids,
                       notes=[f"{len(rows):,} buildings and building parts with geometry read"])


def _own(element: etree._Element):
    """Descendants of a building that are not inside one of its parts (parts are rows of their own)."""
    for child in element:
        if _local(child) in BUILDINGS:
            continue
        yield child
        yield from _own(child)


def _building(path: Path, element: etree._Element) -> dict | None:
    by_lod: dict[int, list] = {}
    ground: list = []
    footprint: list = []
    attributes: dict[str, object] = {}
    tags: dict[str, object] = {}
    srs = None
    for node in _own(element):
        name = _local(node)
        match = _LOD.match(name)
        if match and name != "lod0RoofEdge":
            polygons = [_polygon(path, polygon) for polygon in node.iter(f"{GML}Polygon")]
            polygons = [polygon for polygon in polygons if polygon is not None]
            target = footprint if name == "lod0FootPrint" else by_lod.setdefault(int(match.group(1)), [])
            target.extend(polygons)
            if _surface_kind(node) == "GroundSurface":
                ground.extend(polygons)
        elif name in ATTRIBUTES and node.text and node.text.strip():
            attributes[ATTRIBUTES[name]] = node.text.strip()
        elif name in ("stringAttribute", "intAttribute", "doubleAttribute", "dateAttribute"):
            value = node.find("{*}value")
            if node.get("name") and value is not None:
                tags[node.get("name")] = value.text
        elif name == "class" and node.text:
            tags["class"] = node.text.strip()
        elif name == "Envelope" and node.get("srsName") and srs is None:
            srs = node.get("srsName")
        if srs is None and name in ("Polygon", "MultiSurface", "Solid") and node.get("srsName"):
            srs = node.get("srsName")
    faces = by_lod[max(by_lod)] if by_lod else footprint
    if not faces:
        return None
    lod = str(max(by_lod)) if by_lod else "0"
    solid = shapely.MultiPolygon(faces) if by_lod else None
    z = shapely.get_coordinates(shapely.MultiPolygon(faces), include_z=True)[:, 2]
    parent = element.getparent()
    while parent is not None and _local(parent) != "Building":
        parent = parent.getparent()
    if parent is not None and parent is not element:
        tags["parent"] = parent.get(f"{GML}id")
    height = attributes.pop("height_m", None)
    return {
        "id": element.get(f"{GML}id") or f"{_local(element)}@{element.sourceline}",
        "geometry": footprint_of(ground or footprint or faces),
        "height_m": float(height) if height is not None else float(np.nanmax(z) - np.nanmin(z)),
        "ground_z_m": float(np.nanmin(z)),
        "lod": lod,
        "lod2": solid,
        "tags": tags or None,
        "srs": srs,
        **attributes,
    }


def _surface_kind(node: etree._Element) -> str | None:
    parent = node.getparent()
    return _local(parent) if parent is not None else None


def _polygon(path: Path, polygon: etree._Element) -> shapely.Polygon | None:
    rings = []
    for ring in polygon.iter(f"{GML}LinearRing"):
        rings.append(_coordinates(path, ring))
    rings = [ring for ring in rings if len(ring) >= 3]
    return shapely.Polygon(rings[0], rings[1:]) if rings else None


def _coordinates(path: Path, ring: etree._Element) -> np.ndarray:
    pos_list = ring.find(f"{GML}posList")
    try:
        if pos_list is not None:
            dimension = int(pos_list.get("srsDimension") or ring.get("srsDimension") or 3)
            return np.asarray((pos_list.text or "").split(), float).reshape(-1, dimension)
        return np.asarray([(pos.text or "").split() for pos in ring.iter(f"{GML}pos")], float)
    except ValueError:
        raise SourceError(f"{path}: line {ring.sourceline}: coordinates that are not numbers") from None


def _envelope_srs(root: etree._Element) -> str | None:
    for child in root:
        if _local(child) == "boundedBy":
            envelope = child.find(f"{GML}Envelope")
            if envelope is not None and envelope.get("srsName"):
                return envelope.get("srsName")
    return None


def _crs(path: Path, srs_name: str) -> CRS:
    name = srs_name.strip()
    if name in SRS_NAMES:
        return CRS.from_user_input(SRS_NAMES[name])
    match = re.search(r"EPSG(?:/0/|::|:)(\d+)", name, re.IGNORECASE)
    return parse_crs(f"EPSG:{match.group(1)}" if match else name, f"{path}: srsName")
