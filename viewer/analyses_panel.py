"""The analyses panel's behaviour: run an analysis of :mod:`twin.analyses` in this process (no HTTP) on
what the viewer holds (the slider's year, the point last clicked, the pipe last inspected, the current
view), highlight its answer in 3D and list it.

An analysis runs in a worker thread (pipe clearance over the whole city takes seconds) while the panel
says it is computing and the view stays live; its answer is drawn back on the event loop, where VTK is.
Bad input and a database that cannot answer come back as a message in the panel, never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import psycopg
import pyvista as pv
from trame.app import asynchronous

from twin.analyses.burst import burst_isolation
from twin.analyses.clearance import pipe_clearance
from twin.analyses.coverage5g import coverage_5g
from twin.analyses.hydrants import hydrant_coverage
from twin.analyses.nearest import nearest_resources
from twin.catalog import Catalog
from twin.errors import ParameterError, TwinError
from twin.store.meta import pg_connect
from viewer import viewpoints
from viewer.analysis_results import SHOW, Item, Shown
from viewer.clicks import Clicks
from viewer.overlay import Overlay, css_ramp
from viewer.render import place_camera

Question = Callable[[psycopg.Connection], dict]
FRAME_M = 40.0  # a list entry is flown to framed this wide


class AnalysesPanel:
    """State and handlers of the analyses panel (its layout is :mod:`viewer.analyses_ui`)."""

    def __init__(self, state, ctrl, catalog: Catalog, plotter: pv.Plotter, overlay: Overlay, clicks: Clicks) -> None:
        self.state, self.ctrl, self.catalog = state, ctrl, catalog
        self.plotter, self.overlay, self.clicks = plotter, overlay, clicks
        self.items: list[Item] = []
        state.analysis, state.analysis_n, state.analysis_in_view = "hydrants", 3, False
        state.analysis_busy, state.analysis_message, state.analysis_ramp_css = False, "", css_ramp()
        self._shown(None)
        ctrl.analysis_run, ctrl.analysis_clear, ctrl.analysis_go = self.run, self.clear, self.go
        clicks.listeners.append(self.clicked)
        state.change("underground", "exaggeration")(self.rescale)

    def run(self) -> None:
        """Start the chosen analysis, unless one is running."""
        if self.state.analysis_busy:
            return
        key = self.state.analysis
        try:
            question = self._question(key)
        except TwinError as exc:
            self.state.analysis_message = str(exc)
            return
        self.state.analysis_busy, self.state.analysis_message = True, ""
        asynchronous.create_task(self._answer(key, question))

    async def _answer(self, key: str, question: Question) -> None:
        try:
            answer = await asyncio.to_thread(_ask, question)
        except (TwinError, psycopg.Error) as exc:
            with self.state:
                self.state.analysis_busy, self.state.analysis_message = False, _message(exc)
            return
        with self.state:
            self.show(key, answer)
            self.state.analysis_busy = False

    def show(self, key: str, answer: dict) -> None:
        """The answer highlighted (the last one's highlight gone) and listed."""
        self.overlay.clear()
        shown = SHOW[key](answer, self.overlay, self.catalog)
        self._shown(shown)
        if shown.underground and not self.state.underground:
            self.state.underground = True  # pipes are drawn only with the ground open
        self.ctrl.view_update()

    def clear(self) -> None:
        self.overlay.clear()
        self._shown(None)
        self.state.analysis_message = ""
        self.ctrl.view_update()

    def go(self, key: int) -> None:
        """Fly to a list entry."""
        if not 0 <= key < len(self.items):
            return
        place = self.items[key].place
        focal, position = viewpoints.framing(tuple(np.r_[place - FRAME_M / 2, place + FRAME_M / 2]),
                                             self.overlay.wgs84.origin, tilt_from=(-0.25, -0.45, 1.0))
        place_camera(self.plotter, focal, position)
        self.ctrl.view_update()

    def clicked(self, mode: str) -> None:
        """A click in Point mode asks for the nearest emergency resources there."""
        if mode == "point":
            self.state.analysis = "nearest"
            self.run()

    def rescale(self, underground: bool, exaggeration: float, **kwargs) -> None:
        self.overlay.rescale(float(exaggeration) if underground else 1.0)

    def _question(self, key: str) -> Question:
        """The analysis ``key`` asked of what the viewer holds now; a ParameterError says what is missing."""
        year = int(self.state.year) if self.state.year_first else None
        if key == "hydrants":
            return lambda connection: hydrant_coverage(connection, year)
        if key == "coverage":
            return lambda connection: coverage_5g(connection, None if year is None else str(year))
        if key == "clearance":
            bbox = self._view_bbox() if self.state.analysis_in_view else None
            return lambda connection: pipe_clearance(connection, year, bbox)
        if key == "nearest":
            point, n = self.clicks.last_point, int(self.state.analysis_n)
            if point is None:
                raise ParameterError("point: none yet; choose Point in the toolbar and click the view")
            return lambda connection: nearest_resources(connection, x=float(point[0]), y=float(point[1]), n=n,
                                                        year=year)
        if key == "burst":
            selected = self.clicks.selected
            if selected is None or selected[0] != "water_supply":
                picked = "nothing is" if selected is None else f"a feature of {self.catalog[selected[0]].title} is"
                raise ParameterError(f"pipe: {picked} picked; turn underground mode on and click a water "
                                     "supply pipe, then run")
            return lambda connection: burst_isolation(connection, selected[1], year)
        raise ParameterError(f"analysis: '{key}' is not one the panel runs")

    def _view_bbox(self) -> str:
        """The ground the view looks at, roughly: a box around its focal point as wide as the view there."""
        camera = self.plotter.camera
        width, height = self.plotter.window_size
        half = camera.distance * np.tan(np.radians(camera.view_angle / 2)) * max(width / height, 1.0)
        centre = np.array(camera.focal_point) + self.overlay.wgs84.origin
        return self.overlay.wgs84.bbox(centre - half, centre + half)

    def _shown(self, shown: Shown | None) -> None:
        self.items = shown.items if shown is not None else []
        self.state.analysis_title = shown.title if shown is not None else ""
        self.state.analysis_rows = [{"name": name, "value": value} for name, value in (shown.rows if shown else [])]
        self.state.analysis_items = [{"key": index, "label": item.label, "detail": item.detail}
                                     for index, item in enumerate(self.items)]
        self.state.analysis_more = shown.more if shown is not None else 0
        self.state.analysis_ramp = bool(shown and shown.ramp)


def _ask(question: Question) -> dict:
    with pg_connect() as connection:
        return question(connection)


def _message(exc: Exception) -> str:
    if isinstance(exc, TwinError):
        return str(exc)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the twin's database cannot answer: {reason}"
