"""Pipes drawn at least :data:`PIPE_PX` pixels wide however far away, in their layer's flat colour: a line
actor over each pipe layer's centre lines, beside the layer's own actor (its tubes of real diameter).

A DN150 cable seen from 600 m is a fifth of a pixel; the layer mesh's own centre lines (2 px, lit, and
speckled by the sub-pixel slivers of the tube in front of them) read as hairlines through underground
mode's translucent ground (issue 16). The line actor draws the same centre lines unlit, a little nearer
the camera than they are (a depth offset counted in depth-buffer steps, so metres far away and
millimetres close by): far away the line covers the tube, close by the tube's front is nearer than the
offset and the tube wins.

Each line actor follows its layer's actor at every render (visibility, colour, opacity, scale, section
clip) and draws the layer's year-filtered mesh, so nothing that restyles, filters, stretches or cuts a
layer needs to know about it. It is not pickable: a click goes through it to the tube and its centre
lines, the layer's own cells (their ``row``).
"""

from __future__ import annotations

import pyvista as pv
import vtk

from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.tiles import clip_alike, drawing_of

PIPE_PX = 3
# Depth-buffer steps (of 2^24) the line is drawn nearer than it lies: enough for the line to cover a
# DN150-DN800 tube seen from a few hundred metres, little enough for the tube to cover its line close by
# (tests/test_underground.py checks both).
LINE_OFFSET_UNITS = 500.0


def add_pipe_lines(plotter: pv.Plotter, meshes: dict[str, LayerMesh], actors: dict[str, vtk.vtkActor]
                   ) -> dict[str, list[vtk.vtkActor]]:
    """Line actors per tube layer of ``actors`` (layer id -> the layer's actor in ``plotter``): one, or one
    per tile of a tiled layer, each kept in step with what it follows before each render of ``plotter``."""
    _offsets_per_mapper()
    tiles = drawing_of(plotter.renderer)
    lines: dict[str, list[vtk.vtkActor]] = {}
    pairs: list[tuple[vtk.vtkActor, vtk.vtkActor]] = []
    for layer_id, layer_mesh in meshes.items():
        if layer_mesh.layer.draw.mode != "tube" or layer_id not in actors:
            continue
        # A tiled layer's tiles each draw their own (viewer.scene.tiles): a line actor follows each.
        leads = tiles.actors_of(layer_id) if tiles is not None and layer_mesh.tiles else [actors[layer_id]]
        lines[layer_id] = [_line_actor(plotter, lead) for lead in leads]
        pairs += zip(leads, lines[layer_id])
    # After the tiles' own choice of what is drawn (viewer.scene.tiles), to follow it in the same render.
    plotter.renderer.AddObserver("StartEvent", lambda *args: follow(pairs), -20.0)
    follow(pairs)
    return lines


def _line_actor(plotter: pv.Plotter, lead: vtk.vtkActor) -> vtk.vtkActor:
    """A line actor drawing the centre lines of what ``lead`` draws, unlit and nearer the camera."""
    drawn = lead.GetMapper().GetInput()  # the year filter's copy (viewer.scene.timeline)
    only_lines = vtk.vtkExtractCellsByType()  # runs again whenever the copy's cells or points change
    only_lines.SetInputData(drawn)
    only_lines.AddCellType(vtk.VTK_LINE)
    only_lines.AddCellType(vtk.VTK_POLY_LINE)
    mapper = vtk.vtkPolyDataMapper()
    mapper.SetInputConnection(only_lines.GetOutputPort())
    mapper.ScalarVisibilityOff()
    mapper.SetRelativeCoincidentTopologyLineOffsetParameters(0.0, -LINE_OFFSET_UNITS)
    actor = vtk.vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetLineWidth(PIPE_PX)
    prop.LightingOff()  # the layer's colour itself, as its legend swatch shows it
    actor.SetPickable(False)
    plotter.renderer.AddActor(actor)
    return actor


def follow(pairs: list[tuple[vtk.vtkActor, vtk.vtkActor]], clip: bool = True) -> None:
    """Each second actor of ``pairs`` shown, coloured, scaled and (with ``clip``) cut as the first is now."""
    for layer, line in pairs:
        line.SetVisibility(layer.GetVisibility())
        if not layer.GetVisibility():  # (a tile out of view: most of a tiled layer's, most of the time)
            continue
        source, target = layer.GetProperty(), line.GetProperty()
        target.SetColor(source.GetColor())
        target.SetOpacity(source.GetOpacity())
        line.SetScale(layer.GetScale())
        line.SetPosition(layer.GetPosition())
        line.SetUserMatrix(layer.GetUserMatrix())
        if not clip:
            continue
        clip_alike(layer.GetMapper(), line.GetMapper())


def _offsets_per_mapper() -> None:
    """VTK applies a mapper's own depth offsets only in its process-wide polygon-offset mode, whose
    default offsets would move every other mapper's cells too: the mode on, its defaults zero, so that
    only the pipe lines' own offset counts."""
    vtk.vtkMapper.SetResolveCoincidentTopologyToPolygonOffset()
    vtk.vtkMapper.SetResolveCoincidentTopologyPolygonOffsetParameters(0.0, 0.0)
    vtk.vtkMapper.SetResolveCoincidentTopologyLineOffsetParameters(0.0, 0.0)
    vtk.vtkMapper.SetResolveCoincidentTopologyPointOffsetParameter(0.0)
