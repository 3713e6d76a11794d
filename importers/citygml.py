"""CityGML 1.0 and 2.0 buildings (bldg:Building, bldg:BuildingPart), streamed with lxml's iterparse:
GDAL's reader cannot make buildings of their polyhedral surfaces, and a whole city does not fit in
memory as one tree.

Each Building or BuildingPart with geometry of its own becomes one building row (a Building whose
geometry is all in its parts gives rows for the parts only), at its highest LOD: footprint from its
GroundSurfaces, else lod0FootPrint, else the outline of its faces; height from measuredHeight, else from
the faces; the faces kept whole in 3D. The CRS is the nearest srsName: on the geometry, else on the
nearest Envelope (the object's, then its parents'), else the model's.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from lxml import etree
from pyproj import CRS

from importers.base import FixedLayers, Importer, ImportOptions, Records, parse_crs
from importers.geometry import footprint_of
from twin.errors import SourceError

BUILDINGS = ("Building", "BuildingPart")
# Geometry properties with surfaces: lodNSolid, lodNMultiSurface, lodNMultiSolid, lodNGeometry
# (installations). Curves (lodNMultiCurve, lodNTerrainIntersection) and lod0RoofEdge are not the building.
_SURFACES = re.compile(r"^lod([1-4])(Solid|MultiSolid|MultiSurface|Geometry)$")
NO_GEOMETRY = {"appearance", "externalReference", "address", "genericAttribute"}  # not worth a walk
SURFACE_TAGS = ("Polygon", "Triangle", "Rectangle", "PolygonPatch")
# Bare names some writers put in srsName, as the EPSG CRS they mean.
SRS_NAMES = {"CH1903": "EPSG:21781", "CH1903+": "EPSG:2056", "LV03": "EPSG:21781", "LV95": "EPSG:2056"}
ATTRIBUTES = {"measuredHeight": "height_m", "yearOfConstruction": "build_year", "roofType": "roof_type",
              "storeysAboveGround": "floors", "function": "use"}
# What a BuildingPart takes from its Building (the rest of the Building's attributes go to its tags).
INHERITED = ("build_year", "use", "address")
COLUMNS = ["id", "name", "line", "geometry", "height_m", "ground_z_m", "build_year", "roof_type", "floors", "use",
           "address", "lod", "lod2", "tags"]
# Units of measuredHeight, in metres; CityGML writes uom as a symbol, "#m" or a URN.
METRES_PER = {"m": 1.0, "metre": 1.0, "meter": 1.0, "urn:ogc:def:uom:EPSG::9001": 1.0, "ft": 0.3048,
              "foot": 0.3048, "urn:ogc:def:uom:EPSG::9002": 0.3048, "ftUS": 1200 / 3937,
              "urn:ogc:def:uom:EPSG::9003": 1200 / 3937}
FLAT_M2 = 1e-6  # a face with less area than this seen from above is a wall
_ROOT = re.compile(rb"<(?:[\w.-]+:)?CityModel[\s>/]")
_EPSG = re.compile(r"EPSG(?:/0/|::|:)(\d+)", re.IGNORECASE)
GML_31 = "http://www.opengis.net/gml"
# Safe and unbounded: no entities resolved, nothing fetched, no size limit on a city's text nodes.
PARSER = {"huge_tree": True, "resolve_entities": False, "no_network": True, "remove_comments": True}


def _local(element: etree._Element) -> str:
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def _namespace(element: etree._Element) -> str:
    return element.tag[1:].partition("}")[0] if isinstance(element.tag, str) and element.tag[0] == "{" else ""


class CityGML(FixedLayers, Importer):
    format = "CityGML"
    layers_fed = ("buildings",)

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        # No other format reads .gml, so a .gml that is not CityGML gets CityGML's error, which says so.
        suffix = path.suffix.lower()
        return suffix in (".gml", ".citygml") or (suffix == ".xml" and _ROOT.search(head) is not None)

    def read(self, path: Path, options: ImportOptions) -> Records:
        if options.layer.id != "buildings":
            raise SourceError(f"{path}: CityGML feeds the buildings layer, not '{options.layer.id}'; "
                              "import it with --layer buildings")
        reader = _Reader(path)
        try:
            reader.run()
        except etree.XMLSyntaxError as exc:
            raise SourceError(f"{path}: not well-formed XML at line {exc.lineno} ({exc.msg}); "
                              "the file may be truncated") from None
        rows = reader.rows
        srs_names = {row.pop("srs") or reader.model_srs for row in rows} - {None}
        # One CRS may be written several ways ("EPSG:28992", its URL): compare the CRSs, not the names.
        crss = {crs.to_wkt(): crs for crs in (_crs(path, name) for name in srs_names)}
        if len(crss) > 1:
            raise SourceError(f"{path}: buildings in several CRSs ({', '.join(sorted(srs_names))}); split the file")
        crs = next(iter(crss.values()), None)
        notes = [f"{len(rows):,} buildings and building parts with geometry read"]
        if reader.skipped:
            notes.append("not imported: " + ", ".join(f"{n:,} {kind}" for kind, n in sorted(reader.skipped.items())))
        frame = pd.DataFrame(rows, columns=COLUMNS)
        # A row whose coordinates could not be read has no geometry: None, not the NaN pandas fills in.
        geometry = np.array([g if isinstance(g, shapely.Geometry) else None for g in frame.pop("geometry")], object)
        ids, names, lines = frame.pop("id"), frame.pop("name"), frame.pop("line")
        return Records(geometry=geometry, attributes=frame.astype(object).where(frame.notna(), None), crs=crs,
                       row_numbers=lines.to_numpy(int), source_ids=ids.to_numpy(object),
                       names=names.to_numpy(object), notes=notes, problems=reader.problems)


class _Reader:
    """One pass over the file: each top-level member is read, then dropped from memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.gml = f"{{{GML_31}}}"
        self.model_srs: str | None = None
        self.rows: list[dict] = []
        self.problems: dict[int, str] = {}
        self.skipped: dict[str, int] = {}

    def run(self) -> None:
        self._check_root()
        members = ("{*}cityObjectMember", "{*}featureMember", f"{self.gml}boundedBy")
        for _, element in etree.iterparse(str(self.path), events=("end",), tag=members, **PARSER):
            root = element.getparent()
            if root is None or root.getparent() is not None:
                continue  # not a child of the model: a building's own envelope, read with the building
            if element.tag == f"{self.gml}boundedBy":
                self.model_srs = _envelope_srs(element, self.gml)
            else:
                self._member(element)
            element.clear()
            while element.getprevious() is not None:  # done with: free it, and what came before it
                del root[0]

    def _check_root(self) -> None:
        """Refuse a file that is not CityGML at its first element, before reading it all."""
        root = next((element for _, element in etree.iterparse(str(self.path), events=("start",), **PARSER)), None)
        if root is None or _local(root) != "CityModel" or "citygml" not in _namespace(root):
            name = _local(root) if root is not None else "missing"
            raise SourceError(f"{self.path}: not a CityGML document (its root is {name}, not a CityGML "
                              "CityModel); twin reads CityGML 1.0 and 2.0")
        gml = [uri for uri in root.nsmap.values() if uri and uri.startswith(GML_31)]
        if gml:
            self.gml = f"{{{min(gml)}}}"

    def _member(self, member: etree._Element) -> None:
        """The rows of one cityObjectMember: its Building and every BuildingPart in it."""
        for feature in member:
            if isinstance(feature.tag, str) and _local(feature) not in BUILDINGS:
                self.skipped[_local(feature)] = self.skipped.get(_local(feature), 0) + 1
        for element in member.iter("{*}Building", "{*}BuildingPart"):
            if "/building/" not in _namespace(element):
                continue
            try:
                row = _building(element, self.gml)
            except ValueError as exc:
                row = {"id": element.get(f"{self.gml}id"), "line": element.sourceline, "srs": None}
                self.problems[len(self.rows)] = str(exc)
            if row is not None:
                self.rows.append(row)


