"""Geometry steps of the pipeline, vectorised with shapely 2: type checks, multi-part promotion,
reprojection into the twin's CRS (through WGS84 for GCJ-02 and BD-09), extent and validity."""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from importers import chinese_crs
from twin.catalog import Layer
from twin.errors import SourceError

_FAMILY = {
    "point": {shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT},
    "line": {shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING},
    "polygon": {shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON},
}
_TYPE_NAMES = dict(enumerate(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                               "MultiPolygon", "GeometryCollection"]))


def present(geometry: np.ndarray) -> np.ndarray:
    """Rows with a non-empty geometry."""
    return ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))


def check_types(geometry: np.ndarray, layer: Layer, path: Path) -> None:
    """One family of geometry in the file, and the layer's: else the whole file is refused."""
    kinds = {int(kind) for kind in np.unique(shapely.get_type_id(geometry[present(geometry)]))}
    if not kinds:
        return
    families = {family for family, members in _FAMILY.items() if kinds & {int(m) for m in members}}
    names = ", ".join(sorted(_TYPE_NAMES[kind] for kind in kinds))
    if len(families) != 1 or kinds - {int(m) for m in _FAMILY[next(iter(families))]}:
        raise SourceError(f"{path}: mixed geometry types ({names}); split the file by geometry type")
    family = families.pop()
    if family != layer.geometry:
        raise SourceError(
            f"{path}: holds {names} geometry but layer '{layer.id}' takes {layer.geometry}s; "
            "choose a layer of that kind with --layer"
        )


def to_layer_type(geometry: np.ndarray, layer: Layer, reasons: np.ndarray) -> np.ndarray:
    """Multi-points of one point as points. Lines and polygons stay as they are: they become the table's
    multi-parts as they are written (``importers.loading._ewkb``), where that costs a few bytes
    rather than a copy of every geometry."""
    if layer.geometry != "point":
        return geometry
    out = geometry.copy()
    kinds = shapely.get_type_id(geometry)
    multi = present(geometry) & (kinds == shapely.GeometryType.MULTIPOINT)
    single = multi & (shapely.get_num_geometries(geometry) == 1)
    out[single] = shapely.get_geometry(geometry[single], 0)
    for row in np.flatnonzero(multi & ~single & np.equal(reasons, None)):
        reasons[row] = f"a multi-point of {shapely.get_num_geometries(geometry[row])} points; give one point a row"
    return out


def source_crs(file_crs: CRS | None, given: str | None, path: Path) -> tuple[CRS, str | None]:
    """The CRS to read the source in, and the Chinese shift to undo first ('gcj02', 'bd09' or None)."""
    shift = chinese_crs.shift_name(given)
    if shift:
        return CRS.from_epsg(4326), shift
    if given:
        from importers.base import parse_crs

        return parse_crs(given, "--crs"), None
    if file_crs is None:
        raise SourceError(f"{path}: the file declares no CRS; give it with --crs (e.g. --crs EPSG:4326)")
    return file_crs, None


def reproject(geometry: np.ndarray, source: CRS, target: CRS, shift: str | None,
              heights: CRS | None = None) -> np.ndarray:
    """Geometries from ``source`` (after undoing a Chinese shift) into ``target``. Z is kept as it is, or,
    given ``heights`` (the source's CRS with the datum of its Z: :func:`importers.vertical.plan`),
    converted into ``target``'s vertical datum together with x and y."""
    transformer = None if source.equals(target) else Transformer.from_crs(source, target, always_xy=True)
    in_3d = None if heights is None else Transformer.from_crs(heights, target, always_xy=True)
    if transformer is None and in_3d is None and shift is None:
        return geometry

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = coords[:, 0], coords[:, 1]
        if shift:
            x, y = chinese_crs.to_wgs84(shift, x, y)
        if in_3d is not None and coords.shape[1] == 3:
            return np.column_stack(in_3d.transform(x, y, coords[:, 2]))
        if transformer is not None:
            x, y = transformer.transform(x, y)
        return np.column_stack([x, y, coords[:, 2:]])

    has_z = shapely.has_z(geometry)
    out = geometry.copy()
    for with_z in (True, False):
        rows = np.flatnonzero(has_z == with_z)
        if len(rows):
            out[rows] = shapely.transform(geometry[rows], move, include_z=with_z)
    return out


