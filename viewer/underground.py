"""How underground mode draws what is above the pipes, so that the pipes read (issue 16): the ground a
faint map, roads and areas fainter, buildings barely there, over a light neutral backdrop; tunnels open.

Measured before on the demo city: every surface layer at opacity 0.12 over the blue-grey sky, five of
them stacked (ground, land cover, roads, areas, buildings), greyed and yellowed every pipe under them
into a beige haze; ghost towers stood in front of the pipes of every street.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyvista as pv
import vtk

from twin.catalog import Catalog

# The share of a surface layer's own opacity it keeps underground, by what it is.
GROUND_OPACITY = 0.22  # the terrain, its land cover draped: where the blocks and roads are
DRAPED_SHARE = 0.15  # roads, parks, water, grids lying on it
STANDING_SHARE = 0.04  # buildings: barely more than their outline
# Light and neutral, so that every CJJ 61 colour reads on it, sky-blue water and black pneumatic waste alike
# (the sky's blue-grey took the water pipes' contrast away). Bottom, top.
BACKDROP = ("#f2f2ee", "#d8dcdf")


def see_through(catalog: Catalog, layer_id: str, opacity: float) -> float:
    """The opacity underground of a layer drawn over the ground, ``opacity`` being its own."""
    if layer_id == "terrain" or layer_id not in catalog:
        return GROUND_OPACITY
    share = STANDING_SHARE if catalog[layer_id].draw.mode in ("extrude", "solid") else DRAPED_SHARE
    return share * opacity


class Backdrop:
    """The views' backgrounds: their own above ground, :data:`BACKDROP` underground."""

    def __init__(self, plotters: Iterable[pv.Plotter]) -> None:
        self.renderers = [plotter.renderer for plotter in plotters]
        self.above = [(r.GetBackground(), r.GetBackground2()) for r in self.renderers]

    def show(self, below: bool) -> None:
        for renderer, (bottom, top) in zip(self.renderers, self.above):
            if below:
                bottom, top = (pv.Color(colour).float_rgb for colour in BACKDROP)
            renderer.SetBackground(bottom)
            renderer.SetBackground2(top)


def open_tunnels(catalog: Catalog, actor_sets: Iterable[dict[str, vtk.vtkActor]]) -> None:
    """Tunnels (boxes) drawn without the walls that face the camera: the floor and the far walls stay, and
    what runs inside shows in front of them from any side (the boxes' faces all face outwards,
    viewer.scene.build.boxes). No translucency to sort, and a section plane shows the inside it cuts."""
    for actors in actor_sets:
        for layer_id, actor in actors.items():
            if layer_id in catalog and catalog[layer_id].draw.mode == "box":
                actor.GetProperty().FrontfaceCullingOn()
