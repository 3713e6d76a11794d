"""Source columns to a layer's attributes, without a database: --map, exact names, the alias table,
Shapefile's 10-character names, and each value read in its attribute's type or given its row's reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import ROOT

from importers.mapping import choose_columns, map_records, parse_mapping
from twin.catalog import load_catalog
from twin.errors import SourceError

pytestmark = pytest.mark.fast

CATALOG = load_catalog(ROOT / "layers")
SOURCE = Path("survey.csv")


def test_map_flags_are_source_equals_attribute() -> None:
    assert parse_mapping(["GJ = diameter_mm", "BH=source_id"]) == {"GJ": "diameter_mm", "BH": "source_id"}
    for bad in ("diameter_mm", "=diameter_mm", "GJ="):
        with pytest.raises(SourceError, match=f"--map {bad}: write it as SOURCE_COLUMN=ATTRIBUTE"):
            parse_mapping([bad])


def test_columns_are_chosen_by_map_then_name_then_alias() -> None:
    layer = CATALOG["water_supply"]
    columns = ["编号", "名称", "管径", "diameter_m", "MATERIAL", "remark"]
    chosen = choose_columns(columns, layer, {}, SOURCE)
    # aliases in any case (编号 is an id, 名称 a name), exact names in any case (MATERIAL)
    assert chosen["source_id"] == "编号" and chosen["name"] == "名称" and chosen["material"] == "MATERIAL"
    assert chosen["diameter_mm"] == "管径"  # the alias comes before the name cut to Shapefile's 10 characters
    assert "remark" not in chosen.values()
    # --map wins, and a column serves one attribute only
    explicit = choose_columns(columns, layer, {"remark": "name"}, SOURCE)
    assert explicit["name"] == "remark" and "名称" not in explicit.values()
    # a Shapefile's diameter_m (diameter_mm cut at 10 characters) where nothing else names it
    assert choose_columns(["diameter_m"], layer, {}, SOURCE)["diameter_mm"] == "diameter_m"


def test_the_tunnel_a_pipe_runs_in_is_read_from_a_survey() -> None:
    """A pipe survey's 所在管廊 (or an English export's tunnel_id) names the utility tunnel it runs in."""
    for column in ("所在管廊", "TUNNEL_ID", "SZGL"):
        assert choose_columns(["管线编号", column], CATALOG["heat"], {}, SOURCE)["tunnel"] == column
    assert "tunnel" not in choose_columns(["编号", "所在管廊"], CATALOG["roads"], {}, SOURCE)  # roads run in none


def test_a_map_naming_nothing_is_refused() -> None:
    layer = CATALOG["valves"]
    with pytest.raises(SourceError, match="--map a=nothing: layer 'valves' has no attribute 'nothing'"):
        choose_columns(["a"], layer, {"a": "nothing"}, SOURCE)
    with pytest.raises(SourceError, match=f"--map b=name: {SOURCE} has no column 'b'; it has: a"):
        choose_columns(["a"], layer, {"b": "name"}, SOURCE)


def test_survey_values_read_in_their_types_and_bad_ones_give_reasons() -> None:
    layer = CATALOG["water_supply"]
    frame = pd.DataFrame({
        "编号": ["J1", "J2", "J3", "J4"],
        "管径": ["DN300", "Φ 1,200", "400X300", "wide"],
        "valid_from": ["2015", "2016年", "2017-03-04", "soon"],
    })
    mapped = map_records(frame, layer, {}, SOURCE)
    assert mapped.source_id.tolist() == ["J1", "J2", "J3", "J4"]
    diameters = mapped.columns["diameter_mm"]
    assert diameters.iloc[:2].tolist() == [300.0, 1200.0] and diameters.iloc[2:].isna().all()
    # "400X300" is a duct's section, width by height, not a diameter
    assert mapped.columns["section_width_mm"].iloc[2] == 400 and mapped.columns["section_height_mm"].iloc[2] == 300
    assert [str(day) for day in mapped.valid_from.iloc[:3]] == ["2015-01-01", "2016-01-01", "2017-03-04"]
    assert mapped.reasons[:3].tolist() == [None, None, None]
    # a row keeps its first problem only
    assert mapped.reasons[3] == "diameter_mm: cannot read 'wide' as a number"


def test_whole_numbers_yes_no_and_float_ids() -> None:
    layer = CATALOG["buildings"]
    frame = pd.DataFrame({"id": [1.0, 2.0, 3.0], "floors": ["3", "2.5", "1e30"]})
    mapped = map_records(frame, layer, {}, SOURCE)
    assert mapped.source_id.tolist() == ["1", "2", "3"]  # ids read as floats: 1.0 means "1"
    assert mapped.columns["floors"].iloc[0] == 3 and mapped.columns["floors"].iloc[1:].isna().all()
    assert mapped.reasons.tolist() == [None, "floors: not a whole number '2.5'",
                                       "floors: too large for a whole number '1e30'"]
    valves = CATALOG["valves"]
    opened = map_records(pd.DataFrame({"id": ["a", "b", "c", "d"], "normally_open": ["是", "no", None, "maybe"]}),
                         valves, {}, SOURCE)
    assert opened.columns["normally_open"].iloc[:2].tolist() == [True, False]
    assert opened.columns["normally_open"].iloc[2:].isna().all()
    assert opened.reasons.tolist() == [None, None, None, "normally_open: cannot read 'maybe' as yes/no"]


def test_an_id_column_that_repeats_is_no_id() -> None:
    mapped = map_records(pd.DataFrame({"OBJECTID": [0, 0, 0]}), CATALOG["valves"], {}, SOURCE)
    assert mapped.source_id is None
    assert mapped.notes == ["column OBJECTID is not unique, so features keep the file's own ids"]
    assert np.equal(mapped.reasons, None).all()
