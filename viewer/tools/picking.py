"""What is under the cursor: the pickable actor and cell drawn at a pixel, as the renderer itself drew
them (VTK's hardware selector renders the scene again with ids for colours), mapped back to the
feature's row in PostGIS through the mesh's ``row`` cell data.

Why not vtkCellPicker, as before: it casts a ray with a tolerance in world units, taken at the middle of
the clipping range, which over a city (the near plane metres from the camera, the far one kilometres)
came to metres; any vertex or edge that close to the ray counted as hit, the nearest to the camera
winning. A lamp pole's point symbol near the camera, hundreds of pixels from the cursor, was picked for
every click on the tunnel under it (issue 16). The selector answers what the view shows at that pixel:
the nearest visible, pickable surface, line or point there, whatever the actors' transforms.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql
import pyvista as pv
import vtk

from twin.store import layer_table
from viewer.scene.depth import true_z
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.tiles import exact, layer_of
from viewer.scene.timeline import subset

HIDDEN_COLUMNS = {"geom", "lod2", "tags"}
# Where nothing pickable is drawn under the cursor, what is drawn this close to it counts: a pipe seen from
# afar is a line 2 pixels wide, a point symbol a dot of 4.
REACH_PX = 2


@dataclass
class Pick:
    layer_id: str
    feature_id: str
    row: int
    position: tuple[float, float, float]  # scene coordinates, where it is drawn
    true_position: tuple[float, float, float]  # the same with underground mode's depth exaggeration undone


@dataclass
class Drawn:
    """What the renderer drew at a pixel: the actor, the cell of its mapper's input, the scene position
    (drawn, and true: the depth exaggeration undone)."""

    actor: vtk.vtkProp
    cell: int
    position: tuple[float, float, float]
    true_position: tuple[float, float, float]


def drawn_at(plotter: pv.Plotter, x: float, y: float, reach: int = REACH_PX,
             seen: tuple[int, int] | None = None, ground: Collection[vtk.vtkProp] = ()) -> Drawn | None:
    """The visible, pickable actor drawn at display position (x, y) (pixels from the bottom left of the
    window as it is now), nearest the eye there; else the one drawn nearest that pixel within ``reach``
    pixels; else None. Props in ``ground`` (the terrain) yield to any other drawn within ``reach``:
    the ground is everywhere, and a building a pixel wide would otherwise never be hit. Actors left
    unpickable (the translucent ground of underground mode, highlights) are seen through. ``seen``: the
    size of the image the person clicked on (the window is drawn smaller while the camera moves, and a
    click is heard then); the pixels are that image's.

    Through a keyhole (:func:`keyhole`): the view narrowed to the few pixels around the click, which the
    selector's passes draw in a fraction of a frame. In two steps, rather than the selector's five passes
    over the whole scene: which actor is drawn there (one pass of every pickable actor, ids for colours);
    then which of its cells, by the selector's cell passes over that actor alone. Drawn alone, it draws
    the same front cell at that pixel: it was in front of all the others."""
    renderer = plotter.renderer
    width, height = renderer.GetSize()
    seen = seen or (width, height)
    # trame-vtk hands the interactor the cursor's place rounded to the window's pixels: in a window drawn
    # at half size, to every other pixel of the image seen. Scaled back, the pixel is found to within that
    # rounding, which the reach then spans (a building a pixel wide in a city's overview, issue 17).
    scale = max(seen[0] / max(width, 1), seen[1] / max(height, 1))
    at = (x * seen[0] / max(width, 1), y * seen[1] / max(height, 1))  # in the image seen
    reach += math.ceil(scale) - 1
    if not (0 <= at[0] < seen[0] and 0 <= at[1] < seen[1]):
        return None
    with keyhole(plotter, at, seen, reach) as (centre, side), exact(renderer):
        around = sorted(((dx, dy) for dx in range(-reach, reach + 1) for dy in range(-reach, reach + 1)),
                        key=lambda step: step[0] ** 2 + step[1] ** 2)
        pixels = [(centre + dx, centre + dy) for dx, dy in around]
        first = _selected(renderer, (0, 0, side - 1, side - 1), pixels, actors_only=True, ground=ground)
        if first is None:
            return None
        actor, (at_x, at_y), _, _ = first
        others = [prop for prop in _props(renderer) if prop is not actor and prop.GetPickable()]
        for prop in others:
            prop.PickableOff()
        try:
            found = _selected(renderer, (at_x, at_y, at_x, at_y), [(at_x, at_y)], actors_only=False)
        finally:
            for prop in others:
                prop.PickableOn()
        if found is None:
            return None
        actor, _, cell, depth = found
        position = _on_cell(renderer, actor, cell, at_x, at_y, depth)
    shown = actor.GetMapper().GetInput() if isinstance(actor, vtk.vtkActor) else None
    true = true_z(pv.wrap(shown), cell, position) if shown is not None else position[2]
    return Drawn(actor, cell, position, (position[0], position[1], true))


@contextmanager
def keyhole(plotter: pv.Plotter, at: tuple[float, float], seen: tuple[int, int], reach: int
            ) -> Iterator[tuple[int, int]]:
    """The view narrowed to the square of pixels within ``reach`` of the pixel at ``at`` in an image of
    size ``seen``, drawn in a window that small at the seen image's scale (the same metres to a pixel, so
    the same point dots kept, lines as many pixels wide): yields that pixel's column and row in it (its
    centre) and the window's side. A software-rendered pass of the whole scene costs its vertices, not
    the 25 pixels: measured in a 980x716 view, picked while drawn at half size, a pick's six passes took
    159 ms, through the keyhole 44. Camera and window are given back."""
    ren_win, camera = plotter.ren_win, plotter.renderer.GetActiveCamera()
    side = 2 * reach + 1
    kept = (ren_win.GetSize(), camera.GetViewAngle(), camera.GetWindowCenter(), camera.GetParallelScale())
    seen_w, seen_h = seen
    parallel = camera.GetParallelProjection()
    # The frustum's half height at unit distance (or the parallel scale), then the pixel's centre in it.
    half = camera.GetParallelScale() if parallel else math.tan(math.radians(camera.GetViewAngle()) / 2)
    column, row = int(at[0]), int(at[1])
    centre_x, centre_y = kept[2]
    aim_x = (centre_x + 2 * (column + 0.5) / seen_w - 1) * half * seen_w / seen_h
    aim_y = (centre_y + 2 * (row + 0.5) / seen_h - 1) * half
    narrow = half * side / seen_h  # the keyhole's half height: side pixels of the seen image
    try:
        if parallel:
            camera.SetParallelScale(narrow)
        else:
            camera.SetViewAngle(math.degrees(2 * math.atan(narrow)))
        camera.SetWindowCenter(aim_x / narrow, aim_y / narrow)
        ren_win.SetSize(side, side)
        yield reach, side
    finally:
        ren_win.SetSize(*kept[0])
        camera.SetViewAngle(kept[1])
        camera.SetWindowCenter(*kept[2])
        camera.SetParallelScale(kept[3])


def _selected(renderer: vtk.vtkRenderer, area: tuple[int, int, int, int], pixels: list[tuple[int, int]],
              actors_only: bool, ground: Collection[vtk.vtkProp] = ()
              ) -> tuple[vtk.vtkProp, tuple[int, int], int, float] | None:
    """The first of ``pixels`` (within ``area``) where the hardware selector finds a pickable prop not in
    ``ground``, else the first where it finds one of ``ground``: the prop, the pixel, its cell (-1 with
    ``actors_only``) and the depth there."""
    selector = vtk.vtkHardwareSelector()
    selector.SetRenderer(renderer)
    selector.SetFieldAssociation(vtk.vtkDataObject.FIELD_ASSOCIATION_CELLS)
    selector.SetActorPassOnly(actors_only)
    selector.SetCaptureZValues(not actors_only)
    selector.SetArea(*area)
    if not selector.CaptureBuffers():
        return None
    fallback = None
    try:
        for at_x, at_y in pixels:
            selection = selector.GenerateSelection(at_x, at_y, at_x, at_y)
            node = selection.GetNode(0) if selection.GetNumberOfNodes() else None
            if node is None:
                continue
            cells = node.GetSelectionList()
            if not actors_only and (cells is None or cells.GetNumberOfTuples() == 0):
                continue
            found = node.GetProperties()
            cell = -1 if actors_only else int(cells.GetTuple1(0))
            depth = -1.0 if actors_only else found.Get(vtk.vtkSelectionNode.ZBUFFER_VALUE())
            hit = found.Get(vtk.vtkSelectionNode.PROP()), (at_x, at_y), cell, depth
            if hit[0] not in ground:
                return hit
            fallback = fallback or hit
        return fallback
    finally:
        selector.ClearBuffers()


def _props(renderer: vtk.vtkRenderer) -> list[vtk.vtkProp]:
    props = renderer.GetViewProps()
    return [props.GetItemAsObject(i) for i in range(props.GetNumberOfItems())]


def _on_cell(renderer: vtk.vtkRenderer, actor: vtk.vtkProp, cell: int, x: int, y: int, depth: float
             ) -> tuple[float, float, float]:
    """The scene point drawn at pixel (x, y): where the ray through its centre (where the rasteriser
    samples it) meets the cell picked there, the z-buffer's depth alone being 0.4 m off a wall 114 m
    away (outside the building); the z-buffer's point where the cell cannot say (a mapper whose cell ids
    are not its input's, a ray that misses)."""
    x, y = x + 0.5, y + 0.5
    renderer.SetDisplayPoint(x, y, depth)
    renderer.DisplayToWorld()
    world = np.array(renderer.GetWorldPoint())
    near = tuple(float(v) for v in world[:3] / world[3])
    mapper = actor.GetMapper() if isinstance(actor, vtk.vtkActor) else None
    data = mapper.GetInput() if isinstance(mapper, vtk.vtkPolyDataMapper) else None
    if data is None or not 0 <= cell < data.GetNumberOfCells():
        return near
    ends = []
    for z in (0.0, 1.0):  # the ray through the pixel, from the near plane to the far one, in the data's frame
        renderer.SetDisplayPoint(x, y, z)
        renderer.DisplayToWorld()
        ends.append(np.array(renderer.GetWorldPoint()))
    to_data = vtk.vtkMatrix4x4()
    vtk.vtkMatrix4x4.Invert(actor.GetMatrix(), to_data)
    p1, p2 = ([float(v) for v in to_data.MultiplyPoint(list(end / end[3]))[:3]] for end in ends)
    shape = data.GetCell(cell)
    # A point or line is hit within a few pixels of it (it is drawn that wide); a face, on it.
    camera = renderer.GetActiveCamera()
    pixel = 2.0 * float(np.linalg.norm(np.array(near) - camera.GetPosition())) * np.tan(
        np.radians(camera.GetViewAngle() / 2.0)) / max(renderer.GetSize()[1], 1)
    tolerance = pixel * (8.0 if shape.GetCellDimension() < 2 else 0.01)
    t, hit, pcoords, sub = vtk.reference(0.0), [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], vtk.reference(0)
    if not shape.IntersectWithLine(p1, p2, tolerance, t, hit, pcoords, sub):
        return near
    scene = actor.GetMatrix().MultiplyPoint([*hit, 1.0])
    return tuple(float(v) for v in scene[:3])


