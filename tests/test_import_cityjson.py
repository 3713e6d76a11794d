"""CityJSON 1.1 and 2.0 buildings, LOD1 and LOD2, checked against the files themselves (parsed here on
their own, not with the importer's code). Real PostGIS, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support import refused


def _document(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _real_vertices(document: dict) -> np.ndarray:
    """The vertices in metres: integers times scale plus translate."""
    transform = document.get("transform", {"scale": [1, 1, 1], "translate": [0, 0, 0]})
    return np.asarray(document["vertices"], float) * transform["scale"] + transform["translate"]


def _indices(boundaries: object) -> list[int]:
    if isinstance(boundaries, int):
        return [boundaries]
    return [i for item in boundaries for i in _indices(item)]


def _rings(boundaries: list) -> int:
    return 1 if all(isinstance(item, int) for item in boundaries) else sum(_rings(item) for item in boundaries)


def _z_ranges(document: dict, lod: str | None = None) -> dict[str, tuple[float, float]]:
    """Per building object with geometry: (min z, max z) of its geometry at ``lod`` (default: its only one)."""
    z = _real_vertices(document)[:, 2]
    ranges = {}
    for key, city_object in document["CityObjects"].items():
        geometries = [g for g in city_object.get("geometry", []) if lod is None or g["lod"] == lod]
        if city_object["type"].startswith("Building") and geometries:
            used = z[_indices(geometries[0]["boundaries"])]
            ranges[key] = (used.min(), used.max())
    return ranges


def _from_db(twin, query: str) -> dict:
    return {row[0]: row[1:] for row in twin.sql(query)}


def test_delft_lod1_heights_and_skipped_objects(make_twin, real_copy) -> None:
    path = real_copy("buildings/delft.city.json")
    twin = make_twin("EPSG:28992")  # RD New; the file is RD New + NAP heights (EPSG:7415)
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "(CityJSON): 160 imported, 0 rejected" in result.stderr
    assert "143 Road" in result.stderr and "126 PlantCover" in result.stderr and "81 LandUse" in result.stderr
    document = _document(path)
    buildings = {key: value for key, value in document["CityObjects"].items() if value["type"] == "Building"}
    rows = _from_db(twin, "SELECT source_id, height_m, lod, ST_Area(geom), ST_IsValid(geom), ST_ZMin(lod2), "
                          "ST_ZMax(lod2), ground_z_m, tags->>'lokaalid' FROM layers.buildings")
    assert set(rows) == set(buildings)
    ranges = _z_ranges(document)
    for key, (height, lod, area, valid, z_min, z_max, ground, local_id) in rows.items():
        attributes = buildings[key]["attributes"]
        assert height == pytest.approx(float(attributes["measuredHeight"]))
        assert lod == "1" and area > 0 and valid
        assert (z_min, z_max) == pytest.approx(ranges[key], abs=1e-6)
        assert ground == pytest.approx(ranges[key][0], abs=1e-6)  # no ground attribute: the lowest vertex
        assert local_id == attributes["lokaalid"]  # the other attributes are kept as tags
    # Every vertex of every building is in the database (rings closed there: one point more each).
    low, high = min(r[0] for r in ranges.values()), max(r[1] for r in ranges.values())
    points = sum(len(_indices(b["geometry"][0]["boundaries"])) + _rings(b["geometry"][0]["boundaries"])
                 for b in buildings.values())
    assert twin.sql("SELECT min(ST_ZMin(lod2)), max(ST_ZMax(lod2)), sum(ST_NPoints(lod2)) FROM layers.buildings")[0] \
        == (pytest.approx(low, abs=1e-6), pytest.approx(high, abs=1e-6), points)


def test_zurich_lod2_parts_keep_their_3d_and_parent(make_twin, real_copy) -> None:
    path = real_copy("buildings/zurich_lod2.city.json")
    twin = make_twin("EPSG:2056")
    result = twin.run("import", str(path), "--layer", "buildings")
    document = _document(path)
    objects = document["CityObjects"]
    parts = {key: value for key, value in objects.items() if value["type"] == "BuildingPart"}
    assert len(parts) == 161 and not any(v.get("geometry") for v in objects.values() if v["type"] == "Building")
    assert "161 imported, 0 rejected" in result.stderr  # the 49 Buildings are all parts: rows for parts only
    rows = _from_db(twin, "SELECT source_id, name, tags->>'parent', tags->>'class', lod, ST_NumGeometries(lod2), "
                          "ST_ZMin(lod2), ST_ZMax(lod2), height_m, ST_IsValid(geom), ST_Area(geom) "
                          "FROM layers.buildings")
    assert set(rows) == set(parts)
    ranges = _z_ranges(document)
    for key, (name, parent, building_class, lod, faces, z_min, z_max, height, valid, area) in rows.items():
        part = parts[key]
        assert name == key and parent == part["parents"][0]
        assert building_class == objects[parent]["attributes"]["class"]  # the building's, kept with its part
        assert lod == "2" and faces == len(part["geometry"][0]["boundaries"])
        assert (z_min, z_max) == pytest.approx(ranges[key], abs=1e-6)
        assert height == pytest.approx(ranges[key][1] - ranges[key][0], abs=1e-6)  # no measuredHeight
        assert valid and area > 0
    low = min(r[0] for r in ranges.values())
    high = max(r[1] for r in ranges.values())
    assert 395 < low < 397 and 620 < high < 622  # PROVENANCE.md: z 396-621 m
    assert twin.sql("SELECT min(ST_ZMin(lod2)), max(ST_ZMax(lod2)) FROM layers.buildings")[0] == (
        pytest.approx(low, abs=1e-6), pytest.approx(high, abs=1e-6))


def test_3dbag_without_crs_needs_one(make_twin, real_copy) -> None:
    path = real_copy("buildings/3dbag_multi_lod.city.json")
    twin = make_twin("EPSG:28992")
    before = twin.snapshot("buildings")
    result = twin.run("import", str(path), "--layer", "buildings", check=False)
    assert refused(result, path) == (
        f"twin: {path}: the file declares no CRS; give it with --crs (e.g. --crs EPSG:4326)")
    assert twin.snapshot("buildings") == before
    # Named .json, not .city.json: still CityJSON, not GeoJSON.
    renamed = path.rename(path.with_name("bag.json"))
    result = twin.run("import", str(renamed), "--layer", "buildings", "--crs", "EPSG:7415")
    assert "(CityJSON): 10 imported, 0 rejected" in result.stderr
    document = _document(renamed)
    ranges = _z_ranges(document, lod="2.2")
    rows = _from_db(twin, "SELECT source_id, lod, build_year, roof_type, ground_z_m, valid_from::text, "
                          "ST_ZMin(lod2), ST_ZMax(lod2), ST_IsValid(geom) FROM layers.buildings")
    assert set(rows) == set(document["CityObjects"]) == set(ranges)
    for key, (lod, year, roof, ground, valid_from, z_min, z_max, valid) in rows.items():
        attributes = document["CityObjects"][key]["attributes"]
        assert lod == "2.2"  # the highest of its LOD 1.2, 1.3 and 2.2
        assert (year, roof) == (attributes["oorspronkelijk_bouwjaar"], attributes["dak_type"])
        assert ground == pytest.approx(attributes["h_maaiveld"])
        assert valid_from == f"{attributes['oorspronkelijk_bouwjaar']}-01-01"
        assert (z_min, z_max) == pytest.approx(ranges[key], abs=1e-6) and valid


def _cube(x: int, y: int, size: int, height: int, first: int) -> tuple[list, list]:
    """Vertices and the 6 faces (outward) of a box; ``first`` is its first vertex's index."""
    vertices = [[x + dx, y + dy, dz] for dz in (0, height) for dx, dy in ((0, 0), (size, 0), (size, size), (0, size))]
    a, b, c, d, e, f, g, h = range(first, first + 8)
    faces = [[[a, d, c, b]], [[e, f, g, h]], [[a, b, f, e]], [[b, c, g, f]], [[c, d, h, g]], [[d, a, e, h]]]
    return vertices, faces