def _properties(element: etree._Element, gml: str):
    """The building's geometry properties (lod1Solid, lod2MultiSurface in its boundedBy surfaces, ...) in
    document order, not its parts' (parts are rows of their own)."""
    stack = list(reversed(element))
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str) or node.tag == f"{gml}boundedBy":
            continue
        name = _local(node)
        if name in BUILDINGS or name in NO_GEOMETRY:
            continue
        if name == "lod0FootPrint" or _SURFACES.match(name):
            yield node, name
        else:
            stack.extend(reversed(node))


def _building(element: etree._Element, gml: str) -> dict | None:
    """One row; None for a building with no geometry of its own. ValueError: coordinates unreadable."""
    surfaces: list[list[np.ndarray]] = []
    where: list[tuple[int, bool]] = []  # per surface: its LOD (-1: lod0FootPrint), whether it is ground
    srs = None
    for node, name in _properties(element, gml):
        match = _SURFACES.match(name)
        on_ground = match is not None and _local(node.getparent()) == "GroundSurface"
        for surface in node.iter(*(f"{gml}{tag}" for tag in SURFACE_TAGS)):
            if rings := _rings(surface, gml):
                surfaces.append(rings)
                where.append((int(match.group(1)) if match else -1, on_ground))
        if srs is None and (named := next(node.iterfind(".//*[@srsName]"), None)) is not None:
            srs = named.get("srsName")
    by_lod: dict[int, list] = {}
    ground: dict[int, list] = {}
    for polygon, (lod, on_ground) in zip(_polygons(surfaces), where):
        by_lod.setdefault(lod, []).append(polygon)
        if on_ground:
            ground.setdefault(lod, []).append(polygon)
    footprint = by_lod.pop(-1, [])
    by_lod = {lod: _unique(faces) for lod, faces in by_lod.items() if faces}
    if not by_lod and not footprint:
        return None
    lod = max(by_lod) if by_lod else 0
    faces = by_lod.get(lod, [])
    solid = shapely.MultiPolygon(faces) if faces and all(shapely.has_z(faces)) else None
    z = shapely.get_coordinates(solid if solid is not None else footprint, include_z=True)[:, 2]
    attributes, tags = _attributes(element, gml)
    height = attributes.pop("height_m", None)
    return {
        "id": element.get(f"{gml}id") or f"{_local(element)} at line {element.sourceline}",
        "name": tags.pop("name", None) or element.get(f"{gml}id"),
        "line": element.sourceline,
        "geometry": footprint_of(ground.get(lod) or footprint or _seen_from_above(faces)),
        "height_m": height if height is not None else (float(np.ptp(z)) if solid is not None else None),
        "ground_z_m": float(np.nanmin(z)) if not np.isnan(z).all() else None,
        "lod": str(lod),
        "lod2": solid,
        "tags": tags or None,
        "srs": srs or _nearest_envelope_srs(element, gml),
        **attributes,
    }