@lru_cache(maxsize=8)
def extent_of(crs: CRS) -> tuple[float, float, float, float] | None:
    """The area where ``crs`` is meant to be used, in its own units (None when the CRS says nothing)."""
    area = crs.area_of_use
    if area is None:
        return None
    to_crs = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)
    return to_crs.transform_bounds(area.west, area.south, area.east, area.north, densify_pts=21)


def outside(geometry: np.ndarray, extent: tuple[float, float, float, float] | None) -> np.ndarray:
    """Rows whose geometry lies wholly outside ``extent``."""
    if extent is None:
        return np.zeros(len(geometry), bool)
    bounds = shapely.bounds(geometry)
    xmin, ymin, xmax, ymax = extent
    with np.errstate(invalid="ignore"):
        return (bounds[:, 2] < xmin) | (bounds[:, 0] > xmax) | (bounds[:, 3] < ymin) | (bounds[:, 1] > ymax)


def validity_reasons(geometry: np.ndarray, reasons: np.ndarray, family: str, repair: bool = False) -> tuple[np.ndarray, int]:
    """Give rows with no, empty or invalid geometry (NaN or infinite coordinates, an empty part) their
    reason; with ``repair``, invalid ones are made valid instead where something of the layer's
    ``family`` (point, line, polygon) is left. Returns the geometries and how many were repaired."""
    ok = present(geometry)
    for row in np.flatnonzero(~ok & np.equal(reasons, None)):
        reasons[row] = "empty geometry" if geometry[row] is not None else "no geometry"
    checked = ok & np.equal(reasons, None)
    valid = np.ones(len(geometry), bool)
    valid[checked] = shapely.is_valid(geometry[checked])
    multi = checked & valid & (shapely.get_type_id(geometry) >= shapely.GeometryType.MULTIPOINT)
    parts, owner = shapely.get_parts(geometry[multi], return_index=True)
    hollow = np.zeros(len(geometry), bool)
    hollow[np.flatnonzero(multi)[owner[shapely.is_empty(parts)]]] = True
    bad = ~valid | hollow
    repaired = 0
    if repair and bad.any():
        rows = np.flatnonzero(bad)
        fixed = np.array([_repaired(geometry[row], family) for row in rows], dtype=object)
        done = ~shapely.is_missing(fixed)
        geometry = geometry.copy()
        geometry[rows[done]] = fixed[done]
        bad[rows[done]] = False
        repaired = int(done.sum())
    for row in np.flatnonzero(bad):
        reasons[row] = "geometry has an empty part" if hollow[row] else \
            f"invalid geometry: {shapely.is_valid_reason(geometry[row])}"
    return geometry, repaired


_SINGLE = {"point": shapely.GeometryType.POINT, "line": shapely.GeometryType.LINESTRING,
           "polygon": shapely.GeometryType.POLYGON}
_MULTI = {"point": shapely.multipoints, "line": shapely.multilinestrings, "polygon": shapely.multipolygons}


def _repaired(geometry: shapely.Geometry, family: str) -> shapely.Geometry | None:
    """``shapely.make_valid`` keeping only the parts of the layer's kind (a bow-tie's two triangles, not
    the point where they touch); None when nothing valid of that kind is left."""
    try:
        fixed = shapely.make_valid(geometry)
    except shapely.errors.GEOSException:  # coordinates GEOS cannot work with at all
        return None
    parts = shapely.get_parts(shapely.get_parts(fixed))  # collections of multi-parts: twice
    parts = parts[(shapely.get_type_id(parts) == _SINGLE[family]) & ~shapely.is_empty(parts)]
    if not len(parts):
        return None
    result = parts[0] if len(parts) == 1 else _MULTI[family](parts)
    return result if shapely.is_valid(result) else None