def pick(plotter: pv.Plotter, actors: dict[str, vtk.vtkActor], meshes: dict[str, LayerMesh], x: float,
         y: float, seen: tuple[int, int] | None = None) -> Pick | None:
    """The feature drawn at display position (x, y) (pixels from the bottom left; ``seen`` as for
    :func:`drawn_at`), or None: the sky, the terrain (no feature) or anything else that no layer draws."""
    drawn = drawn_at(plotter, x, y, seen=seen, ground=[actor for layer_id, actor in actors.items()
                                                       if layer_id not in meshes])
    if drawn is None:
        return None
    layer_id = next((layer_id for layer_id, actor in actors.items() if actor is drawn.actor and layer_id in meshes),
                    layer_of(plotter.renderer, drawn.actor))
    if layer_id is None:
        return None
    # The actor may draw a subset of the layer's cells (the year filter): read the row off what it draws.
    row = int(pv.wrap(drawn.actor.GetMapper().GetInput()).cell_data["row"][drawn.cell])
    return Pick(layer_id, meshes[layer_id].ids[row], row, drawn.position, drawn.true_position)


def point_at(plotter: pv.Plotter, x: float, y: float, seen: tuple[int, int] | None = None
             ) -> tuple[float, float, float] | None:
    """The true scene position (the depth exaggeration undone) of whatever pickable is drawn at display
    position (x, y), the terrain included (which :func:`pick` finds no feature in), or None where the
    view shows only sky."""
    drawn = drawn_at(plotter, x, y, seen=seen)
    return drawn.true_position if drawn is not None else None


def attributes(connection: psycopg.Connection, layer_id: str, feature_id: str) -> dict[str, object]:
    """The feature's columns as PostGIS holds them (geometry left out), for the side panel."""
    cursor = connection.execute(sql.SQL("SELECT * FROM {} WHERE id = %s").format(layer_table(layer_id)), (feature_id,))
    row = cursor.fetchone()
    if row is None:
        return {}
    names = [column.name for column in cursor.description]
    return {name: value for name, value in zip(names, row) if name not in HIDDEN_COLUMNS and value is not None}


def highlight(layer_mesh: LayerMesh, row: int) -> pv.DataSet:
    """The picked feature's own cells, to draw over it."""
    return subset(layer_mesh.mesh, layer_mesh.mesh.cell_data["row"] == row)
