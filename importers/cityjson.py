"""CityJSON 1.1 and 2.0 buildings: Building and BuildingPart objects at LOD1 and LOD2.

Each object with geometry of its own becomes one building row (a Building whose geometry is all in its
parts gives rows for the parts only): its footprint (the GroundSurface where the semantics name one,
else the outline of all its faces seen from above), its height (measuredHeight, else the height of its
geometry), the ground height, and its 3D faces kept whole in the ``lod2`` column. The highest LOD an
object has is the one used. Integer vertices are decoded with the file's ``transform``; the CRS comes
from ``metadata.referenceSystem``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from importers.base import FixedLayers, Importer, ImportOptions, Records
from importers.geometry import footprint_of
from twin.errors import SourceError

BUILDING_TYPES = ("Building", "BuildingPart")
# How deep the faces lie in "boundaries" (a face: a list of rings), per geometry type. Others
# (MultiPoint, MultiLineString, GeometryInstance templates) carry no surfaces.
FACE_DEPTH = {"MultiSurface": 1, "CompositeSurface": 1, "Solid": 2, "MultiSolid": 3, "CompositeSolid": 3}
# Attribute names real files use, per twin attribute (3D BAG's Dutch names included); the first present wins.
KEYS = {
    "height_m": ("measuredHeight",),
    "ground_z_m": ("h_maaiveld", "b3_h_maaiveld"),
    "build_year": ("yearOfConstruction", "oorspronkelijk_bouwjaar", "oorspronkelijkbouwjaar", "bouwjaar",
                   "construction_year"),
    "roof_type": ("roofType", "dak_type", "b3_dak_type"),
    "floors": ("storeysAboveGround", "b3_bouwlagen", "bouwlagen"),
    "use": ("function", "usage"),
}
# Attributes of one part only: a part does not take these from its building.
PER_PART = ("height_m", "ground_z_m", "roof_type", "floors")
FLAT_M2 = 1e-6  # a face with less area than this seen from above is a wall
_MARK = re.compile(rb'"type"\s*:\s*"CityJSON"')
_EPSG = re.compile(r"EPSG(?:/0/|::|:)(\d+)", re.IGNORECASE)


class CityJSON(FixedLayers, Importer):
    format = "CityJSON"
    layers_fed = ("buildings",)

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        if path.suffix.lower() != ".json":
            return False
        # A .city.json is ours even when broken, so a truncated one gets CityJSON's error, not GeoJSON's.
        if path.name.lower().endswith(".city.json") or _MARK.search(head):
            return True
        # Writers may put "type" anywhere in the object, often last: look at the end of the file too.
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 65536))
            return _MARK.search(handle.read()) is not None

    def read(self, path: Path, options: ImportOptions) -> Records:
        if options.layer.id != "buildings":
            raise SourceError(f"{path}: CityJSON feeds the buildings layer, not '{options.layer.id}'; "
                              "import it with --layer buildings")
        document = _load(path)
        objects = document.get("CityObjects")
        if not isinstance(objects, dict) or not objects:
            raise SourceError(f"{path}: has no CityObjects; there is nothing to import")
        crs = _crs(path, document, options)
        vertices = _vertices(path, document)
        faces = _Faces()
        rows: list[dict] = []
        skipped: dict[str, int] = {}
        for position, (object_id, city_object) in enumerate(objects.items(), start=1):
            kind = city_object.get("type", "?") if isinstance(city_object, dict) else "?"
            if kind not in BUILDING_TYPES:
                skipped[kind] = skipped.get(kind, 0) + 1
                continue
            geometry = _highest_lod(city_object.get("geometry") or [])
            if geometry is None:
                if not city_object.get("children"):
                    skipped[f"{kind} without surfaces"] = skipped.get(f"{kind} without surfaces", 0) + 1
                continue  # a Building made of parts: the parts are its rows
            faces.add(len(rows), geometry)
            rows.append(_attributes(object_id, position, city_object, geometry, objects))
        solids, outlines, problems = faces.build(path, vertices, len(rows))
        notes = [f"{len(rows):,} buildings and building parts with geometry read"]
        if skipped:
            notes.append("not imported: " + ", ".join(f"{count:,} {kind}" for kind, count in sorted(skipped.items())))
        frame = pd.DataFrame(rows, columns=["id", "name", "row", *KEYS, "lod", "tags"])
        z = [shapely.get_coordinates(solid, include_z=True)[:, 2] if solid is not None else None for solid in solids]
        # Without the attributes, the geometry says: its height, its lowest point.
        frame["height_m"] = [v.max() - v.min() if _missing(h) and v is not None else h
                             for h, v in zip(frame["height_m"], z)]
        frame["ground_z_m"] = [v.min() if _missing(g) and v is not None else g for g, v in zip(frame["ground_z_m"], z)]
        frame["lod2"] = pd.Series(solids, dtype=object)
        footprints = np.array([footprint_of(faces) for faces in outlines], dtype=object)
        ids, names, row_numbers = frame.pop("id"), frame.pop("name"), frame.pop("row")
        return Records(geometry=footprints, attributes=frame.astype(object).where(frame.notna(), None), crs=crs,
                       row_numbers=row_numbers.to_numpy(int), source_ids=ids.to_numpy(object),
                       names=names.to_numpy(object), notes=notes, problems=problems)


def _load(path: Path) -> dict:
    try:
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                          "the file may be truncated") from None
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not UTF-8 text; CityJSON must be UTF-8") from None
    if not isinstance(document, dict) or document.get("type") != "CityJSON":
        raise SourceError(f"{path}: not a CityJSON document (no \"type\": \"CityJSON\" at its top level)")
    return document


def _vertices(path: Path, document: dict) -> np.ndarray:
    """The vertices in the CRS's units: CityJSON stores integers, scaled and shifted by ``transform``."""
    try:
        vertices = np.asarray(document.get("vertices") or [], dtype=float).reshape(-1, 3)
        transform = document.get("transform")
        if transform:
            vertices = vertices * np.asarray(transform["scale"], float) + np.asarray(transform["translate"], float)
    except (ValueError, TypeError, KeyError):
        raise SourceError(f"{path}: its vertices or transform are not lists of [x, y, z]") from None
    return vertices