def test_geometry_types_and_semantics(make_twin, tmp_path: Path) -> None:
    """A handmade CityJSON 1.1 in RD New: Solid with a GroundSurface, MultiSolid, CompositeSurface, a part,
    a template instance (no surfaces) and a face that names a vertex the file lacks."""
    v1, box1 = _cube(155_000, 463_000, 10, 6, 0)
    v2, box2 = _cube(155_100, 463_000, 20, 9, 8)
    v3, box3 = _cube(155_200, 463_000, 5, 3, 16)
    semantics = {"surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
                 "values": [[0, 1, 2, 2, 2, 2]]}
    # A ground that is smaller than the roof (an overhang): the footprint is the ground, not the outline.
    v4 = [[155_002, 463_002, 0], [155_008, 463_002, 0], [155_008, 463_008, 0], [155_002, 463_008, 0]]
    box1[0] = [[24, 27, 26, 25]]
    document = {
        "type": "CityJSON", "version": "1.1", "transform": {"scale": [0.5, 0.5, 0.5], "translate": [0, 0, 10]},
        "metadata": {"referenceSystem": "urn:ogc:def:crs:EPSG::28992"},
        "vertices": [[2 * c for c in p[:2]] + [2 * p[2]] for p in v1 + v2 + v3 + v4],
        "CityObjects": {
            "solid": {"type": "Building", "attributes": {"yearOfConstruction": 1990, "roofType": "flat"},
                      "geometry": [{"type": "Solid", "lod": "2", "boundaries": [box1], "semantics": semantics}]},
            "multi": {"type": "Building", "children": ["part"], "attributes": {"measuredHeight": 9.5},
                      "geometry": [{"type": "MultiSolid", "lod": "1", "boundaries": [[box1], [box2]]}]},
            "part": {"type": "BuildingPart", "parents": ["multi"],
                     "geometry": [{"type": "CompositeSurface", "lod": "2", "boundaries": box3}]},
            "template": {"type": "Building", "geometry": [{"type": "GeometryInstance", "template": 0,
                                                           "boundaries": [0], "transformationMatrix": [1] * 16}]},
            "broken": {"type": "Building", "geometry": [{"type": "MultiSurface", "lod": "1",
                                                         "boundaries": [[[0, 1, 99]]]}]},
            "tree": {"type": "SolitaryVegetationObject"},
        },
    }
    path = tmp_path / "handmade.city.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    twin = make_twin("EPSG:28992")
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "3 imported, 1 rejected" in result.stderr
    assert "1 Building without surfaces" in result.stderr and "1 SolitaryVegetationObject" in result.stderr
    rows = _from_db(twin, "SELECT source_id, ST_Area(geom), height_m, ground_z_m, ST_NumGeometries(lod2), "
                          "ST_ZMin(lod2), build_year, roof_type, tags FROM layers.buildings")
    assert rows["solid"] == (pytest.approx(36.0), 6.0, 10.0, 6, 10.0, 1990, "flat", None)
    assert rows["multi"] == (pytest.approx(100 + 400), 9.5, 10.0, 12, 10.0, None, None, None)
    assert rows["part"] == (pytest.approx(25.0), 3.0, 10.0, 6, 10.0, None, None, {"parent": "multi"})
    assert twin.sql("SELECT source_id, reason FROM twin.rejects") == [
        ("broken", "a surface refers to a vertex beyond the file's 28 vertices")]


