"""A click in the 3D view: inspect the feature under it, measure, or give the analyses a point, as the
toolbar's mode says. Kept apart from viewer.app so that the analyses panel can listen to clicks."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pyvista as pv
import vtk

from twin import i18n
from twin.catalog import Layer
from twin.store import database
from viewer.tools import measure, readout
from viewer.tools.picking import Pick, attributes, highlight, pick, point_at
from viewer.scene.timeline import subset
from viewer.tools.versions import History, feature_history

HINTED = ("distance", "height", "depth", "point")  # the modes whose card says first what to click
BEACON_M = 30.0  # a picked point symbol's beacon rises this far above the roofs this close to it
MOST_BEACONS = 50  # a layer found by its name has each of its point symbols marked, if it has no more


class Clicks:
    """A click in the view: inspect the feature under it, or measure, as the mode says."""

    def __init__(self, state, ctrl, plotter, catalog, meshes, actors, origin, terrain, crs_label: str = "") -> None:
        self.state, self.ctrl, self.plotter, self.catalog = state, ctrl, plotter, catalog
        self.meshes, self.actors, self.origin, self.terrain = meshes, actors, origin, terrain
        self.crs_label = crs_label  # what the coordinates measured are in
        self.pressed: tuple[int, int] = (-99, -99)
        self.seen: Callable[[], tuple[int, int]] = lambda: tuple(plotter.ren_win.GetSize())  # Clicks.listen
        # Actors drawn over the scene: the picked feature's outline, and the current measurement's.
        self.marks: dict[str, list] = {"pick": [], "measure": []}
        # distance mode: the points picked so far, each true (the twin's CRS) and as drawn (the scene)
        self.points: list[tuple[np.ndarray, np.ndarray]] = []
        self._roofs: _RoofGrid | None = None  # made at the first beacon
        # The last measurement and the feature measured (layer, source id), worded again in a new language.
        self._last_measured: tuple[measure.Measurement, tuple[str, str] | None] | None = None
        self.row_of = {layer_id: layer_mesh.row_of for layer_id, layer_mesh in meshes.items()}
        state.picked_title, state.picked_rows, state.picked_versions = "", [], []
        state.measure_title, state.measure_rows = "", []
        state.mode = "inspect"
        state.change("mode")(self.mode_changed)
        # For the analyses: the feature last inspected, where the last click met the scene (true metres in
        # the twin's CRS), and who wants to hear of each click (told the mode it was made in).
        self.selected: tuple[str, str] | None = None
        self.last_point: np.ndarray | None = None
        self.listeners: list[Callable[[str], None]] = []
        self.history: History | None = None  # the versions of the feature inspected
        self.title = ""  # the inspected feature's card's title
        state.change("year")(self.year_changed)
        state.change("lang")(self.language_changed)
        ctrl.trigger("picked_close")(self.close_pick)
        ctrl.trigger("measure_close")(self.close_measure)
        # A feature outlined while its layer is hidden would float in the view, its card naming nothing seen.
        if meshes:
            state.change(*(f"show_{layer_id}" for layer_id in meshes))(self.layer_toggled)

    def close_pick(self) -> None:
        self.clear("pick")
        self.ctrl.view_update()

    def close_measure(self) -> None:
        self.clear("measure")
        self.state.measure_title = ""
        self.ctrl.view_update()

    def layer_toggled(self, **kwargs) -> None:
        if self.selected is not None and not self.state[f"show_{self.selected[0]}"]:
            self.close_pick()

    def listen(self, interactor: vtk.vtkRenderWindowInteractor, settle: Callable[[], None],
               seen: Callable[[], tuple[int, int]]) -> None:
        """Hear clicks as the view's interactor does, inside trame-vtk's handling of the mouse, rather than
        as the page's events after it: what a click changes is then in the image trame-vtk draws on the
        release anyway, one frame where there were two (``settle`` puts the full scene back first). The
        window may be drawn smaller then (a moving camera's images): ``seen`` says the size of the image
        the person clicked on, whose pixels the pick judges."""
        self.seen = seen
        # VTK hands each observer its interactor: none holds it (a cycle Python's collector would free).
        # Passive: the camera style grabs the interactor's focus on a press, and VTK then gives a release
        # to the focus and to passive observers only (first to these).
        for event, heard in (("LeftButtonPressEvent", self._pressed),
                             ("LeftButtonReleaseEvent", partial(self._released, settle))):
            interactor.GetCommand(interactor.AddObserver(event, heard)).SetPassiveObserver(1)

    def _pressed(self, interactor: vtk.vtkRenderWindowInteractor, event: str) -> None:
        self.pressed = interactor.GetEventPosition()

    def _released(self, settle: Callable[[], None], interactor: vtk.vtkRenderWindowInteractor, event: str) -> None:
        x, y = interactor.GetEventPosition()
        if abs(x - self.pressed[0]) > 3 or abs(y - self.pressed[1]) > 3:
            return  # a drag turned the view; only a click picks
        settle()
        with self.state:  # sent to the page as the handler ends, beside trame-vtk's image
            self.click(x, y)

    def click(self, x: float, y: float) -> None:
        """A click at display position (x, y) (pixels from the view's bottom left), as the mode says; the
        caller draws the view again."""
        seen = self.seen()
        found = pick(self.plotter, self.actors, self.meshes, x, y, seen)
        # The ground is no feature, but a point on it is what the analyses ask for.
        position = found.true_position if found is not None else point_at(self.plotter, x, y, seen)
        if position is not None:
            self.last_point = np.asarray(position) + self.origin
        mode = self.state.mode
        if mode == "point":
            pass  # the point is all the analyses need; the listeners take it from here
        elif mode == "distance":
            self.distance(found)
        elif mode == "height":
            self.height(found)
        elif mode == "depth":
            self.depth(found)
        elif found is None:
            self.clear("pick")
        else:
            self.show(found.layer_id, found.feature_id, render=False)
        for listener in self.listeners:
            listener(mode)

    def mode_changed(self, mode: str, **kwargs) -> None:
        self.clear("pick")
        self.clear("measure")
        self.state.measure_title = i18n.text(f"measure.hint_{mode}", self.state.lang) if mode in HINTED else ""
        self.ctrl.view_update()

    def clear(self, group: str) -> None:
        for actor in self.marks[group]:
            self.plotter.remove_actor(actor)
        self.marks[group].clear()
        if group == "pick":
            self.selected, self.history = None, None
            self.state.picked_title, self.state.picked_rows, self.state.picked_versions = "", [], []
        else:
            self.points.clear()
            self._last_measured = None
            self.state.measure_rows = []

    def show(self, layer_id: str, feature_id: str, render: bool = True) -> None:
        """The feature's attributes and versions from PostGIS in the side panel, the feature outlined in
        the view (drawn now, unless ``render`` is False: the caller draws it)."""
        self.clear("pick")
        with database.raw() as connection:
            self.history = feature_history(connection, self.catalog[layer_id], feature_id)
        self.state.picked_versions = self.history.listed(self.state.lang)
        self._inspect(layer_id, feature_id)
        if render:
            self.ctrl.view_update()

    def year_changed(self, year: int, **kwargs) -> None:
        """The slider draws another version of the feature inspected, or none: the panel and the outline
        follow it (the panel keeps the last version drawn where none is)."""
        if self.selected is None or self.history is None or not self.state.year_first:
            return
        layer_id, shown = self.selected
        standing = self.history.standing(int(year))
        if standing is None:
            self._outline(layer_id, None)
            self.state.picked_title = i18n.text("viewer.picked_not_standing", self.state.lang, title=self.title,
                                                year=int(year))
        elif standing != shown or not self.marks["pick"]:
            self._inspect(layer_id, standing)
        else:
            return
        self.ctrl.view_update()

    def language_changed(self, **kwargs) -> None:
        """The inspected feature's card and the measurement's, read again in the page's new language."""
        if self._last_measured is not None:
            self._word_measured()
        elif self.state.measure_title and self.state.mode in HINTED:
            self.state.measure_title = i18n.text(f"measure.hint_{self.state.mode}", self.state.lang)
        if self.selected is not None and self.state.picked_title:
            self.state.picked_versions = self.history.listed(self.state.lang) if self.history else []
            self._inspect(*self.selected)
            self.ctrl.view_update()

    def _inspect(self, layer_id: str, feature_id: str) -> None:
        """One version's attributes in the panel, outlined in the view."""
        with database.raw() as connection:
            values = attributes(connection, layer_id, feature_id)
        layer, language = self.catalog[layer_id], self.state.lang
        self.title = f"{layer.title_in(language)}: {values.get('name') or values.get('source_id')}"
        self.state.picked_title = self.title
        self.state.picked_rows = [{"name": title, "value": value}
                                  for title, value in readout.rows(layer, values, language)]
        self.selected = (layer_id, feature_id)
        self._outline(layer_id, feature_id)

    def _outline(self, layer_id: str, feature_id: str | None) -> None:
        for actor in self.marks["pick"]:
            self.plotter.remove_actor(actor)
        self.marks["pick"].clear()
        layer_mesh = self.meshes.get(layer_id)
        row = self.row_of.get(layer_id, {}).get(feature_id) if feature_id is not None else None
        if layer_mesh is not None and row is not None:
            self._mark("pick", highlight(layer_mesh, row), style="wireframe", line_width=3)
            if self.catalog[layer_id].draw.mode == "glyph":
                mesh = layer_mesh.mesh
                self._beacons(np.array([subset(mesh, mesh.cell_data["row"] == row, own_points=True).center]))

    def mark_layer(self, layer_id: str) -> None:
        """Nothing inspected, and each point symbol of a layer of few (the hospitals) marked by a beacon."""
        self.clear("pick")
        layer_mesh = self.meshes.get(layer_id)
        if layer_mesh is None or self.catalog[layer_id].draw.mode != "glyph" or len(layer_mesh.ids) > MOST_BEACONS:
            return
        mesh = layer_mesh.mesh
        rows, centres = mesh.cell_data["row"], mesh.cell_centers().points
        counts = np.bincount(rows, minlength=len(layer_mesh.ids))
        drawn = counts > 0
        sums = np.column_stack([np.bincount(rows, weights=centres[:, axis], minlength=len(counts)) for axis in range(3)])
        # Framed whole, the layer is seen from kilometres away: beacons as tall as a twentieth of its extent.
        extent = np.linalg.norm(np.array(mesh.bounds[1::2]) - np.array(mesh.bounds[0::2]))
        self._beacons(sums[drawn] / counts[drawn, None], max(BEACON_M, extent / 20))

    def _beacons(self, centres: np.ndarray, above: float = BEACON_M) -> None:
        """A point symbol is a few metres wide and often stands inside a building's footprint, hidden by
        it: a beacon from it to ``above`` metres over the roofs around it says where it is."""
        lines, tops = [], []
        for centre in centres:
            top = np.array([centre[0], centre[1], self._roofs_around(centre) + above])
            lines.append(pv.Line(centre, top))
            tops.append(pv.Sphere(radius=above / 6, center=top))
        self._mark("pick", pv.merge(lines), line_width=5, render_lines_as_tubes=True)
        self._mark("pick", pv.merge(tops))

    def _roofs_around(self, point: np.ndarray) -> float:
        """The highest point drawn within :data:`BEACON_M` of ``point`` in plan (within twice that at the
        most; the point's own height at least): the roofs that could hide it."""
        if self._roofs is None:
            self._roofs = _RoofGrid(self.meshes.values())
        return max(float(point[2]), self._roofs.around(point))

    def distance(self, found: Pick | None) -> None:
        if found is None:
            return
        if len(self.points) == 2:
            self.clear("measure")
        point = np.asarray(found.true_position) + self.origin
        self.points.append((point, np.asarray(found.position)))
        self._mark("measure", pv.Sphere(radius=1.0, center=found.position), color="#e6194b")
        if len(self.points) == 1:
            self._measured(measure.Measurement("second_point", 0.0,
                                               [("from", measure.coordinates(point)), *self._crs_row()]))
            return
        (a, drawn_a), (b, drawn_b) = self.points
        self._mark("measure", pv.Line(drawn_a, drawn_b), color="#e6194b", line_width=4)
        found = measure.distance(a, b)
        self._measured(measure.Measurement(found.title, found.value_m, found.rows + self._crs_row()))

    def _measurable(self, found: Pick | None, modes: tuple[str, ...], hint: str) -> Layer | None:
        """The picked feature's layer when it is drawn in one of ``modes``, else None and ``hint`` shown."""
        self.clear("measure")
        layer = self.catalog[found.layer_id] if found else None
        if found is None or layer is None or layer.draw.mode not in modes:
            self.state.measure_title = i18n.text(f"measure.{hint}", self.state.lang)
            return None
        return layer

    def height(self, found: Pick | None) -> None:
        if self._measurable(found, ("extrude", "solid"), "hint_height") is None:
            return
        cells = measure.building_cells(self.meshes[found.layer_id], found.row)  # outlined and measured
        self._mark("measure", cells, style="wireframe", line_width=3)
        self._measured(measure.building_height(cells, self.origin), found)

    def depth(self, found: Pick | None) -> None:
        layer = self._measurable(found, ("tube", "box"), "hint_depth")
        if layer is None:
            return
        at = np.asarray(found.true_position) + self.origin
        with database.raw() as connection:
            result = measure.pipe_depth(connection, layer, found.feature_id, at, self.terrain)
        self._mark("measure", highlight(self.meshes[found.layer_id], found.row), style="wireframe", line_width=3)
        self._measured(result, found)

    def _measured(self, result: measure.Measurement, found: Pick | None = None) -> None:
        feature = None
        if found is not None:  # which feature was measured, by its id in its source
            with database.raw() as connection:
                source_id = attributes(connection, found.layer_id, found.feature_id).get("source_id")
            feature = (found.layer_id, source_id)
        self._last_measured = (result, feature)
        self._word_measured()

    def _word_measured(self) -> None:
        """The last measurement's card in the page's language."""
        if self._last_measured is None:
            return
        (result, feature), language = self._last_measured, self.state.lang
        words = i18n.section("measure", language)
        rows = [(words[name], words.get(value[1:-1], value) if value.startswith("{") else value)
                for name, value in result.rows]
        if feature is not None:
            rows = [(words["feature"], f"{self.catalog[feature[0]].title_in(language)} {feature[1]}"), *rows]
        self.state.measure_title = words[result.title]
        self.state.measure_rows = [{"name": name, "value": value} for name, value in rows]

    def _mark(self, group: str, mesh: pv.DataSet, color: str = "#ffd400", **style) -> None:
        # Drawn where the scene draws it (an outline shares its layer's exaggerated points): never scaled.
        self.marks[group].append(self.plotter.add_mesh(mesh, color=color, pickable=False, **style))

    def _crs_row(self) -> list[tuple[str, str]]:
        return [("coordinates_in", self.crs_label)] if self.crs_label else []


class _RoofGrid:
    """The highest point drawn in each square of :data:`BEACON_M` of the scene, made once: a layer's
    50 beacons looked through every mesh's million points each (issue 16)."""

    def __init__(self, meshes) -> None:
        xyz = np.vstack([layer_mesh.mesh.points for layer_mesh in meshes])
        self.low = xyz[:, :2].min(axis=0)
        cells = np.floor((xyz[:, :2] - self.low) / BEACON_M).astype(np.int64)
        self.top = np.full(cells.max(axis=0) + 1, -np.inf)
        np.maximum.at(self.top, (cells[:, 0], cells[:, 1]), xyz[:, 2])

    def around(self, point: np.ndarray) -> float:
        """The highest point in the square of ``point`` and the eight around it (-inf off the scene)."""
        i, j = np.floor((np.asarray(point[:2]) - self.low) / BEACON_M).astype(np.int64)
        block = self.top[max(i - 1, 0):max(i + 2, 0), max(j - 1, 0):max(j + 2, 0)]
        return float(block.max()) if block.size else -np.inf
