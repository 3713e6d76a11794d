"""What is under the cursor: a cell picker over the merged layer meshes, mapped back to the feature's
row in PostGIS through the mesh's ``row`` cell data."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
import pyvista as pv
import vtk

from twin.store import layer_table
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.timeline import subset

HIDDEN_COLUMNS = {"geom", "lod2", "tags"}


@dataclass
class Pick:
    layer_id: str
    feature_id: str
    row: int
    position: tuple[float, float, float]  # scene coordinates


def pick(plotter: pv.Plotter, actors: dict[str, vtk.vtkActor], meshes: dict[str, LayerMesh], x: float,
         y: float) -> Pick | None:
    """The feature at display position (x, y) (pixels from the bottom left), or None."""
    picker = vtk.vtkCellPicker()
    picker.SetTolerance(0.002)
    picker.PickFromListOn()
    by_actor = {}
    for layer_id, actor in actors.items():
        if layer_id in meshes and actor.GetVisibility() and actor.GetPickable():
            picker.AddPickList(actor)
            by_actor[id(actor)] = layer_id
    if not picker.Pick(x, y, 0, plotter.renderer):
        return None
    actor = picker.GetActor()
    layer_id = by_actor.get(id(actor)) if actor is not None else None
    if layer_id is None or picker.GetCellId() < 0:
        return None
    layer_mesh = meshes[layer_id]
    # The actor may draw a subset of the layer's cells (the year filter): read the row off what it draws.
    row = int(pv.wrap(actor.GetMapper().GetInput()).cell_data["row"][picker.GetCellId()])
    return Pick(layer_id, layer_mesh.ids[row], row, tuple(picker.GetPickPosition()))


def point_at(plotter: pv.Plotter, x: float, y: float) -> tuple[float, float, float] | None:
    """The scene position of whatever pickable is drawn at display position (x, y), the terrain included
    (which :func:`pick` leaves out, being no feature), or None where the view shows only sky."""
    picker = vtk.vtkCellPicker()
    picker.SetTolerance(0.002)
    if not picker.Pick(x, y, 0, plotter.renderer) or picker.GetActor() is None:
        return None
    return tuple(picker.GetPickPosition())


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
