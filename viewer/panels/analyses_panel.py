"""The analyses panel's behaviour: run an analysis of :mod:`twin.analyses` in this process (no HTTP) on
what the viewer holds (the slider's year and year B, the point last clicked, the pipe last inspected, the
current view), highlight its answer in 3D and list it.

An analysis runs in a worker thread (pipe clearance over a whole city can take seconds) while the panel
says it is computing and the view stays live; its answer is drawn back on the event loop, where VTK is.
Bad input and a database that cannot answer come back as a message in the panel, never a traceback.
A highlight is of the years it was asked for: when the slider (or year B) moves on, it is cleared.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import psycopg
import pyvista as pv
from trame.app import asynchronous

from twin import i18n
from twin.analyses.burst import burst_isolation
from twin.analyses.changes import change_between
from twin.analyses.clearance import pipe_clearance
from twin.analyses.coverage5g import coverage_5g
from twin.analyses.hydrants import hydrant_coverage
from twin.analyses.nearest import nearest_resources
from twin.analyses.results import Finding, Result
from twin.catalog import Catalog
from twin.errors import ParameterError, TwinError
from twin.store import database
from twin.time import changed_ids
from viewer.panels.analysis_results import SHOW, Item, Shown
from viewer.panels.overlay import Overlay, css_ramp
from viewer.render import place_camera
from viewer.tools import viewpoints
from viewer.tools.clicks import Clicks

Question = Callable[[psycopg.Connection], Result]
Told = Callable[[str], str]  # a message in the language given: the panel's message says itself again in a new one
Years = dict[str, int]  # state name ("year", "year_b") -> the year an analysis was asked for


class AnalysesPanel:
    """State and handlers of the analyses panel (its layout is :mod:`viewer.panels.analyses_ui`)."""

    def __init__(self, state, ctrl, catalog: Catalog, plotter: pv.Plotter, overlay: Overlay, clicks: Clicks) -> None:
        self.state, self.ctrl, self.catalog = state, ctrl, catalog
        self.plotter, self.overlay, self.clicks = plotter, overlay, clicks
        self.items: list[Item] = []
        self.asked: Years = {}  # the years of the highlight shown
        self.answered: tuple[str, Result] | None = None  # the analysis shown and its answer, for a new language
        state.analysis, state.analysis_n, state.analysis_in_view = "hydrants", 3, False
        self.telling: Told | None = None  # the message shown, for a new language
        state.analysis_busy, state.analysis_message, state.analysis_ramp_css = False, "", css_ramp()
        self._shown(None)
        ctrl.analysis_run, ctrl.analysis_clear, ctrl.analysis_go = self.run, self.clear, self.go
        ctrl.trigger("analysis_close")(self.clear)
        clicks.listeners.append(self.clicked)
        state.change("underground", "exaggeration")(self.rescale)
        state.change("year", "year_b")(self.year_changed)
        state.change("lang")(self.language_changed)

    def run(self) -> None:
        """Start the chosen analysis, unless one is running."""
        if self.state.analysis_busy:
            return
        key = self.state.analysis
        try:
            question = self._question(key)
        except TwinError as exc:
            self._tell(_told(exc))
            return
        self.state.analysis_busy = True
        self._tell(None)
        asynchronous.create_task(self._answer(key, question, self._years(key)))

    async def _answer(self, key: str, question: Question, asked: Years) -> None:
        try:
            answer = await asyncio.to_thread(_ask, question)
        except (TwinError, psycopg.Error) as exc:
            with self.state:
                self.state.analysis_busy = False
                self._tell(_told(exc))
            return
        with self.state:
            self.state.analysis_busy = False
            moved = self._moved(asked)
            if moved:  # an answer for a year no longer shown would be drawn over the wrong city
                self._tell(self._saying("not_shown", moved=moved))
                return
            self.show(key, answer, asked)

    def show(self, key: str, answer: Result, asked: Years) -> None:
        """The answer (for the years ``asked``) highlighted (the last one's highlight gone) and listed."""
        shown = self._draw(key, answer)
        self.asked = asked
        if shown.underground and not self.state.underground:
            self.state.underground = True  # pipes are drawn only with the ground open
        self.ctrl.view_update()

    def _draw(self, key: str, answer: Result) -> Shown:
        self.overlay.clear()
        shown = SHOW[key](answer, self.overlay, self.catalog, self.state.lang)
        self._shown(shown)
        self.answered = key, answer
        return shown

    def clear(self, message: Told | None = None) -> None:
        self.overlay.clear()
        self._shown(None)
        self.asked, self.answered = {}, None
        self._tell(message)
        self.ctrl.view_update()

    def year_changed(self, **kwargs) -> None:
        """A highlight computed for another year is cleared, not run again: pipe clearance can take seconds,
        and a replay moves the year eight times a second, where re-running would queue analyses and
        rebuild the overlay on every frame. Clearing costs one look at two numbers while nothing is shown
        (so the replay is no slower) and dropping the overlay's actors once."""
        moved = self._moved(self.asked)
        if moved:
            self.clear(self._saying("cleared", title=self.state.analysis_title, moved=moved))

    def language_changed(self, **kwargs) -> None:
        """The answer and the message shown, worded in the page's new language (the answer drawn again: its
        words come with its highlight)."""
        self._tell(self.telling)
        if self.answered is not None:
            self._draw(*self.answered)
            self.ctrl.view_update()

    def go(self, key: int) -> None:
        """Fly to a list entry."""
        if not 0 <= key < len(self.items):
            return
        item = self.items[key]
        place = self.overlay.drawn_place(item.place)  # a valve under the ground: as deep as it is drawn now
        focal, position = viewpoints.framing(tuple(np.r_[place - item.span / 2, place + item.span / 2]),
                                             self.overlay.origin, tilt_from=(-0.25, -0.45, 1.0))
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
            box = self._view_box() if self.state.analysis_in_view else None
            return lambda connection: pipe_clearance(connection, year, box=box)
        if key == "nearest":
            point, n = self.clicks.last_point, int(self.state.analysis_n)
            if point is None:
                raise _lacking(self._saying("point_none"))
            return lambda connection: nearest_resources(connection, x=float(point[0]), y=float(point[1]), n=n,
                                                        year=year)
        if key == "changes":
            if year is None:
                raise _lacking(self._saying("no_years"))
            earlier, later = sorted((year, int(self.state.year_b)))
            if earlier == later:
                raise _lacking(self._saying("same_year", year=year))
            return lambda connection: with_changed_ids(change_between(connection, self.catalog, earlier, later),
                                                changed_ids(connection, self.catalog, earlier, later))
        if key == "burst":
            selected = self.clicks.selected
            if selected is None or selected[0] != "water_supply":
                raise _lacking(self._saying("pipe_none") if selected is None else self._saying(
                    "pipe_other", layer=self.catalog[selected[0]].title_in))
            return lambda connection: burst_isolation(connection, selected[1], year)
        raise ParameterError(f"analysis: '{key}' is not one the panel runs")

    def _years(self, key: str) -> Years:
        """The years the analysis ``key`` is asked for now (none where the twin has no years)."""
        if not self.state.year_first:
            return {}
        names = ("year", "year_b") if key == "changes" else ("year",)
        return {name: int(self.state[name]) for name in names}

    def _moved(self, asked: Years) -> Told | None:
        """How the years shown have moved on from those ``asked`` (None if they have not)."""
        for name, year in asked.items():
            now = int(self.state[name])
            if now != year:
                return self._saying("year_moved" if name == "year" else "year_b_moved", year=now)
        return None

    def _tell(self, told: Told | None) -> None:
        self.telling = told
        self.state.analysis_message = told(self.state.lang) if told is not None else ""

    @staticmethod
    def _saying(key: str, **params: object) -> Told:
        """The panel's message ``key`` in whatever language is asked, its told params told in it too."""
        return lambda language: i18n.text(f"analysis.{key}", language, **{
            name: value(language) if callable(value) else value for name, value in params.items()})

    def _view_box(self) -> tuple[float, float, float, float]:
        """The ground the view looks at, roughly: a box (the twin's CRS) around its focal point as wide as
        the view there."""
        camera = self.plotter.camera
        width, height = self.plotter.window_size
        half = camera.distance * np.tan(np.radians(camera.view_angle / 2)) * max(width / height, 1.0)
        x, y = np.array(camera.focal_point)[:2] + self.overlay.origin[:2]
        return (x - half, y - half, x + half, y + half)

    def _shown(self, shown: Shown | None) -> None:
        self.items = shown.items if shown is not None else []
        self.state.analysis_title = shown.title if shown is not None else ""
        self.state.analysis_rows = [{"name": name, "value": value} for name, value in (shown.rows if shown else [])]
        self.state.analysis_items = [{"key": index, "label": item.label, "detail": item.detail}
                                     for index, item in enumerate(self.items)]
        self.state.analysis_more = shown.more if shown is not None else 0
        self.state.analysis_ramp = bool(shown and shown.ramp)
        self.state.analysis_legend = [{"id": f"analysis-{index}", "title": title, "color": colour}
                                      for index, (title, colour) in enumerate(shown.legend if shown else [])]


def with_changed_ids(result: Result, ids: dict[str, tuple[list[str], list[str], list[str]]]) -> Result:
    """The change between two years with each layer's changed features (what the overlay draws)."""
    return replace(result, findings=[Finding(None, {**f.properties, "ids": ids[f.properties["layer"]]})
                                     for f in result.findings])


def _ask(question: Question) -> Result:
    with database.raw() as connection:
        return question(connection)


def _lacking(told: Told) -> ParameterError:
    """What the panel lacks to ask an analysis (a point, a pipe, a year B), in any language."""
    return ParameterError(told(i18n.DEFAULT), told)


def _told(exc: Exception) -> Told:
    """What went wrong: a parameter's error in the page's language, twin's other errors as they say it (in
    English), the database's reason in its words."""
    if isinstance(exc, ParameterError):
        return exc.told
    if isinstance(exc, TwinError):
        return lambda language: str(exc)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return AnalysesPanel._saying("no_database", reason=reason)
