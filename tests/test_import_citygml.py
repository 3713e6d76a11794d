"""CityGML 1.0 and 2.0 buildings read with lxml, checked against the files themselves (parsed here with
lxml and shapely on their own, not with the importer's code). Real PostGIS, the real CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from lxml import etree
from support import refused

GML = "{http://www.opengis.net/gml}"


def _points(ring: etree._Element) -> np.ndarray:
    pos_list = ring.find(f"{GML}posList")
    if pos_list is not None:
        return np.asarray(pos_list.text.split(), float).reshape(-1, int(pos_list.get("srsDimension", 3)))
    return np.asarray([pos.text.split() for pos in ring.iter(f"{GML}pos")], float)


def _z_range(element: etree._Element) -> tuple[float, float]:
    """Lowest and highest z of the rings under ``element`` (envelope corners are not geometry)."""
    z = np.concatenate([_points(ring)[:, 2] for ring in element.iter(f"{GML}LinearRing")])
    return float(z.min()), float(z.max())


def _by_id(path: Path, local_name: str) -> dict[str, etree._Element]:
    root = etree.parse(str(path)).getroot()
    return {e.get(f"{GML}id"): e for e in root.iter(f"{{*}}{local_name}")}


def test_zurich_citygml1_parts(make_twin, real_copy) -> None:
    path = real_copy("citygml/zurich_lod2_citygml1.gml")
    twin = make_twin("EPSG:21781")  # srsName "CH1903": LV03
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "(CityGML): 6 imported, 0 rejected" in result.stderr  # the 4 Buildings carry no geometry: their 6 parts do
    parts, buildings = _by_id(path, "BuildingPart"), _by_id(path, "Building")
    rows = {row[0]: row[1:] for row in twin.sql(
        "SELECT source_id, tags->>'parent', tags->>'EGID', ST_NumGeometries(lod2), ST_ZMin(lod2), ST_ZMax(lod2), "
        "height_m, ground_z_m, lod, ST_IsValid(geom), ST_Area(geom) FROM layers.buildings")}
    assert set(rows) == set(parts) and len(buildings) == 4
    for key, (parent, egid, faces, z_min, z_max, height, ground, lod, valid, area) in rows.items():
        part = parts[key]
        building = next(a for a in part.iterancestors() if etree.QName(a).localname == "Building")
        assert parent == building.get(f"{GML}id")
        # The Swiss building id (EGID) is the Building's external reference: its parts keep it.
        references = {r.findtext("{*}informationSystem"): r.findtext("{*}externalObject/{*}name")
                      for r in building.findall("{*}externalReference")}
        assert egid == references["EGID"]
        assert faces == len(list(part.iter(f"{GML}Polygon")))
        low, high = _z_range(part)
        assert (z_min, z_max, ground) == pytest.approx((low, high, low))
        assert height == pytest.approx(high - low)  # no measuredHeight: the height of the surfaces
        assert lod == "2" and valid and area > 0
    low, high = _z_range(etree.parse(str(path)).getroot())
    assert twin.sql("SELECT min(ST_ZMin(lod2)), max(ST_ZMax(lod2)), sum(ST_NumGeometries(lod2)) "
                    "FROM layers.buildings")[0] == (pytest.approx(low), pytest.approx(high), 61)
    assert 403.1 < low < 403.3 and 432.6 < high < 432.8  # PROVENANCE.md: z 403.2-432.7 m
    extent = twin.sql("SELECT ST_XMin(e), ST_XMax(e) FROM (SELECT ST_Extent(geom) e FROM layers.buildings) x")[0]
    assert 683_270 < extent[0] and extent[1] < 683_321  # PROVENANCE.md: x 683,270.9-683,320.1


def test_delft_citygml2_lod1_solids(make_twin, real_copy) -> None:
    path = real_copy("citygml/delft_lod1_citygml2.gml")
    twin = make_twin("EPSG:28992")  # the file: EPSG:7415, RD New + NAP
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "3 imported, 0 rejected" in result.stderr
    rows = {row[0]: row[1:] for row in twin.sql(
        "SELECT source_id, height_m, lod, ST_NumGeometries(lod2), ST_ZMin(lod2), ST_ZMax(lod2), ST_Area(geom), "
        "ST_IsValid(geom) FROM layers.buildings")}
    buildings = _by_id(path, "Building")
    assert set(rows) == set(buildings)
    for key, (height, lod, faces, z_min, z_max, area, valid) in rows.items():
        building = buildings[key]
        assert height == float(building.findtext("{*}measuredHeight"))
        solid = building.find("{*}lod1Solid")
        assert lod == "1" and faces == len(list(solid.iter(f"{GML}Polygon")))
        assert (z_min, z_max) == pytest.approx(_z_range(solid))
        # The footprint is the lod0FootPrint, in the same RD coordinates.
        rings = building.find("{*}lod0FootPrint").iter(f"{GML}LinearRing")
        footprint = shapely.union_all([shapely.Polygon(_points(ring)[:, :2]) for ring in rings])
        assert area == pytest.approx(footprint.area, rel=1e-9) and valid
    assert sorted(row[0] for row in rows.values()) == [3.23, 9.19, 10.56]  # PROVENANCE.md
    assert twin.sql("SELECT sum(ST_NumGeometries(lod2)) FROM layers.buildings") == [(6 + 6 + 79,)]


HANDMADE = """<?xml version="1.0" encoding="UTF-8"?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:gml="http://www.opengis.net/gml"
    xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:gen="http://www.opengis.net/citygml/generics/2.0"
    xmlns:tran="http://www.opengis.net/citygml/transportation/2.0" xmlns:xlink="http://www.w3.org/1999/xlink">
  <core:cityObjectMember>
    <bldg:Building gml:id="court">
      <gml:name>Courtyard house</gml:name>
      <gen:doubleAttribute name="energy"><gen:value>12.5</gen:value></gen:doubleAttribute>
      <bldg:function>1000</bldg:function>
      <bldg:yearOfConstruction>1990</bldg:yearOfConstruction>
      <bldg:measuredHeight uom="ft">32.8084</bldg:measuredHeight>
      <bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface><gml:surfaceMember>{lod1}</gml:surfaceMember>
      </gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>
      <bldg:lod2Solid><gml:Solid srsName="http://www.opengis.net/def/crs/EPSG/0/28992"><gml:exterior>
        <gml:CompositeSurface>{links}</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>
      <bldg:lod2TerrainIntersection><gml:MultiCurve><gml:curveMember><gml:LineString>
        <gml:posList>155000 463000 0 155020 463000 0</gml:posList></gml:LineString></gml:curveMember>
      </gml:MultiCurve></bldg:lod2TerrainIntersection>
      {surfaces}
    </bldg:Building>
  </core:cityObjectMember>
  <core:cityObjectMember>
    <bldg:Building gml:id="whole">
      <gml:boundedBy><gml:Envelope srsName="EPSG:28992"><gml:lowerCorner>155100 463000 1</gml:lowerCorner>
        <gml:upperCorner>155105 463005 4</gml:upperCorner></gml:Envelope></gml:boundedBy>
      <bldg:function>2000</bldg:function>
      <bldg:consistsOfBuildingPart><bldg:BuildingPart gml:id="wing">
        <bldg:lod1MultiSurface><gml:MultiSurface><gml:surfaceMember>{wing}</gml:surfaceMember>
        </gml:MultiSurface></bldg:lod1MultiSurface>
      </bldg:BuildingPart></bldg:consistsOfBuildingPart>
    </bldg:Building>
  </core:cityObjectMember>
  <core:cityObjectMember><tran:Road gml:id="road"/></core:cityObjectMember>