def _crs(path: Path, document: dict, options: ImportOptions) -> CRS | None:
    """The file's CRS, or None when it names none (then the user gives --crs)."""
    reference = str((document.get("metadata") or {}).get("referenceSystem") or "").strip()
    if not reference:
        return None
    match = _EPSG.search(reference)
    try:
        return CRS.from_epsg(int(match.group(1))) if match else CRS.from_user_input(reference)
    except CRSError:
        if options.crs:
            return None  # the user's --crs wins anyway
        raise SourceError(f"{path}: its referenceSystem '{reference}' is not a CRS twin knows; "
                          "give the CRS with --crs (e.g. --crs EPSG:7415)") from None


def _highest_lod(geometries: list) -> dict | None:
    """The geometry with surfaces at the highest LOD ("2.2" over "1.3" over "1")."""
    def lod(geometry: dict) -> float:
        try:
            return float(str(geometry.get("lod", 0)))
        except ValueError:
            return 0.0

    usable = [g for g in geometries if isinstance(g, dict) and g.get("type") in FACE_DEPTH and g.get("boundaries")]
    return max(usable, key=lod) if usable else None


def _attributes(object_id: str, position: int, city_object: dict, geometry: dict, objects: dict) -> dict:
    """The row's attributes; those not used for a twin attribute go to ``tags``. A part takes its
    building's attributes that hold for the whole (build year, use, the rest as tags), not its heights."""
    parents = city_object.get("parents") or []
    parent = objects.get(parents[0]) if parents else None
    inherited = (parent.get("attributes") or {}) if isinstance(parent, dict) else {}
    per_part = {key for target in PER_PART for key in KEYS[target]} | {"name"}
    tags = {key: value for key, value in inherited.items() if key not in per_part}
    tags.update(city_object.get("attributes") or {})
    tags = {key: value for key, value in tags.items() if value not in ("", None)}
    row: dict = {"id": object_id, "row": position, "lod": str(geometry.get("lod"))}
    for target, keys in KEYS.items():
        key = next((key for key in keys if key in tags), None)
        row[target] = tags.pop(key) if key else None
    row["name"] = tags.pop("name", None) or object_id
    if parents:
        tags["parent"] = parents[0]
    row["tags"] = tags or None
    return row


