"""The importers' geometry steps, without a database: one family of geometry a file, multi-points of one
point, reprojection (and the Chinese web maps' shifts undone), extents, validity and its repair, and
geometries built from WKB and WKT with a reason for each that cannot be."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from support import ROOT

from importers.chinese_crs import wgs84_to_gcj02
from importers.geometry import (
    build_geometries,
    check_types,
    footprint_of,
    outside,
    reproject,
    source_crs,
    to_layer_type,
    validity_reasons,
)
from twin.catalog import load_catalog
from twin.errors import SourceError

pytestmark = pytest.mark.fast

CATALOG = load_catalog(ROOT / "layers")
PATH = Path("file.gpkg")


def geometries(*wkt: str | None) -> np.ndarray:
    return np.array([None if text is None else shapely.from_wkt(text) for text in wkt], dtype=object)


def no_reasons(count: int) -> np.ndarray:
    return np.full(count, None, dtype=object)


def test_a_file_holds_one_family_of_geometry_and_the_layers() -> None:
    check_types(geometries("POINT (1 2)", "MULTIPOINT ((1 2))", None, "POINT EMPTY"), CATALOG["valves"], PATH)
    with pytest.raises(SourceError, match=r"mixed geometry types \(LineString, Point\)"):
        check_types(geometries("POINT (1 2)", "LINESTRING (0 0, 1 1)"), CATALOG["valves"], PATH)
    with pytest.raises(SourceError, match="holds LineString geometry but layer 'valves' takes points"):
        check_types(geometries("LINESTRING (0 0, 1 1)"), CATALOG["valves"], PATH)


def test_multi_points_of_one_point_become_points() -> None:
    reasons = no_reasons(3)
    out = to_layer_type(geometries("MULTIPOINT ((1 2))", "MULTIPOINT ((1 2), (3 4))", "POINT (5 6)"),
                        CATALOG["valves"], reasons)
    assert [g.wkt for g in out] == ["POINT (1 2)", "MULTIPOINT ((1 2), (3 4))", "POINT (5 6)"]
    assert reasons.tolist() == [None, "a multi-point of 2 points; give one point a row", None]


def test_reprojection_keeps_z_and_undoes_the_chinese_shifts() -> None:
    wgs84, twin = CRS.from_epsg(4326), CRS.from_epsg(4548)
    forward = Transformer.from_crs(wgs84, twin, always_xy=True)
    moved = reproject(geometries("POINT Z (117.7 39.1 -1.5)", "POINT (117.7 39.1)"), wgs84, twin, None)
    x, y = forward.transform(117.7, 39.1)
    assert shapely.get_coordinates(moved[0], include_z=True)[0] == pytest.approx([x, y, -1.5])
    assert not shapely.has_z(moved[1]) and shapely.get_coordinates(moved[1])[0] == pytest.approx([x, y])
    # GCJ-02, as a Chinese web map gives it (hundreds of metres off): back to WGS84 first, then the twin's
    crs, shift = source_crs(None, "GCJ-02", PATH)
    assert crs.equals(wgs84) and shift == "gcj02"
    lon, lat = (float(value[0]) for value in wgs84_to_gcj02(np.array([117.7]), np.array([39.1])))
    assert 1e-4 < np.hypot(lon - 117.7, lat - 39.1) < 1e-2
    gcj = reproject(geometries(f"POINT ({lon!r} {lat!r})"), crs, twin, shift)[0]
    assert shapely.get_coordinates(gcj)[0] == pytest.approx([x, y], abs=0.01)
    same = geometries("POINT (1 2)")
    assert reproject(same, twin, twin, None) is same  # nothing to do: no copy


def test_a_file_without_a_crs_needs_one() -> None:
    with pytest.raises(SourceError, match="the file declares no CRS; give it with --crs"):
        source_crs(None, None, PATH)
    assert source_crs(CRS.from_epsg(4548), None, PATH) == (CRS.from_epsg(4548), None)


def test_rows_wholly_outside_an_extent() -> None:
    rows = geometries("POINT (5 5)", "LINESTRING (-5 5, 5 5)", "POINT (50 5)", "POINT (5 -50)")
    assert outside(rows, (0, 0, 10, 10)).tolist() == [False, False, True, True]
    assert outside(rows, None).tolist() == [False] * 4


def test_invalid_geometry_is_a_reason_or_is_repaired_to_the_layers_kind() -> None:
    bow_tie = "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"
    rows = geometries("POLYGON ((0 0, 1 0, 1 1, 0 0))", bow_tie, None, "POLYGON EMPTY",
                      "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), EMPTY)", "POINT (NaN 1)")
    reasons = no_reasons(len(rows))
    out, repaired = validity_reasons(rows, reasons, "polygon")
    assert repaired == 0 and out is rows
    assert reasons[[0, 2, 3, 4]].tolist() == [None, "no geometry", "empty geometry", "geometry has an empty part"]
    assert reasons[1].startswith("invalid geometry: Self-intersection")
    assert reasons[5].startswith("invalid geometry:")
    reasons = no_reasons(len(rows))
    out, repaired = validity_reasons(rows, reasons, "polygon", repair=True)
    # the bow-tie's two triangles, not the point where they touch
    assert repaired >= 1 and reasons[1] is None and out[1].geom_type == "MultiPolygon"
    assert len(out[1].geoms) == 2 and out[1].area == pytest.approx(50.0)


def test_geometries_that_cannot_be_built_are_each_one_reason() -> None:
    values = np.array([b"", shapely.to_wkb(shapely.Point(1, 2)), None], dtype=object)
    built, problems = build_geometries(values, "wkb")
    assert built[1] == shapely.Point(1, 2) and problems == {}
    texts = np.array(["POINT (1 2)", "LINESTRING (0 0)", "POLYGON ((0 0, 1 0, 1 1))", "not wkt"], dtype=object)
    built, problems = build_geometries(texts, "wkt")
    assert built[0] == shapely.Point(1, 2) and sorted(problems) == [1, 2, 3]
    assert all(reason.startswith("geometry cannot be built: ") for reason in problems.values())


def test_a_buildings_footprint_is_its_faces_seen_from_above() -> None:
    roof = shapely.from_wkt("POLYGON Z ((0 0 10, 10 0 10, 10 10 12, 0 10 12, 0 0 10))")
    wall = shapely.from_wkt("POLYGON Z ((0 0 0, 10 0 0, 10 0 10, 0 0 10, 0 0 0))")
    annex = shapely.from_wkt("POLYGON Z ((10 0 5, 15 0 5, 15 5 5, 10 5 5, 10 0 5))")
    footprint = footprint_of([roof, wall, annex])
    assert footprint.area == pytest.approx(100 + 25) and not footprint.has_z
    assert footprint_of([wall]) is None
