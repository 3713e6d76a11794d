"""OpenStreetMap: every layer osm.toml feeds, in one pass, from the real Monaco extract and a hand-made XML block."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import pyogrio
import pytest
from support import ROOT, refused

from twin.catalog import load_catalog

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURE = ROOT / "data" / "fixtures" / "eco_block.osm"


def _wanted(path: Path) -> dict[str, int]:
    """Features of each layer of importers/osm.toml in the file, counted here from the tags GDAL reads by
    the table's documented rules (a key's value, one of a list, or "*": any but "no")."""
    table = tomllib.loads((ROOT / "importers" / "osm.toml").read_text())
    counts = dict.fromkeys(table["layers"], 0)
    catalog = load_catalog()
    for part in ("points", "lines", "multipolygons"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(path, layer=part, read_geometry=part == "lines")
        closed = frame.geometry.is_closed.to_numpy() if part == "lines" else None
        for row, record in enumerate(frame.drop(columns="geometry", errors="ignore").to_dict("records")):
            tags = {key: str(value) for key, value in record.items() if isinstance(value, str)}
            other = record.get("other_tags")
            tags.update(re.findall(r'"([^"]+)"=>"([^"]*)"', other if isinstance(other, str) else ""))
            for layer_id, entry in table["layers"].items():
                fits = {"point": part != "lines", "line": part == "lines",
                        "polygon": part == "multipolygons" or (part == "lines" and closed[row])}[catalog[layer_id].geometry]
                if fits and any(all(_meets(tags, key, wanted) for key, wanted in condition.items())
                                for condition in entry["match"]):
                    counts[layer_id] += 1
    return counts


def _meets(tags: dict[str, str], key: str, wanted: object) -> bool:
    values = [value for name, value in tags.items() if name == key or (key.endswith("*") and name.startswith(key[:-1]))]
    return any(value != "no" if wanted == "*" else value in wanted if isinstance(wanted, list) else value == wanted
               for value in values)


def _rejected(twin, layer: str) -> int:
    return twin.sql("SELECT count(*) FROM twin.rejects r JOIN twin.imports i ON i.id = r.import_id "
                    "WHERE i.layer = %s", layer)[0][0]


def test_monaco_in_one_pass(make_twin, real_copy) -> None:
    path = real_copy("osm/monaco.osm.pbf")
    twin = make_twin("EPSG:32632")
    result = twin.run("import", str(path))
    wanted = _wanted(path)
    summaries = [line for line in result.stderr.splitlines() if " <- monaco (OpenStreetMap): " in line]
    assert len(summaries) == sum(1 for count in wanted.values() if count)  # one line a layer it fed
    for layer, count in wanted.items():
        assert twin.count(layer) + _rejected(twin, layer) == count, layer
        if not count:
            assert f"layer '{layer}': no features in the file; skipped" in result.stderr
    assert twin.count("buildings") > 23_000 and twin.count("roads") > 1_000
    assert twin.count("water_bodies") > 0 and twin.count("parks") > 0
    assert twin.count("bus_stations") > 0 and twin.count("traffic_signals") > 0
    assert (twin.count("police_stations"), twin.count("fire_brigades"), twin.count("hospitals"),
            twin.count("smart_hydrants")) == (14, 3, 5, 1)  # as PROVENANCE.md says
    assert "have no footprint: not imported" in result.stderr  # building nodes and unclosed ways
    ids = twin.sql("SELECT source_id, tags->>'amenity' FROM layers.hospitals")
    assert all(source_id.split("/")[0] in ("node", "way", "relation") and amenity == "hospital"
               for source_id, amenity in ids)
    assert twin.sql("SELECT GeometryType(geom) FROM layers.hospitals LIMIT 1") == [("POINT",)]
    classes = {row[0] for row in twin.sql("SELECT DISTINCT road_class FROM layers.roads")}
    assert classes <= {"expressway", "arterial", "secondary", "branch"} and "arterial" in classes
    assert twin.sql("SELECT count(*) FROM layers.roads WHERE width_m IS NULL OR width_m <= 0") == [(0,)]
    assert twin.sql("SELECT count(DISTINCT import_id) FROM twin.rejects") <= [(len(summaries),)]


def test_layer_flag_limits_to_one_layer(make_twin, real_copy) -> None:
    path = real_copy("osm/monaco.osm.pbf")
    twin = make_twin("EPSG:32632")
    result = twin.run("import", str(path), "--layer", "hospitals")
    assert twin.count("hospitals") == 5 and twin.count("buildings") == 0 and twin.count("roads") == 0
    assert [line for line in result.stderr.splitlines() if " <- " in line] == [
        line for line in result.stderr.splitlines() if line.startswith("hospitals <- monaco (OpenStreetMap): 5 imported")]


def test_one_command_is_one_transaction(make_twin, real_copy, tmp_path: Path) -> None:
    path = real_copy("osm/monaco.osm.pbf")
    block = tmp_path / "eco_block.osm"
    block.write_bytes(FIXTURE.read_bytes())
    twin = make_twin("EPSG:32632")
    layers = ("buildings", "roads", "hospitals", "police_stations")
    twin.run("import", str(path), "--source", "earlier", "--layer", "police_stations")
    before = [twin.snapshot(layer) for layer in layers]
    # Monaco has buildings GEOS calls invalid: --strict refuses the whole command, every layer.
    refused(twin.run("import", str(path), "--strict", check=False), path)
    assert [twin.snapshot(layer) for layer in layers] == before
    # The database refuses the hospitals, written after the buildings and roads: none of them stays.
    twin.sql("ALTER TABLE layers.hospitals ADD CONSTRAINT no_names CHECK (name IS NULL) NOT VALID")
    line = refused(twin.run("import", str(path), check=False), path)
    assert "layer 'hospitals'" in line and "nothing was imported" in line
    assert [twin.snapshot(layer) for layer in layers] == before


def test_rules_on_a_handmade_block(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "eco_block.osm"
    path.write_bytes(FIXTURE.read_bytes())
    twin = make_twin()
    result = twin.run("import", str(path))
    assert "layer 'fire_brigades': no features in the file; skipped" in result.stderr
    rows = twin.sql("SELECT source_id, name, height_m, floors, use, roof_type, build_year, valid_from::text "
                    "FROM layers.buildings ORDER BY source_id")
    assert rows == [
        ("way/100", "Tower A", 54.0, 18, "residential", None, 2012, "2012-01-01"),  # height wins over levels
        ("way/101", None, 12.0, 4, "school", None, None, None),  # 4 levels x 3 m
        ("way/103", None, 6.0, 2, "other", "gabled", None, None),  # a building:part, a closed line in GDAL
    ]
    assert twin.sql("SELECT source_id, road_class, width_m, lanes FROM layers.roads ORDER BY source_id") == [
        ("way/200", "arterial", 10.5, 3),  # 3 lanes x 3.5 m
        ("way/201", "secondary", 16.0, None),  # its width
        ("way/202", "branch", 6.0, None),  # the class's width; the footway is no road
    ]
    assert twin.sql("SELECT kind FROM layers.water_bodies") == [("pond",)]
    assert twin.sql("SELECT name, kind FROM layers.parks") == [("Eco Park", "park")]
    for layer, count in (("police_stations", 1), ("hospitals", 1), ("smart_hydrants", 1), ("base_stations_5g", 1),
                         ("bus_stations", 1), ("traffic_signals", 1), ("smart_lamp_poles", 1), ("cameras", 1)):
        assert twin.count(layer) == count, layer
    assert twin.sql("SELECT name, phone FROM layers.police_stations") == [("生态城派出所", "+86 22 1234")]
    assert twin.sql("SELECT name, beds, source_id FROM layers.hospitals") == [("Eco-city Hospital", 300, "way/102")]
    assert twin.sql("SELECT camera_type, purpose FROM layers.cameras") == [("dome", "security")]
    assert twin.sql("SELECT routes FROM layers.bus_stations") == [("521",)]


@pytest.mark.parametrize("case", ["truncated", "wrong format", "other layer"])
def test_bad_osm(make_twin, real_copy, tmp_path: Path, case: str) -> None:
    source = real_copy("osm/monaco.osm.pbf")
    path = tmp_path / "bad" / "city.osm.pbf"
    path.parent.mkdir()
    data = source.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 3], "wrong format": b"PK\x03\x04 not a pbf at all" * 20,
                      "other layer": data}[case])
    twin = make_twin("EPSG:32632")
    layer = "water_supply" if case == "other layer" else "buildings"
    before = twin.snapshot(layer)
    result = twin.run("import", str(path), "--layer", layer, check=False)
    refused(result, path)
    assert twin.snapshot(layer) == before
