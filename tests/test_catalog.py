"""The layer catalog: the shipped layers are valid and complete, and broken files say what is wrong."""

from __future__ import annotations

import colorsys
import shutil
from pathlib import Path

import pytest
from support import ROOT, run_twin_in_process

from twin.catalog import GROUPS, load_catalog, load_layer
from twin.errors import CatalogError

pytestmark = pytest.mark.fast

LAYERS = ROOT / "layers"

# What the platform must cover (issue 3), by layer id.
REQUIRED = {
    "terrain", "land_cover", "water_bodies", "parks", "roads", "buildings", "management_grids",
    "water_supply", "reclaimed_water", "gas", "heat", "rainwater", "sewage", "communications",
    "pneumatic_waste", "utility_tunnels", "valves", "manholes",
    "base_stations_5g", "smart_elevators", "smart_hydrants", "cameras", "iot_sensors",
    "smart_lamp_poles", "traffic_signals", "bus_stations",
    "police_stations", "fire_brigades", "hospitals",
}


def test_catalog_has_every_required_layer() -> None:
    catalog = load_catalog(LAYERS)
    assert len(catalog) >= 24
    assert REQUIRED <= {layer.id for layer in catalog}
    assert {layer.group for layer in catalog} == set(GROUPS)


def test_every_layer_declares_drawing_style_and_time() -> None:
    for layer in load_catalog(LAYERS):
        assert layer.draw.mode in {"extrude", "solid", "tube", "box", "glyph", "drape"}, layer.id
        assert layer.style.color.startswith("#"), layer.id
        if layer.geometry == "line" and layer.group == "underground":
            assert layer.z, f"{layer.id}: pipes lie at depth, so they are 3D"


def test_iot_sensors_have_19_types() -> None:
    sensor_type = load_catalog(LAYERS)["iot_sensors"].attributes["sensor_type"]
    assert sensor_type.values is not None and len(set(sensor_type.values)) == 19


def _hue(colour: str) -> tuple[float, float, float]:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    return hue * 360, lightness, saturation


@pytest.mark.parametrize(
    ("layer_id", "low", "high"),
    [
        ("water_supply", 180, 210),  # sky blue
        ("gas", 300, 345),  # pink
        ("heat", 25, 45),  # orange
        ("rainwater", 15, 40),  # brown
        ("sewage", 15, 40),  # brown
        ("communications", 90, 150),  # green
        ("power", 0, 10),  # red
    ],
)
def test_pipe_colours_follow_cjj61(layer_id: str, low: float, high: float) -> None:
    hue, lightness, _ = _hue(load_catalog(LAYERS)[layer_id].style.color)
    assert low <= hue <= high, f"{layer_id} hue {hue:.0f}"
    if layer_id in {"rainwater", "sewage"}:
        assert lightness < 0.45, "brown, not orange"


def test_pipes_share_the_survey_attributes() -> None:
    catalog = load_catalog(LAYERS)
    for layer_id in ("water_supply", "gas", "heat", "rainwater", "sewage", "communications", "pneumatic_waste"):
        attributes = catalog[layer_id].attributes
        for name in ("material", "diameter_mm", "start_depth_m", "end_depth_m", "install_year", "owner"):
            assert name in attributes, f"{layer_id}.{name}"
        assert catalog[layer_id].draw.mode == "tube"


def test_adding_a_layer_is_adding_a_file(tmp_path: Path) -> None:
    shutil.copytree(LAYERS, tmp_path, dirs_exist_ok=True)
    (tmp_path / "drone_routes.toml").write_text(
        'id = "drone_routes"\ntitle = "Drone patrol routes"\ngroup = "smart"\ngeometry = "line"\n'
        'z = true\n[draw]\nmode = "tube"\ndiameter = "width_mm"\n[style]\ncolor = "#00aaff"\n'
        '[attributes]\nwidth_mm = { type = "real" }\n',
        encoding="utf-8",
    )
    catalog = load_catalog(tmp_path)
    assert len(catalog) == len(load_catalog(LAYERS)) + 1
    assert catalog["drone_routes"].group_title() == "Smart facilities"
    # Without its Chinese it reads in English, and says what it lacks.
    assert catalog["drone_routes"].title_in("zh-CN") == "Drone patrol routes"
    assert catalog["drone_routes"].untranslated("zh-CN") == ["zh-CN"]


def test_every_layer_has_its_words_in_chinese() -> None:
    """A Chinese planner reads every title, description, attribute, coded value and class in Chinese."""
    untranslated = {layer.id: missing for layer in load_catalog(LAYERS) if (missing := layer.untranslated("zh-CN"))}
    assert not untranslated, f"layer files lacking their [zh-CN] words: {untranslated}"


def test_layers_read_in_the_language_asked() -> None:
    catalog = load_catalog(LAYERS)
    water, land = catalog["water_supply"], catalog["land_cover"]
    assert (water.title_in("en"), water.title_in("zh-CN")) == ("Water supply pipes", "给水管道")
    assert water.attribute_title("status", "zh-CN") == "状态"  # from the pipe template's [zh-CN]
    assert (water.value_words("status", "in_service", "en"), water.value_words("status", "in_service", "zh-CN")) \
        == ("in service", "在用")
    assert [land.class_label(entry, "zh-CN") for entry in land.style.classes][:2] == ["盐碱滩涂", "污水库"]
    assert catalog["buildings"].group_title("zh-CN") == "建筑"
    by_use, by_year = catalog["buildings"].colour_by_in("zh-CN")
    assert (by_use.title, by_use.classes[0].label, by_use.other.label, by_use.missing.label) \
        == ("按用途", "居住", "其他用途", "无用途记录")
    assert by_use.classes[0].values == ["residential", "villa"] and by_year.ramp == catalog["buildings"].style.colour_by[1].ramp
    assert [c.title for c in catalog["buildings"].colour_by_in("en")] == ["By use", "By build year"]


