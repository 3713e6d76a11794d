"""The picked card's readout (viewer.tools.readout): the catalog's titles and units, numbers rounded to
what they mean, coded values in words, the feature's own columns under titles, the id last."""

from __future__ import annotations

from datetime import date

import pytest
from support import ROOT

from twin.catalog import load_catalog
from viewer.tools.readout import rows, text

pytestmark = pytest.mark.fast
CATALOG = load_catalog(ROOT / "layers")


def test_a_building_reads_under_titles_with_units() -> None:
    values = {"id": "4e4b4bec-b3ae-b9d3-944d-e07d5c909797", "source": "ecocity", "source_id": "B00000-15",
              "version": 1, "import_id": 7, "valid_from": date(2012, 1, 1), "height_m": 28.499999999999996,
              "ground_z_m": 2.634681187201311, "floor_area_m2": 12345.678, "floors": 8, "build_year": 2012,
              "use": "residential", "tags": {"k": "v"}}
    shown = rows(CATALOG["buildings"], values)
    assert shown == [("Source", "ecocity"), ("Source id", "B00000-15"), ("Since", "2012-01-01"), ("Version", "1"),
                     ("Height", "28.5 m"), ("Ground height", "2.63 m"), ("Floor area", "12,345.68 m²"),
                     ("Floors", "8"), ("Build year", "2012"), ("Use", "residential"),
                     ("Feature id", "4e4b4bec-b3ae-b9d3-944d-e07d5c909797")]


def test_values_read_as_words() -> None:
    assert rows(CATALOG["water_supply"], {"status": "in_service"}) == [("Status", "in service")]
    assert text("a_b") == "a_b"  # free text stays as it is
    assert (text(True), text(False)) == ("yes", "no")
    assert (text(30.0, "m"), text(0.125, "m"), text(1_500_000)) == ("30 m", "0.12 m", "1,500,000")
    assert text({"pressure": "0.4MPa"}) == '{"pressure": "0.4MPa"}'


def test_a_building_reads_in_chinese() -> None:
    values = {"source_id": "B00000-15", "valid_from": date(2012, 1, 1), "height_m": 28.5, "use": "residential",
              "floors": 8, "owner_note": "x", "id": "4e4b4bec-b3ae-b9d3-944d-e07d5c909797"}
    assert rows(CATALOG["buildings"], values, "zh-CN") == [
        ("来源编号", "B00000-15"), ("起始日期", "2012-01-01"), ("高度", "28.5 m"), ("用途", "住宅"), ("层数", "8"),
        ("Owner note", "x"), ("要素编号", "4e4b4bec-b3ae-b9d3-944d-e07d5c909797")]
    assert rows(CATALOG["bus_stations"], {"driverless": True}, "zh-CN") == [("无人驾驶公交", "是")]
