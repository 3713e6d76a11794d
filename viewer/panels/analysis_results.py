"""What the viewer makes of each analysis's result (:mod:`twin.analyses`, in the twin's CRS as the scene
is): the highlight drawn in 3D (:class:`viewer.panels.overlay.Overlay`), the figures and the list the panel
shows, in the page's language (the messages' analysis section; the layers' titles and the valves' types
from the layer files). One function per analysis, each taking the result as the analysis returned it;
what the result itself names (a feature's name, a valve's id) stays as the data has it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from twin import i18n
from twin.analyses.results import Finding, Result
from twin.catalog import Catalog
from viewer.panels.overlay import Overlay

MOST_ITEMS = 100  # entries the list shows; the figures count them all
FRAME_M = 40.0  # a list entry is flown to framed this wide, unless it spans more
# What the analyses find, in Okabe and Ito's colours, which red-green colour-blind eyes tell apart too
# (a red beside a green, as highlights were, reads as one colour to one man in twelve). Each analysis
# uses colours that differ for them, and the figures name the colour.
BLUE, VERMILLION, SKY, YELLOW, GREEN, PURPLE, GREY = (
    "#0072b2", "#d55e00", "#56b4e9", "#f0e442", "#009e73", "#cc79a7", "#333333")
# Each kind of emergency resource in a colour of its own (the catalog's fire brigades and hospitals are
# both red), named in the figures (keys of the messages' analysis section).
RESOURCE_COLORS = {"police_stations": (BLUE, "blue"), "fire_brigades": (VERMILLION, "orange_red"),
                   "hospitals": (GREEN, "green")}
# Appeared, disappeared, altered: and the names the figures give them (keys of the messages' analysis section).
CHANGE_COLORS = ((BLUE, "blue"), (VERMILLION, "orange_red"), (PURPLE, "purple"))


@dataclass
class Item:
    """A list entry; a click on it flies to ``place`` (the twin's CRS), framing ``span`` metres (one width,
    or one per axis) around it."""

    label: str
    detail: str
    place: np.ndarray
    span: float | np.ndarray = FRAME_M


@dataclass
class Shown:
    title: str
    rows: list[tuple[str, str]]  # (what, how much), the analysis's figures
    items: list[Item] = field(default_factory=list)
    more: int = 0  # entries left out of the list
    ramp: bool = False  # the 5G share legend applies
    underground: bool = False  # what was found lies below the ground
    legend: list[tuple[str, str]] = field(default_factory=list)  # (what, colour): lines of the view's legend


def _listed(shown: Shown, features: list[Finding], item: Callable[[Finding, dict], Item]) -> Shown:
    """``shown`` listing the first findings as ``item(finding, its properties)`` makes them."""
    shown.items = [item(f, f.properties) for f in features[:MOST_ITEMS]]
    shown.more = max(len(features) - MOST_ITEMS, 0)
    return shown


def _metres(value: float | None, words: dict[str, str]) -> str:
    return words["no_road"] if value is None else f"{value:,.0f} m"


def _of(features: list[Finding], key: str, *values: str) -> list[Finding]:
    return [f for f in features if f.properties.get(key) in values]


def hydrants(answer: Result, overlay: Overlay, catalog: Catalog, language: str = i18n.DEFAULT) -> Shown:
    buildings = _of(answer.findings, "finding", "uncovered_building")
    gaps = _of(answer.findings, "finding", "hydrant_gap")
    overlay.features("uncovered", {"buildings": [f.properties["id"] for f in buildings]}, VERMILLION)
    overlay.lines("gaps", [f.geometry for f in gaps], SKY)
    summary, words = answer.summary, i18n.section("analysis", language)
    shown = Shown(words["hydrants_title"].format(year=answer.parameters["year"]), [
        (words["hydrants_uncovered"], f"{summary['uncovered_buildings']:,}"),
        (words["hydrants_gaps"], f"{summary['hydrant_gaps']:,}"),
        (words["hydrants_gap_length"], f"{summary['gap_length_m']:,.0f} m")])

    def item(f: Finding, p: dict) -> Item:
        if p["finding"] == "uncovered_building":
            return Item(words["building"].format(name=p["name"] or p["source_id"]),
                        words["from_hydrant"].format(metres=f"{p['nearest_hydrant_m']:,.0f}"), overlay.place(f.geometry))
        return Item(words["road"].format(name=p["name"] or p["source_id"]),
                    words["without_hydrant"].format(metres=f"{p['gap_m']:,.0f}"), overlay.place(f.geometry))

    return _listed(shown, buildings + gaps, item)


def nearest(answer: Result, overlay: Overlay, catalog: Catalog, language: str = i18n.DEFAULT) -> Shown:
    features = answer.findings
    resources = _of(features, "role", "resource")
    overlay.points("origin", [f.geometry for f in _of(features, "role", "origin")], PURPLE, size=18,
                   above_m=2.0)
    for kind, (color, _) in RESOURCE_COLORS.items():
        overlay.points(kind, [f.geometry for f in _of(resources, "layer", kind)], color, size=18, above_m=6.0)
    overlay.lines("routes", [f.geometry for f in _of(features, "role", "route")], SKY)
    parameters, summary, words = answer.parameters, answer.summary, i18n.section("analysis", language)
    shown = Shown(words["nearest_title"], [
        (words["point"], f"{parameters['x']:,.2f}, {parameters['y']:,.2f}"), (words["year"], str(parameters["year"])),
        *((words["coloured"].format(what=catalog[kind].title_in(language), colour=words[name]), f"{summary[kind]:,}")
          for kind, (_, name) in RESOURCE_COLORS.items())])
    return _listed(shown, resources, lambda f, p: Item(
        f"{p['rank']}. {p['name']}", words["nearest_detail"].format(
            layer=catalog[p["layer"]].title_in(language), straight=_metres(p["straight_m"], words),
            road=_metres(p["network_m"], words)), overlay.place(f.geometry)))


def clearance(answer: Result, overlay: Overlay, catalog: Catalog, language: str = i18n.DEFAULT) -> Shown:
    """Every pair too close drawn; the list one entry a place (the analysis's group: a run of pairs along
    the same two networks), the worst first, at its worst pair."""
    found = answer.findings
    pipes: dict[str, list[str]] = {}
    for f in found:
        p = f.properties
        pipes.setdefault(p["utility_a"], []).append(p["pipe_a"])
        pipes.setdefault(p["utility_b"], []).append(p["pipe_b"])
    overlay.features("too_close", pipes, VERMILLION)
    overlay.points("clearance_places", [f.geometry for f in found], YELLOW, size=10)
    parameters, summary, words = answer.parameters, answer.summary, i18n.section("analysis", language)

    def pair(*utilities: str) -> str:
        return " / ".join(catalog[u].title_in(language) for u in utilities)

    shown = Shown(words["clearance_title"].format(year=parameters["year"])
                  + (words["around_view"] if parameters["box"] else ""),
                  [(words["pairs_too_close"], f"{summary['pairs']:,}"), (words["places"], f"{summary['groups']:,}"),
                   *((pair(*key.split("/")), f"{count:,}") for key, count in summary["groups_by_utilities"].items())],
                  underground=True)
    # The findings come group by group, each group's worst first.
    places = [f for i, f in enumerate(found) if i == 0 or f.properties["group"] != found[i - 1].properties["group"]]

    def item(f: Finding, p: dict) -> Item:
        more = words["pairs_along"].format(count=p["group_findings"]) if p["group_findings"] > 1 else ""
        return Item(pair(p["utility_a"], p["utility_b"]), words["clearance_detail"].format(
            shortfall=f"{p['shortfall_m']:.2f}", relation=words[p["relation"]], distance=f"{p['wall_distance_m']:.2f}",
            required=f"{p['required_m']:.2f}", more=more), overlay.place(f.geometry))

    return _listed(shown, places, item)


def burst(answer: Result, overlay: Overlay, catalog: Catalog, language: str = i18n.DEFAULT) -> Shown:
    features = answer.findings

    def ids(role: str) -> list[str]:
        return [f.properties["id"] for f in _of(features, "role", role)]

    overlay.features("burst", {"water_supply": ids("burst")}, VERMILLION)
    overlay.features("isolated", {"water_supply": ids("isolated")}, YELLOW)
    overlay.features("cut_off", {"buildings": ids("cut_off")}, PURPLE)
    valves = _of(features, "role", "close", "closed")
    overlay.points("close", [f.geometry for f in _of(valves, "role", "close")], GREEN, size=16)
    overlay.points("closed", [f.geometry for f in _of(valves, "role", "closed")], GREY, size=16)
    summary, words = answer.summary, i18n.section("analysis", language)
    shown = Shown(words["burst_title"].format(year=answer.parameters["year"]), [
        (words["valves_to_close"], f"{summary['valves_to_close']:,}"),
        (words["valves_closed"], f"{summary['valves_closed_already']:,}"),
        (words["pipes_isolated"], f"{summary['isolated_pipes']:,}"),
        (words["length_isolated"], f"{summary['isolated_length_m']:,.0f} m"),
        (words["buildings_cut_off"], f"{summary['buildings_cut_off']:,}"),
        (words["floor_cut_off"], f"{summary['floor_area_cut_off_m2']:,.0f} m²")], underground=True)

    def item(f: Finding, p: dict) -> Item:
        # The valve's type in the valves layer's words, where it is one of the layer's coded values.
        kind = catalog["valves"].value_words("valve_type", p["valve_type"], language) \
            if "valves" in catalog and isinstance(p["valve_type"], str) else p["valve_type"]
        return Item(words["valve"].format(name=p["name"] or p["source_id"]), words["valve_detail"].format(
            action=words["close" if p["role"] == "close" else "closed_already"], kind=kind)
            + (f", DN {p['diameter_mm']:.0f}" if p["diameter_mm"] else ""), overlay.place(f.geometry))

    return _listed(shown, valves, item)


def coverage(answer: Result, overlay: Overlay, catalog: Catalog, language: str = i18n.DEFAULT) -> Shown:
    grids = answer.findings
    overlay.features("coverage", {"management_grids": [f.properties["id"] for f in grids]},
                     shares={f.properties["id"]: f.properties["building_share"] for f in grids})
    year, words = answer.parameters["year"], i18n.section("analysis", language)
    total = answer.summary["years"].get(year)
    rows = [(words["buildings_covered"], words["no_buildings"])]
    if total is not None and total["buildings"]:
        rows = [(words["buildings_covered"], words["covered_of"].format(
                    covered=f"{total['buildings_covered']:,}", total=f"{total['buildings']:,}",
                    share=f"{total['building_share']:.1%}")),
                (words["floor_covered"], f"{total['floor_area_share']:.1%}")]
    shown = Shown(words["coverage_title"].format(year=year), rows, ramp=True)
    worst_first = sorted((f for f in grids if f.properties["building_share"] is not None),
                         key=lambda f: f.properties["building_share"])
    return _listed(shown, worst_first, lambda f, p: Item(
        words["grid"].format(name=p["code"] or p["id"]),
        words["grid_detail"].format(share=f"{p['building_share']:.1%}", count=f"{p['buildings']:,}"),
        overlay.place(f.geometry)))


def changes(answer: Result, overlay: Overlay, catalog: Catalog, language: str = i18n.DEFAULT) -> Shown:
    """What appeared (blue), disappeared (orange-red) and was altered (purple) between two years, from
    twin.analyses.changes, each layer's finding carrying the ids of those features (``ids``: (appeared,
    disappeared, altered), see twin.time.changed_ids). Disappeared features are not drawn in the later
    year's scene, nor altered ones' later version in the earlier year's: the overlay takes their cells
    from the layer's full mesh, which holds every version."""
    layers = [f.properties for f in answer.findings]
    ids = {layer["layer"]: layer["ids"] for layer in layers}
    viewer, words = i18n.section("viewer", language), i18n.section("analysis", language)
    kinds = tuple((kind, viewer[f"changes_{kind}"], colour, words[name]) for kind, (colour, name) in
                  zip(("appeared", "disappeared", "altered"), CHANGE_COLORS))
    for index, (kind, _, colour, _) in enumerate(kinds):
        overlay.features(kind, {layer_id: found[index] for layer_id, found in ids.items()}, colour)
    years = f"{answer.parameters['from']} → {answer.parameters['to']}"
    # Summed here from the layers: the analysis's summary (the service's answer too) counts the first two.
    total = {kind: sum(layer.get(kind, 0) for layer in layers) for kind, *_ in kinds}
    shown = Shown(i18n.text("viewer.changes_title", language, earlier=answer.parameters["from"],
                            later=answer.parameters["to"]), [
        *(((words["coloured"].format(what=title, colour=name)), f"{total[kind]:,}") for kind, title, _, name in kinds),
        (words["layers_changed"], f"{len(layers):,}")],
        legend=[(f"{title} {years}", colour) for _, title, colour, _ in kinds])
    for layer in layers:
        box = overlay.extent(layer["layer"])
        if box is not None:  # a layer the scene does not draw has nothing to fly to
            low, high = box
            detail = words["changes_detail"].format(appeared=f"{layer['appeared']:,}",
                                                    disappeared=f"{layer['disappeared']:,}")
            if layer.get("altered"):
                detail += words["changes_altered"].format(altered=f"{layer['altered']:,}")
            shown.items.append(Item(catalog[layer["layer"]].title_in(language), detail, (low + high) / 2, high - low))
    return shown


SHOW: dict[str, Callable[[Result, Overlay, Catalog, str], Shown]] = {
    "hydrants": hydrants, "nearest": nearest, "clearance": clearance, "burst": burst, "coverage": coverage,
    "changes": changes}