def test_every_colouring_label_has_its_chinese() -> None:
    """Each colouring's title and labels (the buildings' by use and by build year) are worded in Chinese,
    every class its own label, none left in English."""
    for layer in load_catalog(LAYERS):
        for english, chinese in zip(layer.style.colour_by, layer.colour_by_in("zh-CN")):
            labels = [c.label for c in (*chinese.classes, chinese.other, chinese.missing) if c is not None]
            assert chinese.title != english.title and not any(label.isascii() for label in labels), (layer.id, labels)
            assert len(chinese.classes) == len(english.classes)


BROKEN = {
    "not_toml": ('id = "x\n', "not valid TOML"),
    "bad_colour": ('[style]\ncolor = "pink"\n', "field 'style.color'"),
    "bad_group": ('group = "sky"\n', "field 'group'"),
    "misspelt_key": ('[style]\ncolor = "#ffffff"\ncolour = "#ffffff"\n', "field 'style.colour'"),
    "bad_draw_mode": ('[draw]\nmode = "hologram"\n', "field 'draw.mode'"),
    "draw_names_missing_attribute": ('[draw]\nmode = "tube"\ndiameter = "dn"\n', "field 'draw.diameter'"),
    "bad_attribute_type": ('[attributes]\ndepth = { type = "float" }\n', "field 'attributes.depth.type'"),
    "attribute_shadows_column": ('[attributes]\ngeom = { type = "text" }\n', "field 'attributes'"),
    "unknown_template": ('extends = "nothing"\n', "field 'extends'"),
    "untitled_translation_is_fine_but_text": ('[zh-CN]\ndescription = 5\n', "field 'zh-CN.description'"),
    "unknown_language": ('[zh-TW]\ntitle = "無人機"\n', "field 'zh-TW'"),
    "translation_without_title_text": ('[zh-CN]\ntitle = 3\n', "field 'zh-CN.title'"),
    "translation_names_missing_attribute": ('[zh-CN]\ntitle = "T"\n[zh-CN.attributes]\ndn = "管径"\n',
                                            "field 'zh-CN.attributes'"),
    "colouring_names_missing_attribute": (
        '[style]\ncolour_by = [{ attribute = "usage", title = "By use", ramp = ["#000000", "#ffffff"], '
        'missing = { label = "None", color = "#cccccc" } }]\n', "field 'style.colour_by.0.attribute'"),
    "colour_words_name_no_colouring": ('[zh-CN]\ntitle = "T"\n[zh-CN.colour_by.usage]\ntitle = "按用途"\n'
                                       'missing = "无"\n', "field 'zh-CN.colour_by.usage'"),
    "colouring_without_classes_or_ramp": (
        '[style]\ncolour_by = [{ attribute = "usage", title = "By use", missing = { label = "None", '
        'color = "#cccccc" } }]\n', "needs either classes or a ramp"),
}
VALID = 'id = "{id}"\ntitle = "T"\ngroup = "smart"\ngeometry = "point"\n[draw]\nmode = "glyph"\nsymbol = "cube"\n'


def _broken_file(directory: Path, case: str) -> Path:
    override, _ = BROKEN[case]
    path = directory / f"{case}.toml"
    base = VALID.format(id=case)
    if case == "not_toml":
        text = override
    else:
        # Later keys of the same table replace the valid ones: TOML forbids duplicates, so merge by hand.
        text = _merge_toml(base + '[style]\ncolor = "#123456"\n', override)
    path.write_text(text, encoding="utf-8")
    return path


def _merge_toml(base: str, override: str) -> str:
    sections: dict[str, dict[str, str]] = {}
    order: list[str] = []
    for chunk in (base, override):
        section = ""
        for line in chunk.splitlines():
            if line.startswith("["):
                section = line
                continue
            key = line.split("=", 1)[0].strip()
            if section not in sections:
                sections[section] = {}
                order.append(section)
            sections[section][key] = line
    return "\n".join(
        ((name + "\n") if name else "") + "\n".join(sections[name].values()) for name in order
    ) + "\n"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_layer_file_names_file_and_field(tmp_path: Path, case: str) -> None:
    path = _broken_file(tmp_path, case)
    with pytest.raises(CatalogError) as caught:
        load_layer(path)
    message = str(caught.value)
    assert str(path) in message
    assert BROKEN[case][1] in message
    assert "\n" not in message


def test_layer_id_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "cameras2.toml"
    path.write_text(VALID.format(id="cameras") + '[style]\ncolor = "#123456"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="must equal the file name 'cameras2'"):
        load_layer(path)


def test_cli_reports_broken_layer_file_in_one_line(tmp_path: Path) -> None:
    shutil.copytree(LAYERS, tmp_path, dirs_exist_ok=True)
    path = _broken_file(tmp_path, "bad_colour")
    result = run_twin_in_process("layers", TWIN_LAYERS_DIR=str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("twin: ") and str(path) in lines[0] and "style.color" in lines[0]


def test_bad_setting_is_one_line_error() -> None:
    result = run_twin_in_process("layers", TWIN_PG_PORT="eighty")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("twin: TWIN_PG_PORT:")
    assert len(result.stderr.strip().splitlines()) == 1
