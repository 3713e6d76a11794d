"""CityJSON 1.1 and 2.0 buildings: Building and BuildingPart objects at LOD1 and LOD2.

Each object with geometry becomes one building row: its footprint (the GroundSurface where the
semantics name one, else the outline of all its faces seen from above), its height (measuredHeight,
else the height of its geometry), the ground height, and its 3D faces kept whole in the ``lod2``
column, in the twin's CRS. The highest LOD an object has is the one used. Integer vertices are
decoded with the file's ``transform``; the CRS comes from ``metadata.referenceSystem``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from importers.base import Importer, ImportOptions, Records
from importers.geometry import footprint_of
from twin.errors import SourceError

BUILDING_TYPES = ("Building", "BuildingPart")
# Attribute names real files use, per twin attribute.
YEAR_KEYS = ("yearOfConstruction", "oorspronkelijk_bouwjaar", "oorspronkelijkbouwjaar", "bouwjaar", "construction_year")
ROOF_KEYS = ("roofType", "dak_type", "b3_dak_type")
GROUND_KEYS = ("h_maaiveld", "b3_h_maaiveld")
FLOOR_KEYS = ("storeysAboveGround", "b3_bouwlagen")
_MARK = re.compile(rb'"type"\s*:\s*"CityJSON"')
_EPSG = re.compile(r"EPSG(?:/0/|::|:)(\d+)", re.IGNORECASE)


class CityJSON(Importer):
    format = "CityJSON"
    suffixes = (".json",)
    priority = 10

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        if path.suffix.lower() != ".json":
            return False
        if path.name.lower().endswith(".city.json") or _MARK.search(head):
            return True
        # Writers put "type" anywhere in the object, often last: look at the end of the file too.
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 65536))
            return _MARK.search(handle.read()) is not None

    def read(self, path: Path, options: ImportOptions) -> Records:
        if options.layer.id != "buildings":
            raise SourceError(f"{path}: CityJSON feeds the buildings layer, not '{options.layer.id}'")
        try:
            document = json.loads(path.read_bytes())
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                              "the file may be truncated") from None
        except UnicodeDecodeError:
            raise SourceError(f"{path}: not UTF-8 text; CityJSON must be UTF-8") from None
        if not isinstance(document, dict) or document.get("type") != "CityJSON":
            raise SourceError(f"{path}: not a CityJSON document (no \"type\": \"CityJSON\")")
        objects = document.get("CityObjects") or {}
        if not objects:
            raise SourceError(f"{path}: has no CityObjects")
        vertices = _vertices(path, document)
        rows: list[dict] = []
        skipped: dict[str, int] = {}
        for object_id, city_object in objects.items():
            kind = city_object.get("type", "?")
            if kind not in BUILDING_TYPES:
                skipped[kind] = skipped.get(kind, 0) + 1
                continue
            if city_object.get("geometry"):
                rows.append(_building(object_id, city_object, vertices))
        notes = [f"{len(rows):,} buildings and building parts read"]
        if skipped:
            notes.append("not buildings, so not imported: " + ", ".join(f"{count:,} {kind}" for kind, count in sorted(skipped.items())))
        frame = pd.DataFrame(rows)
        geometry = frame.pop("geometry").to_numpy(object) if rows else np.array([], dtype=object)
        ids = frame.pop("id").to_numpy(object) if rows else None
        return Records(geometry=geometry, attributes=frame, crs=_crs(document), source_ids=ids, notes=notes)


def _vertices(path: Path, document: dict) -> np.ndarray:
    try:
        vertices = np.asarray(document.get("vertices", []), dtype=float).reshape(-1, 3)
    except (ValueError, TypeError):
        raise SourceError(f"{path}: its vertices are not a list of [x, y, z]") from None
    transform = document.get("transform")
    if transform:
        vertices = vertices * np.asarray(transform.get("scale", [1, 1, 1]), float) + \
            np.asarray(transform.get("translate", [0, 0, 0]), float)
    return vertices


def _crs(document: dict) -> CRS | None:
    reference = (document.get("metadata") or {}).get("referenceSystem")
    match = _EPSG.search(str(reference or ""))
    return CRS.from_epsg(int(match.group(1))) if match else None


def _surfaces(geometry: dict) -> list[tuple[list, str | None]]:
    """Every face of a geometry as (rings of vertex indices, semantic type or None)."""
    kind, boundaries = geometry["type"], geometry.get("boundaries", [])
    semantics = geometry.get("semantics") or {}
    kinds = [surface.get("type") for surface in semantics.get("surfaces", [])]
    values = semantics.get("values")

    def flat(items: list, depth: int) -> list:
        return items if depth == 0 else [leaf for item in items for leaf in flat(item, depth - 1)]

    depth = {"MultiSurface": 0, "CompositeSurface": 0, "Solid": 1, "MultiSolid": 2, "CompositeSolid": 2}.get(kind)
    if depth is None:
        return []
    faces = flat(boundaries, depth)
    labels = flat(values, depth) if values is not None else [None] * len(faces)
    return [(face, kinds[label] if label is not None and label < len(kinds) else None)
            for face, label in zip(faces, labels)]


def _building(object_id: str, city_object: dict, vertices: np.ndarray) -> dict:
    geometry = max(city_object["geometry"], key=lambda g: float(str(g.get("lod", 0)) or 0))
    polygons, ground = [], []
    for rings, semantic in _surfaces(geometry):
        coords = [vertices[np.asarray(ring, dtype=int)] for ring in rings if len(ring) >= 3]
        if not coords:
            continue
        polygon = shapely.Polygon(coords[0], coords[1:])
        polygons.append(polygon)
        if semantic == "GroundSurface":
            ground.append(polygon)
    solid = shapely.MultiPolygon(polygons) if polygons else None
    attributes = dict(city_object.get("attributes") or {})
    z = shapely.get_coordinates(solid, include_z=True)[:, 2] if solid is not None else np.array([np.nan])
    measured = _first(attributes, ("measuredHeight",))
    ground_z = _first(attributes, GROUND_KEYS)
    tags = {key: value for key, value in attributes.items() if value not in ("", None)}
    if city_object.get("parents"):
        tags["parent"] = city_object["parents"][0]
    return {
        "id": object_id,
        "geometry": footprint_of(ground or polygons),
        "height_m": float(measured) if measured is not None else float(np.nanmax(z) - np.nanmin(z)),
        "ground_z_m": float(ground_z) if ground_z is not None else float(np.nanmin(z)),
        "build_year": _first(attributes, YEAR_KEYS),
        "roof_type": _first(attributes, ROOF_KEYS),
        "floors": _first(attributes, FLOOR_KEYS),
        "lod": str(geometry.get("lod")),
        "lod2": solid,
        "tags": tags or None,
    }


def _first(attributes: dict, keys: tuple[str, ...]) -> object:
    return next((attributes[key] for key in keys if attributes.get(key) not in (None, "")), None)
