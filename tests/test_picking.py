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
