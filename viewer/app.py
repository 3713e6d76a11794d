"""The trame app: the twin in 3D in the browser, rendered on the server (VtkRemoteView).

One process serves one viewer state; ``twin serve`` starts it. Run alone:
``python -m viewer.app --server --host 127.0.0.1 --port 8080``.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pyvista as pv
import vtk
from pyproj import CRS
from trame.app import asynchronous, get_server
from trame.widgets import html
from trame.widgets import vtk as vtk_widgets

from twin.catalog import load_catalog
from twin.store.engine import connect
from twin.store.meta import pg_connect, twin_crs
from twin.store.stats import layer_counts
from twin.terrain import Terrain
from twin.time import figures, year_range
from viewer import measure, ui, viewpoints
from viewer.compare import SecondView
from viewer.measure import true_position
from viewer.picking import Pick, attributes, highlight, pick
from viewer.render import add_layers, make_plotter, place_camera, show_land_cover
from viewer.scene import build
from viewer.timeline import Timeline
from viewer.years import year_controls

TITLE = "Sino-Singapore Tianjin Eco-city (synthetic) · twin"
# Made translucent and unpickable in underground mode.
SURFACE = ("terrain", "buildings", "roads", "parks", "water_bodies", "management_grids")
PIPE_FRAME_M = 80.0
BURIED = ("tube", "box")  # draw modes of what lies under the ground: pipes, ducts, tunnels


def create_app(server=None):
    server = server or get_server(client_type="vue3")
    state, ctrl = server.state, server.controller
    catalog = load_catalog()
    with pg_connect() as connection:
        meshes, ground, origin = build(connection, catalog)
        terrain = Terrain.from_store(connection, CRS.from_user_input(twin_crs(connection)))
    plotter, interactor = make_plotter()
    timeline = Timeline(meshes)  # each actor draws its layer as it stood in the chosen year
    actors = add_layers(plotter, meshes, ground, timeline)
    plotter.view_isometric()
    plotter.reset_camera()
    with connect() as connection:
        counts = {key: value or 0 for key, value in layer_counts(connection, catalog).items()}
    with pg_connect() as connection:
        views = {view.key: view for view in viewpoints.named(connection, catalog, origin, plotter.bounds)}

    actor_sets = [actors]
    with pg_connect() as connection:
        span = year_range(connection, catalog)
        if span is not None:
            year_controls(state, ctrl, catalog, timeline, figures(connection, catalog, *span), *span,
                          on_year=lambda year: show_land_cover(actors, ground, year))
    second = SecondView(state, ctrl, catalog, meshes, ground, plotter, span[0]) if span else None
    if second is not None:
        actor_sets.append(second.actors)
    _layer_controls(state, ctrl, catalog, meshes, actor_sets, counts)
    _underground_and_section(state, ctrl, catalog, meshes, actor_sets, plotter)
    clicks = _Clicks(state, ctrl, plotter, catalog, meshes, actors, origin, terrain)

    def go_to(viewpoint: str | None, **kwargs) -> None:
        view = views.get(viewpoint or "")
        if view is None:
            return
        if view.underground:
            state.underground = True
        place_camera(plotter, view.focal_point, view.position)
        ctrl.view_update()

    state.viewpoints = [{"key": view.key, "title": view.title} for view in views.values()]
    state.change("viewpoint")(go_to)

    found: dict[str, viewpoints.Found] = {}
    state.search_text, state.search_results = "", []

    @state.change("search_text")
    def search(search_text: str | None, **kwargs) -> None:
        found.clear()
        if search_text and len(search_text.strip()) >= 2:
            with pg_connect() as connection:
                hits = viewpoints.search(connection, catalog, search_text)
            found.update({f"{hit.layer_id}/{hit.feature_id}": hit for hit in hits})
        state.search_results = [{"key": key, "label": hit.label, "layer": hit.layer_title} for key, hit in found.items()]

    def fly_to(key: str) -> None:
        hit = found.get(key)
        if hit is None:
            return
        low, high = np.array(hit.bounds[:3]), np.array(hit.bounds[3:])
        row = clicks.row_of.get(hit.layer_id, {}).get(hit.feature_id)
        if row is not None:
            # The drawn feature (extruded, on the ground) rather than its stored geometry's box.
            layer_mesh = meshes[hit.layer_id]
            cells = layer_mesh.mesh.extract_cells(layer_mesh.mesh.cell_data["row"] == row)
            low, high = np.array(cells.bounds[0::2]) + origin, np.array(cells.bounds[1::2]) + origin
        # A pipe hundreds of metres long would be thinner than a pixel if framed whole: show its middle.
        most = PIPE_FRAME_M if catalog[hit.layer_id].geometry == "line" else float("inf")
        focal, position = viewpoints.framing(tuple(np.r_[low, high]), origin, tilt_from=(-0.25, -0.45, 1.0),
                                             most=most)
        place_camera(plotter, focal, position)
        state.search_text = ""  # closes the results; the panel names what was found
        clicks.show(hit.layer_id, hit.feature_id)

    ui.layout(server, TITLE, catalog, counts, lambda: _views(state, ctrl, plotter, second, clicks), fly_to)
    server.vtk_interactor = interactor  # the render window does not own its interactor: keep it alive here
    return server


def _views(state, ctrl, plotter: pv.Plotter, second: SecondView | None, clicks: _Clicks) -> None:
    """The main view (year A) and, while comparing, the year-B view beside it or under the swipe line.
    Both share one camera: when one stops moving, the other is drawn again."""
    def others(which: str):
        def update(*args) -> None:
            if state.compare != "off":
                ctrl.view_b_update() if which == "a" else ctrl.view_a_update()
        return update

    events = ["LeftButtonPress", "LeftButtonRelease", "EndAnimation", "MouseWheel"]
    with html.Div(classes="twin-view-a", style=("{ position: 'absolute', top: 0, bottom: 0, left: 0, "
                                                "width: compare === 'side' ? '50%' : '100%' }",)):
        view = vtk_widgets.VtkRemoteView(
            plotter.ren_win, interactive_ratio=1, still_ratio=1, interactor_events=("events_a", events),
            LeftButtonPress=(clicks.press, "[utils.vtk.event($event)]"),
            LeftButtonRelease=(clicks.release, "[utils.vtk.event($event)]"),
            EndAnimation=others("a"), MouseWheel=others("a"),
        )
    ctrl.view_a_update = view.update
    ctrl.view_reset_camera = view.reset_camera
    if second is None:
        ctrl.view_update = view.update
        return
    # Swipe: year B over the whole view, shown right of the line; the mouse reaches the view below.
    # Made only while comparing: a hidden view would still render the whole scene on every push.
    with html.Div(v_if="compare !== 'off'", classes="twin-view-b",
                  style=("compare === 'side' ? { position: 'absolute', top: 0, bottom: 0, left: '50%', width: '50%', "
                         "borderLeft: '2px solid white' } : { position: 'absolute', inset: 0, pointerEvents: 'none', "
                         "clipPath: 'inset(0 0 0 ' + swipe_at + '%)' }",)):
        view_b = vtk_widgets.VtkRemoteView(second.plotter.ren_win, interactive_ratio=1, still_ratio=1,
                                           interactor_events=("events_b", events),
                                           EndAnimation=others("b"), MouseWheel=others("b"),
                                           LeftButtonRelease=others("b"))
    html.Div(v_show="compare === 'swipe'", classes="twin-swipe-line",
             style=("{ position: 'absolute', top: 0, bottom: 0, width: '2px', background: 'white', "
                    "left: swipe_at + '%', pointerEvents: 'none' }",))
    ctrl.view_b_update = view_b.update

    @state.change("compare")
    def resized(**kwargs) -> None:
        async def measure_again() -> None:
            await asyncio.sleep(0.3)  # once the page has laid the views out in their new boxes
            view.resize()
            view_b.resize()
        asynchronous.create_task(measure_again())

    def both() -> None:
        view.update()
        if state.compare != "off":
            view_b.update()

    ctrl.view_update = both


def _layer_controls(state, ctrl, catalog, meshes, actor_sets, counts) -> None:
    """Toggles, colours and opacities of the layers, and the legend of what is shown."""
    for layer in catalog:
        state[f"show_{layer.id}"] = True
        state[f"color_{layer.id}"] = layer.style.color
        state[f"opacity_{layer.id}"] = layer.style.opacity

    def legend() -> None:
        state.legend = [{"id": layer.id, "title": layer.title, "color": state[f"color_{layer.id}"],
                         "round": layer.draw.mode == "glyph"}
                        for layer in catalog if layer.id in meshes and state[f"show_{layer.id}"]]

    def restyle(layer_id: str):
        def changed(**kwargs) -> None:
            show_visible(state, catalog, actor_sets)
            for actor in (actors[layer_id] for actors in actor_sets if layer_id in actors):
                if actor.GetTexture() is None:  # a colour would tint the land cover draped on the terrain
                    actor.GetProperty().SetColor(pv.Color(state[f"color_{layer_id}"]).float_rgb)
                if not state.underground or layer_id not in SURFACE:
                    actor.GetProperty().SetOpacity(float(state[f"opacity_{layer_id}"]))
            ctrl.view_update()
            legend()
        return changed

    for layer in catalog:
        state.change(f"show_{layer.id}", f"color_{layer.id}", f"opacity_{layer.id}")(restyle(layer.id))
    legend()


def show_visible(state, catalog, actor_sets) -> None:
    """Each actor shown as its layer's toggle says; but pipes and tunnels, which lie under the opaque
    ground, only in underground mode or with the terrain hidden: drawing them unseen cost a third of
    every frame (and let a click on the ground pick a pipe under it)."""
    ground_open = state.underground or not state["show_terrain"]
    for actors in actor_sets:
        for layer_id, actor in actors.items():
            buried = layer_id in catalog and catalog[layer_id].draw.mode in BURIED
            actor.SetVisibility(bool(state[f"show_{layer_id}"]) and (ground_open or not buried))


def _underground_and_section(state, ctrl, catalog, meshes, actor_sets, plotter: pv.Plotter) -> None:
    """Underground mode (ground and buildings nearly transparent and left out of picking, depth
    stretched) and a vertical section plane that cuts the whole scene away on one side."""
    state.underground, state.exaggeration = False, 1.0
    state.section, state.section_at = "off", 50
    bounds = plotter.bounds
    show_visible(state, catalog, actor_sets)

    @state.change("underground", "exaggeration")
    def underground_changed(underground: bool, exaggeration: float, **kwargs) -> None:
        show_visible(state, catalog, actor_sets)
        for index, actors in enumerate(actor_sets):
            for layer_id, actor in actors.items():
                if layer_id in SURFACE:
                    opacity = 0.12 if underground else float(state[f"opacity_{layer_id}"]) if layer_id in meshes else 1.0
                    actor.GetProperty().SetOpacity(opacity)
                    actor.SetPickable(not underground and index == 0)  # only the main view picks
                actor.SetScale(1.0, 1.0, float(exaggeration) if underground else 1.0)
        ctrl.view_update()

    @state.change("section", "section_at")
    def section_changed(section: str, section_at: float, **kwargs) -> None:
        plane = None
        if section in ("x", "y"):
            axis = 0 if section == "x" else 1
            low, high = bounds[2 * axis], bounds[2 * axis + 1]
            plane = vtk.vtkPlane()
            at = [0.0, 0.0, 0.0]
            at[axis] = low + (high - low) * float(section_at) / 100.0
            normal = [0.0, 0.0, 0.0]
            normal[axis] = -1.0  # keep what lies before the cut (west or south of it)
            plane.SetOrigin(at)
            plane.SetNormal(normal)
        for actor in (actor for actors in actor_sets for actor in actors.values()):
            mapper = actor.GetMapper()
            mapper.RemoveAllClippingPlanes()
            if plane is not None:
                mapper.AddClippingPlane(plane)
        ctrl.view_update()


class _Clicks:
    """A click in the view: inspect the feature under it, or measure, as the mode says."""

    def __init__(self, state, ctrl, plotter, catalog, meshes, actors, origin, terrain) -> None:
        self.state, self.ctrl, self.plotter, self.catalog = state, ctrl, plotter, catalog
        self.meshes, self.actors, self.origin, self.terrain = meshes, actors, origin, terrain
        self.pressed: tuple[float, float] = (-99.0, -99.0)
        # Actors drawn over the scene: the picked feature's outline, and the current measurement's.
        self.marks: dict[str, list] = {"pick": [], "measure": []}
        self.points: list[np.ndarray] = []  # distance mode: the points picked so far
        self.row_of = {layer_id: {feature: row for row, feature in enumerate(layer_mesh.ids)}
                       for layer_id, layer_mesh in meshes.items()}
        state.picked_title, state.picked_rows = "", []
        state.measure_title, state.measure_rows = "", []
        state.mode = "inspect"
        state.change("mode")(self.mode_changed)

    def press(self, event: dict) -> None:
        self.pressed = (event["position"]["x"], event["position"]["y"])

    def release(self, event: dict) -> None:
        x, y = event["position"]["x"], event["position"]["y"]
        if abs(x - self.pressed[0]) > 3 or abs(y - self.pressed[1]) > 3:
            return  # a drag turned the view; only a click picks
        found = pick(self.plotter, self.actors, self.meshes, x, y)
        mode = self.state.mode
        if mode == "distance":
            self.distance(found)
        elif mode == "height":
            self.height(found)
        elif mode == "depth":
            self.depth(found)
        elif found is None:
            self.clear("pick")
        else:
            self.show(found.layer_id, found.feature_id)
        self.ctrl.view_update()

    def mode_changed(self, mode: str, **kwargs) -> None:
        self.clear("pick")
        self.clear("measure")
        self.state.measure_title = {"distance": "Distance: click two points", "height": "Height: click a building",
                                    "depth": "Depth: click a pipe (underground mode helps)"}.get(mode, "")
        self.ctrl.view_update()

    def clear(self, group: str) -> None:
        for actor in self.marks[group]:
            self.plotter.remove_actor(actor)
        self.marks[group].clear()
        if group == "pick":
            self.state.picked_title, self.state.picked_rows = "", []
        else:
            self.points.clear()
            self.state.measure_rows = []

    def show(self, layer_id: str, feature_id: str) -> None:
        """The feature's attributes from PostGIS in the side panel, the feature outlined in the view."""
        self.clear("pick")
        layer_mesh = self.meshes.get(layer_id)
        with pg_connect() as connection:
            values = attributes(connection, layer_id, feature_id)
        self.state.picked_title = f"{self.catalog[layer_id].title}: {values.get('name') or values.get('source_id')}"
        self.state.picked_rows = [{"name": name, "value": str(value)} for name, value in values.items()]
        row = self.row_of.get(layer_id, {}).get(feature_id)
        if layer_mesh is not None and row is not None:
            self._mark("pick", highlight(layer_mesh, row), style="wireframe", line_width=3)
        self.ctrl.view_update()

    def distance(self, found: Pick | None) -> None:
        if found is None:
            return
        if len(self.points) == 2:
            self.clear("measure")
        point = true_position(found.position, self.origin, self._exaggeration())
        self.points.append(point)
        self._mark("measure", pv.Sphere(radius=1.0, center=found.position), color="#e6194b")
        if len(self.points) == 1:
            self._measured(measure.Measurement("Distance: click the second point", 0.0,
                                               [("From", measure.coordinates(point))]))
            return
        a, b = (p - self.origin for p in self.points)
        scale = np.array([1.0, 1.0, self._exaggeration()])
        self._mark("measure", pv.Line(a * scale, b * scale), color="#e6194b", line_width=4)
        self._measured(measure.distance(*self.points))

    def height(self, found: Pick | None) -> None:
        self.clear("measure")
        layer = self.catalog[found.layer_id] if found else None
        if found is None or layer is None or layer.draw.mode not in ("extrude", "solid"):
            self.state.measure_title = "Height: click a building"
            return
        layer_mesh = self.meshes[found.layer_id]
        self._mark("measure", highlight(layer_mesh, found.row), style="wireframe", line_width=3)
        self._measured(measure.building_height(layer_mesh, found.row, self.origin), found)

    def depth(self, found: Pick | None) -> None:
        self.clear("measure")
        layer = self.catalog[found.layer_id] if found else None
        if found is None or layer is None or layer.draw.mode not in ("tube", "box"):
            self.state.measure_title = "Depth: click a pipe (underground mode helps)"
            return
        at = true_position(found.position, self.origin, self._exaggeration())
        with pg_connect() as connection:
            result = measure.pipe_depth(connection, layer, found.feature_id, at, self.terrain)
        self._mark("measure", highlight(self.meshes[found.layer_id], found.row), style="wireframe", line_width=3)
        self._measured(result, found)

    def _measured(self, result: measure.Measurement, found: Pick | None = None) -> None:
        rows = result.rows
        if found is not None:  # which feature was measured, by its id in its source
            with pg_connect() as connection:
                source_id = attributes(connection, found.layer_id, found.feature_id).get("source_id")
            rows = [("Feature", f"{self.catalog[found.layer_id].title} {source_id}"), *rows]
        self.state.measure_title = result.title
        self.state.measure_rows = [{"name": name, "value": value} for name, value in rows]

    def _mark(self, group: str, mesh: pv.DataSet, color: str = "#ffd400", **style) -> None:
        actor = self.plotter.add_mesh(mesh, color=color, pickable=False, **style)
        if self.state.underground:
            actor.SetScale(1.0, 1.0, float(self.state.exaggeration))
        self.marks[group].append(actor)

    def _exaggeration(self) -> float:
        return float(self.state.exaggeration) if self.state.underground else 1.0


def main() -> None:
    server = create_app()
    server.start()


if __name__ == "__main__":
    main()
