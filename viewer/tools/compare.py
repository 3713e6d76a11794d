"""Two years at once: a second render window shows every layer as it stood in year B through the same
camera as the main view (year A), either beside it or under a swipe line over it; a change panel lists
what appeared, disappeared and was altered (standing in both years, in another version in the later)
from the earlier of the two years to the later, computed in PostGIS (twin.time.changes). The page
(viewer.panels.compare_ui) puts the earlier year on the left, whichever of A and B it is."""

from __future__ import annotations

import math

import pyvista as pv
import vtk

from twin import i18n
from twin.catalog import Catalog
from twin.store import database
from twin.time import Change, changes
from viewer.render import add_layers, make_plotter, show_land_cover
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.timeline import Timeline


class SecondView:
    """The year-B view of compare (side by side) and swipe modes."""

    def __init__(self, state, ctrl, catalog: Catalog, meshes: dict[str, LayerMesh], ground: pv.DataSet | None,
                 main: pv.Plotter, first_year: int, main_timeline: Timeline) -> None:
        self.state, self.ctrl, self.catalog = state, ctrl, catalog
        self.plotter, self.interactor = make_plotter()
        self.ground = ground
        self.timeline = Timeline(meshes, like=main_timeline)  # its copies made only as it draws them
        self.actors: dict[str, vtk.vtkActor] = add_layers(self.plotter, meshes, ground, self.timeline)
        for actor in self.actors.values():
            actor.SetPickable(False)  # features are picked and measured in the main view
        # One camera object for both windows: whatever moves one view moves the other.
        self.camera = main.renderer.GetActiveCamera()
        self.plotter.renderer.SetActiveCamera(self.camera)
        self.angle = self.camera.GetViewAngle()  # the whole view's, given back when the panes go
        # Year B the first year: with the slider on the last, the two years span the whole record.
        state.compare, state.year_b, state.swipe_at, state.changes = "off", first_year, 50, []
        state.changes_title, state.changes_open = "", True
        # The last comparison (earlier year, later year, its changes), worded again in a new language.
        self._compared: tuple[int, int, list[Change]] | None = None
        self.timeline.show(first_year)
        show_land_cover(self.actors, ground, first_year)
        state.change("year_b")(self.year_changed)
        state.change("year", "compare")(self.compared)
        state.change("lang")(self._word)

    def year_changed(self, year_b: int, **kwargs) -> None:
        self.timeline.show(float(year_b))
        show_land_cover(self.actors, self.ground, int(year_b))
        self.compared()
        self.ctrl.view_b_update()

    def compared(self, **kwargs) -> None:
        """The change panel, while comparing: from the earlier of the two years to the later, whichever of
        A and B that is, so that what was built in between appears (from 2020 back to 2008 every line
        read "disappeared")."""
        if self.state.compare == "off":
            self._compared = None
            self.state.changes, self.state.changes_title = [], ""
            return
        earlier, later = sorted((int(self.state.year), int(self.state.year_b)))
        with database.raw() as connection:
            self._compared = earlier, later, changes(connection, self.catalog, earlier, later)
        self._word()
        self.ctrl.view_b_update()

    def _word(self, **kwargs) -> None:
        """The change panel in the page's language (a new language words it again, asking nothing anew)."""
        if self._compared is None:
            return
        (earlier, later, found), language = self._compared, self.state.lang
        self.state.changes = [_row(self.catalog, change, language) for change in found]
        self.state.changes_title = i18n.text("viewer.changes_title", language, earlier=earlier, later=later)

    def fit(self, compare: str) -> None:
        """Side by side, each pane is half as wide as the view at its full height: at the same view angle
        it would show half the city's width and cut the rest off. Widen the angle so that each pane shows
        what the whole view showed from side to side; the camera stays where the user put it."""
        self.camera.SetViewAngle(pane_angle(self.angle, PANE_SHARE) if compare == "side" else self.angle)


PANE_SHARE = 0.5  # of the view's width, each pane's side by side


def pane_angle(angle: float, share: float) -> float:
    """The (vertical) view angle with which a pane ``share`` as wide as a view, as high, shows the width
    that view showed at ``angle``."""
    return math.degrees(2 * math.atan(math.tan(math.radians(angle) / 2) / share))


def _row(catalog: Catalog, change: Change, language: str) -> dict[str, str]:
    def extent(km: float | None, area: float | None) -> str:
        if not km and not area:
            return ""
        if km is not None:
            return i18n.text("viewer.changes_km", language, km=f"{km:,.1f}")
        if area is not None:
            return i18n.text("viewer.changes_floor", language, area=f"{area:,.0f}")
        return ""

    def signed(sign: str, count: int, km: float | None, area: float | None) -> str:
        return f"{sign}{count:,}{extent(km, area)}" if count else "0"  # none is 0, not "-0"

    return {"key": change.layer, "title": catalog[change.layer].title_in(language),
            "appeared": signed("+", change.appeared, change.appeared_km, change.appeared_floor_area_m2),
            "disappeared": signed("-", change.disappeared, change.disappeared_km, change.disappeared_floor_area_m2),
            "altered": f"{change.altered:,}"}