@dataclass
class _Faces:
    """Every face of every row's geometry, flattened, so shapely builds the polygons in one call."""

    ring_vertices: list[list[int]] = field(default_factory=list)
    ring_face: list[int] = field(default_factory=list)
    face_row: list[int] = field(default_factory=list)
    face_ground: list[bool] = field(default_factory=list)

    def add(self, row: int, geometry: dict) -> None:
        depth = FACE_DEPTH[geometry["type"]]
        semantics = geometry.get("semantics") or {}
        kinds = [surface.get("type") for surface in semantics.get("surfaces") or []]
        for face, label in _walk(geometry["boundaries"], semantics.get("values"), depth):
            if not isinstance(face, list) or not face:
                continue
            rings = [ring for ring in face if isinstance(ring, list) and len(ring) >= 3]
            if not rings or rings[0] is not face[0]:
                continue  # no exterior ring of three vertices: not a surface
            face_index = len(self.face_row)
            self.face_row.append(row)
            self.face_ground.append(isinstance(label, int) and 0 <= label < len(kinds) and kinds[label] == "GroundSurface")
            self.ring_vertices.extend(ring + ring[:1] for ring in rings)  # closed: shapely then takes [a, b, a]
            self.ring_face.extend([face_index] * len(rings))

    def build(self, path: Path, vertices: np.ndarray, rows: int) -> tuple[list, list[list], dict[int, str]]:
        """Per row: its faces as one MultiPolygon Z, the faces its footprint is made of, and why a row
        could not be read."""
        solids: list = [None] * rows
        outlines: list[list] = [[] for _ in range(rows)]
        problems: dict[int, str] = {}
        if not self.ring_vertices:
            return solids, outlines, problems
        lengths = np.fromiter((len(ring) for ring in self.ring_vertices), int, len(self.ring_vertices))
        try:
            index = np.fromiter((i for ring in self.ring_vertices for i in ring), int, int(lengths.sum()))
        except (TypeError, ValueError):
            raise SourceError(f"{path}: a boundary holds something other than vertex indices; "
                              "the file does not follow CityJSON") from None
        ring_of_vertex = np.repeat(np.arange(len(lengths)), lengths)
        face_row = np.asarray(self.face_row)
        ring_row = face_row[np.asarray(self.ring_face)]
        bad = (index < 0) | (index >= len(vertices))
        for row in np.unique(ring_row[ring_of_vertex[bad]]):
            problems[int(row)] = f"a surface refers to a vertex beyond the file's {len(vertices):,} vertices"
        good_face = ~np.isin(face_row, list(problems))
        good_ring = good_face[self.ring_face]
        keep = good_ring[ring_of_vertex]
        # shapely wants its indices numbered 0..n-1: renumber the rings and faces kept.
        rings = shapely.linearrings(vertices[index[keep]], indices=_renumber(ring_of_vertex[keep]))
        polygons = shapely.polygons(rings, indices=_renumber(np.asarray(self.ring_face)[good_ring]))
        rows_kept = face_row[good_face]
        multi = shapely.multipolygons(polygons, indices=_renumber(rows_kept))
        for row, solid in zip(np.unique(rows_kept), multi):
            solids[row] = solid
        # The footprint's faces: the ground where the semantics name it, else every face not seen edge-on
        # from above (walls would only cost footprint_of a make_valid each).
        on_ground = np.asarray(self.face_ground)[good_face]
        has_ground = np.zeros(rows, bool)
        has_ground[rows_kept[on_ground]] = True
        upward = shapely.area(shapely.force_2d(polygons)) > FLAT_M2
        chosen = on_ground | (upward & ~has_ground[rows_kept])
        for polygon, row in zip(polygons[chosen], rows_kept[chosen]):
            outlines[row].append(polygon)
        return solids, outlines, problems


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _renumber(indices: np.ndarray) -> np.ndarray:
    return np.unique(indices, return_inverse=True)[1]


def _walk(boundaries: list, values: object, depth: int):
    """(face, semantic label) pairs of nested boundaries; ``values`` nests one level less deep."""
    if depth == 1:
        labels = values if isinstance(values, list) else [None] * len(boundaries)
        yield from zip(boundaries, labels + [None] * (len(boundaries) - len(labels)))
        return
    for position, item in enumerate(boundaries):
        if not isinstance(item, list):
            continue
        inner = values[position] if isinstance(values, list) and position < len(values) else None
        yield from _walk(item, inner, depth - 1)