def _seen_from_above(faces: list) -> list:
    """The faces that show from above: walls (no area in plan) would only cost footprint_of a make_valid each."""
    return [face for face, area in zip(faces, shapely.area(shapely.force_2d(faces))) if area > FLAT_M2]


def _attributes(element: etree._Element, gml: str) -> tuple[dict[str, object], dict[str, object]]:
    """The building's own attributes (its direct children): twin's, and the rest as tags. ValueError for a
    measuredHeight in an unknown unit."""
    attributes: dict[str, object] = {}
    tags: dict[str, object] = {}
    parent = next((a for a in element.iterancestors() if _local(a) in BUILDINGS), None)
    if parent is not None:  # a part takes what holds for its whole building: not heights, not its name
        inherited, tags = _attributes(parent, gml)
        attributes = {key: value for key, value in inherited.items() if key in INHERITED}
        tags.pop("name", None)
        tags["parent"] = parent.get(f"{gml}id")
    for child in element:
        name, text = _local(child), (child.text or "").strip()
        if name == "measuredHeight" and text:
            unit = (child.get("uom") or "m").lstrip("#")
            if unit not in METRES_PER:
                raise ValueError(f"measuredHeight in a unit twin does not know ('{unit}')")
            attributes["height_m"] = float(text) * METRES_PER[unit]
        elif name in ATTRIBUTES and text:
            attributes[ATTRIBUTES[name]] = text
        elif name.endswith("Attribute") and child.get("name"):  # generic attributes: gen:stringAttribute etc.
            tags[child.get("name")] = _generic(name, (child.findtext("{*}value") or "").strip())
        elif name == "externalReference":
            system, obj = child.findtext("{*}informationSystem"), child.find("{*}externalObject")
            if system and obj is not None:
                tags[system.strip()] = (obj.findtext("{*}name") or obj.findtext("{*}uri") or "").strip()
        elif name == "address":
            words = [leaf.text.strip() for leaf in child.iter() if len(leaf) == 0 and leaf.text and leaf.text.strip()]
            attributes["address"] = " ".join(words) or None
        elif name in ("name", "class", "usage", "creationDate", "description") and text:
            tags[name] = text
    return attributes, tags


def _generic(kind: str, text: str) -> object:
    """A generic attribute's value as its kind says (gen:intAttribute as a number, in the tags' JSON)."""
    try:
        return int(text) if kind == "intAttribute" else float(text) if kind == "doubleAttribute" else text or None
    except ValueError:
        return text


