"""The year slider and the replay in the viewer: the scene shown as it stood in the chosen year, a
caption with that year's figures (from PostGIS, see :mod:`twin.time`), and a replay that plays the
city's growth year by year with its buildings rising."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from trame.app import asynchronous

from twin import i18n
from twin.catalog import Catalog
from twin.time import YearFigures
from viewer.scene.timeline import Timeline

FRAMES_PER_SECOND = 8  # the replay's frames at most; fewer where a frame takes longer to draw


@dataclass
class ReplayClock:
    """Where the replay is in time, by the wall clock: ``speed`` years a second whatever a frame costs.
    A frame that took long is not made up for by showing the moments it missed: the next frame shows
    the moment it is now (frames are dropped, the replay does not fall behind)."""

    first: float  # the moment the replay starts from: the year before the first, nothing built yet
    last: float
    loop: bool
    t: float
    at: float  # the wall-clock time t was shown at

    def next(self, speed: float, now: float) -> float | None:
        """The moment to show now, or None when the replay has ended (it does not loop)."""
        self.t += speed * (now - self.at)
        self.at = now
        if self.t > self.last:
            if not self.loop:
                return None
            self.t = self.first
        return self.t


def held(figures: dict[int, dict[str, YearFigures]]) -> set[str]:
    """The layers with features in some year, and ``<layer>_floor_area`` for those whose features have a
    floor area: the caption leaves the others out."""
    layers = {layer_id for by_layer in figures.values() for layer_id, figure in by_layer.items() if figure.count}
    return layers | {f"{layer_id}_floor_area" for by_layer in figures.values()
                     for layer_id, figure in by_layer.items() if figure.floor_area_m2}


def caption(catalog: Catalog, figures: dict[str, YearFigures], layers: set[str],
            language: str = i18n.DEFAULT) -> list[dict[str, str]]:
    """The year's figures as the caption shows them, for ``layers`` (see :func:`held`): what stands (count
    and floor area of each extruded layer), km of each underground line layer, and the count of each
    layer whose catalog file asks; in ``language``."""
    items: list[dict[str, str]] = []
    for layer in catalog.vector_layers:
        figure = figures.get(layer.id)
        if figure is None or layer.id not in layers:
            continue
        if layer.draw.mode == "extrude":
            items.append({"key": layer.id, "label": layer.title_in(language), "value": f"{figure.count:,}"})
            if figure.floor_area_m2 is not None and f"{layer.id}_floor_area" in layers:
                items.append({"key": f"{layer.id}_floor_area", "label": i18n.text("viewer.floor_area", language),
                              "value": f"{figure.floor_area_m2 / 1e6:,.2f} km²"})
        elif layer.group == "underground" and layer.geometry == "line":
            km = figure.length_km or 0.0
            # "Water supply 306.1 km": the English title less its " pipes" (a Chinese one has no such word)
            items.append({"key": layer.id, "label": layer.title_in(language).replace(" pipes", ""),
                          "value": f"{km:,.1f} km"})
        elif layer.caption:
            items.append({"key": layer.id, "label": layer.title_in(language), "value": f"{figure.count:,}"})
    return items


def year_controls(state, ctrl, catalog: Catalog, timeline: Timeline, figures: dict[int, dict[str, YearFigures]],
                  first: int, last: int, on_year: Callable[[int], None] | None = None) -> None:
    """State and handlers of the year slider, its caption and the replay."""
    state.year_first, state.year_last, state.year = first, last, last
    state.playing, state.speed, state.loop = False, 1.0, True
    layers = held(figures)
    state.caption, state.caption_year = caption(catalog, figures[last], layers, state.lang), last

    def show(t: float) -> None:
        year = math.ceil(t)
        timeline.show(t)
        shown = min(max(year, first), last)
        state.caption, state.caption_year = caption(catalog, figures[shown], layers, state.lang), shown
        if on_year is not None:
            on_year(year)
        ctrl.view_update()

    @state.change("lang")
    def language_changed(lang: str, **kwargs) -> None:
        state.caption = caption(catalog, figures[state.caption_year], layers, lang)

    @state.change("year")
    def year_changed(year: int, **kwargs) -> None:
        if not state.playing:  # the replay has already shown its own moment
            show(float(year))

    async def replay() -> None:
        start = float(state.year) if state.year < last else first - 1.0
        clock = ReplayClock(first - 1.0, float(last), bool(state.loop), start, time.monotonic())
        while state.playing:
            began = time.monotonic()
            clock.loop = bool(state.loop)
            t = clock.next(float(state.speed), began)
            if t is None:
                t = float(last)
                state.playing = False
            with state:
                show(t)
                state.year = max(math.ceil(t), first)
            await asyncio.sleep(max(1.0 / FRAMES_PER_SECOND - (time.monotonic() - began), 0.0))
        with state:
            show(float(state.year))

    @state.change("playing")
    def playing_changed(playing: bool, **kwargs) -> None:
        if playing:
            asynchronous.create_task(replay())

    timeline.show(float(last))  # the view does not exist yet: it shows this when it first renders
