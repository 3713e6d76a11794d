"""A lighter scene while the camera moves: while the mouse turns, pans or zooms the view, point layers
draw only their points (each a few pixels wide) instead of a symbol of 8-24 triangles on each, and pipe
layers only their centre lines instead of their tubes; the full scene is back for the image that follows
the mouse's release. VTK's own LOD actors choose by a render-time estimate, which a loaded machine
makes flicker between levels; here the level follows the interaction itself.

In software rendering the frame follows the triangles drawn (the demo city's 19,000 point symbols are
about half of them, issue 16): the light scene draws about half the triangles of the full one.

Each light mapper draws the cells of one kind (vertices, lines) of the same year-filtered mesh its
actor's full mapper draws, so the year filter, the depth exaggeration (which moves those points) and the
section (the same clipping planes) hold while moving. Picking happens once the mouse is released;
:meth:`MovingDetail.settle` puts the full mappers back for anything that reads them before.
"""

from __future__ import annotations

from functools import partial

import vtk

from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.tiles import TiledDrawing

# What each draw mode keeps while the camera moves (VTK cell types); modes not named keep everything.
LIGHT_CELLS = {"glyph": (vtk.VTK_VERTEX, vtk.VTK_POLY_VERTEX), "tube": (vtk.VTK_LINE, vtk.VTK_POLY_LINE)}


class MovingDetail:
    """Swaps the actors of ``actors`` (layer id -> actor) to their light mappers while ``interactor``'s
    camera style moves the camera, and back when it stops."""

    def __init__(self, interactor: vtk.vtkRenderWindowInteractor, meshes: dict[str, LayerMesh],
                 actors: dict[str, vtk.vtkActor], tiles: TiledDrawing | None = None) -> None:
        """``tiles``: the view's tiled layers, whose point symbols and tubes draw their dots and lines
        while moving (their leads, which draw nothing, are left as they are)."""
        self.tiles = tiles
        self._light: dict[str, tuple[vtk.vtkActor, vtk.vtkPolyDataMapper, vtk.vtkPolyDataMapper,
                                     vtk.vtkExtractCellsByType]] = {}
        for layer_id, layer_mesh in meshes.items():
            kinds = LIGHT_CELLS.get(layer_mesh.layer.draw.mode)
            actor = actors.get(layer_id)
            if kinds is None or actor is None or layer_mesh.tiles is not None or not isinstance(actor.GetMapper(), vtk.vtkPolyDataMapper):
                continue
            full = actor.GetMapper()
            only = vtk.vtkExtractCellsByType()  # runs again when the year filter changes the cells
            only.SetInputData(full.GetInput())
            for kind in kinds:
                only.AddCellType(kind)
            self._light[layer_id] = (actor, full, vtk.vtkPolyDataMapper(), only)
        self.moving = False
        self._active: set[int] = set()  # which watched objects say the camera is moving
        style = interactor.GetInteractorStyle()
        # vtkInteractorStyleSwitch does not pass on its current style's events: listen to that style.
        self.watch(style.GetCurrentStyle() if isinstance(style, vtk.vtkInteractorStyleSwitch) else style)

    def watch(self, subject: vtk.vtkObject) -> None:
        """Lighter while ``subject`` is between its start and end of interaction: the camera style (a drag)
        or trame's web application (which also brackets a turn of the mouse wheel, where the style
        starts and ends at each step)."""
        # Not a closure over ``subject``: that cycle through VTK's observer is one Python's collector
        # frees while VTK still calls it (a crash, VTK 9.7, tests/test_moving.py).
        subject.AddObserver("StartInteractionEvent", partial(self._started, id(subject)))
        subject.AddObserver("EndInteractionEvent", partial(self._ended, id(subject)))

    def _started(self, subject: int, *args) -> None:
        self._active.add(subject)
        if not self.moving:
            self.lighten()

    def _ended(self, subject: int, *args) -> None:
        self._active.discard(subject)
        if not self._active:
            self.settle()

    @property
    def layers(self) -> list[str]:
        """The layers drawn lighter while moving."""
        return list(self._light)

    def lighten(self) -> None:
        for actor, full, light, only in self._light.values():
            light.ShallowCopy(full)  # its settings as they are now: clipping planes, scalars, offsets
            light.SetInputConnection(only.GetOutputPort())  # (the copy took the full mapper's input too)
            actor.SetMapper(light)
        self.moving = True
        if self.tiles is not None:
            self.tiles.moving = True

    def settle(self) -> None:
        """The full mappers back (a no-op when the camera is still), whatever is still said to move."""
        for actor, full, _, _ in self._light.values():
            actor.SetMapper(full)
        self._active.clear()
        self.moving = False
        if self.tiles is not None:
            self.tiles.moving = False