def _unique(faces: list) -> list:
    """Faces without repeats: some writers put a face both in lodNSolid and in a boundedBy surface."""
    seen: set[bytes] = set()
    out = []
    for face, key in zip(faces, shapely.to_wkb(faces)):
        if key not in seen:
            seen.add(key)
            out.append(face)
    return out


def _rings(surface: etree._Element, gml: str) -> list[np.ndarray] | None:
    """A surface's rings, exterior first; None when it has no exterior of three points."""
    exterior = surface.find(f"{gml}exterior")
    if exterior is None:
        exterior = surface.find(f"{gml}outerBoundaryIs")  # GML 2 names, still seen in CityGML 1.0
    if exterior is None:
        return None
    interiors = surface.findall(f"{gml}interior") + surface.findall(f"{gml}innerBoundaryIs")
    rings = [_ring(boundary, gml) for boundary in [exterior, *interiors]]
    closed = [len(r) >= 4 or (len(r) == 3 and not np.array_equal(r[0], r[-1])) for r in rings]
    return [ring for ring, ok in zip(rings, closed) if ok] if closed[0] else None


def _polygons(surfaces: list[list[np.ndarray]]) -> list[shapely.Polygon]:
    """Polygons of many surfaces' rings, built by shapely in one call."""
    if not surfaces:
        return []
    rings = [ring for surface in surfaces for ring in surface]
    if len({ring.shape[1] for ring in rings}) > 1:
        raise ValueError("2D and 3D points mixed in its surfaces")
    ring_index = np.repeat(np.arange(len(rings)), [len(ring) for ring in rings])
    face_index = np.repeat(np.arange(len(surfaces)), [len(surface) for surface in surfaces])
    return list(shapely.polygons(shapely.linearrings(np.concatenate(rings), indices=ring_index), indices=face_index))


def _ring(boundary: etree._Element, gml: str) -> np.ndarray:
    """A ring's coordinates from gml:posList, gml:pos elements or GML 2's gml:coordinates."""
    ring = boundary.find(f"{gml}LinearRing")
    if ring is None:
        return np.empty((0, 3))
    line = ring.sourceline
    pos_list = ring.find(f"{gml}posList")
    try:
        if pos_list is not None:
            numbers = np.asarray((pos_list.text or "").split(), float)
            dimension = int(_dimension(pos_list) or (3 if len(numbers) % 3 == 0 else 2))
            if len(numbers) % dimension:
                raise ValueError(f"line {line}: {len(numbers)} numbers in a posList of {dimension}D points")
            return numbers.reshape(-1, dimension)
        coordinates = ring.find(f"{gml}coordinates")
        if coordinates is not None:
            separator, tuples = coordinates.get("cs", ","), coordinates.get("ts", " ")
            points = [point.split(separator) for point in (coordinates.text or "").split(tuples) if point.strip()]
        else:
            points = [(pos.text or "").split() for pos in ring.iter(f"{gml}pos")]
        if len({len(point) for point in points}) > 1:
            raise ValueError(f"line {line}: points of different dimensions in one ring")
        return np.asarray(points, float).reshape(len(points), -1)
    except ValueError as exc:
        if str(exc).startswith("line "):
            raise
        raise ValueError(f"line {line}: coordinates that are not numbers") from None


def _dimension(element: etree._Element) -> str | None:
    """srsDimension on the element or the nearest geometry above it that states one."""
    for node in (element, *element.iterancestors()):
        if node.get("srsDimension"):
            return node.get("srsDimension")
    return None


def _nearest_envelope_srs(element: etree._Element, gml: str) -> str | None:
    """srsName of the building's own gml:boundedBy envelope, else of the buildings it is a part of."""
    for node in (element, *(a for a in element.iterancestors() if _local(a) in BUILDINGS)):
        boundary = node.find(f"{gml}boundedBy")
        if boundary is not None and (srs := _envelope_srs(boundary, gml)):
            return srs
    return None


def _envelope_srs(boundary: etree._Element, gml: str) -> str | None:
    envelope = boundary.find(f"{gml}Envelope")
    return envelope.get("srsName") if envelope is not None else None


def _crs(path: Path, srs_name: str) -> CRS:
    name = srs_name.strip()
    if name in SRS_NAMES:
        return CRS.from_user_input(SRS_NAMES[name])
    match = _EPSG.search(name)
    return parse_crs(f"EPSG:{match.group(1)}" if match else name, f"{path}: srsName")
