"""OpenStreetMap: buildings and emergency resources from the real Monaco extract and a hand-made XML block."""

from __future__ import annotations

import warnings
from pathlib import Path

import pyogrio
import pytest
from support import ROOT, refused

FIXTURE = ROOT / "data" / "fixtures" / "eco_block.osm"


def _matching(path: Path, part: str, key: str, value: str | None = None) -> int:
    """Features of one GDAL OSM layer carrying a tag, counted straight from the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyogrio.read_dataframe(path, layer=part)
    column = frame[key] if key in frame.columns else None
    other = frame["other_tags"].fillna("")
    if value is None:
        in_column = column.notna() & (column != "no") if column is not None else False
        return int((in_column | other.str.contains(f'"{key}"=>')).sum())
    in_column = (column == value) if column is not None else False
    return int((in_column | other.str.contains(f'"{key}"=>"{value}"')).sum())


def test_monaco_buildings_and_emergency_resources(make_twin, real_copy) -> None:
    path = real_copy("osm/monaco.osm.pbf")
    twin = make_twin("EPSG:32632")
    result = twin.run("import", str(path), "--layer", "buildings")
    areas = _matching(path, "multipolygons", "building")
    imported, rejected = twin.count("buildings"), twin.sql("SELECT count(*) FROM twin.rejects")[0][0]
    assert imported + rejected == areas and imported > 23_000
    assert "have no footprint: not imported" in result.stderr  # building nodes and unclosed ways
    expected = {"police_stations": ("amenity", "police"), "fire_brigades": ("amenity", "fire_station"),
                "hospitals": ("amenity", "hospital"), "smart_hydrants": ("emergency", "fire_hydrant")}
    for layer, (key, value) in expected.items():
        twin.run("import", str(path), "--layer", layer)
        count = _matching(path, "points", key, value) + _matching(path, "multipolygons", key, value)
        assert twin.count(layer) == count, layer
    assert (twin.count("police_stations"), twin.count("fire_brigades"), twin.count("hospitals"),
            twin.count("smart_hydrants")) == (14, 3, 5, 1)  # as PROVENANCE.md says
    ids = twin.sql("SELECT source_id, tags->>'amenity' FROM layers.hospitals")
    assert all(source_id.split("/")[0] in ("node", "way", "relation") and amenity == "hospital"
               for source_id, amenity in ids)
    assert twin.sql("SELECT GeometryType(geom) FROM layers.hospitals LIMIT 1") == [("POINT",)]


def test_height_rules_on_a_handmade_block(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "eco_block.osm"
    path.write_bytes(FIXTURE.read_bytes())
    twin = make_twin()
    twin.run("import", str(path), "--layer", "buildings")
    rows = twin.sql("SELECT source_id, name, height_m, floors, use, build_year, valid_from::text "
                    "FROM layers.buildings ORDER BY source_id")
    assert rows == [
        ("way/100", "Tower A", 54.0, 18, "residential", 2012, "2012-01-01"),  # height wins over levels
        ("way/101", None, 12.0, 4, "school", None, None),  # 4 levels x 3 m
    ]
    for layer, count in (("police_stations", 1), ("hospitals", 1), ("smart_hydrants", 1), ("base_stations_5g", 1)):
        twin.run("import", str(path), "--layer", layer)
        assert twin.count(layer) == count, layer
    assert twin.sql("SELECT name, phone FROM layers.police_stations") == [("生态城派出所", "+86 22 1234")]
    assert twin.sql("SELECT name, beds, source_id FROM layers.hospitals") == [("Eco-city Hospital", 300, "way/102")]


@pytest.mark.parametrize("case", ["truncated", "wrong format", "other layer"])
def test_bad_osm(make_twin, real_copy, tmp_path: Path, case: str) -> None:
    source = real_copy("osm/monaco.osm.pbf")
    path = tmp_path / "bad" / "city.osm.pbf"
    path.parent.mkdir()
    data = source.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 3], "wrong format": b"PK\x03\x04 not a pbf at all" * 20,
                      "other layer": data}[case])
    twin = make_twin("EPSG:32632")
    layer = "roads" if case == "other layer" else "buildings"
    before = twin.snapshot(layer)
    result = twin.run("import", str(path), "--layer", layer, check=False)
    refused(result, path)
    assert twin.snapshot(layer) == before