def check_place(path: Path, bounds: np.ndarray | tuple, read_crs: CRS, twin: CRS) -> None:
    """Refuse at once a file whose extent (``bounds`` in ``read_crs``) lies wholly outside the area of use
    of the twin's CRS: its CRS is wrong, and rejecting every row one by one would only take long."""
    area = extent_of(twin)
    xmin, ymin, xmax, ymax = (float(value) for value in bounds)
    if area is None or not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return
    try:
        with np.errstate(all="ignore"):
            moved = Transformer.from_crs(read_crs, twin, always_xy=True).transform_bounds(
                xmin, ymin, xmax, ymax, densify_pts=21)
    except Exception:  # pyproj raises ProjError and, for coordinates beyond its maths, others
        moved = (np.inf,) * 4
    finite = np.isfinite(moved).all()
    if finite and not (moved[2] < area[0] or moved[0] > area[2] or moved[3] < area[1] or moved[1] > area[3]):
        return
    degrees = -180 <= xmin and xmax <= 360 and -90 <= ymin and ymax <= 90
    if read_crs.is_geographic and not degrees:
        hint = f"its numbers are too large for degrees: give its projected CRS (the twin's is {twin.to_string()})"
    elif degrees and not read_crs.is_geographic:
        hint = "its numbers look like longitude/latitude: try --crs EPSG:4326"
    else:
        hint = "give the file's real CRS"
    name = read_crs.to_string() if read_crs.to_epsg() is None else f"EPSG:{read_crs.to_epsg()}"
    raise SourceError(f"{path}: its extent {xmin:,.6g}, {ymin:,.6g} to {xmax:,.6g}, {ymax:,.6g} read as {name} "
                      f"lies wholly outside the twin's area ({twin.to_string()}: {_short(twin.area_of_use.name)}); "
                      f"the CRS is likely wrong: {hint} with --crs")


# A file this far from what the twin holds (and ten times the twin's own size) is of another place.
FAR_M = 100_000.0


def check_near(path: Path, bounds: np.ndarray | tuple, read_crs: CRS, twin: CRS,
               held: tuple[float, float, float, float] | None) -> None:
    """Refuse at once a file whose extent lies far from the twin's recorded extent ``held``: a CRS
    mistake that still lands inside the CRS's area of use (a Gauss-Kruger zone is 3 degrees wide), or
    another city, which wants a twin of its own."""
    xmin, ymin, xmax, ymax = (float(value) for value in bounds)
    if held is None or not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return
    with np.errstate(all="ignore"):
        moved = Transformer.from_crs(read_crs, twin, always_xy=True).transform_bounds(xmin, ymin, xmax, ymax)
    if not np.isfinite(moved).all():
        return  # check_place speaks for what cannot be placed at all
    gap_x = max(held[0] - moved[2], moved[0] - held[2], 0.0)
    gap_y = max(held[1] - moved[3], moved[1] - held[3], 0.0)
    gap = float(np.hypot(gap_x, gap_y))
    if gap > max(FAR_M, 10 * float(np.hypot(held[2] - held[0], held[3] - held[1]))):
        name = read_crs.to_string() if read_crs.to_epsg() is None else f"EPSG:{read_crs.to_epsg()}"
        raise SourceError(f"{path}: read as {name}, it lies {gap / 1000:,.0f} km from the twin's data "
                          f"({held[0]:,.0f}, {held[1]:,.0f} to {held[2]:,.0f}, {held[3]:,.0f} in {twin.to_string()}); "
                          "if its CRS is wrong give the right one with --crs, if it is another city give it a twin "
                          "of its own (its own TWIN_HOME)")


def _short(name: str) -> str:
    """An area of use's name to its first 60 characters: some list every county."""
    return name if len(name) <= 60 else name[:57].rstrip() + "..."


def footprint_of(faces: list[shapely.Geometry]) -> shapely.Geometry | None:
    """The outline seen from above of a building's 3D faces: walls vanish, roofs and floors remain."""
    flat = [shapely.make_valid(shapely.force_2d(face)) for face in faces]
    flat = [face for face in flat if shapely.area(face) > 1e-6]
    if not flat:
        return None
    outline = shapely.make_valid(shapely.union_all(flat))
    parts = [part for part in shapely.get_parts(outline) if part.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def build_geometries(values: np.ndarray, encoding: str) -> tuple[np.ndarray, dict[int, str]]:
    """Geometries from WKB or WKT (``encoding``: 'wkb' or 'wkt'), and for each value GEOS cannot build
    (a ring of two points, a ring left open, text that is no WKT) the reason, so that it becomes one
    reject rather than an error for every row."""
    parse = shapely.from_wkb if encoding == "wkb" else shapely.from_wkt
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely warns once for the column; each row gets its reason below
        geometry = np.asarray(parse(values, on_invalid="ignore"), dtype=object)
    given = np.fromiter((isinstance(value, (bytes, str)) and len(value) > 0 for value in values), bool, len(values))
    problems: dict[int, str] = {}
    for row in np.flatnonzero(given & shapely.is_missing(geometry)):
        try:
            parse(values[row])
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            problems[int(row)] = f"geometry cannot be built: {str(exc).strip().splitlines()[0]}"
    return geometry, problems
