"""CityGML 1.0 and 2.0 buildings read with lxml, checked against the files themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from support import refused

GML = "{http://www.opengis.net/gml}"


def _z_range(path: Path) -> tuple[float, float]:
    root = etree.parse(str(path)).getroot()
    values: list[float] = []
    for element in root.iter(f"{GML}posList", f"{GML}pos"):
        parent = element.getparent()
        if etree.QName(parent).localname != "LinearRing":
            continue  # envelope corners are not geometry
        values += [float(v) for v in element.text.split()[2::3]]
    return min(values), max(values)


def test_zurich_citygml1_parts(make_twin, real_copy) -> None:
    path = real_copy("citygml/zurich_lod2_citygml1.gml")
    twin = make_twin("EPSG:21781")  # srsName "CH1903": LV03
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "6 imported, 0 rejected" in result.stderr  # the 4 Buildings carry no geometry: their 6 parts do
    low, high = _z_range(path)
    z = twin.sql("SELECT min(ST_ZMin(lod2)), max(ST_ZMax(lod2)) FROM layers.buildings")[0]
    assert z[0] == pytest.approx(low) and z[1] == pytest.approx(high)
    assert 403.1 < z[0] < 403.3 and 432.6 < z[1] < 432.8  # PROVENANCE.md: z 403.2-432.7 m
    parents = twin.sql("SELECT count(DISTINCT tags->>'parent') FROM layers.buildings")[0][0]
    assert parents == 4
    assert twin.sql("SELECT sum(ST_NumGeometries(lod2)) FROM layers.buildings") == [(61,)]  # 61 polygons
    assert twin.sql("SELECT bool_and(ST_IsValid(geom)), min(lod), max(lod) FROM layers.buildings") == [(True, "2", "2")]
    extent = twin.sql("SELECT ST_XMin(e), ST_XMax(e) FROM (SELECT ST_Extent(geom) e FROM layers.buildings) x")[0]
    assert 683_270 < extent[0] and extent[1] < 683_321  # PROVENANCE.md: x 683,270.9-683,320.1


def test_delft_citygml2_lod1_solids(make_twin, real_copy) -> None:
    path = real_copy("citygml/delft_lod1_citygml2.gml")
    twin = make_twin("EPSG:28992")
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "3 imported, 0 rejected" in result.stderr
    heights = [row[0] for row in twin.sql("SELECT height_m FROM layers.buildings ORDER BY height_m")]
    assert heights == [3.23, 9.19, 10.56]
    assert twin.sql("SELECT sum(ST_NumGeometries(lod2)), min(lod) FROM layers.buildings") == [(6 + 6 + 79, "1")]
    z = twin.sql("SELECT min(ST_ZMin(lod2)), max(ST_ZMax(lod2)) FROM layers.buildings")[0]
    assert z[0] == pytest.approx(0.26, abs=0.01) and z[1] == pytest.approx(10.56, abs=0.01)
    footprint_area = twin.sql("SELECT sum(ST_Area(geom)) FROM layers.buildings")[0][0]
    assert footprint_area > 0


@pytest.mark.parametrize("case", ["truncated", "empty", "not citygml"])
def test_bad_citygml(make_twin, real_copy, tmp_path: Path, case: str) -> None:
    source = real_copy("citygml/delft_lod1_citygml2.gml")
    path = tmp_path / "bad" / "city.gml"
    path.parent.mkdir()
    text = source.read_bytes()
    path.write_bytes({"truncated": text[: len(text) // 2], "empty": b"",
                      "not citygml": b"<?xml version='1.0'?><CityModel xmlns='urn:other'><x/></CityModel>"}[case])
    twin = make_twin("EPSG:28992")
    before = twin.snapshot("buildings")
    result = twin.run("import", str(path), "--layer", "buildings", check=False)
    line = refused(result, path)
    message = {"truncated": "not well-formed XML at line", "empty": "the file is empty",
               "not citygml": "not a CityGML document"}[case]
    assert message in line
    assert twin.snapshot("buildings") == before
