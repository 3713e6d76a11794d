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

    def __init__(self, meshes: dict[str, LayerMesh], like: Timeline | None = None) -> None:
        """``like``: a timeline of the same meshes whose index of their cells this one shares (one view's
        beside another's, a session's beside the zygote's)."""
        self.indexes: dict[int, _Index] = like.indexes if like is not None else {}
        # The first extruded layer (the buildings) rises during a replay; its copy moves its own points, so
        # two timelines (compare mode) show two years at once.
        rising = next((layer_id for layer_id, made in meshes.items() if made.layer.draw.mode == "extrude"), None)
        self.shown = {layer_id: _Shown(self._index(layer_mesh.mesh), own_points=layer_id == rising)
                      for layer_id, layer_mesh in meshes.items()
                      if isinstance(layer_mesh.mesh, pv.PolyData) and layer_mesh.tiles is None}
        # A tiled layer's copies, per tile and level (viewer.scene.tiles): each brought to the year shown
        # only as it is about to be drawn (:meth:`refresh`), so a year costs what is seen of the city.
        # Of the rising layer, the finest levels rise (the coarser are drawn only from afar).
        # (the nodes over them too, after them: their one level is their tiles' coarsest, joined)
        self.tiled = {layer_id: [[_Shown(self._index(level), own_points=layer_id == rising and index == 0
                                         and not tile.covers)
                                  for index, level in enumerate(tile.levels)] for tile in layer_mesh.tiles]
                      for layer_id, layer_mesh in meshes.items() if layer_mesh.tiles is not None}
        # a tiled layer's tiles themselves: how many of its list come first
        self._leaves = {layer_id: sum(not tile.covers for tile in meshes[layer_id].tiles) for layer_id in self.tiled}
        if like is None:  # thinned, a tile's dots are the same as the whole layer's would be
            for layer_id, copies in self.tiled.items():
                whole = meshes[layer_id].mesh.GetVerts().GetNumberOfCells()
                if whole:  # (the buildings' far level is no point layer's dots)
                    rank = np.random.default_rng(0).permutation(whole)
                    for index in (copy.index for tile in copies for copy in tile if copy.index.verts):
                        index.rank = rank[np.asarray(index.full.cell_data["row"][:index.verts])]
                        index.population = whole
        self.year: float | None = None
        self._rises = [_Rise(self.shown[rising])] if rising in self.shown else []
        # A tiled layer's tiles rise as they are drawn (:meth:`refresh`).
        self._tile_rises = {id(copies[0]): _Rise(copies[0]) for copies in self._tile_copies(rising)}
        self._risen: dict[int, float | None] = {}  # a tile copy's id -> the moment it has risen to

    def _index(self, full: pv.PolyData) -> _Index:
        # by the mesh's id: this timeline (and any sharing its indexes) holds the mesh while it lives
        found = self.indexes.get(id(full))
        if found is None:
            found = self.indexes[id(full)] = _Index(full)
        return found

    def bring_all(self) -> None:
        """Every tiled layer's copies brought to the year shown, drawn or not (the zygote's, before it
        forks: the sessions then share them until they show another year)."""
        for layer_id in self.tiled:
            for copy in self._copies(layer_id):
                self.refresh(copy)

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
        for copies in self._tile_copies(layer_id):
            together.AddInputData(copies[0].mesh)
        return together

    def bring_finest(self, layer_id: str) -> None:
        """A tiled layer's finest copies brought to the year shown, drawn or not."""
        for copies in self._tile_copies(layer_id):
            self.refresh(copies[0])

    def _tile_copies(self, layer_id: str | None) -> list[list[_Shown]]:
        """Each tile's copies (not the nodes over them) of a tiled layer; none for another."""
        return self.tiled[layer_id][:self._leaves[layer_id]] if layer_id in self.tiled else []

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
            cells = standing(shown.full, year)
            if not np.array_equal(cells, shown.cells):
                shown.keep(cells)
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
    shown = _Shown(_Index(full))
    shown.keep(cells)
    return shown.mesh.clean(point_merging=False) if own_points else shown.mesh


