"""While the camera moves, point layers draw their points and pipe layers their centre lines (fewer
triangles in software rendering); once it stops, the full scene, and a click picks from it."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from support import ROOT, add_features

from twin.catalog import load_catalog
from twin.store.database import psycopg_of
from viewer.moving import MovingDetail
from viewer.render import add_layers, make_plotter
from viewer.scene.build import build
from viewer.scene.timeline import Timeline
from viewer.tools.picking import pick

pytestmark = pytest.mark.fast

X0, Y0 = 506_000.0, 4_330_000.0


def faces(actor) -> int:
    """Polygons and triangle strips (tubes) the actor's mapper draws."""
    data = actor.GetMapper().GetInput()
    return data.GetNumberOfPolys() + data.GetNumberOfStrips()


def test_point_symbols_and_tubes_give_way_to_points_and_lines_while_the_camera_turns(blank_twin) -> None:
    add_features(blank_twin, "hospitals", [
        ({"type": "Point", "coordinates": [X0 + 20.0 * i, Y0]}, {"id": f"H{i}", "name": f"Hospital {i}",
                                                                 **({"valid_from": "2015-01-01"} if i == 4 else {})})
        for i in range(5)])
    add_features(blank_twin, "water_supply", [
        ({"type": "LineString", "coordinates": [[X0, Y0 + 30, -1.5], [X0 + 100, Y0 + 30, -1.5]]},
         {"id": "W", "diameter_mm": 400.0})])
    meshes, _, origin = build(psycopg_of(blank_twin), load_catalog(ROOT / "layers"))
    plotter, interactor = make_plotter()
    plotter.window_size = (400, 400)
    timeline = Timeline(meshes)
    actors = add_layers(plotter, meshes, None, timeline)
    moving = MovingDetail(interactor, meshes, actors)
    gc.collect()  # what it observes is held by VTK alone: a cycle through it would be freed here (a crash)
    assert set(moving.layers) == {"hospitals", "water_supply"}
    centre = np.array([X0 + 40.0, Y0 + 15.0, 0.0]) - origin
    plotter.camera.focal_point = tuple(centre)
    plotter.camera.position = tuple(centre + [0.0, -1.0, 250.0])
    plotter.camera.up = (0.0, 1.0, 0.0)
    plotter.ren_win.Render()
    still = {layer: (actors[layer].GetMapper(), faces(actors[layer]))
             for layer in moving.layers}
    assert all(count > 0 for _, count in still.values())
    timeline.show(2010)  # the fifth hospital opens in 2015: not standing, not drawn, still or moving

    # The mouse turns the camera as trame's events do: press, drag, release through the interactor.
    interactor.SetEventInformation(200, 200)
    interactor.LeftButtonPressEvent()
    for x in range(205, 260, 5):
        interactor.SetEventInformation(x, 200)
        interactor.MouseMoveEvent()
        plotter.ren_win.Render()
        hospitals, pipes = actors["hospitals"].GetMapper().GetInput(), actors["water_supply"].GetMapper().GetInput()
        assert (hospitals.GetNumberOfVerts(), faces(actors["hospitals"])) == (4, 0)
        assert (pipes.GetNumberOfLines(), faces(actors["water_supply"])) == (1, 0)
        assert actors["hospitals"].GetMapper() is not still["hospitals"][0]
    interactor.SetEventInformation(260, 200)
    interactor.LeftButtonReleaseEvent()
    assert not moving.moving
    assert all(actors[layer].GetMapper() is mapper for layer, (mapper, _) in still.items())
    assert faces(actors["hospitals"]) > 0

    # A click after the drag picks the symbol it lands on, from the full scene.
    plotter.camera.focal_point = tuple(centre)
    plotter.camera.position = tuple(centre + [0.0, -1.0, 250.0])
    plotter.ren_win.Render()
    renderer = plotter.renderer
    target = np.array([X0 + 20.0, Y0, 0.0]) - origin
    renderer.SetWorldPoint(*target[:2], actors["hospitals"].GetMapper().GetInput().GetBounds()[5], 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()
    found = pick(plotter, actors, meshes, x, y)
    assert found is not None and found.layer_id == "hospitals"
    assert meshes["hospitals"].ids[found.row] == found.feature_id


def test_a_section_cuts_the_light_scene_as_it_cuts_the_full_one(blank_twin) -> None:
    import vtk

    add_features(blank_twin, "hospitals", [({"type": "Point", "coordinates": [X0, Y0]}, {"id": "H"})])
    meshes, _, _ = build(psycopg_of(blank_twin), load_catalog(ROOT / "layers"))
    plotter, interactor = make_plotter()
    actors = add_layers(plotter, meshes, None, Timeline(meshes))
    moving = MovingDetail(interactor, meshes, actors)
    plane = vtk.vtkPlane()
    actors["hospitals"].GetMapper().AddClippingPlane(plane)
    moving.lighten()
    assert actors["hospitals"].GetMapper().GetClippingPlanes().IsItemPresent(plane)
    moving.settle()


def test_a_turn_of_the_wheel_stays_light_until_the_browser_says_it_ended(blank_twin) -> None:
    """trame's web application brackets a turn of the mouse wheel, inside which the camera style starts
    and ends at every step: light from the application's start to its end."""
    import vtk

    add_features(blank_twin, "hospitals", [({"type": "Point", "coordinates": [X0, Y0]}, {"id": "H"})])
    meshes, _, _ = build(psycopg_of(blank_twin), load_catalog(ROOT / "layers"))
    plotter, interactor = make_plotter()
    actors = add_layers(plotter, meshes, None, Timeline(meshes))
    full = actors["hospitals"].GetMapper()
    moving = MovingDetail(interactor, meshes, actors)
    application = vtk.vtkObject()  # what trame-vtk's vtkWebApplication does here: it sends the two events
    moving.watch(application)
    application.InvokeEvent("StartInteractionEvent")
    for _ in range(3):
        interactor.SetEventInformation(100, 100)
        interactor.MouseWheelForwardEvent()  # the style starts and ends a dolly
        assert moving.moving and actors["hospitals"].GetMapper() is not full
    application.InvokeEvent("EndInteractionEvent")
    assert not moving.moving and actors["hospitals"].GetMapper() is full
