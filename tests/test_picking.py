"""Picking: a pixel over a known building maps back to that building's row in PostGIS."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import pyvista as pv
from support import ROOT, add_features

from twin.catalog import load_catalog
from twin.store.database import psycopg_of
from viewer.scene.build import build
from viewer.tools.picking import attributes, highlight, pick

pytestmark = pytest.mark.fast


def test_a_click_over_a_building_finds_it(blank_twin) -> None:
    add_features(blank_twin, "buildings", [
        ({"type": "Polygon", "coordinates": [[[x, 4_330_000], [x + 40, 4_330_000], [x + 40, 4_330_040],
                                              [x, 4_330_040], [x, 4_330_000]]]},
         {"id": f"T{i}", "name": f"Tower {i}", "height_m": 30 + 10 * i, "floors": 10 + i, "use": "office"})
        for i, x in enumerate((506_000.0, 506_200.0, 506_400.0))])
    from viewer.render import add_layers
    from viewer.scene.timeline import Timeline

    connection = psycopg_of(blank_twin)
    meshes, _, origin = build(connection, load_catalog(ROOT / "layers"))
    plotter = pv.Plotter(off_screen=True, window_size=(400, 400))
    actors = add_layers(plotter, meshes, None, Timeline(meshes))  # drawn as the viewer draws them
    # Look straight down at the middle tower's roof.
    centre = np.array([506_220.0, 4_330_020.0, 0.0]) - origin
    plotter.camera.focal_point = (centre[0], centre[1], 40.0)
    plotter.camera.position = (centre[0], centre[1], 600.0)
    plotter.camera.up = (0, 1, 0)
    plotter.render()
    picked = pick(plotter, actors, meshes, 200, 200)
    assert picked is not None and picked.layer_id == "buildings"
    found = attributes(connection, "buildings", picked.feature_id)
    assert (found["source_id"], found["name"], found["height_m"]) == ("T1", "Tower 1", 40.0)
    assert abs(picked.position[2] - 40.0) < 0.01  # on its roof: ground 0 m + 40 m
    assert highlight(meshes["buildings"], picked.row).n_cells == 5  # the roof and four walls
    assert pick(plotter, actors, meshes, 5, 5) is None  # the sky: nothing


def test_a_picked_point_symbol_inside_a_building_gets_a_beacon_above_its_roof(blank_twin) -> None:
    """A hospital inside a 60 m tower's footprint is hidden by it: picked (or its layer found by name), a
    beacon rises from it to above the roofs around it."""
    from trame.app import get_server

    from viewer.tools.clicks import BEACON_M, Clicks

    x0, y0 = 506_000.0, 4_330_000.0
    add_features(blank_twin, "buildings", [
        ({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + 40, y0], [x0 + 40, y0 + 40], [x0, y0 + 40], [x0, y0]]]},
         {"id": "T", "height_m": 60.0})])
    hospitals = add_features(blank_twin, "hospitals", [
        ({"type": "Point", "coordinates": [x0 + 20, y0 + 20]}, {"id": "inside", "name": "In the tower"}),
        ({"type": "Point", "coordinates": [x0 + 400, y0]}, {"id": "open", "name": "In the open"})])
    catalog = load_catalog(ROOT / "layers")
    meshes, _, origin = build(psycopg_of(blank_twin), catalog)
    plotter = pv.Plotter(off_screen=True, window_size=(400, 400))
    actors = {layer_id: plotter.add_mesh(layer_mesh.mesh) for layer_id, layer_mesh in meshes.items()}
    server = get_server("test-beacons", client_type="vue3")
    clicks = Clicks(server.state, server.controller, plotter, catalog, meshes, actors, origin, None)

    def drawn() -> list[pv.DataSet]:
        return [actor.GetMapper().GetInput() for actor in clicks.marks["pick"]]

    clicks._outline("hospitals", hospitals["inside"])  # what inspecting it draws
    outline, line, top = drawn()
    assert line.bounds[4] < 20 and top.center[2] == pytest.approx(60.0 + BEACON_M, abs=0.5)
    assert top.center[:2] == pytest.approx([x0 + 20 - origin[0], y0 + 20 - origin[1]], abs=0.5)
    clicks.mark_layer("hospitals")  # both, and nothing inspected
    assert server.state.picked_title == "" and clicks.selected is None
    lines, tops = drawn()
    assert lines.n_cells == 2 and len(tops.split_bodies()) == 2


def test_search_puts_exact_ids_first_and_finds_layers_by_name(blank_twin) -> None:
    """An unnamed building whose id is typed comes before an unnamed elevator whose id contains it (a
    NULL name once sorted the elevator first), and a layer's name finds the layer."""
    from viewer.tools import viewpoints

    catalog = load_catalog(ROOT / "layers")
    add_features(blank_twin, "smart_elevators", [({"type": "Point", "coordinates": [506_010.0, 4_330_010.0]},
                                                  {"id": "E-B7"})])
    add_features(blank_twin, "buildings", [
        ({"type": "Polygon", "coordinates": [[[506_000, 4_330_000], [506_020, 4_330_000], [506_020, 4_330_020],
                                              [506_000, 4_330_020], [506_000, 4_330_000]]]}, {"id": "B7"})])
    hits = viewpoints.search(psycopg_of(blank_twin), catalog, "B7")
    assert [(hit.layer_id, hit.label) for hit in hits] == [("buildings", "B7"), ("smart_elevators", "E-B7")]
    assert [layer.id for layer in viewpoints.layers_named(catalog, "hospital")] == ["hospitals"]
    assert "hospitals" in [layer.id for layer in viewpoints.layers_named(catalog, "Emergency")]
    assert viewpoints.layers_named(catalog, " ") == []
    # by its words in the page's language: Chinese ones on a Chinese page only
    assert [layer.id for layer in viewpoints.layers_named(catalog, "医院", "zh-CN")] == ["hospitals"]
    assert "hospitals" in [layer.id for layer in viewpoints.layers_named(catalog, "应急", "zh-CN")]
    assert viewpoints.layers_named(catalog, "医院") == []


