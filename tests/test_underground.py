"""Underground mode as a pipeline manager reads it (issue 16): pipes a few pixels wide at any distance,
drawn as their layer is (shown, coloured, filtered by year, stretched and cut with it), the tube of their
real size when close; what covers them faint enough to read them through; tunnels open to what runs
inside. Handmade pipes in the blank twin drawn off-screen as the viewer draws them, and the viewer
itself over the demo city, in this process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
import pyvista as pv
from support import ROOT, add_features

from twin.catalog import load_catalog
from twin.store.database import psycopg_of
from viewer.pipe_lines import PIPE_PX, add_pipe_lines
from viewer.render import add_layers, make_plotter, place_camera
from viewer.scene.build import build
from viewer.scene.depth import exaggerate
from viewer.scene.timeline import Timeline
from viewer.tools import section
from viewer.tools.depth_scale import DepthScale, segments
from viewer.underground import open_tunnels

pytestmark = pytest.mark.fast

CATALOG = load_catalog(ROOT / "layers")
X0, Y0 = 506_000.0, 4_330_000.0
SKY_BLUE = (135, 206, 235)  # the water supply layer's colour (CJJ 61)


def _level_ground(blank_twin) -> None:
    """The ground at 0 m: a twin without a DEM lies level at its buildings' ground (at the top of its pipes
    without buildings), so a small shed far to the north-east, out of every view here, says where."""
    add_features(blank_twin, "buildings", [
        ({"type": "Polygon", "coordinates": [[[X0 + 9000, Y0 + 3000], [X0 + 9001, Y0 + 3000], [X0 + 9001, Y0 + 3001],
                                              [X0 + 9000, Y0 + 3001], [X0 + 9000, Y0 + 3000]]]},
         {"id": "shed", "height_m": 1.0, "ground_z_m": 0.0})])


def _pipes(blank_twin, level: bool = False) -> tuple[dict, np.ndarray]:
    """A DN150 water main 1.5 m deep running 2 km west-east, laid in 2012 (``level``: under ground at 0 m)."""
    if level:
        _level_ground(blank_twin)
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
    meshes, origin = _pipes(blank_twin, level=True)
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
    exaggerate(meshes["water_supply"].mesh, 5.0)  # underground mode's exaggeration: the pipe 5 times as deep
    plotter.ren_win.Render()
    assert lines["water_supply"][0].GetBounds()[4] == pytest.approx(5 * middle[2], abs=0.01)
    assert not lines["water_supply"][0].GetPickable()


def test_close_by_the_tube_of_its_real_size_wins(blank_twin) -> None:
    meshes, origin = _pipes(blank_twin)
    plotter, _, actors, _ = _view(meshes)
    _look(plotter, np.array([X0 + 1000, Y0, -1.5]) - origin, 8.0)  # the tube: about 28 px across
    flat = _coloured(plotter, SKY_BLUE)[:, 640]
    image = _image(plotter)
    tube = np.abs(image[:, 640] - image[0, 640]).sum(axis=1) > 30  # not the sky
    assert tube.sum() >= 20, "no tube of its real size"
    assert flat.sum() < PIPE_PX, "the flat line was drawn over the tube"


def test_what_runs_inside_a_tunnel_shows_through_its_walls(blank_twin) -> None:
    """A water main inside a tunnel 5 m wide and 3.5 m high, seen from above and from the side."""
    tunnel = [[X0, Y0, -2.0], [X0 + 400, Y0, -2.0]]  # the centre of the roof, 2 m down
    add_features(blank_twin, "utility_tunnels", [({"type": "LineString", "coordinates": tunnel},
                                                  {"id": "T1", "width_m": 5.0, "height_m": 3.5, "top_depth_m": 2.0})])
    add_features(blank_twin, "water_supply", [
        ({"type": "LineString", "coordinates": [[X0, Y0 + 1.0, -4.5], [X0 + 400, Y0 + 1.0, -4.5]]},
         {"id": "W1", "diameter_mm": 400, "start_depth_m": 2.3, "end_depth_m": 2.3})])
    meshes, origin = build(psycopg_of(blank_twin), CATALOG)[::2]
    plotter, _, actors, _ = _view(meshes)
    open_tunnels(CATALOG, [actors])
    middle = np.array([X0 + 200, Y0, -3.5]) - origin
    for tilt in (0.52, 1.4, 0.1):  # from the south 30 degrees up, from nearly overhead, from the side
        place_camera(plotter, tuple(middle), tuple(middle + 60 * np.array([0.0, -np.cos(tilt), np.sin(tilt)])))
        seen = _coloured(plotter, SKY_BLUE).sum() + _lit(plotter, SKY_BLUE).sum()
        assert seen > 500, f"the pipe inside the tunnel is hidden from {tilt:.2f} rad up"


def _lit(plotter: pv.Plotter, rgb: tuple[int, int, int]) -> np.ndarray:
    """Pixels of that hue, lit or shaded (the tube's): a multiple of the colour, not greyed towards a wall."""
    image = _image(plotter).astype(float)
    colour = np.array(rgb, float)
    scale = (image @ colour) / (colour @ colour)
    return (np.linalg.norm(image - scale[..., None] * colour, axis=2) < 6) & (scale > 0.3)


@pytest.fixture(scope="module")
def viewer(demo_database: str) -> Iterator:
    """The viewer over the demo city, made in this process: (its state, its render window)."""
    from trame.app import get_server

    from twin.settings import get_settings
    from viewer.app import create_app

    saved = os.environ.get("TWIN_DATABASE_URL")
    os.environ["TWIN_DATABASE_URL"] = demo_database
    get_settings.cache_clear()
    try:
        server = create_app(get_server("test-underground", client_type="vue3"))
        server.controller.view_update = lambda *args, **kwargs: None  # no page to send images to
        server.state.ready()
        yield server.state, server.vtk_interactor.GetRenderWindow()
    finally:
        if saved is None:
            os.environ.pop("TWIN_DATABASE_URL", None)
        else:
            os.environ["TWIN_DATABASE_URL"] = saved
        get_settings.cache_clear()


def _set(state, **values) -> None:
    for key, value in values.items():
        state[key] = value
    state.flush()


def _frame(window) -> np.ndarray:
    from vtk.util.numpy_support import vtk_to_numpy
    import vtk

    window.Render()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.ReadFrontBufferOff()
    grab.Update()
    width, height, _ = grab.GetOutput().GetDimensions()
    pixels = vtk_to_numpy(grab.GetOutput().GetPointData().GetScalars()).reshape(height, width, -1)[::-1, :, :3]
    return pixels.astype(int)


def _street(window, distance: float = 120.0) -> None:
    """A crossing of the demo city seen from the south-west, 35 degrees up (its overview's focal point)."""
    renderer = window.GetRenderers().GetFirstRenderer()
    camera = renderer.GetActiveCamera()
    focal = np.array(camera.GetFocalPoint())
    focal[2] = -2.0
    towards = np.array([-0.5, -0.8, 0.0]) / np.hypot(0.5, 0.8) * np.cos(0.6) + np.array([0, 0, np.sin(0.6)])
    camera.SetFocalPoint(*focal)
    camera.SetPosition(*(focal + distance * towards))
    camera.SetViewUp(0, 0, 1)
    renderer.ResetCameraClippingRange()


def test_underground_the_pipes_read_through_what_covers_them(viewer) -> None:
    """The pipes' pixels in underground mode against the same pipes with nothing over them: the ground,
    roads, areas and buildings over them change them little (mean over the pipes' pixels and channels, 0-255:
    19 when every surface layer was drawn at opacity 0.12 over the sky, 9 now)."""
    state, window = viewer
    surface = ["terrain", "buildings", "roads", "parks", "water_bodies", "management_grids"]
    points = [layer.id for layer in CATALOG if layer.geometry == "point"]
    pipes = [layer.id for layer in CATALOG if layer.draw.mode == "tube"]
    _set(state, underground=True, **{f"show_{layer}": False for layer in points})
    _street(window)
    try:
        covered = _frame(window)
        _set(state, **{f"show_{layer}": False for layer in surface})
        bare = _frame(window)
        _set(state, **{f"show_{layer}": False for layer in pipes})
        nothing = _frame(window)
    finally:
        _set(state, underground=False, **{f"show_{layer}": True for layer in surface + pipes + points})
    drawn = np.abs(bare - nothing).sum(axis=2) > 60
    assert drawn.sum() > 2000, "no pipes in the view"
    haze = np.abs(covered - bare)[drawn].mean()
    assert haze < 13, f"what covers the pipes changes their pixels by {haze:.0f} on average"


def test_a_depth_scale_at_the_view_centre_and_the_depths_of_the_pipes_by_it(blank_twin) -> None:
    """Underground, a ruler stands at the focal point, ticked in true metres below ground wherever the
    exaggeration draws them, and the pipes near it are labelled with their utility and depth as their
    surveys measure it (top, invert, a tunnel's roof); hidden layers, other years and what the section
    plane cuts away are not."""
    along = [[X0, Y0, 0.0], [X0 + 400, Y0, 0.0]]

    def at(y: float, z: float) -> dict:
        return {"type": "LineString", "coordinates": [[x, Y0 + y, z] for x, _, _ in along]}

    _level_ground(blank_twin)
    add_features(blank_twin, "water_supply", [(at(0.0, -1.7), {"id": "W", "diameter_mm": 400, "valid_from": "2012-01-01"})])
    add_features(blank_twin, "sewage", [(at(4.0, -2.7), {"id": "S", "diameter_mm": 600})])
    add_features(blank_twin, "utility_tunnels", [(at(-8.0, -2.6), {"id": "T1", "width_m": 5.0, "height_m": 3.5})])
    add_features(blank_twin, "power", [(at(-8.5, -3.275), {"id": "P", "diameter_mm": 150, "tunnel": "T1"})])
    connection = psycopg_of(blank_twin)
    meshes, _, origin = build(connection, CATALOG)
    plotter, timeline, actors, _ = _view(meshes)
    flags = {"below": True, "k": 1.0}
    scale = DepthScale(segments(connection, CATALOG, actors, origin), plotter, actors, origin, None,
                       below=lambda: flags["below"], exaggeration=lambda: flags["k"], year=lambda: timeline.year)
    middle = np.array([X0 + 200, Y0 - 2.0, 0.0]) - origin
    place_camera(plotter, tuple(middle), tuple(middle + np.array([0.0, -25.0, 25.0])))
    _image(plotter)
    labels = {"Water supply pipes · top 1.50 m", "Sewage pipes · invert 3.00 m", "Utility tunnels T1 · roof 2.60 m",
              "Power cables in T1 · top 3.20 m"}
    assert labels <= set(scale.shown) and {"0 m", "1 m", "4 m"} <= set(scale.shown)
    # from the ground down past the deepest thing by it (the tunnel's floor, 6.1 m down) by a metre or more
    assert scale.ruler.bounds[5] == pytest.approx(0.0) and -9.0 <= scale.ruler.bounds[4] <= -7.1

    for layer_mesh in meshes.values():  # underground mode's exaggeration, x3: the same depths, drawn deeper
        exaggerate(layer_mesh.mesh, 3.0)
    flags["k"] = 3.0
    _image(plotter)
    assert labels <= set(scale.shown) and -27.0 <= scale.ruler.bounds[4] <= -21.3
    ticks = {text.strip(): z for text, z in zip(_texts(scale.ticks), scale.ticks.points[:, 2])}
    assert ticks["2 m"] == pytest.approx(-6.0)
    for layer_mesh in meshes.values():
        exaggerate(layer_mesh.mesh, 1.0)
    flags["k"] = 1.0

    actors["sewage"].SetVisibility(False)
    timeline.show(2011)  # before the water main was laid
    _image(plotter)
    assert not {"Sewage pipes · invert 3.00 m", "Water supply pipes · top 1.50 m"} & set(scale.shown)
    timeline.show(2020)
    section.clip(actors.values(), section.plane("x", 25, (0.0, 400.0, -20.0, 0.0, -6.0, 0.0)))  # x < 100 m kept
    _image(plotter)
    assert not labels & set(scale.shown)
    flags["below"] = False
    _image(plotter)
    assert scale.shown == [] and not scale.ruler_actor.GetVisibility()


def _texts(points: pv.PolyData) -> list[str]:
    labels = points.GetPointData().GetAbstractArray("label")
    return [labels.GetValue(i) for i in range(labels.GetNumberOfValues())]


def test_the_section_plane_draws_its_cut_face_and_where_it_cuts(blank_twin) -> None:
    """Cut across a water main and a tunnel with a power cable in it: the soil on the plane, the pipes'
    and the tunnel's sections filled in their colours on it, the ground's profile along it in the marker
    colour, and a label of its position; each section drawn as its layer is (shown, its year, stretched)."""
    from viewer.tools.section import MARKER, SOIL_DEPTH_M, SectionFace

    _level_ground(blank_twin)
    add_features(blank_twin, "water_supply", [
        ({"type": "LineString", "coordinates": [[X0, Y0, -1.7], [X0 + 400, Y0, -1.7]]},
         {"id": "W", "diameter_mm": 400, "valid_from": "2012-01-01"})])
    add_features(blank_twin, "utility_tunnels", [
        ({"type": "LineString", "coordinates": [[X0, Y0 - 8, -2.6], [X0 + 400, Y0 - 8, -2.6]]},
         {"id": "T1", "width_m": 5.0, "height_m": 3.5})])
    add_features(blank_twin, "power", [
        ({"type": "LineString", "coordinates": [[X0, Y0 - 8.5, -3.3], [X0 + 400, Y0 - 8.5, -3.3]]},
         {"id": "P", "diameter_mm": 150, "tunnel": "T1"})])
    meshes, origin = build(psycopg_of(blank_twin), CATALOG)[::2]
    plotter, timeline, actors, _ = _view(meshes)
    bounds = (0.0, 400.0, -20.0, 20.0, -8.0, 0.0)
    k = {"now": 1.0}
    face = SectionFace(plotter, CATALOG, actors, origin, None, bounds, "EPSG:4548", lambda: k["now"])
    cut = section.plane("x", 50, bounds)  # at x = 200 m, keeping what lies west of it
    section.clip(actors.values(), cut)
    face.show(cut)
    assert face.text == f"Section E {X0 + 200:,.1f} m (EPSG:4548)"
    middle = np.array([200.0, -4.0, -2.0])
    place_camera(plotter, tuple(middle), tuple(middle + np.array([25.0, -3.0, 3.0])))  # from the cut-away side

    def seen() -> dict[str, int]:
        return {"water": int(_coloured(plotter, SKY_BLUE).sum()), "power": int(_coloured(plotter, (224, 32, 32)).sum()),
                "marker": int(_coloured(plotter, pv.Color(MARKER).int_rgb[:3]).sum())}

    drawn = seen()
    assert drawn["water"] > 200 and drawn["power"] > 20 and drawn["marker"] > 100, drawn
    image = _image(plotter)
    soil = np.all(np.abs(image - image[560, 640]) <= 2, axis=2)  # under the pipes: the face's soil
    assert soil.sum() > 50_000 and abs(int(image[560, 640].sum()) - int(image[5, 5].sum())) > 30

    actors["power"].SetVisibility(False)
    timeline.show(2011)  # before the water main was laid
    assert seen()["water"] == 0 and seen()["power"] == 0
    actors["power"].SetVisibility(True)
    timeline.show(2020)
    for layer_mesh in meshes.values():  # underground mode's exaggeration, x3
        exaggerate(layer_mesh.mesh, 3.0)
    k["now"] = 3.0
    _image(plotter)
    assert face.soil_actor.GetBounds()[4] == pytest.approx(-3 * SOIL_DEPTH_M, abs=0.2)
    water = face.caps["water_supply"].GetBounds()  # the main's section, 1.7 m down, drawn 5.1 m down
    assert (water[4] + water[5]) / 2 == pytest.approx(-3 * 1.7, abs=0.05) and water[5] - water[4] > 1.1
    face.show(None)
    _image(plotter)
    assert not face.soil_actor.GetVisibility() and not face.label_actor.GetVisibility()
    assert not any(cap.GetVisibility() for cap in face.caps.values())