class _Index:
    """What a year's cells are picked out of a mesh with, made once per mesh and shared by every copy of
    it (and by every session forked after it was made, viewer.zygote): its cells in VTK's legacy layout
    with each cell's entry count, the order its dots are thinned in, and, for the rising buildings, each
    vertex's building's ground and first year. The cells and the rise are made when first needed."""

    def __init__(self, full: pv.PolyData) -> None:
        self.full = full
        self.verts = full.GetVerts().GetNumberOfCells()  # vtkPolyData's first cells
        # Thinned, the dots kept are those first in a shuffled order: spread evenly, without a pattern.
        self.rank = np.random.default_rng(0).permutation(self.verts)
        self.population = self.verts  # of the dots ranked (a tile's are some of its layer's)
        self._parts: list[tuple[str, np.ndarray, np.ndarray, int]] | None = None
        self._rise: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def parts(self) -> list[tuple[str, np.ndarray, np.ndarray, int]]:
        """Per kind of cell present: its name, its cells' flat legacy array (each cell's point count, then
        its ids), each cell's count of entries there, and how many cells."""
        if self._parts is None:
            full, self._parts = self.full, []
            for kind, cells in zip(_KINDS, (full.GetVerts(), full.GetLines(), full.GetPolys(), full.GetStrips())):
                count = cells.GetNumberOfCells()
                if count:
                    entries = (np.diff(vtk_to_numpy(cells.GetOffsetsArray())) + 1).astype(np.int32)
                    self._parts.append((kind, np.asarray(getattr(full, kind)), entries, count))
        return self._parts

    @property
    def rise(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each vertex's building's lowest height, the vertex's height above it, and the building's first
        year (0: open)."""
        if self._rise is None:
            mesh = self.full
            # Each vertex belongs to one building: its cells' rows agree, so their mean is that row.
            rows = np.rint(mesh.cell_data_to_point_data().point_data["row"]).astype(np.int64)
            heights = np.asarray(mesh.points[:, 2])
            lowest = np.full(rows.max() + 1, np.inf)
            np.minimum.at(lowest, rows, heights)
            born = np.zeros(rows.max() + 1, np.int32)
            born[mesh.cell_data["row"]] = mesh.cell_data["valid_from"]
            self._rise = (lowest[rows].astype(np.float32), (heights - lowest[rows]).astype(np.float32), born[rows])
        return self._rise


class _Shown:
    """A mesh drawing a subset of another's cells, sharing its points (or with a copy of its own). Until
    it is first asked to keep fewer, it shares the other's cells and cell data too."""

    def __init__(self, index: _Index, own_points: bool = False) -> None:
        self.index, self.full = index, index.full
        full = self.full
        self.mesh = pv.PolyData()
        if own_points:
            points = vtk.vtkPoints()
            points.DeepCopy(full.GetPoints())
            self.mesh.SetPoints(points)
        else:
            self.mesh.SetPoints(full.GetPoints())
        # the points' own data too (their true heights for the depth exaggeration, viewer.scene.depth)
        self.mesh.GetPointData().ShallowCopy(full.GetPointData())
        self.mesh.SetVerts(full.GetVerts())
        self.mesh.SetLines(full.GetLines())
        self.mesh.SetPolys(full.GetPolys())
        self.mesh.SetStrips(full.GetStrips())
        self.mesh.GetCellData().ShallowCopy(full.GetCellData())
        self.verts = index.verts
        self.dots = 1.0
        self.cells = np.ones(full.n_cells, bool)
        # (year, share of dots): what a lazily kept copy holds, and what was last asked of it
        self.kept = self.wanted = (None, 1.0)

    def keep(self, cells: np.ndarray) -> None:
        self.cells = cells
        if self.dots < 1.0:
            cells = cells.copy()
            cells[:self.verts] &= self.index.rank < self.dots * self.index.population
        start = 0
        for kind, flat, entries, count in self.index.parts:
            setattr(self.mesh, kind, flat[np.repeat(cells[start:start + count], entries)])
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

    def __init__(self, shown: _Shown) -> None:
        """``shown``: the copy, with points of its own, that rises."""
        self.mesh = shown.mesh
        self.ground, self.height, self.born = shown.index.rise
        self.risen = True

    def at(self, t: float) -> None:
        share = np.clip(t - (self.born - 1), 0.0, 1.0)
        share[self.born == 0] = 1.0
        if self.risen and share.min() >= 1.0:
            return  # already at full height: leave the points alone
        points = self.mesh.points  # a view of the copy's own points
        points[:, 2] = self.ground + self.height * share
        self.mesh.GetPoints().Modified()
        self.mesh.Modified()
        self.risen = bool(share.min() >= 1.0)
