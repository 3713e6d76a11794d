"""The look the viewer and ``twin replay`` share (viewer.look): point layers' dots thinned where their
features would crowd the view, and the year written large, a good share of the picture's height."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pyvista as pv
from support import ROOT, add_features

from twin.catalog import load_catalog
from twin.store.database import psycopg_of
from viewer.look import DOTS_APART_PX, FEWEST_DOTS, YEAR_HEIGHT, Dots, YearTitle, dress
from viewer.render import add_layers, place_camera
from viewer.scene.build import build
from viewer.scene.timeline import Timeline

pytestmark = pytest.mark.fast
CATALOG = load_catalog(ROOT / "layers")
X0, Y0 = 506_000.0, 4_330_000.0


def test_dots_of_crowded_point_layers_are_thinned_from_afar(blank_twin) -> None:
    """Hydrants 5 m apart carpet a view from 5 km away: their dots are thinned to the fewest there, and all
    drawn from 100 m; hospitals a kilometre apart keep every dot from afar."""
    point = lambda x: {"type": "Point", "coordinates": [X0 + x, Y0]}  # noqa: E731
    add_features(blank_twin, "smart_hydrants", [(point(5.0 * i), {"id": f"h{i}"}) for i in range(400)])
    add_features(blank_twin, "hospitals", [(point(1000.0 * i), {"id": f"p{i}"}) for i in range(3)])
    meshes, ground, origin = build(psycopg_of(blank_twin), CATALOG)
    plotter = pv.Plotter(off_screen=True, window_size=(640, 400))
    dress(plotter)
    timeline = Timeline(meshes)
    add_layers(plotter, meshes, ground, timeline)
    Dots(plotter.renderer, meshes, timeline)

    def dots_from(metres: float) -> dict[str, int]:
        place_camera(plotter, (1000.0, 0.0, 0.0), (1000.0, -metres * 0.6, metres * 0.8))
        plotter.ren_win.Render()  # pyvista's own render waits for a show() that an off-screen view never has
        return {layer_id: timeline.mesh(layer_id).n_verts for layer_id in ("smart_hydrants", "hospitals")}

    far = 2 * 5000 * np.tan(np.radians(plotter.camera.view_angle) / 2) / 400  # metres a pixel spans
    assert 5.0 / far < DOTS_APART_PX < 1000.0 / far
    assert dots_from(5000.0) == {"smart_hydrants": math.ceil(400 * FEWEST_DOTS), "hospitals": 3}
    assert dots_from(100.0) == {"smart_hydrants": 400, "hospitals": 3}
    plotter.close()


@pytest.mark.parametrize("size", [(640, 360), (1600, 1000)])
def test_the_year_is_written_large(size: tuple[int, int]) -> None:
    plotter = pv.Plotter(off_screen=True, window_size=size)
    dress(plotter)  # the sky behind: no white in it
    year = YearTitle(plotter)
    year.show(2015)
    frame = plotter.screenshot(return_img=True)
    rows = np.flatnonzero((frame.min(axis=2) >= 245).any(axis=1))
    assert len(rows) and 0.8 * YEAR_HEIGHT <= (rows[-1] - rows[0] + 1) / size[1] <= 1.3 * YEAR_HEIGHT
    year.show(None)
    plotter.ren_win.Render()
    assert not (plotter.screenshot(return_img=True).min(axis=2) >= 245).any()
    plotter.close()
