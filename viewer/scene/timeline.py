"""The city in any year without rebuilding a mesh from PostGIS: each layer's actor draws a shown copy of
its merged mesh that shares the points and keeps only the cells of features standing in that year (the
rule of :mod:`twin.time`), picked out of the full cell arrays with numpy; during a replay, buildings
completed in the coming year rise out of the ground.

Why not VTK's ghost array: vtkPolyDataMapper draws HIDDENCELL-marked cells all the same (VTK 9.7,
tested); vtkThreshold and vtkExtractCells cost 84 and 186 ms per million cells (../shared/STACK.md).
"""

from __future__ import annotations

import math

import numpy as np
import pyvista as pv
import vtk
from vtk.util.numpy_support import vtk_to_numpy

from viewer.scene.layer_mesh import LayerMesh

# vtkPolyData keeps its cells in this order; cell data follows it.
_KINDS = ("verts", "lines", "faces", "strips")


class Timeline:
    """Shows the meshes of a scene as they were at a moment ``t`` (a year, or between years in a replay)."""

    def __init__(self, meshes: dict[str, LayerMesh]) -> None:
        # The first extruded layer (the buildings) rises during a replay; its copy moves its own points, so
        # two timelines (compare mode) show two years at once.
        rising = next((layer_id for layer_id, made in meshes.items() if made.layer.draw.mode == "extrude"), None)
        self.shown = {layer_id: _Shown(layer_mesh.mesh, own_points=layer_id == rising)
                      for layer_id, layer_mesh in meshes.items()
                      if isinstance(layer_mesh.mesh, pv.PolyData) and layer_mesh.tiles is None}
        # A tiled layer's copies, per tile and level (viewer.scene.tiles): each brought to the year shown
        # only as it is about to be drawn (:meth:`refresh`), so a year costs what is seen of the city.
        # Of the rising layer, the finest levels rise (the coarser are drawn only from afar).
        self.tiled = {layer_id: [[_Shown(level, own_points=layer_id == rising and index == 0)
                                  for index, level in enumerate(tile.levels)] for tile in layer_mesh.tiles]
                      for layer_id, layer_mesh in meshes.items() if layer_mesh.tiles is not None}
        for layer_id, copies in self.tiled.items():  # thinned, the same dots as the whole layer's would be
            whole = meshes[layer_id].mesh.GetVerts().GetNumberOfCells()
            if not whole:  # no dots of its own (the buildings' far level is no point layer's)
                continue
            rank = np.random.default_rng(0).permutation(whole)
            for copy in (copy for tile in copies for copy in tile):
                copy.rank = rank[np.asarray(copy.full.cell_data["row"][:copy.verts])] if copy.verts else copy.rank
                copy.population = whole
        self.year: float | None = None
        self._rises = [_Rise(meshes[rising].mesh, self.shown[rising].mesh)] if rising in self.shown else []
        # A tiled layer's tiles rise as they are drawn (:meth:`refresh`).
        self._tile_rises = {id(copies[0]): _Rise(tile.levels[0], copies[0].mesh)
                            for tile, copies in zip(meshes[rising].tiles, self.tiled[rising])} if rising in self.tiled else {}
        self._risen: dict[int, float | None] = {}  # a tile copy's id -> the moment it has risen to

    def mesh(self, layer_id: str) -> pv.PolyData | None:
        """What the layer's actor draws; of a tiled layer, what its tiles' finest levels draw, together."""
        shown = self.shown.get(layer_id)
        if shown is not None:
            return shown.mesh
        together = self.finest(layer_id)
        if together is None:
            return None
        self.bring_finest(layer_id)
        together.Update()
        return pv.wrap(together.GetOutput())

    def finest(self, layer_id: str) -> vtk.vtkAppendPolyData | None:
        """A tiled layer's finest levels, every tile's copy joined in one mesh (what a section cuts), as
        :meth:`bring_finest` last brought them; None for a layer drawn whole."""
        if layer_id not in self.tiled:
            return None
        together = vtk.vtkAppendPolyData()
        for copies in self.tiled[layer_id]:
            together.AddInputData(copies[0].mesh)
        return together

    def bring_finest(self, layer_id: str) -> None:
        """A tiled layer's finest copies brought to the year shown, drawn or not."""
        for copies in self.tiled.get(layer_id, []):
            self.refresh(copies[0])

    def dots(self, layer_id: str, share: float) -> None:
        """A point layer's dots (its vertex cells, drawn a few pixels wide at any distance) thinned to
        ``share`` of them (1: all), in whatever year is shown; always the same ones at the same share."""
        shown = self.shown.get(layer_id)
        if shown is not None and shown.dots != share:
            shown.dots = share
            shown.keep(shown.cells)
        for copy in self._copies(layer_id):
            copy.wanted = (copy.wanted[0], share)

    def show(self, t: float) -> None:
        """Keep what stood at ``t``: a whole year shows the features standing at its end; between years,
        buildings completed in the coming year stand part-built."""
        year = math.ceil(t)
        for shown in self.shown.values():
            shown.keep(standing(shown.full, year))
        for layer_id in self.tiled:
            for copy in self._copies(layer_id):
                copy.wanted = (year, copy.wanted[1])
        for rise in self._rises:
            rise.at(t)
        self.year = t

    def refresh(self, copy: _Shown) -> None:
        """A tiled layer's copy brought to the year (and moment of a replay) and the share of dots last
        asked for."""
        if copy.wanted != copy.kept:
            year, copy.dots = copy.wanted
            copy.keep(standing(copy.full, year) if year is not None else np.ones(copy.full.n_cells, bool))
            copy.kept = copy.wanted
        rise = self._tile_rises.get(id(copy))
        if rise is not None and self.year is not None and self._risen.get(id(copy)) != self.year:
            rise.at(self.year)
            self._risen[id(copy)] = self.year

    def _copies(self, layer_id: str) -> list[_Shown]:
        return [copy for copies in self.tiled.get(layer_id, []) for copy in copies]