BAD = {
    "truncated": (lambda text: text[: len(text) // 2], "not valid JSON at line 1, column"),
    "empty": (lambda text: "", "the file is empty"),
    "no objects": (lambda text: json.dumps({"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}),
                   "has no CityObjects"),
    "not buildings": (lambda text: json.dumps({"type": "CityJSON", "version": "2.0", "vertices": [[0, 0, 0]],
                                               "CityObjects": {"r": {"type": "Road"}}}),
                      "no features for layer 'buildings'"),
    "not cityjson": (lambda text: json.dumps({"type": "FeatureCollection", "features": []}),
                     "not a CityJSON document"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_cityjson(make_twin, real_copy, tmp_path: Path, case: str) -> None:
    source = real_copy("buildings/3dbag_multi_lod.city.json")
    twin = make_twin("EPSG:28992")
    twin.run("import", str(source), "--layer", "buildings", "--crs", "EPSG:7415")  # something to keep
    path = tmp_path / "bad" / "broken.city.json"
    path.parent.mkdir()
    make, message = BAD[case]
    path.write_text(make(source.read_text(encoding="utf-8")), encoding="utf-8")
    before = twin.snapshot("buildings")
    result = twin.run("import", str(path), "--layer", "buildings", "--crs", "EPSG:7415", check=False)
    assert message in refused(result, path)
    assert twin.snapshot("buildings") == before and before[0] == 10