X0, Y0 = 506_000.0, 4_330_000.0  # the pipes' middle
CAMERA = (X0 - 40.0, Y0 + 25.0, 20.0)  # north-west of it and above the ground, as the tunnel's viewpoint
POLE = (X0 - 10.4, Y0 + 8.3)  # a lamp pole beside the view's line to the pipe, near the camera


def pipes_under_a_lamp_pole(connection) -> None:
    """A water pipe 1.5 m under level ground (a building far off stands at 0 m), a heat pipe 2 m north of
    it and shallower, a lamp pole near the camera; the scene kilometres deep, as a city is."""
    far = (X0 + 4000.0, Y0 + 4000.0)
    add_features(connection, "buildings", [
        ({"type": "Polygon", "coordinates": [[far, (far[0] + 20, far[1]), (far[0] + 20, far[1] + 20),
                                              (far[0], far[1] + 20), far]]},
         {"id": "far", "height_m": 20.0, "ground_z_m": 0.0})])
    add_features(connection, "water_supply", [
        ({"type": "LineString", "coordinates": [[X0 - 150, Y0, -1.5], [X0 + 150, Y0, -1.5]]},
         {"id": "W", "diameter_mm": 300.0})])
    add_features(connection, "heat", [
        ({"type": "LineString", "coordinates": [[X0 - 150, Y0 + 2, -1.0], [X0 + 150, Y0 + 2, -1.0]]},
         {"id": "H", "diameter_mm": 300.0})])
    add_features(connection, "smart_lamp_poles", [({"type": "Point", "coordinates": list(POLE)}, {"id": "L"})])