def standing(mesh: pv.DataSet, year: int) -> np.ndarray:
    """Cells of features that stood at the end of ``year`` (valid_from/valid_to as years; 0: open)."""
    return standing_years(mesh.cell_data["valid_from"], mesh.cell_data["valid_to"], year)


def standing_years(born: np.ndarray, gone: np.ndarray, year: int) -> np.ndarray:
    """Which of features with these first and last years (0: open) stood at the end of ``year``."""
    return ((born == 0) | (born <= year)) & ((gone == 0) | (gone > year))


def subset(full: pv.PolyData, cells: np.ndarray, own_points: bool = False) -> pv.PolyData:
    """The cells ``cells`` (a mask) of a mesh, on its points, or, with ``own_points``, on only the points
    they use (so that its bounds are theirs). vtkExtractCells would do it, but turns a mesh's vertex cells
    into empty cells of garbage, which crashed the viewer when a point feature was picked."""
    shown = _Shown(full)
    shown.keep(cells)
    return shown.mesh.clean(point_merging=False) if own_points else shown.mesh


class _Shown:
    """A mesh drawing a subset of another's cells, sharing its points (or with a copy of its own)."""

    def __init__(self, full: pv.PolyData, own_points: bool = False) -> None:
        self.full = full
        self.mesh = pv.PolyData()
        if own_points:
            points = vtk.vtkPoints()
            points.DeepCopy(full.GetPoints())
            self.mesh.SetPoints(points)
        else:
            self.mesh.SetPoints(full.GetPoints())
        # the points' own data too (their true heights for the depth exaggeration, viewer.scene.depth)
        self.mesh.GetPointData().ShallowCopy(full.GetPointData())
        self.parts: list[tuple[str, np.ndarray, np.ndarray, int]] = []
        for kind, cells in zip(_KINDS, (full.GetVerts(), full.GetLines(), full.GetPolys(), full.GetStrips())):
            count = cells.GetNumberOfCells()
            if not count:
                continue
            sizes = np.diff(vtk_to_numpy(cells.GetOffsetsArray()))
            flat = np.asarray(getattr(full, kind))  # the legacy layout: each cell's point count, then its ids
            self.parts.append((kind, flat, np.repeat(np.arange(count), sizes + 1), count))
        self.verts = full.GetVerts().GetNumberOfCells()  # vtkPolyData's first cells
        self.dots = 1.0
        # Thinned, the dots kept are those first in a shuffled order: spread evenly, without a pattern.
        self.rank = np.random.default_rng(0).permutation(self.verts)
        self.population = self.verts  # of the dots ranked (a tile's are some of its layer's)
        self.cells = np.ones(full.n_cells, bool)
        self.keep(self.cells)
        # (year, share of dots): what a lazily kept copy holds, and what was last asked of it
        self.kept = self.wanted = (None, 1.0)

    def keep(self, cells: np.ndarray) -> None:
        self.cells = cells
        if self.dots < 1.0:
            cells = cells.copy()
            cells[:self.verts] &= self.rank < self.dots * self.population
        start = 0
        for kind, flat, cell_of_entry, count in self.parts:
            mine = cells[start:start + count]
            setattr(self.mesh, kind, flat[mine[cell_of_entry]])
            start += count
        for name in self.full.cell_data.keys():
            values = self.full.cell_data[name][cells]
            if len(values) or values.ndim == 1:
                self.mesh.cell_data[name] = values
            elif name in self.mesh.cell_data:  # pyvista refuses an empty array of vectors (a colouring's
                self.mesh.cell_data.remove(name)  # RGB) where no cell stands: the replay's empty start
        self.mesh.Modified()


class _Rise:
    """Buildings grow from their ground to their roof through the year before the one they are
    completed in: each vertex keeps its height above the building's lowest point, scaled."""

    def __init__(self, full: pv.PolyData, shown: pv.PolyData) -> None:
        """``full``: the layer's mesh, left as it is; ``shown``: the copy, with points of its own, that rises."""
        mesh = full
        self.mesh = shown
        # Each vertex belongs to one building: its cells' rows agree, so their mean is that row.
        rows = np.rint(mesh.cell_data_to_point_data().point_data["row"]).astype(np.int64)
        self.full = np.array(mesh.points[:, 2])
        lowest = np.full(rows.max() + 1, np.inf)
        np.minimum.at(lowest, rows, self.full)
        self.ground = lowest[rows]
        born = np.zeros(rows.max() + 1, np.int32)
        born[mesh.cell_data["row"]] = mesh.cell_data["valid_from"]
        self.born = born[rows]
        self.risen = True

    def at(self, t: float) -> None:
        share = np.clip(t - (self.born - 1), 0.0, 1.0)
        share[self.born == 0] = 1.0
        if self.risen and share.min() >= 1.0:
            return  # already at full height: leave the points alone
        points = self.mesh.points  # a view of the copy's own points
        points[:, 2] = self.ground + (self.full - self.ground) * share
        self.mesh.GetPoints().Modified()
        self.mesh.Modified()
        self.risen = bool(share.min() >= 1.0)
