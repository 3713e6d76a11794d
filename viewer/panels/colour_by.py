"""Colouring a layer by one of its attributes (its file's ``style.colour_by``: the buildings by use or by
build year) or plainly, as the user picks in the layer panel: in both views, with the chosen colouring's
classes at the head of the legend."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import vtk

from twin.catalog import Layer
from viewer.language import said
from viewer.scene.colouring import Colouring, paint
from viewer.scene.layer_mesh import LayerMesh

PLAIN = ""  # the state's value for the layer's own colour


def items(layer: Layer) -> str:
    """The choices the layer panel offers for ``layer``, in the page's language (state ``colourings``: layer
    -> attribute -> its colouring's title, see viewer.language)."""
    return "[" + ", ".join([f"{{title: {said('colour_plain')[0]}, value: '{PLAIN}'}}"] + [
        f"{{title: colourings.{layer.id}.{c.attribute}, value: '{c.attribute}'}}" for c in layer.style.colour_by]) + "]"


def chosen(state, layer_mesh: LayerMesh) -> Colouring | None:
    key = state[f"colour_by_{layer_mesh.layer.id}"] if layer_mesh.colourings else PLAIN
    return next((c for c in layer_mesh.colourings if c.key == key), None)


def colour_controls(state, ctrl, meshes: dict[str, LayerMesh], actor_sets: Iterable[dict[str, vtk.vtkActor]],
                    changed: Callable[[], None]) -> None:
    """State ``colour_by_<layer>`` of each layer that has colourings; ``changed`` redraws the legend."""
    actor_sets = list(actor_sets)

    def repaint(layer_mesh: LayerMesh) -> Callable[..., None]:
        def repainted(**kwargs) -> None:
            colouring = chosen(state, layer_mesh)
            for actors in actor_sets:
                if layer_mesh.layer.id in actors:
                    paint(actors[layer_mesh.layer.id], colouring)
            ctrl.view_update()
            changed()
        return repainted

    for layer_id, layer_mesh in meshes.items():
        if layer_mesh.colourings:
            state[f"colour_by_{layer_id}"] = PLAIN
            state.change(f"colour_by_{layer_id}")(repaint(layer_mesh))


def legend_rows(layer_id: str, title: str, colouring: Colouring, language: str) -> list[dict]:
    """The colouring's classes in ``language`` under a heading naming the layer (``title``) and the colouring."""
    return [{"id": f"{layer_id}-by", "title": f"{title} · {colouring.titles[language]}", "heading": True}] + [
        {"id": f"{layer_id}-by-{index}", "title": label, "color": colour, "round": False}
        for index, (label, colour) in enumerate(colouring.legends[language])]