</core:CityModel>
"""


def _gml_polygon(rings: list[list[tuple[float, float, float]]], ident: str = "", with_pos: bool = False) -> str:
    def ring(points: list) -> str:
        closed = [*points, points[0]]
        if with_pos:
            return "".join(f"<gml:pos>{x} {y} {z}</gml:pos>" for x, y, z in closed)
        return f'<gml:posList srsDimension="3">{" ".join(f"{x} {y} {z}" for x, y, z in closed)}</gml:posList>'

    inner = "".join(f"<gml:interior><gml:LinearRing>{ring(r)}</gml:LinearRing></gml:interior>" for r in rings[1:])
    return (f'<gml:Polygon{f" gml:id={chr(34)}{ident}{chr(34)}" if ident else ""}><gml:exterior><gml:LinearRing>'
            f"{ring(rings[0])}</gml:LinearRing></gml:exterior>{inner}</gml:Polygon>")


def _box_faces(x: float, y: float, size: float, z0: float, z1: float) -> dict[str, list]:
    a, b, c, d = (x, y), (x + size, y), (x + size, y + size), (x, y + size)
    faces = {"GroundSurface": [[(*a, z0), (*d, z0), (*c, z0), (*b, z0)]],
             "RoofSurface": [[(*a, z1), (*b, z1), (*c, z1), (*d, z1)]]}
    faces["WallSurface"] = [[(*p, z0), (*q, z0), (*q, z1), (*p, z1)] for p, q in ((a, b), (b, c), (c, d), (d, a))]
    return faces


def test_handmade_citygml2(make_twin, tmp_path: Path) -> None:
    """lod2Solid by xlinks to its boundedBy surfaces or repeating them (not counted twice), a courtyard (an interior ring),
    srsName on the geometry in its http form, measuredHeight in feet, a lower LOD and a terrain curve
    beside the LOD2, a part in gml:pos, a Road; read from a .xml."""
    faces = _box_faces(155_000, 463_000, 20, 1, 11)
    courtyard = [(155_005, 463_005, 1), (155_015, 463_005, 1), (155_015, 463_015, 1), (155_005, 463_015, 1)]
    faces["GroundSurface"] = [faces["GroundSurface"][0], courtyard]  # the ground with its hole
    surfaces, links = [], []
    for kind in ("GroundSurface", "RoofSurface", "WallSurface"):
        rings = [faces[kind]] if kind == "GroundSurface" else [[face] for face in faces[kind]]
        members = "".join(f"<gml:surfaceMember>{_gml_polygon(r, f'{kind}{i}')}</gml:surfaceMember>"
                          for i, r in enumerate(rings))
        # The solid names the ground and roof by xlink and repeats the walls inline (writers do both).
        links += [f'<gml:surfaceMember xlink:href="#{kind}{i}"/>' if kind != "WallSurface" else
                  f"<gml:surfaceMember>{_gml_polygon(r)}</gml:surfaceMember>" for i, r in enumerate(rings)]
        surfaces.append(f"<bldg:boundedBy><bldg:{kind}><bldg:lod2MultiSurface><gml:MultiSurface>{members}"
                        f"</gml:MultiSurface></bldg:lod2MultiSurface></bldg:{kind}></bldg:boundedBy>")
    lod1 = _gml_polygon([faces["RoofSurface"][0]])
    wing = _gml_polygon([[(155_100, 463_000, 1), (155_105, 463_000, 1), (155_105, 463_005, 4)]], with_pos=True)
    path = tmp_path / "handmade.xml"
    path.write_text(HANDMADE.format(lod1=lod1, links="".join(links), surfaces="".join(surfaces), wing=wing),
                    encoding="utf-8")
    twin = make_twin("EPSG:28992")
    result = twin.run("import", str(path), "--layer", "buildings")
    assert "(CityGML): 2 imported, 0 rejected" in result.stderr and "1 Road" in result.stderr
    rows = {row[0]: row[1:] for row in twin.sql(
        "SELECT source_id, name, height_m, build_year, use, lod, ST_NumGeometries(lod2), ST_ZMin(lod2), "
        "ST_ZMax(lod2), ST_Area(geom), tags FROM layers.buildings")}
    assert rows["court"] == ("Courtyard house", pytest.approx(10.0), 1990, "1000", "2", 6, 1.0, 11.0,
                             pytest.approx(400 - 100), {"energy": 12.5})
    assert rows["wing"] == ("wing", 3.0, None, "2000", "1", 1, 1.0, 4.0, pytest.approx(12.5), {"parent": "whole"})


GENERIC_GML = b"""<?xml version="1.0"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml"><gml:featureMember/></gml:FeatureCollection>"""


