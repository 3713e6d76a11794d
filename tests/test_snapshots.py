"""Snapshot imports (``--as-of``): a city's successive surveys become the twin's versions and years, with
transaction time beside valid time, and any import undone exactly. Real PostGIS, the real CLI."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import psycopg
import pytest
from support import ROOT, Twin, refused

from twin.catalog import load_catalog
from twin.history import imports, version_on, versions
from twin.time import changed_ids, changes, year_range

X, Y = 506_000.0, 4_330_000.0  # the Eco-city in EPSG:4548
CATALOG = load_catalog()
FIXTURE = ROOT / "data" / "fixtures" / "eco_block.osm"


def square(x: float, y: float, size: float = 20.0) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}


def write(path: Path, features: list[tuple[dict, dict]]) -> Path:
    document = {"type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}},
                "features": [{"type": "Feature", "geometry": geometry, "properties": properties}
                             for geometry, properties in features]}
    path.write_text(json.dumps(document))
    return path


# The city's buildings surveyed in 2015 and in 2020: B1 unchanged, B2 heightened, B3 demolished, B4 moved
# 5 m, B5 built. B1 says when it was built; the others do not.
SURVEY_2015 = [
    (square(X, Y), {"id": "B1", "height_m": 12.0, "build_year": 2001}),
    (square(X + 100, Y), {"id": "B2", "height_m": 20.0}),
    (square(X + 200, Y), {"id": "B3", "height_m": 9.0, "name": "Old depot"}),
    (square(X + 300, Y), {"id": "B4", "height_m": 15.0}),
]
SURVEY_2020 = [
    (square(X, Y), {"id": "B1", "height_m": 12.0, "build_year": 2001}),
    (square(X + 100, Y), {"id": "B2", "height_m": 30.0}),
    (square(X + 305, Y), {"id": "B4", "height_m": 15.0}),
    (square(X + 400, Y), {"id": "B5", "height_m": 40.0}),
]
JUNE_2015, JUNE_2020 = date(2015, 6, 30), date(2020, 6, 30)


def rows(twin: Twin, layer: str = "buildings") -> list[tuple]:
    return twin.sql(f"SELECT source_id, version, valid_from, valid_to, height_m FROM layers.{layer} "
                    "ORDER BY source_id, version")


def store_checksum(twin: Twin, layer: str = "buildings") -> tuple:
    """Every row of the layer, its history and the import log: equal means the store is as it was."""
    return tuple(twin.sql(
        f"SELECT (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM layers.{layer} t), "
        f"(SELECT md5(coalesce(string_agg(h::text, '|' ORDER BY h.id, h.superseded_by), '')) FROM history.{layer} h), "
        "(SELECT md5(coalesce(string_agg(i::text, '|' ORDER BY i.id), '')) FROM twin.imports i), "
        "(SELECT count(*) FROM twin.rejects)")[0])


@pytest.fixture
def surveyed(make_twin, tmp_path: Path) -> tuple[Twin, Path]:
    """A twin holding the 2015 survey; the path of the 2020 one."""
    twin = make_twin()
    twin.run("import", str(write(tmp_path / "survey_2015.geojson", SURVEY_2015)), "--layer", "buildings",
             "--source", "survey", "--as-of", "2015-06-30")
    return twin, write(tmp_path / "survey_2020.geojson", SURVEY_2020)


def test_two_snapshots_make_versions_and_dates(surveyed) -> None:
    twin, survey_2020 = surveyed
    assert rows(twin) == [("B1", 1, date(2001, 1, 1), None, 12.0), ("B2", 1, JUNE_2015, None, 20.0),
                          ("B3", 1, JUNE_2015, None, 9.0), ("B4", 1, JUNE_2015, None, 15.0)]
    result = twin.run("import", str(survey_2020), "--layer", "buildings", "--source", "survey", "--as-of", "2020-06-30")
    assert "snapshot as of 2020-06-30: 1 new, 2 altered, 1 vanished, 1 unchanged" in result.stderr
    assert rows(twin) == [
        ("B1", 1, date(2001, 1, 1), None, 12.0),
        ("B2", 1, JUNE_2015, JUNE_2020, 20.0), ("B2", 2, JUNE_2020, None, 30.0),
        ("B3", 1, JUNE_2015, JUNE_2020, 9.0),
        ("B4", 1, JUNE_2015, JUNE_2020, 15.0), ("B4", 2, JUNE_2020, None, 15.0),
        ("B5", 1, JUNE_2020, None, 40.0)]
    assert twin.sql("SELECT round(ST_XMin(geom)) FROM layers.buildings WHERE source_id = 'B4' ORDER BY version") == [
        (X + 300,), (X + 305,)]
    # Transaction time: the unchanged B1 keeps the first import; what the second closed, it wrote, and the
    # rows as they were before are in the history, superseded by it.
    first, second = (row[0] for row in twin.sql("SELECT id FROM twin.imports ORDER BY id"))
    assert twin.sql("SELECT source_id, version, import_id FROM layers.buildings ORDER BY source_id, version") == [
        ("B1", 1, first), ("B2", 1, second), ("B2", 2, second), ("B3", 1, second), ("B4", 1, second),
        ("B4", 2, second), ("B5", 1, second)]
    assert twin.sql("SELECT source_id, valid_to, import_id, superseded_by FROM history.buildings ORDER BY source_id") == [
        ("B2", None, first, second), ("B3", None, first, second), ("B4", None, first, second)]
    assert twin.sql("SELECT as_of, changes->>'altered' FROM twin.imports ORDER BY id") == [
        (JUNE_2015, "0"), (JUNE_2020, "2")]
    # `twin layers` (and the viewer's panel) count features, not their versions.
    counts = {row["id"]: row["count"] for row in json.loads(twin.run("layers", "--json").stdout)}
    assert counts["buildings"] == 5


def test_the_years_and_changes_follow_the_snapshots(surveyed) -> None:
    twin, survey_2020 = surveyed
    twin.run("import", str(survey_2020), "--layer", "buildings", "--source", "survey", "--as-of", "2020-06-30")
    with psycopg.connect(twin.url) as connection:
        assert year_range(connection, CATALOG) == (2001, 2020)
        [change] = changes(connection, CATALOG, 2019, 2020)
        assert (change.layer, change.appeared, change.disappeared, change.altered) == ("buildings", 1, 1, 2)
        appeared, disappeared, altered = changed_ids(connection, CATALOG, 2019, 2020)["buildings"]
        named = dict(connection.execute("SELECT id::text, source_id || ' v' || version FROM layers.buildings"))
        assert [named[i] for i in appeared] == ["B5 v1"]
        assert [named[i] for i in disappeared] == ["B3 v1"]
        assert sorted(named[i] for i in altered) == ["B2 v2", "B4 v2"]
        assert changes(connection, CATALOG, 2016, 2019) == []


def test_versions_and_what_the_twin_said_on_a_day(surveyed) -> None:
    twin, survey_2020 = surveyed
    between = twin.sql("SELECT now()")[0][0]
    twin.run("import", str(survey_2020), "--layer", "buildings", "--source", "survey", "--as-of", "2020-06-30")
    with psycopg.connect(twin.url) as connection:
        [second_version] = connection.execute(
            "SELECT id::text FROM layers.buildings WHERE source_id = 'B2' AND version = 2").fetchone()
        history = versions(connection, CATALOG["buildings"], second_version)
        assert [(v["version"], v["valid_from"], v["valid_to"], v["height_m"]) for v in history] == [
            (1, JUNE_2015, JUNE_2020, 20.0), (2, JUNE_2020, None, 30.0)]
        assert version_on(history, date(2017, 1, 1))["height_m"] == 20.0
        assert version_on(history, date(2021, 1, 1))["height_m"] == 30.0
        # the 2020 survey's import wrote both rows as they are now (it closed version 1 and made version 2)
        [(second_import,)] = twin.sql("SELECT max(id) FROM twin.imports")
        assert [v["import_id"] for v in history] == [second_import] * 2
        assert history[0]["recorded"] == history[1]["recorded"]
        # Before the 2020 survey came in, the twin knew one version of B2, standing still.
        said = versions(connection, CATALOG["buildings"], second_version, recorded=between)
        assert [(v["version"], v["valid_to"], v["height_m"]) for v in said] == [(1, None, 20.0)]
        assert versions(connection, CATALOG["buildings"], "00000000-0000-0000-0000-000000000000") == []


def test_out_of_order_snapshot_is_refused_and_changes_nothing(surveyed) -> None:
    twin, survey_2020 = surveyed
    twin.run("import", str(survey_2020), "--layer", "buildings", "--source", "survey", "--as-of", "2020-06-30")
    before = store_checksum(twin)
    for day in ("2017-01-01", "2020-06-30"):
        result = twin.run("import", str(survey_2020), "--layer", "buildings", "--source", "survey", "--as-of", day,
                          check=False)
        line = refused(result, survey_2020)
        assert "already holds a snapshot as of 2020-06-30" in line and "oldest first" in line
    assert store_checksum(twin) == before


def test_undo_restores_the_store_exactly(surveyed) -> None:
    twin, survey_2020 = surveyed
    before = store_checksum(twin)
    twin.run("import", str(survey_2020), "--layer", "buildings", "--source", "survey", "--as-of", "2020-06-30")
    [(second,)] = twin.sql("SELECT max(id) FROM twin.imports")
    listed = twin.run("imports").stdout
    assert f"{second:>5}" in listed and "as of 2020-06-30" in listed
    # The 2015 import has a later one building on it: undoing it first is refused.
    assert f"undo {second} first" in refused(twin.run("import", "--undo", str(second - 1), check=False),
                                             f"--undo {second - 1}")
    result = twin.run("import", "--undo", str(second))
    assert f"undone: import {second}" in result.stderr
    assert store_checksum(twin) == before
    assert "no import has that id" in refused(twin.run("import", "--undo", "999", check=False), "--undo 999")
    # And the whole history undone leaves an empty layer and an empty log.
    twin.run("import", "--undo", str(second - 1))
    assert twin.count("buildings") == 0 and twin.sql("SELECT count(*) FROM twin.imports") == [(0,)]


def test_a_plain_reimport_can_be_undone_too(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    twin.run("import", str(write(tmp_path / "survey.geojson", SURVEY_2015)), "--layer", "buildings")
    before = store_checksum(twin)
    twin.run("import", str(write(tmp_path / "survey.geojson", SURVEY_2020)), "--layer", "buildings")
    assert twin.count("buildings") == 4
    twin.run("import", "--undo", twin.sql("SELECT max(id)::text FROM twin.imports")[0][0])
    assert store_checksum(twin) == before


def test_a_feature_back_after_it_vanished_opens_its_next_version(surveyed, tmp_path: Path) -> None:
    twin, survey_2020 = surveyed
    twin.run("import", str(survey_2020), "--layer", "buildings", "--source", "survey", "--as-of", "2020-06-30")
    survey_2022 = write(tmp_path / "survey_2022.geojson", [*SURVEY_2020, SURVEY_2015[2]])
    result = twin.run("import", str(survey_2022), "--layer", "buildings", "--source", "survey", "--as-of", "2022-01-01")
    assert "0 new, 0 altered, 0 vanished, 1 back, 4 unchanged" in result.stderr
    assert twin.sql("SELECT version, valid_from, valid_to FROM layers.buildings WHERE source_id = 'B3' "
                    "ORDER BY version") == [(1, JUNE_2015, JUNE_2020), (2, date(2022, 1, 1), None)]


# Pipes surveyed without ids: P1 unchanged, P2 resurveyed 0.2 m off (the same pipe), P3 removed, P4 laid.
def pipe(x: float, y: float, length: float = 50.0) -> dict:
    return {"type": "LineString", "coordinates": [[x, y], [x + length, y]]}


def test_a_source_without_ids_is_matched_by_footprint(make_twin, tmp_path: Path) -> None:
    twin = make_twin()
    before = [(pipe(X, Y), {"diameter_mm": 300}), (pipe(X, Y + 100), {"diameter_mm": 200}),
              (pipe(X, Y + 200), {"diameter_mm": 150})]
    after = [(pipe(X + 500, Y), {"diameter_mm": 100}), (pipe(X, Y + 100.2), {"diameter_mm": 200}),
             (pipe(X, Y), {"diameter_mm": 300})]
    twin.run("import", str(write(tmp_path / "pipes_2018.geojson", before)), "--layer", "water_supply",
             "--source", "pipes", "--as-of", "2018-01-01")
    result = twin.run("import", str(write(tmp_path / "pipes_2021.geojson", after)), "--layer", "water_supply",
                      "--source", "pipes", "--as-of", "2021-01-01")
    assert "1 new, 1 altered, 1 vanished, 1 unchanged" in result.stderr
    assert "2 rows matched by footprint (within 0.5 m)" in result.stderr
    assert twin.sql("SELECT source_id, version, valid_from, valid_to, diameter_mm FROM layers.water_supply "
                    "ORDER BY source_id, version") == [
        ("0", 1, date(2018, 1, 1), None, 300.0),
        ("1", 1, date(2018, 1, 1), date(2021, 1, 1), 200.0), ("1", 2, date(2021, 1, 1), None, 200.0),
        ("2", 1, date(2018, 1, 1), date(2021, 1, 1), 150.0),
        ("2021-01-01#0", 1, date(2021, 1, 1), None, 100.0)]
    # A tighter tolerance than the resurvey's 0.2 m makes P2 another pipe.
    twin.run("import", "--undo", twin.sql("SELECT max(id)::text FROM twin.imports")[0][0])
    result = twin.run("import", str(tmp_path / "pipes_2021.geojson"), "--layer", "water_supply", "--source", "pipes",
                      "--as-of", "2021-01-01", "--match-tolerance", "0.1")
    assert "2 new, 0 altered, 2 vanished, 1 unchanged" in result.stderr


# -- OpenStreetMap: two extracts of the same area -------------------------------------------------------
def test_two_osm_extracts_make_the_change_between_them(make_twin, tmp_path: Path) -> None:
    """The 2019 extract is the hand-made block; in the 2023 one the school gained two storeys, the
    residential street is gone, the hydrant moved and a building went up."""
    block = FIXTURE.read_text(encoding="utf-8")
    later = (block.replace('<tag k="building" v="school"/><tag k="building:levels" v="4"/>',
                           '<tag k="building" v="school"/><tag k="building:levels" v="6"/>')
             .replace('<way id="202" version="1"><nd ref="32"/><nd ref="33"/><tag k="highway" v="residential"/></way>', "")
             .replace('<node id="21" lat="39.1231"', '<node id="21" lat="39.1236"')
             .replace("</osm>", '  <node id="50" lat="39.1270" lon="117.7270" version="1"/>\n'
                                '  <node id="51" lat="39.1270" lon="117.7273" version="1"/>\n'
                                '  <node id="52" lat="39.1273" lon="117.7273" version="1"/>\n'
                                '  <way id="104" version="1"><nd ref="50"/><nd ref="51"/><nd ref="52"/><nd ref="50"/>'
                                '<tag k="building" v="yes"/></way>\n</osm>'))
    assert later.count("<way") == block.count("<way")  # one gone, one new
    (tmp_path / "block_2019.osm").write_text(block, encoding="utf-8")
    (tmp_path / "block_2023.osm").write_text(later, encoding="utf-8")
    twin = make_twin()
    twin.run("import", str(tmp_path / "block_2019.osm"), "--source", "osm", "--as-of", "2019-01-01")
    result = twin.run("import", str(tmp_path / "block_2023.osm"), "--source", "osm", "--as-of", "2023-01-01")
    summaries = dict(re.findall(r"^(\w+) <- osm .*\nsnapshot as of 2023-01-01: (.*)$", result.stderr, re.M))
    assert summaries["buildings"].startswith("1 new, 1 altered, 0 vanished")
    assert summaries["roads"].startswith("0 new, 0 altered, 1 vanished")
    assert summaries["smart_hydrants"] == "0 new, 1 altered, 0 vanished, 0 unchanged"
    assert summaries["hospitals"] == "0 new, 0 altered, 0 vanished, 1 unchanged"
    assert twin.sql("SELECT version, floors, valid_from, valid_to FROM layers.buildings "
                    "WHERE source_id LIKE '%101' ORDER BY version") == [
        (1, 4, date(2019, 1, 1), date(2023, 1, 1)), (2, 6, date(2023, 1, 1), None)]
    with psycopg.connect(twin.url) as connection:
        assert year_range(connection, CATALOG) == (2012, 2023)  # Tower A's start_date, then the extracts
        found = {change.layer: (change.appeared, change.disappeared, change.altered)
                 for change in changes(connection, CATALOG, 2022, 2023)}
    assert found == {"buildings": (1, 0, 1), "roads": (0, 1, 0), "smart_hydrants": (0, 0, 1)}


def test_a_rejected_row_does_not_close_its_feature(surveyed, tmp_path: Path) -> None:
    twin, _ = surveyed
    broken = [(None, {"id": "B1", "height_m": 12.0}), *SURVEY_2015[1:]]  # B1's geometry lost in this edition
    result = twin.run("import", str(write(tmp_path / "survey_2016.geojson", broken)), "--layer", "buildings",
                      "--source", "survey", "--as-of", "2016-06-30")
    assert "0 new, 0 altered, 0 vanished, 3 unchanged; rejected rows left their features as they were: 1" \
        in result.stderr
    assert twin.sql("SELECT valid_to FROM layers.buildings WHERE source_id = 'B1'") == [(None,)]


def test_a_layer_missing_from_a_later_extract_vanishes(make_twin, tmp_path: Path) -> None:
    block = FIXTURE.read_text(encoding="utf-8")
    (tmp_path / "block_2019.osm").write_text(block, encoding="utf-8")
    without_police = block.replace('<tag k="amenity" v="police"/>', '<tag k="amenity" v="bench"/>')
    (tmp_path / "block_2023.osm").write_text(without_police, encoding="utf-8")
    twin = make_twin()
    twin.run("import", str(tmp_path / "block_2019.osm"), "--source", "osm", "--as-of", "2019-01-01")
    result = twin.run("import", str(tmp_path / "block_2023.osm"), "--source", "osm", "--as-of", "2023-01-01")
    assert "note: layer 'police_stations': no features in the file\n" in result.stderr
    assert re.search(r"^police_stations <- osm .*\nsnapshot as of 2023-01-01: 0 new, 0 altered, 1 vanished",
                     result.stderr, re.M)
    assert twin.sql("SELECT valid_to FROM layers.police_stations") == [(date(2023, 1, 1),)]
    assert "fire_brigades <-" not in result.stderr  # the source never held any


def test_a_snapshot_that_only_closes_still_shows_its_year(surveyed, tmp_path: Path) -> None:
    twin, _ = surveyed
    twin.run("import", str(write(tmp_path / "survey_2018.geojson", SURVEY_2015[:3])), "--layer", "buildings",
             "--source", "survey", "--as-of", "2018-01-01")  # B4 demolished, nothing else changed
    with psycopg.connect(twin.url) as connection:
        assert year_range(connection, CATALOG) == (2001, 2018)
        [change] = changes(connection, CATALOG, 2017, 2018)
        assert (change.appeared, change.disappeared, change.altered) == (0, 1, 0)


def test_planned_features_are_replaced_or_removed_not_closed(make_twin, tmp_path: Path) -> None:
    """The 2015 survey lists two buildings dated 2022 (planned): in 2020 one is planned taller, the other
    is dropped. Neither ever stood, so neither gets a closed version."""
    twin = make_twin()
    planned = [(square(X, Y), {"id": "P1", "height_m": 30.0, "build_year": 2022}),
               (square(X + 100, Y), {"id": "P2", "height_m": 20.0, "build_year": 2022})]
    twin.run("import", str(write(tmp_path / "s2015.geojson", planned)), "--layer", "buildings", "--source", "survey",
             "--as-of", "2015-01-01")
    taller = [(square(X, Y), {"id": "P1", "height_m": 45.0, "build_year": 2022})]
    result = twin.run("import", str(write(tmp_path / "s2020.geojson", taller)), "--layer", "buildings",
                      "--source", "survey", "--as-of", "2020-01-01")
    assert "0 new, 1 altered, 1 vanished, 0 unchanged" in result.stderr
    assert rows(twin) == [("P1", 1, date(2022, 1, 1), None, 45.0)]
    assert twin.sql("SELECT source_id, height_m FROM history.buildings ORDER BY source_id") == [("P1", 30.0), ("P2", 20.0)]
