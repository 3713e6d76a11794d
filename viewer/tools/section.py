"""The section plane: a vertical plane that cuts the scene away east or north of it, given to every
actor's mapper (the layers' in both views and the analyses' highlights alike)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyvista as pv
import vtk

from twin.catalog import Catalog
from twin.terrain import Terrain
from viewer.tools.labels import label_actor, write
from viewer.pipe_lines import follow
from viewer.scene.build import ground_height
from viewer.scene.tiles import drawing_of


def plane(section: str, at_percent: float, bounds: tuple[float, ...]) -> vtk.vtkPlane | None:
    """The plane of ``section`` ("x": west-east, "y": south-north, else none) ``at_percent`` of the way
    across ``bounds`` (the scene's, as VTK gives them)."""
    if section not in ("x", "y"):
        return None
    axis = 0 if section == "x" else 1
    low, high = bounds[2 * axis], bounds[2 * axis + 1]
    at = [0.0, 0.0, 0.0]
    at[axis] = low + (high - low) * float(at_percent) / 100.0
    normal = [0.0, 0.0, 0.0]
    normal[axis] = -1.0  # keep what lies before the cut (west or south of it)
    cut = vtk.vtkPlane()
    cut.SetOrigin(at)
    cut.SetNormal(normal)
    return cut


def clip(actors: Iterable[vtk.vtkActor], cut: vtk.vtkPlane | None) -> None:
    """Each actor cut by ``cut`` alone, or by nothing."""
    for actor in actors:
        mapper = actor.GetMapper()
        mapper.RemoveAllClippingPlanes()
        if cut is not None:
            mapper.AddClippingPlane(cut)


class SectionFace:
    """Where the plane cuts, drawn on it (issue 16: "no cut face and no marker of where it cuts"): the soil
    between the ground and :data:`SOIL_DEPTH_M` below it, the sections of the pipes, ducts and tunnels it
    cuts filled in their layers' colours, the outlines it cuts through buildings, the ground's profile
    along it in a marker colour and a label of its position in the twin's CRS.

    The sections are cut out of what each layer's actor draws (its year, VTK's cutter running again when
    that changes, and as the exaggeration draws them deeper: viewer.scene.depth moves the meshes' points)
    and follow their layer's actor (shown, colour); the soil reaches as deep as the exaggeration draws
    :data:`SOIL_DEPTH_M` below the ground."""

    def __init__(self, plotter: pv.Plotter, catalog: Catalog, actors: dict[str, vtk.vtkActor], origin: np.ndarray,
                 terrain: Terrain | None, bounds: tuple[float, ...], crs_label: str = "",
                 exaggeration: Callable[[], float] = lambda: 1.0) -> None:
        self.plotter, self.actors, self.origin, self.terrain, self.bounds = plotter, actors, origin, terrain, bounds
        self.crs_label, self.exaggeration = crs_label, exaggeration
        self.k = 1.0  # the exaggeration the soil was drawn for
        self.cutters: list[vtk.vtkCutter] = []
        self.tiles = drawing_of(plotter.renderer)
        self.joins: dict[str, vtk.vtkAppendPolyData] = {}  # a tiled layer -> its tiles' finest levels, joined
        self.caps: dict[str, vtk.vtkActor] = {}  # layer id -> the sections it cuts out of that layer
        pairs = []
        for layer_id, actor in actors.items():
            mode = catalog[layer_id].draw.mode if layer_id in catalog else None
            if mode not in ("tube", "box", "extrude", "solid"):
                continue
            cutter = vtk.vtkCutter()
            tiled = self.tiles.timeline.finest(layer_id) if self.tiles is not None else None
            if tiled is not None:  # a tiled layer's lead draws nothing: its tiles' finest levels are cut
                self.joins[layer_id] = tiled  # held: the cutter's input connection does not keep it alive
                cutter.SetInputConnection(tiled.GetOutputPort())
            else:
                cutter.SetInputData(actor.GetMapper().GetInput())
            cutter.SetCutFunction(vtk.vtkPlane())
            self.cutters.append(cutter)
            output = cutter
            if mode in ("tube", "box"):  # closed rings round each pipe and tunnel: filled
                output = vtk.vtkContourTriangulator()
                output.SetInputConnection(cutter.GetOutputPort())
            pairs.append((actor, _flat(plotter, output.GetOutputPort(), width=2)))
            self.caps[layer_id] = pairs[-1][1]
        self.soil, self.profile = pv.PolyData(), pv.PolyData()
        self.soil_actor = _flat(plotter, self.soil, colour=SOIL, opacity=SOIL_OPACITY)
        self.profile_actor = _flat(plotter, self.profile, colour=MARKER, width=4)
        self.label = pv.PolyData()
        self.label_actor = label_actor(plotter, self.label, 14, "#ffffff", MARKER, 0.9, bold=True, align="centre")
        self.drawn = [self.soil_actor, self.profile_actor]
        self.cut: vtk.vtkPlane | None = None
        self.text = ""
        plotter.renderer.AddObserver("StartEvent", lambda *args: self._follow(pairs))
        self.show(None)

    def show(self, cut: vtk.vtkPlane | None) -> None:
        """Draw the face of ``cut`` (:func:`plane`), or nothing."""
        self.cut = cut
        for actor in [*self.caps.values(), *self.drawn, self.label_actor]:
            actor.SetVisibility(cut is not None)
        if cut is None:
            self.text = ""
            return
        for cutter in self.cutters:
            cutter.SetCutFunction(cut)
        origin, normal = np.array(cut.GetOrigin()), np.array(cut.GetNormal())
        axis = int(np.argmax(np.abs(normal)))
        other = 1 - axis
        low, high = self.bounds[2 * other], self.bounds[2 * other + 1]
        along = np.linspace(low, high, max(2, int((high - low) / PROFILE_STEP_M) + 1))
        xy = np.zeros((len(along), 2))
        xy[:, axis] = origin[axis] + BEHIND_M * normal[axis]  # just behind the sections: they show over it
        xy[:, other] = along
        ground = ground_height(self.terrain, xy[:, 0] + self.origin[0], xy[:, 1] + self.origin[1]) - self.origin[2]
        self.k = float(self.exaggeration())
        top = np.column_stack([xy, ground + LIFT_M])
        bottom = np.column_stack([xy, ground - self.k * SOIL_DEPTH_M])  # as viewer.scene.depth draws depths
        n = len(along)
        quads = np.column_stack([np.full(n - 1, 4), np.arange(n - 1), np.arange(1, n), n + np.arange(1, n),
                                 n + np.arange(n - 1)]).ravel()
        self.soil.copy_from(pv.PolyData(np.vstack([top, bottom]), faces=quads))
        self.profile.copy_from(pv.PolyData(top + np.array([0.0, 0.0, LIFT_M]), lines=np.r_[n, np.arange(n)]))
        where = self.origin[axis] + origin[axis]
        self.text = f"Section {'E' if axis == 0 else 'N'} {where:,.1f} m" + (f" ({self.crs_label})" if self.crs_label else "")

    def _follow(self, pairs: list[tuple[vtk.vtkActor, vtk.vtkActor]]) -> None:
        """Before each render: the sections as their layers, the rest stretched as they are, the label
        where the profile passes nearest the view's centre."""
        follow(pairs, clip=False)
        if self.cut is not None:
            for layer_id in self.joins:  # the year shown, in tiles out of view too
                self.tiles.timeline.bring_finest(layer_id)
        if self.cut is not None and float(self.exaggeration()) != self.k:
            self.show(self.cut)  # the soil as deep as the depths are drawn now
        if self.cut is None or self.profile.n_points == 0:
            for cap in self.caps.values():  # shown as their layers are, but only while something is cut
                cap.SetVisibility(False)
            return
        renderer = self.plotter.renderer
        points = self.profile.points
        other = 1 - int(np.argmax(np.abs(self.cut.GetNormal()[:2])))  # the profile runs along this axis
        focal = np.array(renderer.GetActiveCamera().GetFocalPoint())
        here = points[int(np.argmin(np.abs(points[:, other] - focal[other])))]
        step = np.zeros(3)
        step[other] = 1.0
        per_m = _display(renderer, here + step)[0] - _display(renderer, here)[0]
        # along the profile, left of the view's centre by a label's width: clear of the depth scale's ruler
        along = focal[other] - LABEL_AWAY_PX / per_m if abs(per_m) > 1e-6 else focal[other]
        at = points[int(np.argmin(np.abs(points[:, other] - along)))]
        write(self.label, at, [self.text])


SOIL, SOIL_OPACITY = "#c9b28f", 0.55  # the cut face: sand, seen through a little
MARKER = "#e4572e"  # the line along the ground where it cuts
SOIL_DEPTH_M = 8.0  # below the ground: past the tunnels' floors (6.1 m in the Eco-city)
LIFT_M = 0.05  # the face's top and the profile over the ground, so that the ground does not hide them
PROFILE_STEP_M = 10.0  # the ground sampled along the cut this often (the DEM's cells are 10 m)
LABEL_AWAY_PX = 220.0
BEHIND_M = 0.05  # the soil lies this far on the kept side of the plane, behind the sections cut on it


def _flat(plotter: pv.Plotter, source: pv.PolyData | vtk.vtkAlgorithmOutput, colour: str | None = None, opacity: float = 1.0, width: int = 1) -> vtk.vtkActor:
    """An unlit, unpickable actor drawing ``source`` (a mesh or a pipeline's output port)."""
    mapper = vtk.vtkPolyDataMapper()
    if isinstance(source, vtk.vtkAlgorithmOutput):
        mapper.SetInputConnection(source)
    else:
        mapper.SetInputData(source)
    mapper.ScalarVisibilityOff()
    actor = vtk.vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.LightingOff()
    prop.SetLineWidth(width)
    prop.SetOpacity(opacity)
    if colour is not None:
        prop.SetColor(pv.Color(colour).float_rgb)
    actor.SetPickable(False)
    plotter.renderer.AddActor(actor)
    return actor


def _display(renderer: vtk.vtkRenderer, point: np.ndarray) -> np.ndarray:
    renderer.SetWorldPoint(*point[:3], 1.0)
    renderer.WorldToDisplay()
    return np.array(renderer.GetDisplayPoint()[:2])