def _no_srs(text: bytes) -> bytes:
    return text.replace(b' srsName="urn:ogc:def:crs:EPSG::7415"', b"")


BAD = {  # case: (the file's bytes from the Delft sample's, the message)
    "truncated": (lambda text: text[: len(text) // 2], "not well-formed XML at line"),
    "empty": (lambda text: b"", "the file is empty"),
    "not xml": (lambda text: b"x,y\n1,2\n", "not well-formed XML at line 1"),
    "other cityModel": (lambda text: b"<?xml version='1.0'?><CityModel xmlns='urn:other'><x/></CityModel>",
                        "not a CityGML document (its root is CityModel, not a CityGML CityModel)"),
    "generic gml": (lambda text: GENERIC_GML, "not a CityGML document (its root is FeatureCollection"),
    "no buildings": (lambda text: b"<CityModel xmlns='http://www.opengis.net/citygml/2.0'/>",
                     "no features for layer 'buildings'"),
    "no crs": (_no_srs, "the file declares no CRS; give it with --crs"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_citygml(make_twin, real_copy, tmp_path: Path, case: str) -> None:
    source = real_copy("citygml/delft_lod1_citygml2.gml")
    twin = make_twin("EPSG:28992")
    twin.run("import", str(source), "--layer", "buildings")  # something to keep
    path = tmp_path / "bad" / "city.gml"
    path.parent.mkdir()
    make, message = BAD[case]
    path.write_bytes(make(source.read_bytes()))
    before = twin.snapshot("buildings")
    result = twin.run("import", str(path), "--layer", "buildings", check=False)
    assert message in refused(result, path)
    assert twin.snapshot("buildings") == before and before[0] == 3