def underground(connection, exaggeration: float, size: tuple[int, int] = (400, 400)) -> SimpleNamespace:
    """The scene as the viewer draws it in underground mode at ``exaggeration`` (``viewer.app.open_ground``,
    every layer shown): its plotter, actors, meshes, origin, catalog and terrain, and ``again(k)`` to move
    the depth slider to ``k``."""
    from trame.app import get_server

    from viewer.app import SURFACE, open_ground
    from viewer.render import add_layers
    from viewer.scene.timeline import Timeline

    catalog = load_catalog(ROOT / "layers")
    meshes, ground, origin = build(psycopg_of(connection), catalog)
    plotter = pv.Plotter(off_screen=True, window_size=size)
    actors = add_layers(plotter, meshes, ground, Timeline(meshes))
    surface = {"terrain", *(layer_id for layer_id in meshes if catalog[layer_id].draw.mode in SURFACE)}
    state = get_server("test-underground", client_type="vue3").state
    for layer_id in ["terrain", *(layer.id for layer in catalog)]:
        state[f"show_{layer_id}"], state[f"opacity_{layer_id}"] = True, 1.0
    state.underground = True

    def again(k: float) -> None:
        open_ground(state, catalog, meshes, [actors], surface, True, k)

    again(exaggeration)
    return SimpleNamespace(plotter=plotter, actors=actors, meshes=meshes, origin=origin, catalog=catalog,
                           terrain=ground.terrain, again=again)


def underground_view(connection, exaggeration: float):
    """The pipes and the lamp pole in underground mode at ``exaggeration``: (plotter, actors, meshes,
    origin), the camera looking at the water pipe's middle."""
    from viewer.render import place_camera

    view = underground(connection, exaggeration)
    place_camera(view.plotter, tuple(np.array([X0, Y0, -1.5 * exaggeration]) - view.origin),
                 tuple(np.array(CAMERA) - view.origin))
    return view.plotter, view.actors, view.meshes, view.origin


def pixel(plotter: pv.Plotter, scene_point) -> tuple[float, float]:
    """Where the view draws a scene point: display pixels from the bottom left, as a click gives them."""
    renderer = plotter.renderer
    renderer.SetWorldPoint(*scene_point, 1.0)
    renderer.WorldToDisplay()
    return renderer.GetDisplayPoint()[:2]


@pytest.mark.parametrize("exaggeration", [1.0, 20.0])
def test_a_click_picks_the_pipe_drawn_under_it_not_a_lamp_pole_near_the_camera(blank_twin, exaggeration) -> None:
    """Issue 16, point 4: every click on the tunnel and pipes picked the lamp pole nearest the camera
    (a ray picker's tolerance came to metres over a city-deep view), and at x20 a click on a water pipe
    picked the heat pipe beside it. A click picks what is drawn at its pixel; one on nothing, nothing."""
    pipes_under_a_lamp_pole(blank_twin)
    plotter, actors, meshes, origin = underground_view(blank_twin, exaggeration)
    middle = np.array([X0, Y0, -1.5 * exaggeration]) - origin
    picked = pick(plotter, actors, meshes, *pixel(plotter, middle))
    assert picked is not None and picked.layer_id == "water_supply", picked
    # where the tube is drawn: on the pipe's upper half, at its drawn depth; and truly 1.35-1.5 m deep
    assert np.linalg.norm(np.array(picked.position[:2]) - middle[:2]) < 1.0
    assert middle[2] - 0.1 < picked.position[2] < middle[2] + 0.15 * exaggeration + 0.1
    assert -1.5 - 0.05 < picked.true_position[2] < -1.35 + 0.05
    if exaggeration == 1.0:  # on the tube's surface, 0.15 m from its axis (an octagon's faces 0.139 m)
        assert 0.135 < np.hypot(*(np.array(picked.position[1:]) - middle[1:])) < 0.152, picked.position
    heat = pick(plotter, actors, meshes, *pixel(plotter, middle + [0.0, 2.0, 0.5 * exaggeration]))
    assert heat is not None and heat.layer_id == "heat", heat
    # the translucent ground between them and the pole is no feature: nothing
    assert pick(plotter, actors, meshes, *pixel(plotter, middle + [0.0, -8.0, 0.0])) is None
    # and the pole where it is drawn, standing on the ground unstretched (0-9 m) at any exaggeration
    from viewer.render import place_camera

    pole = np.array([*POLE, 4.5]) - origin
    place_camera(plotter, tuple(pole), tuple(np.array(CAMERA) - origin))
    assert pick(plotter, actors, meshes, *pixel(plotter, pole)).layer_id == "smart_lamp_poles"
    assert pick(plotter, actors, meshes, *pixel(plotter, pole + [0.0, 0.0, 5.0])) is None  # above its top
