"""A large layer drawn as spatial tiles, each at the level of detail its distance asks for, and none
outside the view: the frame is bounded by what the camera sees, not by the size of the city (issue 17).

Every cell of every layer was drawn every frame: at ten times the Eco-city a frame took over a second.
A layer of more than :data:`TILED_FROM` cells is split once, when the scene is read, into square tiles
of about :data:`TILE_CELLS` cells (a feature whole in the tile its first cell's centre falls in), each
with levels of detail, finest first, and each level's geometric error in metres: the most that level's
drawing is off from the feature itself. Before each render, each tile gets the coarsest level whose error
comes to at most :data:`SSE_PX` pixels on screen at the tile's distance (Cesium's screen-space error;
a stricter bound than its default of 16 px), or none outside the view's frustum. Point symbols have two levels: the symbols with
their dots, and their dots alone (a symbol's size its error): a symbol only a few pixels across looks the
same as its dot, which costs one vertex against the symbol's 8-24 triangles. Pipes likewise: their tubes
with their centre lines, and the lines alone (the widest pipe's diameter its error); buildings, and a
dot on each roof (:func:`_as_dot`).

The layer's own actor (``actors[layer_id]`` everywhere else) leads and is not drawn: each level of each
tile is an actor of its own that follows it at every render (visibility, property, colouring, section
clip, pickability), so nothing that restyles, toggles or cuts a layer needs to know about tiles. The
year filter (viewer.scene.timeline) keeps a copy of each level, brought to the year shown only when
that level is about to be drawn. A pick (viewer.tools.picking) draws the finest level (:func:`exact`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyvista as pv
import vtk
from vtk.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy

if TYPE_CHECKING:
    from viewer.scene.timeline import Timeline

TILE_CELLS = 15_000
TILED_FROM = 60_000
GROUP = 4  # a node over tiles covers GROUP x GROUP squares of the level under it
# Cesium's default bound is 16 px: a building or a symbol 16 px wide drawn as a dot of 4 would be plain
# to see (the dots are viewer.render.POINT_PX wide).
SSE_PX = 4.0
# A building drawn as a dot is at most SSE_PX wide: a dot as wide as the layer's point symbols' (4 px)
# covered the ground between them, a white carpet over the city.
BUILDING_DOT_PX = 2.0
BLOCK_M = 96.0  # the side of the squares whose buildings one dot draws from farthest off
DOT_SHADE = 0.65
TILED_MODES = ("glyph", "extrude", "tube")
_KINDS = ("verts", "lines", "polys", "strips")  # vtkPolyData's cells in this order; cell data follows it


@dataclass
class Tile:
    bounds: tuple[float, ...]  # of its finest level, in scene coordinates
    levels: list[pv.PolyData]  # finest first
    errors: list[float]  # each level's geometric error, metres
    # Where the coarser levels draw features as dots of their own width (buildings): that width, pixels;
    # None: as wide as the layer's property says (point symbols' dots).
    dot_px: float | None = None
    # A node over tiles: the indices (in its layer's list) of the tiles whose coarsest levels its one level
    # joins, drawn in their place where all of them would draw that level; () for a tile itself.
    covers: tuple[int, ...] = ()


def leaves(tiles: list[Tile]) -> list[Tile]:
    """The tiles themselves, without the nodes over them (which come after them in a layer's list)."""
    return [tile for tile in tiles if not tile.covers]


def split(mesh: pv.PolyData, mode: str, symbol_m: float) -> list[Tile] | None:
    """The tiles of a layer's merged mesh drawn in draw mode ``mode`` (point symbols ``symbol_m`` metres
    across); None where the layer is drawn whole (small, or a mode without coarser levels)."""
    if mode not in TILED_MODES or not isinstance(mesh, pv.PolyData) or mesh.n_cells < TILED_FROM:
        return None
    tile_of_cell, count, where = _grid(mesh)
    finest = _pieces(mesh, tile_of_cell, count, _KINDS)
    if mode in ("glyph", "tube"):  # a symbol drawn as its dot, a pipe as its centre line: off by their size
        kind, size = ("verts", symbol_m) if mode == "glyph" else ("lines", _widest(mesh))
        simpler = _pieces(mesh, tile_of_cell, count, (kind,))
        coarser = [[(piece, size)] if piece is not None else [] for piece in simpler]
    else:  # a building as a dot on its roof, off by its size; then the buildings of a block as one dot
        coarser = [[(dots, error), _as_blocks(dots, reach)]
                   for dots, error, reach in (_as_dot(piece) for piece in finest)]
    dot_px = BUILDING_DOT_PX if mode == "extrude" else None
    # (each tile holds cells: np.unique numbered only the squares in use)
    tiles = [Tile(piece.bounds, [piece] + [level for level, _ in more], [0.0] + [error for _, error in more], dot_px)
             for piece, more in zip(finest, coarser)]
    return tiles + _nodes(tiles, where)


def _nodes(tiles: list[Tile], where: np.ndarray) -> list[Tile]:
    """Nodes over the tiles, largest first: each joins the coarsest levels of the tiles in a square of
    GROUP x GROUP squares of the level under it, up to one over them all (a quadtree's inner nodes, with
    Cesium's "replace" refinement): far away, one actor draws what a few dozen would, at the same
    error (their largest)."""
    nodes: list[Tile] = []
    members = [(index,) for index in range(len(tiles))]
    while len(members) > 1:
        where = where // GROUP
        key = where[:, 0] * (where[:, 1].max() + 1) + where[:, 1]
        kept, first, owner = np.unique(key, return_index=True, return_inverse=True)
        under = [np.flatnonzero(owner.ravel() == k) for k in range(len(kept))]
        groups = [tuple(index for member in below for index in members[member]) for below in under]
        # (a square over one square under it would be that one again)
        nodes += [_node(tiles, covered) for covered, below in zip(groups, under)
                  if len(below) > 1 and all(len(tiles[index].levels) > 1 for index in covered)]
        members, where = groups, where[first]
    return nodes[::-1]


def _node(tiles: list[Tile], covered: tuple[int, ...]) -> Tile:
    joined = vtk.vtkAppendPolyData()
    for index in covered:
        joined.AddInputData(tiles[index].levels[-1])
    joined.Update()
    low = np.min([tiles[index].bounds[0::2] for index in covered], axis=0)
    high = np.max([tiles[index].bounds[1::2] for index in covered], axis=0)
    return Tile(tuple(np.column_stack([low, high]).ravel().tolist()), [pv.wrap(joined.GetOutput())],
                [max(tiles[index].errors[-1] for index in covered)], tiles[covered[0]].dot_px, covered)


def _grid(mesh: pv.PolyData) -> tuple[np.ndarray, int, np.ndarray]:
    """Each cell's tile (a square of the layer's extent holding about TILE_CELLS cells), numbered from 0,
    how many tiles, and each tile's square (column, row); a feature's cells all in its first cell's tile."""
    centres = np.asarray(mesh.cell_centers().points)[:, :2]
    rows = np.asarray(mesh.cell_data["row"])
    _, first = np.unique(rows, return_index=True)
    place = np.zeros((rows.max() + 1, 2))
    place[rows[first]] = centres[first]
    low, high = centres.min(axis=0), centres.max(axis=0)
    extent = np.maximum(high - low, 1.0)
    side = math.sqrt(extent[0] * extent[1] * TILE_CELLS / mesh.n_cells)
    across = np.maximum(np.ceil(extent / side).astype(int), 1)
    cell = np.minimum(((place[rows] - low) / side).astype(int), across - 1)
    used, tile = np.unique(cell[:, 0] * across[1] + cell[:, 1], return_inverse=True)
    return tile.ravel(), len(used), np.column_stack([used // across[1], used % across[1]])


def _pieces(mesh: pv.PolyData, tile_of_cell: np.ndarray, count: int, kinds: tuple[str, ...]
            ) -> list[pv.PolyData | None]:
    """The cells of each tile (of the kinds ``kinds``) as meshes of their own, on only the points they
    use, with the points' and cells' data: in one pass over the mesh's cells, sorted by tile."""
    cells_of: list[list] = [[] for _ in range(count)]  # per tile: (kind, offsets, point ids, cell ids)
    start = 0
    for kind, array in zip(_KINDS, (mesh.GetVerts(), mesh.GetLines(), mesh.GetPolys(), mesh.GetStrips())):
        n = array.GetNumberOfCells()
        if n and kind in kinds:
            offsets = vtk_to_numpy(array.GetOffsetsArray()).astype(np.int64)
            connectivity = vtk_to_numpy(array.GetConnectivityArray()).astype(np.int64)
            tiles = tile_of_cell[start:start + n]
            order = np.argsort(tiles, kind="stable")
            edges = np.searchsorted(tiles[order], np.arange(count + 1))
            for k in range(count):
                chosen = order[edges[k]:edges[k + 1]]
                if len(chosen):
                    sizes = offsets[chosen + 1] - offsets[chosen]
                    ends = np.cumsum(sizes)
                    entry = np.repeat(offsets[chosen] - (ends - sizes), sizes) + np.arange(ends[-1])
                    cells_of[k].append((kind, np.r_[0, ends], connectivity[entry], start + chosen))
        start += n
    return [_piece(mesh, parts) if parts else None for parts in cells_of]


def _piece(mesh: pv.PolyData, parts: list) -> pv.PolyData:
    used = np.unique(np.concatenate([ids for _, _, ids, _ in parts]))
    piece = pv.PolyData()
    points = vtk.vtkPoints()
    points.SetData(numpy_to_vtk(np.ascontiguousarray(np.asarray(mesh.points)[used]), deep=True))
    piece.SetPoints(points)
    for kind, offsets, ids, _ in parts:
        array = vtk.vtkCellArray()
        array.SetData(numpy_to_vtkIdTypeArray(offsets, deep=True),
                      numpy_to_vtkIdTypeArray(np.searchsorted(used, ids), deep=True))
        getattr(piece, f"Set{kind.capitalize()}")(array)
    for name in mesh.point_data.keys():
        piece.point_data[name] = np.asarray(mesh.point_data[name])[used]
    cells = np.concatenate([ids for _, _, _, ids in parts])
    for name in mesh.cell_data.keys():
        piece.cell_data[name] = np.asarray(mesh.cell_data[name])[cells]
    return piece


def _widest(mesh: pv.PolyData) -> float:
    """The widest pipe's diameter, metres (the tubes' radii are their points' "radius")."""
    radius = mesh.point_data.get("radius")
    return 2.0 * float(np.max(radius)) if radius is not None and len(radius) else 1.0


def _as_blocks(dots: pv.PolyData, reach: np.ndarray) -> tuple[pv.PolyData, float]:
    """The dots of buildings (:func:`_as_dot`; ``reach``: how far each one's building reaches from it,
    across and down) standing in one square of BLOCK_M and in the same years, as one dot at their middle
    on the highest roof, and the error of drawing them so: the farthest any of their corners lies from
    it. From across a city, a hundred thousand buildings are dots a pixel or less apart: a few times
    fewer dots draw the same carpet."""
    points = np.asarray(dots.points)
    keys = np.column_stack([np.floor(points[:, :2] / BLOCK_M).astype(np.int64),
                            dots.cell_data["valid_from"], dots.cell_data["valid_to"]])
    _, first, block = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    block = block.ravel()
    middle = np.zeros((len(first), 2))
    np.add.at(middle, block, points[:, :2])
    middle /= np.bincount(block, minlength=len(first))[:, None]
    top = np.full(len(first), -np.inf)
    np.maximum.at(top, block, points[:, 2])
    blocks = pv.PolyData(np.c_[middle, top], verts=np.c_[np.ones(len(first), np.int64), np.arange(len(first))].ravel())
    for name in dots.cell_data.keys():
        blocks.cell_data[name] = np.asarray(dots.cell_data[name])[first]
    across = np.linalg.norm(points[:, :2] - middle[block], axis=1) + reach[:, 0]
    down = top[block] - points[:, 2] + reach[:, 1]
    return blocks, float(np.hypot(across, down).max()) if len(points) else 0.0


def _as_dot(piece: pv.PolyData) -> tuple[pv.PolyData, float, np.ndarray]:
    """Each feature of a tile as one vertex at the middle of its top, with its first cell's data, the
    error of drawing it so (the largest of its features' reach from their dots), and each one's reach
    (across, down). A building a few pixels wide looks the same as a dot of its colour: a vertex,
    against the 10 or more triangles of its roof and walls. (Merging neighbouring buildings into blocks,
    VTK's quadric clustering, blotched the Eco-city's overview where each building still stood 5-8 px
    wide.)"""
    rows = np.asarray(piece.cell_data["row"])
    order, first, index = np.unique(rows, return_index=True, return_inverse=True)
    cell_of_point = np.zeros(piece.n_points, np.int64)
    ids = [vtk_to_numpy(array.GetConnectivityArray()) for array in
           (piece.GetVerts(), piece.GetLines(), piece.GetPolys(), piece.GetStrips())]
    offsets = [np.diff(vtk_to_numpy(array.GetOffsetsArray())) for array in
               (piece.GetVerts(), piece.GetLines(), piece.GetPolys(), piece.GetStrips())]
    cell_of_point[np.concatenate(ids)] = np.repeat(np.arange(piece.n_cells), np.concatenate(offsets))
    points = np.asarray(piece.points)
    feature_of_point = index.ravel()[cell_of_point]
    low = np.full((len(order), 3), np.inf)
    high = np.full((len(order), 3), -np.inf)
    np.minimum.at(low, feature_of_point, points)
    np.maximum.at(high, feature_of_point, points)
    middle = np.c_[(low[:, :2] + high[:, :2]) / 2, high[:, 2]]
    dots = pv.PolyData(middle, verts=np.c_[np.ones(len(order), np.int64), np.arange(len(order))].ravel())
    for name in piece.cell_data.keys():
        dots.cell_data[name] = np.asarray(piece.cell_data[name])[first]
    # How far each building reaches from its dot: across (its footprint's diagonal, twice what its corners
    # are off: kept from before heights counted, so as not to make dots of buildings that now draw whole)
    # and down to its foot (a tower drawn as a dot on its roof is off by its height).
    reach = np.c_[np.linalg.norm(high[:, :2] - low[:, :2], axis=1), high[:, 2] - low[:, 2]]
    return dots, float(np.hypot(reach[:, 0], reach[:, 1]).max()) if len(order) else 0.0, reach


class TiledDrawing:
    """The tile actors of one view's renderer: each level of each tile of each tiled layer, following its
    layer's lead actor, chosen before every render."""

    def __init__(self, renderer: vtk.vtkRenderer, leads: dict[str, vtk.vtkActor], tiles: dict[str, list[Tile]],
                 timeline: Timeline) -> None:
        """``timeline``: the view's year filter, which keeps a copy of each level of each tile
        (``timeline.tiled``), the mesh that level's actor draws, brought to the year by ``refresh``."""
        self.renderer, self.timeline = renderer, timeline
        self.moving = False  # the camera moving: point symbols' dots, pipes' lines (viewer.moving)
        self.exact = False  # a pick: the finest levels
        self.worst_px = 0.0  # the largest screen-space error of a tile drawn at the last render
        # (layer, its lead, and per tile: the tile and each level's actor and copy)
        self.layers: list[tuple[str, vtk.vtkActor, list[tuple[Tile, list[tuple[vtk.vtkActor, object]]]]]] = []
        self.layer_of: dict[str, str] = {}  # a tile actor's address -> its layer
        for layer_id, layer_tiles in tiles.items():
            lead = leads[layer_id]
            renderer.RemoveActor(lead)
            drawn = []
            for tile, copies in zip(layer_tiles, timeline.tiled[layer_id]):
                actors = []
                for index, copy in enumerate(copies):
                    mapper = vtk.vtkPolyDataMapper()
                    mapper.SetInputData(copy.mesh)
                    actor = vtk.vtkActor()
                    actor.SetMapper(mapper)
                    if tile.errors[index] == 0 or tile.dot_px is None:  # (a tile's finest level)
                        actor.SetProperty(lead.GetProperty())  # one property: a restyle reaches every tile
                    else:
                        actor.GetProperty().SetPointSize(tile.dot_px)
                    renderer.AddActor(actor)
                    self.layer_of[actor.GetAddressAsString("vtkActor")] = layer_id
                    actors.append((actor, copy))
                drawn.append((tile, actors))
            self.layers.append((layer_id, lead, drawn))
        renderer._twin_tiles = self  # found there by picking (pyvista allows private attributes)
        # Every tile's box and levels' errors in arrays: the choice is a few numpy operations a render.
        every = [(lead, tile, actors) for _, lead, drawn in self.layers for tile, actors in drawn]
        self._tiles = every
        self._low = np.array([tile.bounds[0::2] for _, tile, _ in every]).reshape(-1, 3)
        self._high = np.array([tile.bounds[1::2] for _, tile, _ in every]).reshape(-1, 3)
        depth = max((len(tile.errors) for _, tile, _ in every), default=1)
        self._errors = np.array([tile.errors + [np.inf] * (depth - len(tile.errors)) for _, tile, _ in every])
        self._coarsest = np.array([len(tile.levels) - 1 for _, tile, _ in every])
        self._light = np.array([tile.dot_px is None for _, tile, _ in every])  # light while moving
        # The nodes over tiles, largest first, each with the indices (in ``every``) of the tiles it covers.
        self._node = np.array([bool(tile.covers) for _, tile, _ in every])
        first = 0
        self._covers: list[tuple[int, np.ndarray]] = []
        for _, _, drawn in self.layers:
            self._covers += [(first + index, first + np.array(tile.covers))
                             for index, (tile, _) in enumerate(drawn) if tile.covers]
            first += len(drawn)
        self._level = np.full(len(every), -2)  # the level each tile drew at the last render (-1: none)
        self._synced: dict[int, tuple] = {}  # an actor's id -> its lead's state when it last followed it
        # Last, after what thins the dots or moves the scene before a render.
        renderer.AddObserver("StartEvent", self._choose, -10.0)

    def actors_of(self, layer_id: str) -> list[vtk.vtkActor]:
        """Every level's actor of every tile of a layer."""
        return [actor for layer, _, drawn in self.layers if layer == layer_id
                for _, actors in drawn for actor, _ in actors]

    def _choose(self, renderer: vtk.vtkRenderer, event: str) -> None:
        if not self._tiles:
            return
        camera = renderer.GetActiveCamera()
        frustum = [0.0] * 24
        camera.GetFrustumPlanes(renderer.GetTiledAspectRatio(), frustum)
        # Its sides only: the near and far planes follow what is drawn (reset below).
        planes = np.array(frustum).reshape(6, 4)[:4]
        corners = np.where(planes[None, :, :3] >= 0, self._high[:, None, :], self._low[:, None, :])
        inside = np.all(np.einsum("pk,tpk->tp", planes[:, :3], corners) + planes[:, 3] >= 0, axis=1)
        eye = np.array(camera.GetPosition())
        height = max(renderer.GetSize()[1], 1)
        if camera.GetParallelProjection():
            scale = np.full(len(self._tiles), height / (2 * camera.GetParallelScale()))
        else:
            distance = np.linalg.norm(eye - np.clip(eye, self._low, self._high), axis=1)
            scale = height / (2 * math.tan(math.radians(camera.GetViewAngle()) / 2)) / np.maximum(distance, 1e-6)
        # The coarsest level within the bound (the finest, error 0, always is).
        level = (self._errors * scale[:, None] <= SSE_PX).sum(axis=1) - 1
        if self.exact:
            level = np.where(self._node, -1, 0)
        elif self.moving:  # symbols and tubes: their dots and lines (viewer.moving)
            level = np.where(self._light & ~self._node, self._coarsest, level)
        shown = np.array([bool(lead.GetVisibility()) for lead, _, _ in self._tiles])
        level = np.where(inside & shown, level, -1)
        # A node within the bound is drawn in place of its tiles (and of the smaller nodes over them);
        # within it, its distance is no farther than theirs, so each of them would draw its coarsest level.
        covered = np.zeros(len(level), bool)
        for node, tiles in self._covers:
            if level[node] >= 0 and not covered[tiles].any():
                covered[tiles] = True
            else:
                level[node] = -1
        level[covered & ~self._node] = -1
        drawn = level >= 0
        self.worst_px = float((self._errors[drawn, level[drawn]] * scale[drawn]).max()) if drawn.any() else 0.0
        states: dict[int, tuple] = {}
        for index, (lead, _, actors) in enumerate(self._tiles):
            now, before = int(level[index]), int(self._level[index])
            if now != before:
                if before >= 0:
                    actors[before][0].SetVisibility(False)
                if before == -2:  # never chosen yet: every level was left visible
                    for actor, _ in actors:
                        actor.SetVisibility(False)
                if now >= 0:
                    actors[now][0].SetVisibility(True)
            if now < 0:
                continue
            actor, copy = actors[now]
            self.timeline.refresh(copy)
            state = states.get(id(lead)) or states.setdefault(id(lead), _state(lead))
            if self._synced.get(id(actor)) != state:
                _follow(lead, actor, pickable=not self.exact)
                self._synced[id(actor)] = state
        self._level = level
        if not self.exact:  # (a pick keeps the view's range: its depths are read against it)
            renderer.ResetCameraClippingRange()  # to the tiles now drawn, not those drawn last time


def _follow(lead: vtk.vtkActor, actor: vtk.vtkActor, pickable: bool) -> None:
    """A tile's actor drawn as its layer's lead is set now: colouring, section clip, placement."""
    source, target = lead.GetMapper(), actor.GetMapper()
    target.SetScalarVisibility(source.GetScalarVisibility())
    target.SetScalarMode(source.GetScalarMode())
    target.SetColorMode(source.GetColorMode())
    target.SetArrayAccessMode(source.GetArrayAccessMode())
    target.SetArrayName(source.GetArrayName())
    if actor.GetProperty() is not lead.GetProperty():  # dots of their own width, in the layer's colours
        width = actor.GetProperty().GetPointSize()
        actor.GetProperty().DeepCopy(lead.GetProperty())
        actor.GetProperty().SetPointSize(width)
        actor.GetProperty().RenderPointsAsSpheresOff()
        # Unlit, a little darker: about the mean of a lit roof and its walls in shade, as seen from afar.
        actor.GetProperty().LightingOff()
        actor.GetProperty().SetColor(*(DOT_SHADE * value for value in lead.GetProperty().GetColor()))
    clip_alike(source, target)
    if pickable:
        actor.SetPickable(lead.GetPickable())
    actor.SetUserMatrix(lead.GetUserMatrix())


def clip_alike(source: vtk.vtkMapper, target: vtk.vtkMapper) -> None:
    """``target`` cut by ``source``'s clipping planes: the same collection, so cut wherever it is cut."""
    planes = source.GetClippingPlanes()
    if planes is None:
        target.RemoveAllClippingPlanes()
    elif target.GetClippingPlanes() is not planes:
        target.SetClippingPlanes(planes)


def _state(lead: vtk.vtkActor) -> tuple:
    """When the lead, its mapper or its property last changed: its tiles follow it again after a change
    (and the pickability a pick switches off and on, which does not count as one)."""
    return lead.GetMTime(), lead.GetMapper().GetMTime(), lead.GetProperty().GetMTime(), lead.GetPickable()


def drawing_of(renderer: vtk.vtkRenderer) -> TiledDrawing | None:
    return getattr(renderer, "_twin_tiles", None)


def layer_of(renderer: vtk.vtkRenderer, actor: vtk.vtkProp) -> str | None:
    """The layer a tile actor draws; None for any other prop."""
    drawing = drawing_of(renderer)
    return drawing.layer_of.get(actor.GetAddressAsString("vtkActor")) if drawing is not None else None


@contextmanager
def exact(renderer: vtk.vtkRenderer) -> Iterator[None]:
    """The finest level of every tile while a pick draws the view again."""
    drawing = drawing_of(renderer)
    if drawing is None:
        yield
        return
    drawing.exact = True
    try:
        yield
    finally:
        drawing.exact = False
