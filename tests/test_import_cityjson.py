"""CityJSON 1.1 and 2.0 buildings, LOD1 and LOD2, checked against the files themselves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from support import refused


def _document(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _z_range(document: dict) -> tuple[float, float]:
    scale = document.get("transform", {}).get("scale", [1, 1, 1])[2]
    shift = document.get("transform", {}).get("translate", [0, 0, 0])[2]
    z = np.asarray(document["vertices"], float)[:, 2] * scale + shift
    return float(z.min()), float(z.max())


def test_delft_lod1_heights_and_skipped_objects(make_twin, real_copy) -> None:
    path = real_copy("buildings/delft.city.json")
    twin = make_twin("EPSG:28992")  # RD New; the file is RD New + NAP heights (EPSG:7415)
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "160 imported, 0 rejected" in result.stderr
    assert "143 Road" in result.stderr and "126 PlantCover" in result.stderr
    buildings = {key: value for key, value in _document(path)["CityObjects"].items() if value["type"] == "Building"}
    for key in list(buildings)[:10]:
        height, lod, area, valid = twin.sql("SELECT height_m, lod, ST_Area(geom), ST_IsValid(geom) "
                                            "FROM layers.buildings WHERE source_id = %s", key)[0]
        assert height == pytest.approx(float(buildings[key]["attributes"]["measuredHeight"]))
        assert lod == "1" and area > 0 and valid
    assert twin.sql("SELECT count(*) FROM layers.buildings WHERE lod2 IS NULL") == [(0,)]


def test_zurich_lod2_parts_keep_their_3d_and_parent(make_twin, real_copy) -> None:
    path = real_copy("buildings/zurich_lod2.city.json")
    twin = make_twin("EPSG:2056")
    result = twin.run("import", str(path), "--layer", "buildings")
    document = _document(path)
    parts = {key: value for key, value in document["CityObjects"].items() if value["type"] == "BuildingPart"}
    with_geometry = [key for key, value in document["CityObjects"].items() if value.get("geometry")]
    assert f"{len(with_geometry)} imported, 0 rejected" in result.stderr
    assert len(parts) == 161
    low, high = _z_range(document)
    z = twin.sql("SELECT min(ST_ZMin(lod2)), max(ST_ZMax(lod2)) FROM layers.buildings")[0]
    assert z[0] == pytest.approx(low, abs=1e-6) and z[1] == pytest.approx(high, abs=1e-6)
    assert 395 < z[0] and z[1] < 622  # PROVENANCE.md: z 396-621 m
    key, part = next(iter(parts.items()))
    assert twin.sql("SELECT tags->>'parent', lod FROM layers.buildings WHERE source_id = %s", key) == [
        (part["parents"][0], "2")]
    faces = sum(len(boundary) for g in part["geometry"] if g["lod"] == "2" for boundary in [g["boundaries"]])
    assert twin.sql("SELECT ST_NumGeometries(lod2) FROM layers.buildings WHERE source_id = %s", key) == [(faces,)]


def test_3dbag_without_crs_needs_one(make_twin, real_copy) -> None:
    path = real_copy("buildings/3dbag_multi_lod.city.json")
    twin = make_twin("EPSG:28992")
    refused = twin.run("import", str(path), "--layer", "buildings", check=False)
    assert refused.returncode == 1 and refused.stderr.strip() == (
        f"twin: {path}: the file declares no CRS; give it with --crs (e.g. --crs EPSG:4326)")
    twin.run("import", str(path), "--layer", "buildings", "--crs", "EPSG:7415")
    assert twin.run("layers", "--json").returncode == 0
    document = _document(path)
    key, first = next(iter(document["CityObjects"].items()))
    row = twin.sql("SELECT lod, build_year, roof_type, ground_z_m, valid_from::text FROM layers.buildings "
                   "WHERE source_id = %s", key)[0]
    attributes = first["attributes"]
    assert row == ("2.2", attributes["oorspronkelijk_bouwjaar"], attributes["dak_type"],
                   pytest.approx(attributes["h_maaiveld"]), f"{attributes['oorspronkelijk_bouwjaar']}-01-01")


BAD = {
    "truncated": (lambda text: text[: len(text) // 2], "not valid JSON at line"),
    "no objects": (lambda text: json.dumps({"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}),
                   "has no CityObjects"),
    "not buildings": (lambda text: json.dumps({"type": "CityJSON", "version": "2.0", "vertices": [[0, 0, 0]],
                                               "CityObjects": {"r": {"type": "Road"}}}),
                      "no features for layer 'buildings'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_cityjson(make_twin, real_copy, tmp_path: Path, case: str) -> None:
    source = real_copy("buildings/3dbag_multi_lod.city.json")
    twin = make_twin("EPSG:28992")
    path = tmp_path / "bad" / "broken.city.json"
    path.parent.mkdir()
    make, message = BAD[case]
    path.write_text(make(source.read_text(encoding="utf-8")), encoding="utf-8")
    before = twin.snapshot("buildings")
    result = twin.run("import", str(path), "--layer", "buildings", "--crs", "EPSG:7415", check=False)
    assert message in refused(result, path)
    assert twin.snapshot("buildings") == before
