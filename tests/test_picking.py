"""Picking: a pixel over a known building maps back to that building's row in PostGIS."""

from __future__ import annotations

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
    connection = psycopg_of(blank_twin)
    meshes, _, origin = build(connection, load_catalog(ROOT / "layers"))
    plotter = pv.Plotter(off_screen=True, window_size=(400, 400))
    actors = {layer_id: plotter.add_mesh(layer_mesh.mesh) for layer_id, layer_mesh in meshes.items()}
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
    assert abs(picked.position[2] - 40.0) < 0.5  # on its roof: ground 0 m + 40 m
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
