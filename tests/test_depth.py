"""Underground mode's depth exaggeration (issue 16, point 5): what lies under the ground is drawn deeper,
its depth below the ground stretched; point symbols keep their shape; buildings, and the analyses'
highlights of them, keep their height, so that the camera does not end up inside them."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from support import ROOT, add_features
from test_picking import underground

from viewer.panels.analysis_results import GREEN, PURPLE, VERMILLION
from viewer.panels.overlay import Overlay

pytestmark = pytest.mark.fast

X0, Y0 = 506_000.0, 4_330_000.0
VALVE = (X0 + 50.0, Y0, -1.5)  # on the water pipe, at its depth
SIZE = (400, 300)
ARTIFACTS = ROOT / "test-artifacts"


def square(x: float, y: float, side: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]}


def a_street(connection) -> dict[str, str]:
    """A 20 m building on level ground at 0 m, a water pipe 1.5 m under the street beside it with a valve
    on it, a lamp pole: layer -> its feature's id."""
    ids = {"buildings": add_features(connection, "buildings", [
        (square(X0 + 80, Y0 + 10, 40), {"id": "B", "height_m": 20.0, "ground_z_m": 0.0})])["B"]}
    ids["water_supply"] = add_features(connection, "water_supply", [
        ({"type": "LineString", "coordinates": [[X0 - 150, Y0, -1.5], [X0 + 150, Y0, -1.5]]},
         {"id": "W", "diameter_mm": 300.0})])["W"]
    ids["valves"] = add_features(connection, "valves", [({"type": "Point", "coordinates": list(VALVE)}, {"id": "V"})])["V"]
    ids["smart_lamp_poles"] = add_features(connection, "smart_lamp_poles", [
        ({"type": "Point", "coordinates": [X0 + 60, Y0 + 5]}, {"id": "L"})])["L"]
    return ids


def z_extent(actor) -> tuple[float, float]:
    """Lowest and highest z the actor draws (its transform included)."""
    bounds = actor.GetBounds()
    return bounds[4], bounds[5]


def test_depth_below_the_ground_is_stretched_and_nothing_above_it(blank_twin) -> None:
    """At x20 the pipe 1.5 m deep is drawn 30 m deep; the valve on it moves down with it, as tall as ever
    (no needle); the lamp pole, the building and the ground are left as they stand; x1 brings all back."""
    a_street(blank_twin)
    view = underground(blank_twin, 1.0, SIZE)
    at_one = {layer_id: z_extent(actor) for layer_id, actor in view.actors.items()}
    view.again(20.0)
    at_twenty = {layer_id: z_extent(actor) for layer_id, actor in view.actors.items()}
    for layer_id in ("buildings", "smart_lamp_poles", "terrain"):
        assert at_twenty[layer_id] == pytest.approx(at_one[layer_id], abs=1e-3), layer_id
    low, high = at_one["valves"]
    assert high - low == pytest.approx(1.2, abs=0.01)  # the valve's symbol, standing on its point
    low, high = at_twenty["valves"]
    assert (low, high - low) == pytest.approx((-30.0, 1.2), abs=0.01)
    # the tube's every point 20 times as deep: its axis at 30 m, its 0.3 m drawn 6 m tall
    assert at_twenty["water_supply"] == pytest.approx((-33.0, -27.0), abs=0.05)
    view.again(1.0)
    for layer_id, extent in at_one.items():
        assert z_extent(view.actors[layer_id]) == pytest.approx(extent, abs=1e-3), layer_id


def test_a_burst_at_x20_draws_the_buildings_cut_off_their_own_height(blank_twin) -> None:
    """The burst analysis's highlight at x20: the pipe and the valve to close as deep as the layers draw
    them, the building cut off as tall as it is; seen from 200 m over it (where a x20 building of 400 m
    held the camera, the whole view purple) the purple is its roof, not the view."""
    from viewer.render import place_camera

    ids = a_street(blank_twin)
    view = underground(blank_twin, 1.0, SIZE)
    row_of = {layer_id: {feature: row for row, feature in enumerate(layer_mesh.ids)}
              for layer_id, layer_mesh in view.meshes.items()}
    overlay = Overlay(view.plotter, view.meshes, row_of, view.origin, view.terrain)
    overlay.features("burst", {"water_supply": [ids["water_supply"]]}, VERMILLION)
    overlay.features("cut_off", {"buildings": [ids["buildings"]]}, PURPLE)
    overlay.points("close", [shapely.Point(*VALVE)], GREEN)
    overlay.features("both", {"buildings": [ids["buildings"]], "water_supply": [ids["water_supply"]]}, VERMILLION)
    view.again(20.0)
    overlay.rescale(20.0)  # as the analyses panel does when the slider moves
    assert z_extent(overlay.actors["cut_off"]) == pytest.approx((0.0, 20.0), abs=0.05)
    assert z_extent(overlay.actors["burst"]) == pytest.approx(z_extent(view.actors["water_supply"]), abs=0.05)
    assert z_extent(overlay.actors["close"]) == pytest.approx((-30.0, -30.0), abs=0.05)
    assert z_extent(overlay.actors["both"]) == pytest.approx((-33.0, 20.0), abs=0.05)  # merged, each its own
    overlay.clear()
    overlay.features("cut_off", {"buildings": [ids["buildings"]]}, PURPLE)
    centre = np.array([X0 + 100, Y0 + 30, 0.0]) - view.origin
    place_camera(view.plotter, tuple(centre), tuple(centre + [0.0, -40.0, 200.0]))
    picture = view.plotter.screenshot(str(ARTIFACTS / "depth-burst-x20.png"), return_img=True)
    r, g, b = (picture[..., i].astype(int) for i in range(3))
    purple = ((r - g > 30) & (b - g > 10)).mean()  # the highlight's purple however lit: red and blue over green
    assert 0.05 < purple < 0.6, f"{purple:.0%} of the view is the purple building"
