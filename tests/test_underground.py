"""Underground mode as a pipeline manager reads it (issue 16): pipes a few pixels wide at any distance,
drawn as their layer is (shown, coloured, filtered by year, stretched and cut with it), the tube of their
real size when close; handmade pipes in the blank twin, drawn off-screen as the viewer draws them."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv
from support import ROOT, add_features

from twin.catalog import load_catalog
from twin.store.database import psycopg_of
from viewer.pipe_lines import PIPE_PX, add_pipe_lines
from viewer.render import add_layers, make_plotter, place_camera
from viewer.scene.build import build
from viewer.scene.timeline import Timeline
from viewer.tools import section

pytestmark = pytest.mark.fast

CATALOG = load_catalog(ROOT / "layers")
X0, Y0 = 506_000.0, 4_330_000.0
SKY_BLUE = (135, 206, 235)  # the water supply layer's colour (CJJ 61)


def _pipes(blank_twin) -> tuple[dict, np.ndarray]:
    """A DN150 water main 1.5 m deep running 2 km west-east, laid in 2012."""
    add_features(blank_twin, "water_supply", [
        ({"type": "LineString", "coordinates": [[X0, Y0, -1.5], [X0 + 2000, Y0, -1.5]]},
         {"id": "W1", "diameter_mm": 150, "start_depth_m": 1.5, "end_depth_m": 1.5, "valid_from": "2012-05-01"})])
    meshes, _, origin = build(psycopg_of(blank_twin), CATALOG)
    return meshes, origin


def _view(meshes: dict):
    plotter, _ = make_plotter()
    timeline = Timeline(meshes)
    actors = add_layers(plotter, meshes, None, timeline)
    return plotter, timeline, actors, add_pipe_lines(plotter, meshes, actors)


def _look(plotter: pv.Plotter, at: np.ndarray, distance: float) -> None:
    """From the south, 30 degrees above the horizon, at the pipe's middle."""
    place_camera(plotter, tuple(at), tuple(at + distance * np.array([0.0, -np.cos(0.52), np.sin(0.52)])))


def _image(plotter: pv.Plotter) -> np.ndarray:
    plotter.ren_win.Render()  # pyvista's own render waits for a show() that an off-screen view never has
    return plotter.screenshot(return_img=True).astype(int)


def _coloured(plotter: pv.Plotter, rgb: tuple[int, int, int]) -> np.ndarray:
    """The pixels of exactly that colour (the line is unlit: its colour is the layer's)."""
    image = _image(plotter)
    return np.all(np.abs(image - np.array(rgb)) <= 1, axis=2)


def test_pipes_are_a_few_pixels_wide_at_any_distance_and_follow_their_layer(blank_twin) -> None:
    meshes, origin = _pipes(blank_twin)
    plotter, timeline, actors, lines = _view(meshes)
    middle = np.array([X0 + 1000, Y0, -1.5]) - origin
    for distance in (300.0, 1500.0, 5000.0):  # the tube: 0.7, 0.15 and 0.04 px across
        _look(plotter, middle, distance)
        width = _coloured(plotter, SKY_BLUE)[:, 640].sum()
        assert width >= PIPE_PX, f"{width} px wide from {distance:.0f} m"
    drawn = _coloured(plotter, SKY_BLUE).sum()

    actors["water_supply"].GetProperty().SetColor(1.0, 0.0, 0.0)  # the layer's colour changed
    assert _coloured(plotter, (255, 0, 0)).sum() >= 0.9 * drawn
    actors["water_supply"].GetProperty().SetColor(*(c / 255 for c in SKY_BLUE))
    actors["water_supply"].SetVisibility(False)
    assert not _coloured(plotter, SKY_BLUE).any(), "the line stayed with its layer hidden"
    actors["water_supply"].SetVisibility(True)
    timeline.show(2011)  # before it was laid
    assert not _coloured(plotter, SKY_BLUE).any(), "the year filter left the line"
    timeline.show(2020)
    assert _coloured(plotter, SKY_BLUE).sum() >= 0.9 * drawn
    section.clip(actors.values(), section.plane("x", 50, (0.0, 2000.0, -1.0, 1.0, -2.0, 0.0)))
    kept = _coloured(plotter, SKY_BLUE)
    assert kept[:, :630].any() and not kept[:, 650:].any(), "the section plane did not cut the line"
    section.clip(actors.values(), None)
    actors["water_supply"].SetScale(1.0, 1.0, 5.0)  # underground mode's exaggeration
    plotter.ren_win.Render()
    assert lines["water_supply"].GetBounds()[4] == pytest.approx(5 * middle[2], abs=0.01)
    assert not lines["water_supply"].GetPickable()


def test_close_by_the_tube_of_its_real_size_wins(blank_twin) -> None:
    meshes, origin = _pipes(blank_twin)
    plotter, _, actors, _ = _view(meshes)
    _look(plotter, np.array([X0 + 1000, Y0, -1.5]) - origin, 8.0)  # the tube: about 28 px across
    flat = _coloured(plotter, SKY_BLUE)[:, 640]
    image = _image(plotter)
    tube = np.abs(image[:, 640] - image[0, 640]).sum(axis=1) > 30  # not the sky
    assert tube.sum() >= 20, "no tube of its real size"
    assert flat.sum() < PIPE_PX, "the flat line was drawn over the tube"
